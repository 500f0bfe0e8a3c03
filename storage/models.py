"""The ORM models: participants, their intake profiles, and processed Telegram updates."""

from __future__ import annotations

import copy
import enum
import secrets
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    TypeDecorator,
    text,
)
from sqlalchemy import Enum as SAEnum
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from storage.crypto import EncryptedJSON, EncryptedText

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# The top-level sections of a profile's answers, as in intake-profile.schema.json.
ANSWER_SECTIONS: tuple[str, ...] = (
    "person",
    "languages",
    "return_plan",
    "education",
    "work_experience",
    "aspirations",
    "qualification_interests",
    "digital_skills",
    "contact",
    "notes_for_coach",
    "voice_notes",
    "flags",
)


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


def new_participant_id() -> str:
    return uuid.uuid4().hex


def new_profile_id() -> str:
    """An opaque random profile id (16 URL-safe characters), unrelated to any Telegram id."""
    return secrets.token_urlsafe(12)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that only accepts aware datetimes and always returns them in UTC.

    SQLite has no time zones, so values are stored there as naive UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("naive datetime: store timezone-aware timestamps only")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# JSONB on PostgreSQL (comparable, compact); plain JSON text elsewhere.
JSONDocument = JSON().with_variant(JSONB(), "postgresql")
# Bound into the ciphertext of Profile.answers (see storage.crypto.EncryptedJSON).
ANSWERS_CONTEXT = "profiles.answers"
PENDING_TURN_CONTEXT = "pending_turns.turn"
TELEGRAM_UPDATE_CONTEXT = "telegram_updates.payload"


class ProfileStatus(enum.StrEnum):
    IN_PROGRESS = "in_progress"
    SUBMITTED = "submitted"
    IN_REVIEW = "in_review"
    INTERVIEW_SCHEDULED = "interview_scheduled"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"


class ChatLanguageSource(enum.StrEnum):
    CHOSEN = "chosen"
    DETECTED = "detected"
    TELEGRAM_CLIENT = "telegram_client"


def _enum_values(enum_class: type[enum.StrEnum]) -> list[str]:
    return [member.value for member in enum_class]


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Participant(Base):
    """A person using the bot, known only by a keyed hash of their Telegram user id."""

    __tablename__ = "participants"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_participant_id)
    subject_hash: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    chat_language: Mapped[str | None] = mapped_column(String(16))
    chat_language_source: Mapped[ChatLanguageSource | None] = mapped_column(
        SAEnum(
            ChatLanguageSource,
            name="chat_language_source",
            native_enum=False,
            create_constraint=True,
            length=32,
            values_callable=_enum_values,
            validate_strings=True,
        )
    )
    # Where the bot can reach the person (coach messages, reminders); encrypted at rest.
    telegram_chat_id: Mapped[str | None] = mapped_column(EncryptedText())
    consent_version: Mapped[str | None] = mapped_column(String(32))
    consent_given_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    consent_language: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    profiles: Mapped[list[Profile]] = relationship(
        back_populates="participant", cascade="all, delete-orphan", passive_deletes=True
    )

    def __repr__(self) -> str:
        return f"Participant(id={self.id!r})"


class Profile(Base):
    """One intake profile; ``answers`` holds the schema's sections, a few are copied out for lists."""

    __tablename__ = "profiles"
    __table_args__ = (
        # At most one draft per participant, so concurrent draft_for() calls cannot fork it.
        Index(
            "uq_profiles_one_draft_per_participant",
            "participant_id",
            unique=True,
            sqlite_where=text("status = 'in_progress'"),
            postgresql_where=text("status = 'in_progress'"),
        ),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_profile_id)
    participant_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("participants.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[ProfileStatus] = mapped_column(
        SAEnum(
            ProfileStatus,
            name="profile_status",
            native_enum=False,
            create_constraint=True,
            length=32,
            values_callable=_enum_values,
            validate_strings=True,
        ),
        default=ProfileStatus.IN_PROGRESS,
        index=True,
    )
    # Names and free-text answers live here: the whole document is encrypted at rest.
    answers: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON(ANSWERS_CONTEXT), default=dict)

    # Copies of answers for coach lists and filters; written only by set_answers().
    return_country: Mapped[str | None] = mapped_column(String(2), index=True)
    chat_language: Mapped[str | None] = mapped_column(String(16), index=True)
    interview_language: Mapped[str | None] = mapped_column(String(16), index=True)
    interpreter_needed: Mapped[bool | None] = mapped_column(Boolean, index=True)
    goal: Mapped[str | None] = mapped_column(String(32), index=True)

    assigned_coach: Mapped[str | None] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    # When the one gentle reminder about an unfinished intake was sent (bot/reminders.py).
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    participant: Mapped[Participant] = relationship(back_populates="profiles")

    def __init__(self, **kwargs: Any) -> None:
        answers = kwargs.pop("answers", None)
        super().__init__(**kwargs)
        self.set_answers(answers or {})

    def set_answers(self, answers: dict[str, Any]) -> None:
        """Replace the answers (with a copy) and bring the denormalised columns in line."""
        unknown = set(answers) - set(ANSWER_SECTIONS)
        if unknown:
            raise ValueError(f"unknown profile sections: {', '.join(sorted(unknown))}")
        self.answers = copy.deepcopy(answers)
        languages = _section(self.answers, "languages")
        self.chat_language = _code_or_none(languages.get("chat"), 16)
        self.interview_language = _code_or_none(languages.get("interview"), 16)
        interpreter = languages.get("interpreter_needed")
        self.interpreter_needed = interpreter if isinstance(interpreter, bool) else None
        self.return_country = _code_or_none(_section(self.answers, "return_plan").get("country"), 2)
        self.goal = _code_or_none(_section(self.answers, "aspirations").get("goal"), 32)

    def __repr__(self) -> str:
        return f"Profile(id={self.id!r}, status={self.status!r})"


def _section(answers: dict[str, Any], name: str) -> dict[str, Any]:
    value = answers.get(name)
    return value if isinstance(value, dict) else {}


def _code_or_none(value: Any, max_length: int) -> str | None:
    # A value that cannot be a code (wrong type, too long) is left out of the list columns;
    # it stays in answers, where export validation reports it.
    return value if isinstance(value, str) and len(value) <= max_length else None


class TelegramUpdate(Base):
    """A Telegram update, stored before Telegram is told that it arrived and kept until it was
    handled (bot/inbox.py); then only its id stays for a while, so that a redelivery is dropped."""

    __tablename__ = "telegram_updates"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    # The whole update as Telegram sent it (the person's words, ids): encrypted, and None once done.
    payload: Mapped[dict[str, Any] | None] = mapped_column(
        EncryptedJSON(TELEGRAM_UPDATE_CONTEXT), nullable=True
    )
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True, index=True)
    recoveries: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class PendingTurn(Base):
    """A message the bot could not hand to Rasa (Rasa or the action server down): kept until it is
    processed, in order, when they are back (bot/pending.py)."""

    __tablename__ = "pending_turns"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    sender_id: Mapped[str] = mapped_column(String(64), index=True)
    # Who wrote, where to answer and what: the message text is personal, so all of it is encrypted.
    turn: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON(PENDING_TURN_CONTEXT))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)


class IntakeStart(Base):
    """How many intakes were started in a month: the first step of the programme funnel.

    An anonymous count, nothing else: no id, no hash, no time finer than the month. It is counted
    before consent (a person who never agrees is counted too), so it must stay unlinkable."""

    __tablename__ = "intake_starts"

    month: Mapped[str] = mapped_column(String(7), primary_key=True)  # "2026-11"
    started: Mapped[int] = mapped_column(Integer, default=0)


# The coach review's tables live in their own module; importing it here registers them on
# Base.metadata wherever the models are loaded (Alembic, tests).
from storage import coach_models as _coach_models  # noqa: E402, F401
