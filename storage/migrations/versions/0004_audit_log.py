"""Append-only audit log of the coach pages and tombstones of deleted profiles.

The database itself refuses UPDATE and DELETE on audit_log: a trigger that aborts on SQLite, a
trigger function that raises on PostgreSQL (also for TRUNCATE).

Revision ID: 0004_audit_log
Revises: 0003_reminders
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_audit_log"
down_revision: str | Sequence[str] | None = "0003_reminders"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As in storage/coach_models.py at this revision (frozen here on purpose).
AUDIT_ACTIONS = (
    "login",
    "login_failed",
    "logout",
    "profile_viewed",
    "voice_note_played",
    "status_changed",
    "coach_assigned",
    "note_added",
    "interview_scheduled",
    "interview_answered",
    "exported_json",
    "exported_json_list",
    "exported_csv",
    "printed",
    "profile_deleted",
    "participant_deleted",
)
PROFILE_STATUSES = ("in_progress", "submitted", "in_review", "interview_scheduled", "closed", "withdrawn")
DELETION_REASONS = ("participant_request", "retention")

APPEND_ONLY_MESSAGE = "audit_log is append-only"

SQLITE_TRIGGERS = {
    "audit_log_no_update": f"""
        CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
        BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}'); END
    """,
    "audit_log_no_delete": f"""
        CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
        BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}'); END
    """,
}
POSTGRESQL_FUNCTION = f"""
    CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '{APPEND_ONLY_MESSAGE}' USING ERRCODE = 'insufficient_privilege';
    END
    $$
"""
POSTGRESQL_TRIGGERS = {
    "audit_log_no_update_delete": """
        CREATE TRIGGER audit_log_no_update_delete BEFORE UPDATE OR DELETE ON audit_log
        FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()
    """,
    "audit_log_no_truncate": """
        CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
        FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()
    """,
}


def _timestamp() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _enum(table: str, name: str, values: Sequence[str]) -> sa.Enum:
    return sa.Enum(
        *values, name=op.f(f"ck_{table}_{name}"), native_enum=False, create_constraint=True, length=32
    )


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("at", _timestamp(), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("action", _enum("audit_log", "audit_action", AUDIT_ACTIONS), nullable=False),
        sa.Column("profile_id", sa.String(length=32), nullable=True),
        sa.Column("detail", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(op.f("ix_audit_log_at"), "audit_log", ["at"])
    op.create_index(op.f("ix_audit_log_actor"), "audit_log", ["actor"])
    op.create_index(op.f("ix_audit_log_action"), "audit_log", ["action"])
    op.create_index(op.f("ix_audit_log_profile_id"), "audit_log", ["profile_id"])

    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for statement in SQLITE_TRIGGERS.values():
            op.execute(statement)
    elif dialect == "postgresql":
        op.execute(POSTGRESQL_FUNCTION)
        for statement in POSTGRESQL_TRIGGERS.values():
            op.execute(statement)
    else:  # pragma: no cover - the project supports SQLite and PostgreSQL only
        raise NotImplementedError(f"no append-only guard for {dialect}")

    op.create_table(
        "profile_tombstones",
        sa.Column("profile_id", sa.String(length=32), nullable=False),
        sa.Column(
            "status_before", _enum("profile_tombstones", "status_before", PROFILE_STATUSES), nullable=False
        ),
        sa.Column("submitted_month", _timestamp(), nullable=False),
        sa.Column("deleted_at", _timestamp(), nullable=False),
        sa.Column("reason", _enum("profile_tombstones", "deletion_reason", DELETION_REASONS), nullable=False),
        sa.Column("counts_as_participant", sa.Boolean(), nullable=False),
        sa.Column("interview_scheduled", sa.Boolean(), nullable=False),
        sa.Column("interviewed", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("profile_id", name=op.f("pk_profile_tombstones")),
    )
    op.create_index(op.f("ix_profile_tombstones_submitted_month"), "profile_tombstones", ["submitted_month"])


def downgrade() -> None:
    op.drop_table("profile_tombstones")
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    elif dialect == "postgresql":
        for name in POSTGRESQL_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
    op.drop_table("audit_log")
