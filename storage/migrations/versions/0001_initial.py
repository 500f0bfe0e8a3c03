"""Initial tables: participants, profiles, processed_updates.

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-25 13:31:45
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001_initial"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PROFILE_STATUSES = (
    "in_progress",
    "submitted",
    "in_review",
    "interview_scheduled",
    "closed",
    "withdrawn",
)
CHAT_LANGUAGE_SOURCES = ("chosen", "detected", "telegram_client")


def _timestamp() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "participants",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("subject_hash", sa.String(length=64), nullable=False),
        sa.Column("chat_language", sa.String(length=16), nullable=True),
        sa.Column(
            "chat_language_source",
            sa.Enum(
                *CHAT_LANGUAGE_SOURCES,
                name=op.f("ck_participants_chat_language_source"),
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column("telegram_chat_id", sa.Text(), nullable=True),
        sa.Column("consent_version", sa.String(length=32), nullable=True),
        sa.Column("consent_given_at", _timestamp(), nullable=True),
        sa.Column("consent_language", sa.String(length=16), nullable=True),
        sa.Column("created_at", _timestamp(), nullable=False),
        sa.Column("updated_at", _timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_participants")),
    )
    op.create_index(
        op.f("ix_participants_subject_hash"), "participants", ["subject_hash"], unique=True
    )

    op.create_table(
        "processed_updates",
        sa.Column("update_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("received_at", _timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("update_id", name=op.f("pk_processed_updates")),
    )
    op.create_index(
        op.f("ix_processed_updates_received_at"), "processed_updates", ["received_at"]
    )

    op.create_table(
        "profiles",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("participant_id", sa.String(length=32), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                *PROFILE_STATUSES,
                name=op.f("ck_profiles_profile_status"),
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "answers",
            sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
            nullable=False,
        ),
        sa.Column("return_country", sa.String(length=2), nullable=True),
        sa.Column("chat_language", sa.String(length=16), nullable=True),
        sa.Column("interview_language", sa.String(length=16), nullable=True),
        sa.Column("interpreter_needed", sa.Boolean(), nullable=True),
        sa.Column("goal", sa.String(length=32), nullable=True),
        sa.Column("assigned_coach", sa.String(length=64), nullable=True),
        sa.Column("created_at", _timestamp(), nullable=False),
        sa.Column("updated_at", _timestamp(), nullable=False),
        sa.Column("submitted_at", _timestamp(), nullable=True),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_profiles_participant_id_participants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_profiles")),
    )
    for column in (
        "participant_id",
        "status",
        "return_country",
        "chat_language",
        "interview_language",
        "interpreter_needed",
        "goal",
        "assigned_coach",
        "submitted_at",
    ):
        op.create_index(op.f(f"ix_profiles_{column}"), "profiles", [column])
    op.create_index(
        "uq_profiles_one_draft_per_participant",
        "profiles",
        ["participant_id"],
        unique=True,
        sqlite_where=sa.text("status = 'in_progress'"),
        postgresql_where=sa.text("status = 'in_progress'"),
    )


def downgrade() -> None:
    op.drop_table("profiles")
    op.drop_table("processed_updates")
    op.drop_table("participants")
