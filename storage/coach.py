"""Repositories of the coach review (accounts, sessions, workflow, notes, appointments, outbox, lists).

Like storage.repository they flush but never commit: the caller owns the unit of work.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, delete, func, or_, select
from sqlalchemy.orm import Session

from storage.coach_models import (
    CoachLoginFailure,
    CoachNote,
    CoachRole,
    CoachSession,
    CoachUser,
    InterviewAppointment,
    InterviewResponse,
    OutboxKind,
    OutboxMessage,
    OutboxStatus,
    ProfileStatusChange,
)
from storage.models import Participant, Profile, ProfileStatus, utcnow

# The review workflow: which status may follow which. Drafts (in_progress) are the bot's business.
ALLOWED_TRANSITIONS: dict[ProfileStatus, frozenset[ProfileStatus]] = {
    ProfileStatus.SUBMITTED: frozenset({ProfileStatus.IN_REVIEW, ProfileStatus.WITHDRAWN}),
    ProfileStatus.IN_REVIEW: frozenset(
        {ProfileStatus.INTERVIEW_SCHEDULED, ProfileStatus.CLOSED, ProfileStatus.WITHDRAWN}
    ),
    ProfileStatus.INTERVIEW_SCHEDULED: frozenset(
        {ProfileStatus.IN_REVIEW, ProfileStatus.CLOSED, ProfileStatus.WITHDRAWN}
    ),
    ProfileStatus.CLOSED: frozenset(),
    ProfileStatus.WITHDRAWN: frozenset(),
    ProfileStatus.IN_PROGRESS: frozenset(),
}
# Statuses a coach sees; drafts are not submitted yet.
REVIEW_STATUSES: tuple[ProfileStatus, ...] = (
    ProfileStatus.SUBMITTED,
    ProfileStatus.IN_REVIEW,
    ProfileStatus.INTERVIEW_SCHEDULED,
    ProfileStatus.CLOSED,
    ProfileStatus.WITHDRAWN,
)
MAX_OUTBOX_ATTEMPTS = 5


class TransitionError(ValueError):
    """A status change the workflow does not allow."""


# -- accounts, sessions, throttling ------------------------------------------------------------


class CoachUserRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, user_id: int) -> CoachUser | None:
        return self.session.get(CoachUser, user_id)

    def get_by_username(self, username: str) -> CoachUser | None:
        statement = select(CoachUser).where(CoachUser.username == username)
        return self.session.scalars(statement).one_or_none()

    def create(self, username: str, password_hash: str, role: CoachRole | str) -> CoachUser:
        user = CoachUser(username=username, password_hash=password_hash, role=CoachRole(role), active=True)
        self.session.add(user)
        self.session.flush()
        return user

    def list(self) -> Sequence[CoachUser]:
        return self.session.scalars(select(CoachUser).order_by(CoachUser.username)).all()

    def usernames(self) -> builtins.list[str]:
        statement = select(CoachUser.username).where(CoachUser.active.is_(True)).order_by(CoachUser.username)
        return builtins.list(self.session.scalars(statement))


class CoachSessionRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def create(self, user: CoachUser, token_hash: str, csrf_token: str, lifetime: timedelta) -> CoachSession:
        now = utcnow()
        row = CoachSession(
            token_hash=token_hash,
            user_id=user.id,
            csrf_token=csrf_token,
            created_at=now,
            expires_at=now + lifetime,
        )
        self.session.add(row)
        self.session.flush()
        return row

    def get_valid(self, token_hash: str) -> tuple[CoachSession, CoachUser] | None:
        statement = (
            select(CoachSession, CoachUser)
            .join(CoachUser, CoachUser.id == CoachSession.user_id)
            .where(
                CoachSession.token_hash == token_hash,
                CoachSession.expires_at > utcnow(),
                CoachUser.active.is_(True),
            )
        )
        row = self.session.execute(statement).one_or_none()
        return (row[0], row[1]) if row is not None else None

    def delete(self, token_hash: str) -> None:
        self.session.execute(delete(CoachSession).where(CoachSession.token_hash == token_hash))

    def delete_expired(self) -> None:
        self.session.execute(delete(CoachSession).where(CoachSession.expires_at <= utcnow()))


class LoginThrottle:
    """Failed logins per username and client address within a window."""

    def __init__(self, session: Session, limit: int = 5, window: timedelta = timedelta(minutes=15)) -> None:
        self.session = session
        self.limit = limit
        self.window = window

    def blocked(self, username: str, client_ip: str) -> bool:
        since = utcnow() - self.window
        statement = select(func.count()).where(
            CoachLoginFailure.username == username,
            CoachLoginFailure.client_ip == client_ip,
            CoachLoginFailure.failed_at > since,
        )
        return (self.session.scalar(statement) or 0) >= self.limit

    def record_failure(self, username: str, client_ip: str) -> None:
        self.session.add(CoachLoginFailure(username=username[:64], client_ip=client_ip[:64]))
        self.session.flush()

    def clear(self, username: str, client_ip: str) -> None:
        self.session.execute(
            delete(CoachLoginFailure).where(
                CoachLoginFailure.username == username, CoachLoginFailure.client_ip == client_ip
            )
        )


# -- workflow ----------------------------------------------------------------------------------


class ReviewRepository:
    """Status changes with history, assignment, notes and interview appointments of profiles."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def change_status(
        self, profile: Profile, to_status: ProfileStatus | str, by: str, at: datetime | None = None
    ) -> ProfileStatusChange:
        target = ProfileStatus(to_status)
        if target not in ALLOWED_TRANSITIONS.get(profile.status, frozenset()):
            raise TransitionError(f"{profile.status.value} -> {target.value} is not allowed")
        change = ProfileStatusChange(
            profile_id=profile.id,
            from_status=profile.status,
            to_status=target,
            changed_by=by,
            changed_at=at or utcnow(),
        )
        profile.status = target
        self.session.add(change)
        self.session.flush()
        return change

    def history(self, profile_id: str) -> Sequence[ProfileStatusChange]:
        statement = (
            select(ProfileStatusChange)
            .where(ProfileStatusChange.profile_id == profile_id)
            .order_by(ProfileStatusChange.changed_at, ProfileStatusChange.id)
        )
        return self.session.scalars(statement).all()

    def assign(self, profile: Profile, username: str | None) -> None:
        profile.assigned_coach = username or None
        self.session.flush()

    def add_note(self, profile_id: str, author: str, text: str) -> CoachNote:
        note = CoachNote(profile_id=profile_id, author=author, text=text)
        self.session.add(note)
        self.session.flush()
        return note

    def notes(self, profile_id: str) -> Sequence[CoachNote]:
        statement = (
            select(CoachNote)
            .where(CoachNote.profile_id == profile_id)
            .order_by(CoachNote.created_at.desc(), CoachNote.id.desc())
        )
        return self.session.scalars(statement).all()

    def schedule_interview(
        self,
        profile: Profile,
        starts_at: datetime,
        by: str,
        place: str | None = None,
        video_link: str | None = None,
        can_send: bool = True,
    ) -> InterviewAppointment:
        """Record an appointment and queue the invitation (or mark it unsendable); moves the profile
        to interview_scheduled when it is in review."""
        participant = profile.participant
        if not can_send:
            status, error = OutboxStatus.SKIPPED, "no_telegram"
        elif participant is None or not participant.telegram_chat_id:
            status, error = OutboxStatus.SKIPPED, "no_chat"
        else:
            status, error = OutboxStatus.PENDING, None
        appointment = InterviewAppointment(
            profile_id=profile.id,
            starts_at=starts_at,
            place=place or None,
            video_link=video_link or None,
            created_by=by,
            message_status=status,
            message_error=error,
        )
        self.session.add(appointment)
        self.session.flush()
        if status is OutboxStatus.PENDING:
            self.session.add(
                OutboxMessage(
                    kind=OutboxKind.INTERVIEW_INVITATION,
                    profile_id=profile.id,
                    appointment_id=appointment.id,
                    status=OutboxStatus.PENDING,
                    attempts=0,
                )
            )
        if profile.status is ProfileStatus.IN_REVIEW:
            self.change_status(profile, ProfileStatus.INTERVIEW_SCHEDULED, by)
        self.session.flush()
        return appointment

    def appointments(self, profile_id: str) -> Sequence[InterviewAppointment]:
        statement = (
            select(InterviewAppointment)
            .where(InterviewAppointment.profile_id == profile_id)
            .order_by(InterviewAppointment.created_at.desc(), InterviewAppointment.id.desc())
        )
        return self.session.scalars(statement).all()

    def latest_appointment_id(self, profile_id: str) -> int | None:
        statement = select(func.max(InterviewAppointment.id)).where(
            InterviewAppointment.profile_id == profile_id
        )
        return self.session.scalar(statement)

    def record_response(self, appointment: InterviewAppointment, response: InterviewResponse | str) -> None:
        appointment.response = InterviewResponse(response)
        appointment.responded_at = utcnow()
        self.session.flush()


# -- outbox ------------------------------------------------------------------------------------


def enqueue_submission_notice(session: Session, profile_id: str) -> OutboxMessage:
    """Queue the coach chat's notice about a newly submitted profile; call it in the unit of work
    that submits the profile, so the notice exists exactly when the submission does."""
    message = OutboxMessage(
        kind=OutboxKind.SUBMISSION_NOTICE, profile_id=profile_id, status=OutboxStatus.PENDING, attempts=0
    )
    session.add(message)
    session.flush()
    return message


class OutboxRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def pending(self, limit: int = 20) -> Sequence[OutboxMessage]:
        statement = (
            select(OutboxMessage)
            .where(OutboxMessage.status == OutboxStatus.PENDING)
            .order_by(OutboxMessage.id)
            .limit(limit)
        )
        return self.session.scalars(statement).all()

    def mark(self, message: OutboxMessage, status: OutboxStatus, error: str | None = None) -> None:
        message.status = status
        message.last_error = error[:64] if error else None
        if status is OutboxStatus.SENT:
            message.sent_at = utcnow()
        self.session.flush()

    def record_failure(self, message: OutboxMessage, error: str) -> None:
        """Count a failed attempt; after MAX_OUTBOX_ATTEMPTS the message is given up."""
        message.attempts += 1
        message.last_error = error[:64]
        if message.attempts >= MAX_OUTBOX_ATTEMPTS:
            message.status = OutboxStatus.FAILED
        self.session.flush()


# -- the profile list --------------------------------------------------------------------------

SORT_COLUMNS = ("status", "submitted", "country", "chat_language", "interview_language",
                "interpreter", "goal", "coach")  # fmt: skip


@dataclass
class ProfileFilter:
    """Filters, sort and page of the coach's profile list. Search terms come already expanded:
    for each term, the codes whose code or German label matches it, per field."""

    statuses: builtins.list[str] = field(default_factory=builtins.list)
    country: str | None = None
    language: str | None = None
    goal: str | None = None
    coach: str | None = None  # a username, or "-" for unassigned
    interpreter: bool | None = None
    terms: builtins.list[dict[str, set[str]]] = field(default_factory=builtins.list)
    sort: str = "submitted"
    descending: bool = True
    page: int = 1
    page_size: int = 50
    # Optional label orderings (code -> German label) for sorting by what the coach reads.
    sort_labels: dict[str, dict[str, str]] = field(default_factory=dict)


def _filtered(statement: Select[Any], query: ProfileFilter) -> Select[Any]:
    statuses = [ProfileStatus(s) for s in query.statuses] or builtins.list(REVIEW_STATUSES)
    statement = statement.where(Profile.status.in_(statuses))
    if query.country:
        statement = statement.where(Profile.return_country == query.country)
    if query.language:
        statement = statement.where(
            or_(Profile.chat_language == query.language, Profile.interview_language == query.language)
        )
    if query.goal:
        statement = statement.where(Profile.goal == query.goal)
    if query.coach == "-":
        statement = statement.where(Profile.assigned_coach.is_(None))
    elif query.coach:
        statement = statement.where(Profile.assigned_coach == query.coach)
    if query.interpreter is not None:
        statement = statement.where(Profile.interpreter_needed.is_(query.interpreter))
    for term in query.terms:
        statement = statement.where(_term_condition(term))
    return statement


_SEARCH_COLUMNS = {
    "country": (Profile.return_country,),
    "language": (Profile.chat_language, Profile.interview_language),
    "goal": (Profile.goal,),
    "status": (Profile.status,),
    "coach": (Profile.assigned_coach,),
    "id": (Profile.id,),
}


def _term_condition(term: dict[str, set[str]]) -> ColumnElement[bool]:
    conditions: builtins.list[ColumnElement[bool]] = []
    for name, codes in term.items():
        if not codes:
            continue
        for column in _SEARCH_COLUMNS[name]:
            conditions.append(column.in_(sorted(codes)))
    return or_(*conditions) if conditions else and_(False)  # type: ignore[arg-type]


def _sort_expression(query: ProfileFilter) -> builtins.list[Any]:
    columns: dict[str, Any] = {
        "status": Profile.status,
        "submitted": Profile.submitted_at,
        "country": Profile.return_country,
        "chat_language": Profile.chat_language,
        "interview_language": Profile.interview_language,
        "interpreter": Profile.interpreter_needed,
        "goal": Profile.goal,
        "coach": Profile.assigned_coach,
    }
    column = columns.get(query.sort, Profile.submitted_at)
    labels = query.sort_labels.get(query.sort)
    if labels:
        column = case(labels, value=column, else_=column)
    ordered = column.desc() if query.descending else column.asc()
    tiebreak = Profile.submitted_at.desc() if query.sort != "submitted" else None
    result = [ordered.nulls_last()]
    if tiebreak is not None:
        result.append(tiebreak.nulls_last())
    result.append(Profile.id)
    return result


def count_profiles(session: Session, query: ProfileFilter) -> int:
    statement = _filtered(select(func.count()).select_from(Profile), query)
    return int(session.scalar(statement) or 0)


def list_profiles(session: Session, query: ProfileFilter) -> Sequence[Profile]:
    """One page of the list; only the list columns are loaded, not the answers."""
    from sqlalchemy.orm import load_only

    statement = _filtered(select(Profile), query).options(
        load_only(
            Profile.id,
            Profile.status,
            Profile.submitted_at,
            Profile.return_country,
            Profile.chat_language,
            Profile.interview_language,
            Profile.interpreter_needed,
            Profile.goal,
            Profile.assigned_coach,
        )
    )
    page = max(query.page, 1)
    statement = (
        statement.order_by(*_sort_expression(query))
        .limit(query.page_size)
        .offset((page - 1) * query.page_size)
    )
    return session.scalars(statement).all()


def filtered_profiles(session: Session, query: ProfileFilter) -> Sequence[Profile]:
    """Every profile matching the filters (for exports), with answers and participant."""
    from sqlalchemy.orm import selectinload

    statement = (
        _filtered(select(Profile), query)
        .options(selectinload(Profile.participant))
        .order_by(*_sort_expression(query))
    )
    return session.scalars(statement).all()


def distinct_values(session: Session, column: Any) -> builtins.list[str]:
    statement = (
        select(column)
        .where(Profile.status.in_(REVIEW_STATUSES), column.is_not(None))
        .distinct()
        .order_by(column)
    )
    return [str(value) for value in session.scalars(statement)]


# -- programme overview ------------------------------------------------------------------------


@dataclass
class Overview:
    participants: int
    by_status: dict[str, int]
    by_country: dict[str, int]
    by_language: dict[str, int]
    by_month: dict[str, int]
    funnel: dict[str, int]


def _month_expression(session: Session) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", Profile.submitted_at), "YYYY-MM")
    return func.strftime("%Y-%m", Profile.submitted_at)


def programme_overview(session: Session) -> Overview:
    """Counts for the programme overview, each one GROUP BY in the database."""
    review = Profile.status.in_(REVIEW_STATUSES)

    def grouped(column: Any, where: Any = review) -> dict[str, int]:
        statement = select(column, func.count()).where(where).group_by(column)
        return {str(key): int(count) for key, count in session.execute(statement) if key is not None}

    by_status = {
        (status.value if isinstance(status, ProfileStatus) else str(status)): count
        for status, count in session.execute(select(Profile.status, func.count()).group_by(Profile.status))
    }
    month = _month_expression(session)
    by_month = dict(sorted(grouped(month, and_(review, Profile.submitted_at.is_not(None))).items()))
    submitted_participants = session.scalar(
        select(func.count(func.distinct(Profile.participant_id))).where(review)
    )
    started = session.scalar(select(func.count()).select_from(Participant)) or 0
    consented = session.scalar(select(func.count()).where(Participant.consent_given_at.is_not(None))) or 0
    scheduled = session.scalar(
        select(func.count(func.distinct(ProfileStatusChange.profile_id))).where(
            ProfileStatusChange.to_status == ProfileStatus.INTERVIEW_SCHEDULED
        )
    )
    interviewed = session.scalar(
        select(func.count(func.distinct(ProfileStatusChange.profile_id))).where(
            ProfileStatusChange.from_status == ProfileStatus.INTERVIEW_SCHEDULED,
            ProfileStatusChange.to_status == ProfileStatus.CLOSED,
        )
    )
    return Overview(
        participants=int(submitted_participants or 0),
        by_status={s.value: by_status.get(s.value, 0) for s in ProfileStatus},
        by_country=dict(sorted(grouped(Profile.return_country).items(), key=lambda kv: -kv[1])),
        by_language=dict(sorted(grouped(Profile.chat_language).items(), key=lambda kv: -kv[1])),
        by_month=by_month,
        funnel={
            "started": int(started),
            "consented": int(consented),
            "submitted": int(submitted_participants or 0),
            "interview_scheduled": int(scheduled or 0),
            "interviewed": int(interviewed or 0),
        },
    )
