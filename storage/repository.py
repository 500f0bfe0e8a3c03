"""Repositories for participants and profiles; they flush but never commit (the caller does)."""

from __future__ import annotations

import builtins
import copy
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.coach import erase_participant, erase_single_profile
from storage.coach_models import DeletionReason
from storage.models import (
    ANSWER_SECTIONS,
    ChatLanguageSource,
    IntakeStart,
    Participant,
    Profile,
    ProfileStatus,
    utcnow,
)


class ParticipantRepository:
    """Look up and update participants by their subject hash."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get_by_subject(self, subject_hash: str) -> Participant | None:
        statement = select(Participant).where(Participant.subject_hash == subject_hash)
        return self.session.scalars(statement).one_or_none()

    def get_or_create(self, subject_hash: str) -> Participant:
        """The participant with this hash, created if new (safe against a concurrent insert)."""
        participant = self.get_by_subject(subject_hash)
        if participant is not None:
            return participant
        participant = Participant(subject_hash=subject_hash)
        try:
            with self.session.begin_nested():
                self.session.add(participant)
        except IntegrityError:
            # Someone else created it between our select and insert.
            existing = self.get_by_subject(subject_hash)
            if existing is None:
                raise
            return existing
        return participant

    def set_chat_language(
        self, participant: Participant, code: str, source: ChatLanguageSource | str
    ) -> None:
        """Set the chat language; the participant's draft profile follows it."""
        source = ChatLanguageSource(source)
        participant.chat_language = code
        participant.chat_language_source = source
        drafts = self.session.scalars(
            select(Profile).where(
                Profile.participant_id == participant.id,
                Profile.status == ProfileStatus.IN_PROGRESS,
            )
        )
        for draft in drafts:
            answers = copy.deepcopy(draft.answers)
            languages = answers.setdefault("languages", {})
            languages["chat"] = code
            languages["chat_language_source"] = source.value
            draft.set_answers(answers)
        self.session.flush()

    def record_consent(
        self,
        participant: Participant,
        version: str,
        language: str | None,
        at: datetime | None = None,
    ) -> None:
        """Record which consent text version was accepted, when, and in which language."""
        if at is not None and (at.tzinfo is None or at.utcoffset() is None):
            raise ValueError("consent time must be timezone-aware")
        participant.consent_version = version
        participant.consent_given_at = at or utcnow()
        participant.consent_language = language
        self.session.flush()

    def delete(
        self, participant: Participant, reason: DeletionReason | str = DeletionReason.PARTICIPANT_REQUEST
    ) -> None:
        """Erase a participant with their profiles and the coaches' notes, history, appointments and
        messages about them. Each profile that was ever submitted leaves a tombstone without content
        (coaches see "withdrawn, deleted on ..."); the deletion is written to the audit log."""
        erase_participant(self.session, participant, reason)


class ProfileRepository:
    """Create, edit, submit and list intake profiles."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, profile_id: str) -> Profile | None:
        return self.session.get(Profile, profile_id)

    def draft_for(self, participant: Participant) -> Profile:
        """The participant's in-progress profile, created (seeded with the chat language) if none."""
        draft = self._find_draft(participant)
        if draft is not None:
            return draft
        answers: dict[str, Any] = {}
        if participant.chat_language:
            answers["languages"] = {"chat": participant.chat_language}
            if participant.chat_language_source is not None:
                answers["languages"]["chat_language_source"] = participant.chat_language_source.value
        try:
            with self.session.begin_nested():
                draft = Profile(status=ProfileStatus.IN_PROGRESS, answers=answers)
                self.session.add(draft)
                draft.participant = participant
        except IntegrityError:
            # A concurrent draft_for() won the one-draft-per-participant index.
            existing = self._find_draft(participant)
            if existing is None:
                raise
            return existing
        return draft

    def _find_draft(self, participant: Participant) -> Profile | None:
        statement = (
            select(Profile)
            .where(
                Profile.participant_id == participant.id,
                Profile.status == ProfileStatus.IN_PROGRESS,
            )
            .order_by(Profile.created_at)
            .limit(1)
        )
        return self.session.scalars(statement).first()

    def all_for(self, participant: Participant) -> Sequence[Profile]:
        statement = (
            select(Profile).where(Profile.participant_id == participant.id).order_by(Profile.created_at)
        )
        return self.session.scalars(statement).all()

    def submitted_with(self, participant: Participant, answers: dict[str, Any]) -> Profile | None:
        """The participant's newest submitted profile if it holds exactly `answers`, and no draft
        was started after it. Submitting these answers again is then the same submission repeated:
        a process stopped after the submission was stored and before the conversation recorded it,
        and the message came again."""
        statement = (
            select(Profile)
            .where(Profile.participant_id == participant.id, Profile.status == ProfileStatus.SUBMITTED)
            .order_by(Profile.submitted_at.desc())
            .limit(1)
        )
        submitted = self.session.scalars(statement).first()
        if submitted is None or submitted.answers != answers or self._find_draft(participant) is not None:
            return None
        return submitted

    def latest_for(self, participant: Participant) -> Profile | None:
        """The participant's most recently created profile, whatever its status."""
        statement = (
            select(Profile)
            .where(Profile.participant_id == participant.id)
            .order_by(Profile.created_at.desc())
            .limit(1)
        )
        return self.session.scalars(statement).first()

    def set_answer(self, profile: Profile, pointer: str, value: Any) -> None:
        """Set one answer by JSON pointer (e.g. ``/return_plan/country``), creating parents.

        Array elements are addressed by index; ``-`` appends. The answers are replaced as a
        whole, so the change is tracked and the list columns stay in sync.
        """
        tokens = parse_pointer(pointer)
        if tokens[0] not in ANSWER_SECTIONS:
            raise ValueError(f"{pointer!r} is not inside a profile section")
        answers = copy.deepcopy(profile.answers)
        _assign(answers, tokens, copy.deepcopy(value), pointer)
        profile.set_answers(answers)
        self.session.flush()

    def erase(self, profile: Profile, reason: DeletionReason | str) -> None:
        """Erase one profile (e.g. at the end of its retention period) like ParticipantRepository.delete
        does; the participant and their other profiles stay."""
        erase_single_profile(self.session, profile, reason)

    def submit(self, profile: Profile, at: datetime | None = None) -> None:
        """Mark an in-progress profile as submitted."""
        if profile.status != ProfileStatus.IN_PROGRESS:
            raise ValueError(f"only an in-progress profile can be submitted, not {profile.status}")
        profile.status = ProfileStatus.SUBMITTED
        profile.submitted_at = at or utcnow()
        self.session.flush()

    def list(
        self,
        status: ProfileStatus | str | Iterable[ProfileStatus | str] | None = None,
        *,
        limit: int = 50,
        offset: int = 0,
    ) -> Sequence[Profile]:
        """Profiles, newest submission first (drafts last), optionally filtered by status."""
        statement = select(Profile)
        if status is not None:
            wanted: builtins.list[ProfileStatus]
            if isinstance(status, str):
                wanted = [ProfileStatus(status)]
            else:
                wanted = [ProfileStatus(item) for item in status]
            statement = statement.where(Profile.status.in_(wanted))
        statement = (
            statement.order_by(
                Profile.submitted_at.desc().nulls_last(),
                Profile.created_at.desc(),
                Profile.id,
            )
            .limit(limit)
            .offset(offset)
        )
        return self.session.scalars(statement).all()


def count_intake_start(session: Session, when: datetime | None = None) -> None:
    """Add one to the anonymous count of intakes started in `when`'s month (UTC).

    One statement (an upsert), so concurrent action servers never lose a count."""
    month = (when or utcnow()).astimezone(UTC).strftime("%Y-%m")
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = insert(IntakeStart).values(month=month, started=1)
    add_one = {"started": IntakeStart.started + 1}
    session.execute(statement.on_conflict_do_update(index_elements=[IntakeStart.month], set_=add_one))


def parse_pointer(pointer: str) -> builtins.list[str]:
    """Split a JSON pointer (RFC 6901) into its unescaped reference tokens."""
    if not pointer.startswith("/") or pointer == "/":
        raise ValueError(f"{pointer!r} is not a JSON pointer to a field (e.g. '/return_plan/country')")
    return [token.replace("~1", "/").replace("~0", "~") for token in pointer[1:].split("/")]


def _assign(document: Any, tokens: builtins.list[str], value: Any, pointer: str) -> None:
    container = document
    for position, token in enumerate(tokens):
        last = position == len(tokens) - 1
        if isinstance(container, dict):
            if last:
                container[token] = value
            else:
                child = container.get(token)
                if not isinstance(child, dict | builtins.list):
                    child = container[token] = _new_container(tokens[position + 1])
                container = child
        elif isinstance(container, builtins.list):
            index = _list_index(container, token, pointer)
            if last:
                if index == len(container):
                    container.append(value)
                else:
                    container[index] = value
            else:
                if index == len(container):
                    container.append(_new_container(tokens[position + 1]))
                elif not isinstance(container[index], dict | builtins.list):
                    container[index] = _new_container(tokens[position + 1])
                container = container[index]
        else:  # pragma: no cover - parents are always made containers above
            raise ValueError(f"cannot set {pointer!r}")


def _new_container(next_token: str) -> dict[str, Any] | builtins.list[Any]:
    # "/flags/-" or "/work_experience/0/sector" on a missing parent starts an array.
    return [] if next_token in ("-", "0") else {}


def _list_index(items: builtins.list[Any], part: str, pointer: str) -> int:
    if part == "-":
        return len(items)
    if not part.isdigit() or (len(part) > 1 and part.startswith("0")):
        raise ValueError(f"{pointer!r}: {part!r} is not an array index")
    index = int(part)
    if index > len(items):
        raise ValueError(f"{pointer!r}: index {index} is past the end of the array")
    return index
