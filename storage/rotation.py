"""Key rotation: re-encrypt every encrypted value under the current key (the first of
ENCRYPTION_KEYS), in the intake database and in Rasa's tracker store."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Column, Engine, Integer, MetaData, Table, Text, inspect, select, update
from sqlalchemy.types import TypeEngine

from storage.crypto import EncryptedJSON, EncryptedText
from storage.fieldcipher import TRACKER_EVENT_CONTEXT, FieldCipher
from storage.models import Base

BATCH = 500


@dataclass
class RotationReport:
    """How many values were re-encrypted, per "table.column"."""

    rotated: dict[str, int] = field(default_factory=dict)
    checked: int = 0

    @property
    def total(self) -> int:
        return sum(self.rotated.values())


def encrypted_columns() -> Iterator[tuple[Table, Column[object], bytes]]:
    """Every column of the intake database stored encrypted, with its associated data."""
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, EncryptedText | EncryptedJSON):
                yield table, column, column.type.context.encode()


@dataclass(frozen=True)
class _Target:
    table: str
    key: str
    key_type: TypeEngine[Any]
    column: str
    context: bytes


def _rotate_column(engine: Engine, target: _Target, cipher: FieldCipher, report: RotationReport) -> None:
    # The column as plain text: values are re-encrypted without ever being parsed.
    table_name, key, column, context = target.table, target.key, target.column, target.context
    raw = Table(table_name, MetaData(), Column(key, target.key_type, primary_key=True), Column(column, Text))
    name = f"{table_name}.{column}"
    report.rotated.setdefault(name, 0)
    last = None
    while True:
        query = select(raw.c[key], raw.c[column]).order_by(raw.c[key]).limit(BATCH)
        if last is not None:
            query = query.where(raw.c[key] > last)
        with engine.begin() as connection:
            rows = connection.execute(query).all()
            for row_key, value in rows:
                report.checked += 1
                if value is not None and cipher.needs_rotation(value):
                    connection.execute(
                        update(raw)
                        .where(raw.c[key] == row_key)
                        .values({column: cipher.reencrypt(value, context)})
                    )
                    report.rotated[name] += 1
        if len(rows) < BATCH:
            return
        last = rows[-1][0]


def rotate_database(
    engine: Engine, cipher: FieldCipher, report: RotationReport | None = None
) -> RotationReport:
    report = report or RotationReport()
    for table, column, context in encrypted_columns():
        (key,) = table.primary_key.columns
        _rotate_column(engine, _Target(table.name, key.name, key.type, column.name, context), cipher, report)
    return report


def rotate_tracker_store(
    engine: Engine, cipher: FieldCipher, report: RotationReport | None = None
) -> RotationReport:
    """Rasa's `events.data` (rasa_plugins/tracker_store.py); nothing to do before Rasa created it."""
    report = report or RotationReport()
    if inspect(engine).has_table("events"):
        target = _Target("events", "id", Integer(), "data", TRACKER_EVENT_CONTEXT)
        _rotate_column(engine, target, cipher, report)
    return report
