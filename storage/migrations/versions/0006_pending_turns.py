"""Messages waiting for Rasa or the action server to be back (bot/pending.py).

Revision ID: 0006_pending_turns
Revises: 0005_encrypted_answers
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_pending_turns"
down_revision: str | Sequence[str] | None = "0005_encrypted_answers"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "pending_turns",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("sender_id", sa.String(length=64), nullable=False),
        sa.Column("turn", sa.Text(), nullable=False),  # encrypted JSON
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pending_turns")),
    )
    op.create_index(op.f("ix_pending_turns_sender_id"), "pending_turns", ["sender_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_pending_turns_sender_id"), table_name="pending_turns")
    op.drop_table("pending_turns")
