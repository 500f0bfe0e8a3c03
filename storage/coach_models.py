"""Tables of the coach review: accounts, sessions, login failures, workflow history, notes,
interview appointments, the Telegram outbox, the audit log and the tombstones of deleted profiles."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String
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


class DeletionReason(enum.StrEnum):
    # The person's own /delete in the chat.
    PARTICIPANT_REQUEST = "participant_request"
    # The retention period ended.
    RETENTION = "retention"


class AuditAction(enum.StrEnum):
    """What the audit log records; each entry names at most one profile and never any content."""

    LOGIN = "login"
    LOGIN_FAILED = "login_failed"
    LOGOUT = "logout"
    PROFILE_VIEWED = "profile_viewed"
    VOICE_NOTE_PLAYED = "voice_note_played"
    STATUS_CHANGED = "status_changed"
    COACH_ASSIGNED = "coach_assigned"
    NOTE_ADDED = "note_added"
    INTERVIEW_SCHEDULED = "interview_scheduled"
    INTERVIEW_ANSWERED = "interview_answered"
    EXPORTED_JSON = "exported_json"
    EXPORTED_JSON_LIST = "exported_json_list"
    EXPORTED_CSV = "exported_csv"
    PRINTED = "printed"
    PROFILE_DELETED = "profile_deleted"
    PARTICIPANT_DELETED = "participant_deleted"


# Who an audit entry names when no coach acted.
ACTOR_PARTICIPANT = "participant"
ACTOR_SYSTEM = "system"
ACTOR_UNKNOWN = "(unknown)"


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


class AuditEntry(Base):
    """One line of the append-only audit log: who did what to which profile, when (UTC).

    Never content: ``detail`` holds a code only (a status, a deletion reason, a failure kind).
    The database refuses UPDATE and DELETE on this table (triggers in 0004_audit_log).
    """

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(64), index=True)
    action: Mapped[AuditAction] = mapped_column(_str_enum(AuditAction, "audit_action"), index=True)
    # No foreign key: the entry outlives the profile it names.
    profile_id: Mapped[str | None] = mapped_column(String(32), index=True)
    detail: Mapped[str | None] = mapped_column(String(64))


class ProfileTombstone(Base):
    """What is left of a submitted profile after its deletion: no content, only what the programme
    figures need (status before, month of submission, workflow milestones) and when and why."""

    __tablename__ = "profile_tombstones"

    profile_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    status_before: Mapped[ProfileStatus] = mapped_column(_str_enum(ProfileStatus, "status_before"))
    # The first instant (UTC) of the month of submission: the day is dropped on purpose.
    submitted_month: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    deleted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    reason: Mapped[DeletionReason] = mapped_column(_str_enum(DeletionReason, "deletion_reason"))
    # False when the same person is still counted elsewhere (another profile, live or deleted), so
    # the participant count neither drops nor doubles; no link to the person is kept.
    counts_as_participant: Mapped[bool] = mapped_column(Boolean)
    interview_scheduled: Mapped[bool] = mapped_column(Boolean)
    interviewed: Mapped[bool] = mapped_column(Boolean)
