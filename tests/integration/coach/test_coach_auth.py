"""Accounts, login, sessions, throttling, CSRF and roles of the coach pages (SQLite and PostgreSQL)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.coach.app import PAGE_ROUTES
from core.settings import Settings
from storage.coach_models import CoachSession, CoachUser
from storage.models import ProfileStatus
from tests.support.coach import (
    PASSWORD,
    SyncASGIClient,
    coach_client,
    csrf_from,
    invented_profile,
    login,
    page_csrf,
)


def test_passwords_are_stored_as_argon2id(client: SyncASGIClient, session: Session) -> None:
    stored = session.scalars(select(CoachUser.password_hash).where(CoachUser.username == "coach.anna")).one()
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored


def test_login_sets_a_session_cookie_and_stores_only_its_hash(
    client: SyncASGIClient, session: Session
) -> None:
    response = login(client, "coach.anna")
    assert response.status_code == 303 and response.headers["location"] == "/coach/"
    cookie = response.headers["set-cookie"]
    assert "coach_session=" in cookie
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax")
    assert "Secure" not in cookie  # PUBLIC_BASE_URL is http in this test
    token = client.cookies["coach_session"]
    hashes = session.scalars(select(CoachSession.token_hash)).all()
    assert token not in hashes and len(hashes) == 1
    assert client.get("/").status_code == 200


def test_cookie_is_secure_behind_https(settings: Settings, session: Session) -> None:
    from tests.support.coach import create_account

    create_account(session, "coach.cleo")
    https = settings.model_copy(update={"public_base_url": "https://coach.example.org"})
    with coach_client(https, base_url="https://coach.example.org/coach") as client:
        assert "Secure" in login(client, "coach.cleo").headers["set-cookie"]


def test_a_new_session_id_at_every_login(client: SyncASGIClient) -> None:
    login(client, "coach.anna")
    first = client.cookies["coach_session"]
    login(client, "coach.anna")
    second = client.cookies["coach_session"]
    assert first != second
    client.cookies.set("coach_session", first, path="/coach")
    assert client.get("/").status_code == 303  # the old session is gone


def test_wrong_password_is_refused(client: SyncASGIClient) -> None:
    response = login(client, "coach.anna", "not-the-password")
    assert response.status_code == 401
    assert "Benutzername oder Passwort ist falsch." in response.text
    assert "coach_session" not in client.cookies
    assert login(client, "nobody.here").status_code == 401


def test_login_is_throttled_per_username_and_address(client: SyncASGIClient, settings: Settings) -> None:
    for _ in range(5):
        assert login(client, "coach.anna", "wrong-password-x").status_code == 401
    blocked = login(client, "coach.anna")  # even the right password waits now
    assert blocked.status_code == 429
    assert "Zu viele Fehlversuche" in blocked.text
    with coach_client(settings) as other:  # same username from another address is not blocked
        other._client._transport.client = ("10.0.0.99", 51000)  # type: ignore[attr-defined]
        assert login(other, "coach.anna").status_code == 303


def test_logout_ends_the_session(client: SyncASGIClient) -> None:
    login(client, "coach.anna")
    token = page_csrf(client)
    assert client.post("/logout", data={"csrf_token": token}).status_code == 303
    assert client.get("/").status_code == 303


def test_login_form_without_its_csrf_token_is_refused(client: SyncASGIClient) -> None:
    client.get("/login")
    response = client.post("/login", data={"username": "coach.anna", "password": PASSWORD})
    assert response.status_code == 403
    assert "coach_session" not in client.cookies


def test_post_without_csrf_token_is_refused_and_changes_nothing(
    client: SyncASGIClient, session: Session
) -> None:
    profile = invented_profile(session)
    login(client, "coach.anna")
    response = client.post(f"/profiles/{profile.id}/status", data={"status": "in_review"})
    assert response.status_code == 403
    wrong = client.post(
        f"/profiles/{profile.id}/status", data={"status": "in_review", "csrf_token": "forged"}
    )
    assert wrong.status_code == 403
    session.expire_all()
    assert session.get(type(profile), profile.id).status is ProfileStatus.SUBMITTED


def _concrete(path: str, profile_id: str) -> str:
    return path.replace("{profile_id}", profile_id).replace("{voice_id}", "vn1")


@pytest.mark.parametrize("route", PAGE_ROUTES, ids=lambda r: f"{r.methods[0]} {r.path} {r.name}")
def test_every_route_enforces_its_role(client: SyncASGIClient, session: Session, route) -> None:  # type: ignore[no-untyped-def]
    profile = invented_profile(session)
    path = _concrete(route.path, profile.id)
    method = route.methods[0]

    anonymous = client.request(method, path, data={"csrf_token": "x"} if method == "POST" else None)
    if route.role is None:
        assert anonymous.status_code in (200, 403)  # login page, or its form without the login cookie
        return
    assert anonymous.status_code in (303, 401)
    if method == "GET":
        assert anonymous.headers["location"].startswith("/coach/login?next=")

    login(client, "coach.anna")
    token = page_csrf(client)
    as_coach = client.request(method, path, data={"csrf_token": token} if method == "POST" else None)
    if route.role.value == "admin":
        assert as_coach.status_code == 403
        login(client, "admin.ben")
        assert client.get(path).status_code == 200
    else:
        assert as_coach.status_code not in (401, 403), as_coach.text[:300]


def test_login_redirects_only_inside_the_coach_pages(client: SyncASGIClient) -> None:
    page = client.get("/login", params={"next": "https://evil.example/"}).text
    token = csrf_from(page)
    assert re.search(r'name="next" value="/coach/"', page)
    response = client.post(
        "/login",
        data={"csrf_token": token, "username": "coach.anna", "password": PASSWORD, "next": "//evil.example/"},
    )
    assert response.headers["location"] == "/coach/"
