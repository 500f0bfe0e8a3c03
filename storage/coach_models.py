"""Tables of the coach review: accounts, sessions, login failures, workflow history, notes,
interview appointments and the Telegram outbox."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String
from sqlalchemy import Enum as SAEnum
from sqlalchemy.orm import Mapped, mapped_column

from storage.crypto import EncryptedText
from storage.models import Base, ProfileStatus, UTCDateTime, _enum_values, utcnow


class CoachRole(enum.StrEnum):
    COACH = "coach"
    ADMIN = "admin"


class OutboxKind(enum.StrEnum):
    SUBMISSION_NOTICE = "submission_notice"
    INTERVIEW_INVITATION = "interview_invitation"


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    # Nothing to send to: no COACH_CHAT_ID, or the participant has no Telegram chat.
    SKIPPED = "skipped"
    FAILED = "failed"


class InterviewResponse(enum.StrEnum):
    ACCEPTED = "accepted"
    ANOTHER_TIME = "another_time"


def _str_enum(enum_class: type[enum.StrEnum], name: str) -> SAEnum:
    return SAEnum(
        enum_class,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=_enum_values,
        validate_strings=True,
    )


class CoachUser(Base):
    """A coach or admin who reviews profiles in the web pages."""

    __tablename__ = "coach_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[CoachRole] = mapped_column(_str_enum(CoachRole, "coach_role"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class CoachSession(Base):
    """A login; the cookie holds a random token, the database only its SHA-256."""

    __tablename__ = "coach_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("coach_users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class CoachLoginFailure(Base):
    """A failed login, counted per username and client address for throttling."""

    __tablename__ = "coach_login_failures"
    __table_args__ = (Index("ix_coach_login_failures_lookup", "username", "client_ip", "failed_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    client_ip: Mapped[str] = mapped_column(String(64))
    failed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ProfileStatusChange(Base):
    """One step of the review workflow: who moved a profile from which status to which, and when."""

    __tablename__ = "profile_status_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    profile_id: Mapped[str] = mapped_column(ForeignKey("profiles.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[ProfileStatus] = mapped_column(_str_enum(ProfileStatus, "from_status"))
    to_status: Mapped[ProfileStatus] = mapped_column(_str_enum(ProfileStatus, "to_status"), index=True)
    changed_by: Mapped[str] = mapped_column(String(64))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CoachNote(Base):
    """A private note of a coach on a profile; the text is encrypted at rest."""

    __tablename__ = "coach_notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    profile_id: Mapped[str] = mapped_column(ForeignKey("profiles.id", ondelete="CASCADE"), index=True)
    author: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(EncryptedText())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class InterviewAppointment(Base):
    """A proposed first interview, the state of the invitation message and the returnee's answer."""

    __tablename__ = "interview_appointments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    profile_id: Mapped[str] = mapped_column(ForeignKey("profiles.id", ondelete="CASCADE"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    place: Mapped[str | None] = mapped_column(EncryptedText())
    video_link: Mapped[str | None] = mapped_column(EncryptedText())
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    message_status: Mapped[OutboxStatus] = mapped_column(_str_enum(OutboxStatus, "message_status"))
    # Why the invitation could not be sent (a short code such as "no_telegram"), never message text.
    message_error: Mapped[str | None] = mapped_column(String(64))
    message_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    response: Mapped[InterviewResponse | None] = mapped_column(
        _str_enum(InterviewResponse, "interview_response")
    )
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class OutboxMessage(Base):
    """A Telegram message to send from the bot process (durable: written in the sender's transaction)."""

    __tablename__ = "coach_outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[OutboxKind] = mapped_column(_str_enum(OutboxKind, "outbox_kind"))
    status: Mapped[OutboxStatus] = mapped_column(
        _str_enum(OutboxStatus, "outbox_status"), default=OutboxStatus.PENDING, index=True
    )
    profile_id: Mapped[str] = mapped_column(ForeignKey("profiles.id", ondelete="CASCADE"), index=True)
    appointment_id: Mapped[int | None] = mapped_column(
        ForeignKey("interview_appointments.id", ondelete="CASCADE"), index=True
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
