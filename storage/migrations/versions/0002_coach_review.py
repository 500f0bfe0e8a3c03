"""Coach review: accounts, sessions, login failures, workflow history, notes, appointments, outbox.

Revision ID: 0002_coach_review
Revises: 0001_initial
Create Date: 2026-11-25 13:49:55
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_coach_review"
down_revision: str | Sequence[str] | None = "0001_initial"
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
OUTBOX_STATUSES = ("pending", "sent", "skipped", "failed")


def _timestamp() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _enum(table: str, name: str, values: Sequence[str]) -> sa.Enum:
    return sa.Enum(
        *values, name=op.f(f"ck_{table}_{name}"), native_enum=False, create_constraint=True, length=32
    )


def _profile_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["profile_id"], ["profiles.id"], name=op.f(f"fk_{table}_profile_id_profiles"), ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "coach_users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("role", _enum("coach_users", "coach_role", ("coach", "admin")), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", _timestamp(), nullable=False),
        sa.Column("last_login_at", _timestamp(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coach_users")),
    )
    op.create_index(op.f("ix_coach_users_username"), "coach_users", ["username"], unique=True)

    op.create_table(
        "coach_sessions",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", _timestamp(), nullable=False),
        sa.Column("expires_at", _timestamp(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["coach_users.id"], name=op.f("fk_coach_sessions_user_id_coach_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_coach_sessions")),
    )  # fmt: skip
    op.create_index(op.f("ix_coach_sessions_expires_at"), "coach_sessions", ["expires_at"])
    op.create_index(op.f("ix_coach_sessions_user_id"), "coach_sessions", ["user_id"])

    op.create_table(
        "coach_login_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("client_ip", sa.String(length=64), nullable=False),
        sa.Column("failed_at", _timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coach_login_failures")),
    )
    op.create_index(
        "ix_coach_login_failures_lookup", "coach_login_failures", ["username", "client_ip", "failed_at"]
    )

    op.create_table(
        "profile_status_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("profile_id", sa.String(length=32), nullable=False),
        sa.Column(
            "from_status", _enum("profile_status_changes", "from_status", PROFILE_STATUSES), nullable=False
        ),
        sa.Column(
            "to_status", _enum("profile_status_changes", "to_status", PROFILE_STATUSES), nullable=False
        ),
        sa.Column("changed_by", sa.String(length=64), nullable=False),
        sa.Column("changed_at", _timestamp(), nullable=False),
        _profile_fk("profile_status_changes"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_profile_status_changes")),
    )
    op.create_index(op.f("ix_profile_status_changes_profile_id"), "profile_status_changes", ["profile_id"])
    op.create_index(op.f("ix_profile_status_changes_to_status"), "profile_status_changes", ["to_status"])

    op.create_table(
        "coach_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("profile_id", sa.String(length=32), nullable=False),
        sa.Column("author", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", _timestamp(), nullable=False),
        _profile_fk("coach_notes"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coach_notes")),
    )
    op.create_index(op.f("ix_coach_notes_profile_id"), "coach_notes", ["profile_id"])

    op.create_table(
        "interview_appointments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("profile_id", sa.String(length=32), nullable=False),
        sa.Column("starts_at", _timestamp(), nullable=False),
        sa.Column("place", sa.Text(), nullable=True),
        sa.Column("video_link", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", _timestamp(), nullable=False),
        sa.Column(
            "message_status",
            _enum("interview_appointments", "message_status", OUTBOX_STATUSES),
            nullable=False,
        ),
        sa.Column("message_error", sa.String(length=64), nullable=True),
        sa.Column("message_sent_at", _timestamp(), nullable=True),
        sa.Column(
            "response",
            _enum("interview_appointments", "interview_response", ("accepted", "another_time")),
            nullable=True,
        ),
        sa.Column("responded_at", _timestamp(), nullable=True),
        _profile_fk("interview_appointments"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_interview_appointments")),
    )
    op.create_index(op.f("ix_interview_appointments_profile_id"), "interview_appointments", ["profile_id"])

    op.create_table(
        "coach_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            _enum("coach_outbox", "outbox_kind", ("submission_notice", "interview_invitation")),
            nullable=False,
        ),
        sa.Column("status", _enum("coach_outbox", "outbox_status", OUTBOX_STATUSES), nullable=False),
        sa.Column("profile_id", sa.String(length=32), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=64), nullable=True),
        sa.Column("created_at", _timestamp(), nullable=False),
        sa.Column("sent_at", _timestamp(), nullable=True),
        sa.ForeignKeyConstraint(
            ["appointment_id"], ["interview_appointments.id"],
            name=op.f("fk_coach_outbox_appointment_id_interview_appointments"), ondelete="CASCADE",
        ),
        _profile_fk("coach_outbox"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coach_outbox")),
    )  # fmt: skip
    op.create_index(op.f("ix_coach_outbox_appointment_id"), "coach_outbox", ["appointment_id"])
    op.create_index(op.f("ix_coach_outbox_profile_id"), "coach_outbox", ["profile_id"])
    op.create_index(op.f("ix_coach_outbox_status"), "coach_outbox", ["status"])


def downgrade() -> None:
    op.drop_table("coach_outbox")
    op.drop_table("interview_appointments")
    op.drop_table("coach_notes")
    op.drop_table("profile_status_changes")
    op.drop_table("coach_login_failures")
    op.drop_table("coach_sessions")
    op.drop_table("coach_users")
