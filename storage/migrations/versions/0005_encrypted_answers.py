"""Profile answers (names, free text) are encrypted at rest: the JSON column becomes an encrypted
text column, and every stored document is encrypted with the current key.

Revision ID: 0005_encrypted_answers
Revises: 0004_audit_log
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from storage.crypto import EncryptedJSON

revision: str = "0005_encrypted_answers"
down_revision: str | Sequence[str] | None = "0004_audit_log"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen here on purpose: the column types before and after this revision.
CONTEXT = "profiles.answers"
PLAIN_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _profiles(answers_type: sa.types.TypeEngine[Any]) -> sa.TableClause:
    return sa.table("profiles", sa.column("id", sa.String()), sa.column("answers", answers_type))


def _rewrite(rows: Sequence[sa.Row[Any, Any]], answers_type: sa.types.TypeEngine[Any]) -> None:
    profiles = _profiles(answers_type)
    bind = op.get_bind()
    for profile_id, answers in rows:
        bind.execute(profiles.update().where(profiles.c.id == profile_id).values(answers=answers))


def upgrade() -> None:
    bind = op.get_bind()
    plain = _profiles(PLAIN_JSON)
    rows = bind.execute(sa.select(plain.c.id, plain.c.answers)).all()
    with op.batch_alter_table("profiles") as batch:
        batch.alter_column(
            "answers",
            existing_type=PLAIN_JSON,
            type_=sa.Text(),
            existing_nullable=False,
            postgresql_using="answers::text",
        )
    _rewrite(rows, EncryptedJSON(CONTEXT))


def downgrade() -> None:
    bind = op.get_bind()
    encrypted = _profiles(EncryptedJSON(CONTEXT))
    rows = bind.execute(sa.select(encrypted.c.id, encrypted.c.answers)).all()
    _rewrite(rows, sa.JSON())  # JSON text, which PostgreSQL then casts to jsonb
    with op.batch_alter_table("profiles") as batch:
        batch.alter_column(
            "answers",
            existing_type=sa.Text(),
            type_=PLAIN_JSON,
            existing_nullable=False,
            postgresql_using="answers::jsonb",
        )
