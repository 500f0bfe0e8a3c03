"""Prometheus metrics of the bot process, served at GET /metrics: updates in, replies out, turn
latency, errors by kind and intake profiles by status. Counts only: never a text or an id."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Iterator
from functools import wraps
from typing import Any, TypeVar

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from storage.coach_models import ProfileTombstone
from storage.db import session_scope
from storage.models import Profile

logger = logging.getLogger(__name__)

# One registry for the process's counters (prometheus_client's default one also carries the
# Python and process collectors, which we add per app below).
REGISTRY = CollectorRegistry(auto_describe=True)

UPDATES = Counter("intake_updates", "Telegram updates received, by kind", ["kind"], registry=REGISTRY)
REPLIES = Counter("intake_replies", "Messages the bot sent to people", registry=REGISTRY)
TURN_SECONDS = Histogram(
    "intake_turn_seconds",
    "From an update's handling start to its last reply sent",
    buckets=(0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.5, 5.0, 10.0, 30.0),
    registry=REGISTRY,
)
ERRORS = Counter("intake_errors", "Errors, by kind", ["kind"], registry=REGISTRY)
REPEATED = Counter("intake_repeated_updates", "Updates Telegram delivered again (ignored)", registry=REGISTRY)


def update_kind(update: object) -> str:
    for kind in ("edited_message", "callback_query", "message"):
        if getattr(update, kind, None) is not None:
            return kind
    return "other"


Handler = TypeVar("Handler", bound=Callable[..., Awaitable[Any]])


def timed_turn(handler: Handler) -> Handler:
    """Observe how long a handler took, from its start to its last reply."""

    @wraps(handler)
    async def run(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return await handler(*args, **kwargs)
        finally:
            TURN_SECONDS.observe(time.perf_counter() - started)

    return run  # type: ignore[return-value]


class ProfilesByStatus(Collector):
    """Intake profiles by status, read from the database at each scrape; deleted ones by tombstone."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def collect(self) -> Iterator[GaugeMetricFamily]:
        gauge = GaugeMetricFamily("intake_profiles", "Intake profiles, by status", labels=["status"])
        try:
            self._count(gauge)
        except SQLAlchemyError as error:  # the scrape still reports everything else
            logger.warning("intake profiles not counted: %s", type(error).__name__)
            ERRORS.labels("metrics_database").inc()
            return
        yield gauge

    def _count(self, gauge: GaugeMetricFamily) -> None:
        with session_scope(self._sessions) as session:
            for status, count in session.execute(
                select(Profile.status, func.count()).group_by(Profile.status)
            ):
                gauge.add_metric([str(status.value if hasattr(status, "value") else status)], count)
            deleted = session.scalar(select(func.count()).select_from(ProfileTombstone)) or 0
        gauge.add_metric(["deleted"], deleted)


def exposition(per_app: CollectorRegistry) -> bytes:
    """The text format of the process's counters and the app's gauges."""
    return generate_latest(REGISTRY) + generate_latest(per_app)
