"""Repositories of the coach review (accounts, sessions, workflow, notes, appointments, outbox, lists,
audit log, erasure with tombstones).

Like storage.repository they flush but never commit: the caller owns the unit of work.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Select,
    String,
    and_,
    case,
    delete,
    exists,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.orm import Session

from storage.coach_models import (
    ACTOR_PARTICIPANT,
    ACTOR_SYSTEM,
    AuditAction,
    AuditEntry,
    CoachLoginFailure,
    CoachNote,
    CoachRole,
    CoachSession,
    CoachUser,
    DeletionReason,
    InterviewAppointment,
    InterviewResponse,
    OutboxKind,
    OutboxMessage,
    OutboxStatus,
    ProfileStatusChange,
    ProfileTombstone,
)
from storage.models import IntakeStart, Participant, Profile, ProfileStatus, UTCDateTime, utcnow

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
_AnySelect = TypeVar("_AnySelect", bound=Select[*tuple[Any, ...]])


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


# -- audit log ---------------------------------------------------------------------------------


@dataclass
class AuditQuery:
    """Filters and page of the audit log page (newest first)."""

    actor: str | None = None
    action: AuditAction | None = None
    profile_id: str | None = None
    page: int = 1
    page_size: int = 50


class AuditLogRepository:
    """The append-only audit log: entries are added and listed, never changed (the database refuses
    UPDATE and DELETE as well). An entry names an actor, an action, at most a profile id and a code."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(
        self,
        actor: str,
        action: AuditAction | str,
        profile_id: str | None = None,
        detail: str | None = None,
        at: datetime | None = None,
    ) -> AuditEntry:
        entry = AuditEntry(
            at=at or utcnow(),
            actor=actor[:64],
            action=AuditAction(action),
            profile_id=profile_id,
            detail=detail[:64] if detail else None,
        )
        self.session.add(entry)
        self.session.flush()
        return entry

    def add_for_profiles(
        self, actor: str, action: AuditAction | str, profile_ids: Iterable[str], detail: str | None = None
    ) -> int:
        """One entry per profile in a single statement (list exports can hold thousands)."""
        now, kind = utcnow(), AuditAction(action)
        rows = [
            {"at": now, "actor": actor[:64], "action": kind, "profile_id": profile_id, "detail": detail}
            for profile_id in profile_ids
        ]
        if rows:
            self.session.execute(insert(AuditEntry), rows)
        return len(rows)

    def _filtered(self, statement: Select[Any], query: AuditQuery) -> Select[Any]:
        if query.actor:
            statement = statement.where(AuditEntry.actor == query.actor)
        if query.action is not None:
            statement = statement.where(AuditEntry.action == query.action)
        if query.profile_id:
            statement = statement.where(AuditEntry.profile_id == query.profile_id)
        return statement

    def count(self, query: AuditQuery) -> int:
        statement = self._filtered(select(func.count()).select_from(AuditEntry), query)
        return int(self.session.scalar(statement) or 0)

    def list(self, query: AuditQuery) -> Sequence[AuditEntry]:
        statement = (
            self._filtered(select(AuditEntry), query)
            .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
            .limit(query.page_size)
            .offset((max(query.page, 1) - 1) * query.page_size)
        )
        return self.session.scalars(statement).all()

    def actors(self) -> builtins.list[str]:
        statement = select(AuditEntry.actor).distinct().order_by(AuditEntry.actor)
        return builtins.list(self.session.scalars(statement))


# -- erasure: what a deleted profile leaves behind ---------------------------------------------


def _month_start(moment: datetime) -> datetime:
    moment = moment.astimezone(UTC)
    return datetime(moment.year, moment.month, 1, tzinfo=UTC)


def _actor_for(reason: DeletionReason) -> str:
    return ACTOR_PARTICIPANT if reason is DeletionReason.PARTICIPANT_REQUEST else ACTOR_SYSTEM


def erase_profile(
    session: Session, profile: Profile, reason: DeletionReason | str, *, counts_as_participant: bool
) -> ProfileTombstone | None:
    """Delete a profile with its coach notes, status history, appointments and outbox messages.

    A profile that was ever submitted leaves a tombstone (no content: status before, month of
    submission, workflow milestones, when and why), a draft none; both get an audit entry.
    """
    reason = DeletionReason(reason)
    tombstone = None
    if profile.status is not ProfileStatus.IN_PROGRESS:
        changes = ProfileStatusChange
        scheduled = session.scalar(
            select(
                exists().where(
                    changes.profile_id == profile.id,
                    changes.to_status == ProfileStatus.INTERVIEW_SCHEDULED,
                )
            )
        )
        interviewed = session.scalar(
            select(
                exists().where(
                    changes.profile_id == profile.id,
                    changes.from_status == ProfileStatus.INTERVIEW_SCHEDULED,
                    changes.to_status == ProfileStatus.CLOSED,
                )
            )
        )
        tombstone = ProfileTombstone(
            profile_id=profile.id,
            status_before=profile.status,
            submitted_month=_month_start(profile.submitted_at or profile.created_at or utcnow()),
            deleted_at=utcnow(),
            reason=reason,
            counts_as_participant=counts_as_participant,
            interview_scheduled=bool(scheduled),
            interviewed=bool(interviewed),
        )
        session.add(tombstone)
    AuditLogRepository(session).add(_actor_for(reason), AuditAction.PROFILE_DELETED, profile.id, reason)
    # Explicitly, not only through ON DELETE CASCADE: the rows must go even where a database runs
    # without foreign keys, and the session must not keep them in its identity map.
    for model in (OutboxMessage, InterviewAppointment, CoachNote, ProfileStatusChange):
        session.execute(
            delete(model).where(model.profile_id == profile.id).execution_options(synchronize_session="fetch")
        )
    session.delete(profile)
    session.flush()
    return tombstone


def erase_participant(session: Session, participant: Participant, reason: DeletionReason | str) -> None:
    """Delete a participant and all their profiles (see erase_profile); the person is counted once
    among the submitted participants of the programme, through their first tombstone."""
    reason = DeletionReason(reason)
    profiles = session.scalars(
        select(Profile).where(Profile.participant_id == participant.id).order_by(Profile.created_at)
    ).all()
    counted = False
    for profile in profiles:
        submitted = profile.status is not ProfileStatus.IN_PROGRESS
        erase_profile(session, profile, reason, counts_as_participant=submitted and not counted)
        counted = counted or submitted
    AuditLogRepository(session).add(_actor_for(reason), AuditAction.PARTICIPANT_DELETED, detail=reason)
    # The profiles are gone; a loaded collection would make the ORM delete them a second time.
    session.expire(participant, ["profiles"])
    session.delete(participant)
    session.flush()


def erase_single_profile(session: Session, profile: Profile, reason: DeletionReason | str) -> None:
    """Delete one profile (e.g. when its retention period ends); the participant stays."""
    others = session.scalar(
        select(
            exists().where(
                Profile.participant_id == profile.participant_id,
                Profile.id != profile.id,
                Profile.status != ProfileStatus.IN_PROGRESS,
            )
        )
    )
    erase_profile(session, profile, reason, counts_as_participant=not others)


def tombstone(session: Session, profile_id: str) -> ProfileTombstone | None:
    return session.get(ProfileTombstone, profile_id)


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


def _filtered(statement: _AnySelect, query: ProfileFilter) -> _AnySelect:
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


@dataclass(frozen=True)
class ListRow:
    """One row of the coach's list: a profile's list columns, or a tombstone (deleted_at set, the
    rest empty)."""

    id: str
    status: ProfileStatus
    submitted_at: datetime | None
    return_country: str | None
    chat_language: str | None
    interview_language: str | None
    interpreter_needed: bool | None
    goal: str | None
    assigned_coach: str | None
    deleted_at: datetime | None = None


_LIST_COLUMNS = ("id", "status", "submitted_at", "return_country", "chat_language", "interview_language",
                 "interpreter_needed", "goal", "assigned_coach", "deleted_at")  # fmt: skip


def _live_rows(query: ProfileFilter) -> Select[*tuple[Any, ...]]:
    statement = select(
        Profile.id.label("id"),
        Profile.status.label("status"),
        Profile.submitted_at.label("submitted_at"),
        Profile.return_country.label("return_country"),
        Profile.chat_language.label("chat_language"),
        Profile.interview_language.label("interview_language"),
        Profile.interpreter_needed.label("interpreter_needed"),
        Profile.goal.label("goal"),
        Profile.assigned_coach.label("assigned_coach"),
        type_coerce(null(), UTCDateTime()).label("deleted_at"),
    )
    return _filtered(statement, query)


def _tombstone_rows(query: ProfileFilter) -> Select[*tuple[Any, ...]] | None:
    """Tombstones as list rows, or None when the filters rule them out: they have no country,
    language, goal, interpreter or coach, and their status is withdrawn."""
    if query.country or query.language or query.goal or query.coach or query.interpreter is not None:
        return None
    if query.statuses and ProfileStatus.WITHDRAWN.value not in query.statuses:
        return None
    conditions: builtins.list[ColumnElement[bool]] = []
    for term in query.terms:
        if ProfileStatus.WITHDRAWN.value in term.get("status", set()):
            continue
        ids = term.get("id") or set()
        if not ids:
            return None
        conditions.append(ProfileTombstone.profile_id.in_(sorted(ids)))
    statement = select(
        ProfileTombstone.profile_id.label("id"),
        literal(ProfileStatus.WITHDRAWN.value, String(32)).label("status"),
        ProfileTombstone.submitted_month.label("submitted_at"),
        type_coerce(null(), String()).label("return_country"),
        type_coerce(null(), String()).label("chat_language"),
        type_coerce(null(), String()).label("interview_language"),
        type_coerce(null(), Boolean()).label("interpreter_needed"),
        type_coerce(null(), String()).label("goal"),
        type_coerce(null(), String()).label("assigned_coach"),
        ProfileTombstone.deleted_at.label("deleted_at"),
    )
    return statement.where(*conditions)


def _list_rows(query: ProfileFilter) -> Any:
    live = _live_rows(query)
    dead = _tombstone_rows(query)
    return (union_all(live, dead) if dead is not None else live).subquery("rows")


def _sort_expression(query: ProfileFilter, columns: Any) -> builtins.list[Any]:
    """ORDER BY of the list; ``columns`` has the list columns by name (Profile, or the rows subquery)."""
    by_key: dict[str, Any] = {
        "status": columns.status,
        "submitted": columns.submitted_at,
        "country": columns.return_country,
        "chat_language": columns.chat_language,
        "interview_language": columns.interview_language,
        "interpreter": columns.interpreter_needed,
        "goal": columns.goal,
        "coach": columns.assigned_coach,
    }
    column = by_key.get(query.sort, columns.submitted_at)
    labels = query.sort_labels.get(query.sort)
    if labels:
        column = case(labels, value=column, else_=column)
    ordered = column.desc() if query.descending else column.asc()
    tiebreak = columns.submitted_at.desc() if query.sort != "submitted" else None
    result = [ordered.nulls_last()]
    if tiebreak is not None:
        result.append(tiebreak.nulls_last())
    result.append(columns.id)
    return result


def count_profiles(session: Session, query: ProfileFilter) -> int:
    """Rows of the list: profiles matching the filters, and tombstones where they can match."""
    statement = select(func.count()).select_from(_list_rows(query))
    return int(session.scalar(statement) or 0)


def list_profiles(session: Session, query: ProfileFilter) -> builtins.list[ListRow]:
    """One page of the list (profiles and tombstones); only the list columns are read."""
    rows = _list_rows(query)
    page = max(query.page, 1)
    statement = (
        select(*(rows.c[name] for name in _LIST_COLUMNS))
        .order_by(*_sort_expression(query, rows.c))
        .limit(query.page_size)
        .offset((page - 1) * query.page_size)
    )
    return [
        ListRow(**{**row._asdict(), "status": ProfileStatus(row.status)})
        for row in session.execute(statement)
    ]


def filtered_profiles(session: Session, query: ProfileFilter) -> Sequence[Profile]:
    """Every profile matching the filters (for exports), with answers and participant; tombstones
    have no content and are not exported."""
    from sqlalchemy.orm import selectinload

    statement = (
        _filtered(select(Profile), query)
        .options(selectinload(Profile.participant))
        .order_by(*_sort_expression(query, Profile))
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
    # Submitted profiles deleted since (tombstones); counted as withdrawn in by_status.
    deleted: int = 0


def _month_expression(session: Session, column: Any) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM")
    return func.strftime("%Y-%m", column)


def programme_overview(session: Session) -> Overview:
    """Counts for the programme overview, each one GROUP BY in the database.

    Deleted profiles keep counting through their tombstones (as withdrawn, in their month of
    submission, among submitted participants and in the funnel); by country and language they
    cannot, since a tombstone keeps neither.
    """
    review = Profile.status.in_(REVIEW_STATUSES)

    def grouped(column: Any, where: Any = review) -> dict[str, int]:
        statement = select(column, func.count()).where(where).group_by(column)
        return {str(key): int(count) for key, count in session.execute(statement) if key is not None}

    def count(statement: Any) -> int:
        return int(session.scalar(statement) or 0)

    by_status = {
        (status.value if isinstance(status, ProfileStatus) else str(status)): count
        for status, count in session.execute(select(Profile.status, func.count()).group_by(Profile.status))
    }
    deleted = count(select(func.count()).select_from(ProfileTombstone))
    by_status[ProfileStatus.WITHDRAWN.value] = by_status.get(ProfileStatus.WITHDRAWN.value, 0) + deleted

    by_month = grouped(
        _month_expression(session, Profile.submitted_at), and_(review, Profile.submitted_at.is_not(None))
    )
    tomb_month = _month_expression(session, ProfileTombstone.submitted_month)
    for month, number in session.execute(select(tomb_month, func.count()).group_by(tomb_month)):
        by_month[str(month)] = by_month.get(str(month), 0) + int(number)

    deleted_participants = count(select(func.count()).where(ProfileTombstone.counts_as_participant.is_(True)))
    submitted_participants = (
        count(select(func.count(func.distinct(Profile.participant_id))).where(review)) + deleted_participants
    )
    # A deleted participant had consented before submitting.
    consented = (
        count(select(func.count()).where(Participant.consent_given_at.is_not(None))) + deleted_participants
    )
    # Started: the anonymous monthly count (people who never consented too; never decreased by an
    # erasure). Intakes from before it was counted are at least those who consented.
    started = max(count(select(func.sum(IntakeStart.started))), consented)
    scheduled = count(
        select(func.count(func.distinct(ProfileStatusChange.profile_id))).where(
            ProfileStatusChange.to_status == ProfileStatus.INTERVIEW_SCHEDULED
        )
    ) + count(select(func.count()).where(ProfileTombstone.interview_scheduled.is_(True)))
    interviewed = count(
        select(func.count(func.distinct(ProfileStatusChange.profile_id))).where(
            ProfileStatusChange.from_status == ProfileStatus.INTERVIEW_SCHEDULED,
            ProfileStatusChange.to_status == ProfileStatus.CLOSED,
        )
    ) + count(select(func.count()).where(ProfileTombstone.interviewed.is_(True)))
    return Overview(
        participants=submitted_participants,
        by_status={s.value: by_status.get(s.value, 0) for s in ProfileStatus},
        by_country=dict(sorted(grouped(Profile.return_country).items(), key=lambda kv: -kv[1])),
        by_language=dict(sorted(grouped(Profile.chat_language).items(), key=lambda kv: -kv[1])),
        by_month=dict(sorted(by_month.items())),
        funnel={
            "started": started,
            "consented": consented,
            "submitted": submitted_participants,
            "interview_scheduled": scheduled,
            "interviewed": interviewed,
        },
        deleted=deleted,
    )
