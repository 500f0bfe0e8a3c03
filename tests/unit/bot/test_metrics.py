"""GET /metrics: counters of the bot process and intake profiles by status, in Prometheus' format."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from bot.conversation import Conversation, Sender
from bot.metrics import REGISTRY
from bot.rasa_client import RasaClient
from bot.web import build_web_app
from core.settings import Settings
from storage.db import make_engine, make_session_factory, session_scope, upgrade
from storage.models import ProfileStatus
from storage.repository import ParticipantRepository, ProfileRepository


def scrape(settings: Settings) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    app = build_web_app(settings, None)

    async def get() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bot") as client:
            return await client.get("/metrics")

    response = asyncio.run(get())
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def test_profiles_by_status_and_the_process_rss(tmp_path: Path) -> None:
    settings = Settings(DATA_DIR=tmp_path)
    upgrade(settings.effective_database_url)
    engine = make_engine(settings.effective_database_url)
    with session_scope(make_session_factory(engine)) as session:
        for subject, submit in (("a", True), ("b", True), ("c", False)):
            participant = ParticipantRepository(session).get_or_create(subject * 64)
            profile = ProfileRepository(session).draft_for(participant)
            if submit:
                ProfileRepository(session).submit(profile)
    engine.dispose()

    samples = scrape(settings)
    assert samples[("intake_profiles", (("status", ProfileStatus.SUBMITTED.value),))] == 2
    assert samples[("intake_profiles", (("status", ProfileStatus.IN_PROGRESS.value),))] == 1
    assert samples[("intake_profiles", (("status", "deleted"),))] == 0
    assert samples[("process_resident_memory_bytes", ())] > 10_000_000


def test_a_failed_turn_is_counted_by_kind(tmp_path: Path) -> None:
    def before(kind: str) -> float:
        return REGISTRY.get_sample_value("intake_errors_total", {"kind": kind}) or 0.0

    down, empty = before("rasa_unavailable"), before("rasa_empty_answer")
    for answer in (
        lambda request: (_ for _ in ()).throw(httpx.ConnectError("down")),
        lambda request: httpx.Response(200, json=[]),
    ):
        rasa = RasaClient("http://rasa.invalid", transport=httpx.MockTransport(answer))
        asyncio.run(Conversation(rasa, b"k" * 32).handle_text(Sender(user_id=1), "hello"))
    assert before("rasa_unavailable") == down + 1
    assert before("rasa_empty_answer") == empty + 1
    samples = scrape(Settings(DATA_DIR=tmp_path))  # a database without tables: still a scrape
    assert samples[("intake_errors_total", (("kind", "rasa_empty_answer"),))] == empty + 1
    assert not any(name == "intake_profiles" for name, _ in samples)
    assert before("metrics_database") >= 1  # counted, and shown at the next scrape
