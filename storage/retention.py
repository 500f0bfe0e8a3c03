"""Retention: closed profiles and abandoned intakes are erased when their time is up.

Closed or withdrawn profiles go `closed_after` their last change; intakes never submitted go
`draft_after` they were last touched. A participant left with no profile is erased too; the
caller then erases that person's Rasa conversation and voice files (bot/retention.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from storage.coach_models import DeletionReason
from storage.models import Participant, Profile, ProfileStatus, utcnow
from storage.repository import ParticipantRepository, ProfileRepository

ENDED = (ProfileStatus.CLOSED, ProfileStatus.WITHDRAWN)


@dataclass
class RetentionResult:
    closed_profiles: int = 0
    abandoned_drafts: int = 0
    # Everything of these profiles and people is gone from the database; their files and
    # conversations are the caller's to erase.
    profile_ids: list[str] = field(default_factory=list)
    subject_hashes: list[str] = field(default_factory=list)


def erase_expired(
    session: Session, closed_after: timedelta, draft_after: timedelta, now: datetime | None = None
) -> RetentionResult:
    """Erase what has outlived its retention period; the caller commits."""
    now = now or utcnow()
    result = RetentionResult()
    profiles = ProfileRepository(session)
    expired = session.scalars(
        select(Profile)
        .where(
            (Profile.status.in_(ENDED) & (Profile.updated_at < now - closed_after))
            | ((Profile.status == ProfileStatus.IN_PROGRESS) & (Profile.updated_at < now - draft_after))
        )
        .order_by(Profile.id)
    ).all()
    for profile in expired:
        if profile.status is ProfileStatus.IN_PROGRESS:
            result.abandoned_drafts += 1
        else:
            result.closed_profiles += 1
        result.profile_ids.append(profile.id)
        profiles.erase(profile, DeletionReason.RETENTION)

    # People with nothing left: erased once their last profile went, or consented long ago and
    # never started.
    alone = session.scalars(
        select(Participant)
        .where(~exists().where(Profile.participant_id == Participant.id))
        .where(Participant.updated_at < now - draft_after)
        .order_by(Participant.id)
    ).all()
    participants = ParticipantRepository(session)
    for participant in alone:
        result.subject_hashes.append(participant.subject_hash)
        participants.delete(participant, reason=DeletionReason.RETENTION)
    return result
