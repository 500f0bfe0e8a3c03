"""The retention job: erases expired profiles (storage/retention.py), then the voice files and the
Rasa conversations of what went. Runs in the bot's job queue, like the reminders."""

from __future__ import annotations

import asyncio
import logging
import shutil
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from bot.erasure import erase_conversation
from storage.db import session_scope
from storage.retention import RetentionResult, erase_expired

logger = logging.getLogger(__name__)


def apply_retention(
    sessions: sessionmaker[Session],
    tracker_store_url: str,
    voice_dir: Path,
    closed_after: timedelta,
    draft_after: timedelta,
    now: datetime | None = None,
) -> RetentionResult:
    with session_scope(sessions) as session:
        result = erase_expired(session, closed_after, draft_after, now)
    # Only after the commit: a failed commit must not leave profiles without their files.
    for profile_id in result.profile_ids:
        shutil.rmtree(voice_dir / Path(profile_id).name, ignore_errors=True)
    for subject_hash in result.subject_hashes:
        erase_conversation(tracker_store_url, subject_hash)
    if result.profile_ids or result.subject_hashes:
        logger.info(
            "retention: erased %d closed profiles, %d abandoned intakes, %d people",
            result.closed_profiles,
            result.abandoned_drafts,
            len(result.subject_hashes),
        )
    return result


async def run_retention(
    sessions: sessionmaker[Session],
    tracker_store_url: str,
    voice_dir: Path,
    closed_after: timedelta,
    draft_after: timedelta,
) -> RetentionResult:
    return await asyncio.to_thread(
        apply_retention, sessions, tracker_store_url, voice_dir, closed_after, draft_after
    )
