"""Helpers for the coach page tests: an in-process ASGI client (sync), invented profiles, login."""

from __future__ import annotations

import asyncio
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.orm import Session

from bot.coach.app import build_coach_app
from bot.coach.auth import hash_password
from bot.coach.seed import PLANS
from core.settings import Settings
from storage.coach import CoachUserRepository
from storage.models import Participant, Profile, ProfileStatus

PASSWORD = "correct-horse-battery"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


class SyncASGIClient:
    """httpx over ASGITransport, driven from synchronous tests by a private event loop."""

    def __init__(self, app: Any, base_url: str = "http://127.0.0.1:8080/coach", client_ip: str = "10.0.0.7"):
        self._loop = asyncio.new_event_loop()
        transport = httpx.ASGITransport(app=app, client=(client_ip, 51000))
        self._client = httpx.AsyncClient(transport=transport, base_url=base_url)

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        if url.startswith("/coach/"):  # a redirect target: paths are relative to the mount
            url = url.removeprefix("/coach")
        return self._loop.run_until_complete(self._client.request(method, url, **kwargs))

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    @property
    def cookies(self) -> httpx.Cookies:
        return self._client.cookies

    def close(self) -> None:
        self._loop.run_until_complete(self._client.aclose())
        self._loop.close()


def coach_settings(db_url: str, data_dir: Path, **extra: Any) -> Settings:
    return Settings(DATA_DIR=data_dir, DATABASE_URL=db_url, **extra)


@contextmanager
def coach_client(
    settings: Settings, application: Any = None, base_url: str = "http://127.0.0.1:8080/coach"
) -> Iterator[SyncASGIClient]:
    """A client for the coach app alone (mounted at /coach in production: the base URL mirrors it)."""
    from starlette.applications import Starlette
    from starlette.routing import Mount

    app = Starlette(routes=[Mount("/coach", app=build_coach_app(settings, application))])
    client = SyncASGIClient(app, base_url=base_url)
    try:
        yield client
    finally:
        client.close()
        app.routes[0].app.state.pages.services.engine.dispose()  # type: ignore[attr-defined]


def create_account(session: Session, name: str, role: str = "coach", password: str = PASSWORD) -> None:
    CoachUserRepository(session).create(name, hash_password(password), role)
    session.commit()


def csrf_from(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "no csrf_token in the page"
    return match[1]


def login(client: SyncASGIClient, name: str, password: str = PASSWORD) -> httpx.Response:
    page = client.get("/login").text
    token = csrf_from(page[page.index('class="login-form"') :])
    return client.post("/login", data={"csrf_token": token, "username": name, "password": password})


def page_csrf(client: SyncASGIClient, path: str = "/") -> str:
    return csrf_from(client.get(path).text)


def invented_profile(
    session: Session,
    *,
    country: str = "GE",
    chat: str = "ka",
    interview: str = "ka",
    interpreter: bool = True,
    goal: str = "self_employment",
    status: ProfileStatus = ProfileStatus.SUBMITTED,
    submitted_days_ago: int = 1,
    chat_id: str | None = "500100200",
    coach: str | None = None,
    extra: dict[str, Any] | None = None,
) -> Profile:
    """One submitted profile of an invented person, complete for the export schema."""
    now = datetime.now(UTC)
    participant = Participant(
        subject_hash=f"test-{country}-{secrets.token_hex(8)}",
        chat_language=chat,
        telegram_chat_id=chat_id,
        consent_version="2026-11-v1",
        consent_given_at=now - timedelta(days=submitted_days_ago, hours=1),
        consent_language=chat,
    )
    answers: dict[str, Any] = {
        "person": {"display_name": "Nino (invented)", "age_group": "25-34"},
        "languages": {
            "chat": chat,
            "interview": interview,
            "interpreter_needed": interpreter,
            "german_level": "A2",
        },
        "return_plan": {"country": country, "timeframe": "3_6_months"},
        "education": {"isced_level": 3},
        "aspirations": {
            "goal": goal,
            "sectors": ["I", "G"],
            "description": {"text": PLANS.get(chat, PLANS["en"]), "language": chat},
        },
        "qualification_interests": ["digital_basics", "accounting_business"],
        "digital_skills": {"smartphone": 3, "computer": 1, "internet_email": 2, "office_software": 0},
        "contact": {"preferred_channel": "telegram", "availability": ["mon_morning", "wed_afternoon"]},
        "flags": [{"field": "/education/isced_level", "kind": "unclear"}],
    }
    answers.update(extra or {})
    profile = Profile(
        status=status,
        answers=answers,
        submitted_at=now - timedelta(days=submitted_days_ago),
        assigned_coach=coach,
    )
    profile.participant = participant
    session.add(participant)
    session.commit()
    return profile


def shown(private: str, text: str) -> bool:
    """Whether `private` is in `text`; a short code only as a word of its own, never inside a
    random token (a CSRF token or an id may well contain "GE" or "ja")."""
    if len(private) > 3:
        return private in text
    return re.search(rf"(?<![\w-]){re.escape(private)}(?![\w-])", text) is not None
