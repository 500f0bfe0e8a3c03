"""An anonymous monthly count of intakes started, the first step of the programme funnel.

Revision ID: 0008_intake_starts
Revises: 0007_telegram_updates
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_intake_starts"
down_revision: str | Sequence[str] | None = "0007_telegram_updates"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "intake_starts",
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("started", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("month", name=op.f("pk_intake_starts")),
    )


def downgrade() -> None:
    op.drop_table("intake_starts")
