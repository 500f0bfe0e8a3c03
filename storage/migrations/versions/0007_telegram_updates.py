"""The durable inbox of Telegram updates (bot/inbox.py) replaces the list of handled update ids.

Revision ID: 0007_telegram_updates
Revises: 0006_pending_turns
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_telegram_updates"
down_revision: str | Sequence[str] | None = "0006_pending_turns"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "telegram_updates",
        sa.Column("update_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("payload", sa.Text(), nullable=True),  # encrypted JSON, None once handled
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("recoveries", sa.Integer(), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("update_id", name=op.f("pk_telegram_updates")),
    )
    op.create_index(op.f("ix_telegram_updates_received_at"), "telegram_updates", ["received_at"])
    op.create_index(op.f("ix_telegram_updates_done_at"), "telegram_updates", ["done_at"])
    # Updates handled before: their ids still drop a redelivery.
    op.execute(
        "INSERT INTO telegram_updates (update_id, received_at, done_at, recoveries) "
        "SELECT update_id, received_at, received_at, 0 FROM processed_updates"
    )
    op.drop_index(op.f("ix_processed_updates_received_at"), table_name="processed_updates")
    op.drop_table("processed_updates")


def downgrade() -> None:
    op.create_table(
        "processed_updates",
        sa.Column("update_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("update_id", name=op.f("pk_processed_updates")),
    )
    op.create_index(op.f("ix_processed_updates_received_at"), "processed_updates", ["received_at"])
    op.execute(
        "INSERT INTO processed_updates (update_id, received_at) SELECT update_id, received_at FROM telegram_updates"
    )
    op.drop_index(op.f("ix_telegram_updates_done_at"), table_name="telegram_updates")
    op.drop_index(op.f("ix_telegram_updates_received_at"), table_name="telegram_updates")
    op.drop_table("telegram_updates")
