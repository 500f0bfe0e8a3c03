"""Web hardening of the coach pages: security headers on every response (pages, redirects, errors,
static files, login), cookies, session ids at login, CSRF on every POST route of PAGE_ROUTES."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.applications import Starlette
from starlette.routing import Mount, Route

from bot.coach.app import PACKAGE_DIR, PAGE_ROUTES, PageRoute, build_coach_app
from bot.coach.headers import CONTENT_SECURITY_POLICY
from core.settings import Settings
from storage.coach_models import AuditEntry, CoachSession
from storage.models import Profile, ProfileStatus
from tests.support.coach import (
    PASSWORD,
    SyncASGIClient,
    coach_client,
    create_account,
    csrf_from,
    invented_profile,
    login,
    page_csrf,
)

HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "permissions-policy": None,  # present, value checked in the unit tests
    "cross-origin-opener-policy": "same-origin",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
}


def assert_hardened(response: httpx.Response, https: bool = False) -> None:
    where = f"{response.request.method} {response.request.url} -> {response.status_code}"
    for name, value in HEADERS.items():
        assert name in response.headers, f"{name} missing on {where}"
        if value is not None:
            assert response.headers[name] == value, where
    csp = response.headers["content-security-policy"]
    for directive in (
        "default-src 'self'",
        "frame-ancestors 'none'",
        "form-action 'self'",
        "base-uri 'none'",
    ):
        assert directive in csp, where
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    if https:
        assert response.headers["strict-transport-security"].startswith("max-age=31536000"), where
    else:
        assert "strict-transport-security" not in response.headers, where


def _concrete(route: PageRoute, profile_id: str) -> str:
    return route.path.replace("{profile_id}", profile_id).replace("{voice_id}", "vn1")


def _routes_answered(client: SyncASGIClient, profile_id: str) -> list[httpx.Response]:
    responses = []
    for route in PAGE_ROUTES:
        method = route.methods[0]
        data = {"csrf_token": "wrong"} if method == "POST" else None
        responses.append(client.request(method, _concrete(route, profile_id), data=data))
    return responses


def test_every_response_carries_the_security_headers(client: SyncASGIClient, session: Session) -> None:
    profile = invented_profile(session)
    answered = _routes_answered(client, profile.id)  # anonymous: redirects, 401, login page
    answered += [
        client.get("/static/coach.css"),
        client.get("/static/print.css"),
        client.get("/static/missing.css"),
        client.get("/no/such/page"),
        client.request("DELETE", "/"),  # 405
    ]
    login(client, "coach.anna")
    answered += _routes_answered(client, profile.id)  # as a coach: pages, 403 (CSRF, admin), 404
    answered.append(client.get("/profiles/no-such-profile"))
    login(client, "admin.ben")
    answered.append(client.get("/admin/audit"))
    statuses = {response.status_code for response in answered}
    assert {200, 303, 401, 403, 404, 405} <= statuses
    for response in answered:
        assert_hardened(response)
    assert answered[-1].headers["cache-control"] == "no-store"


def test_an_unexpected_error_still_gets_the_headers(settings: Settings, session: Session) -> None:
    coach_app = build_coach_app(settings, None)

    def broken(request):  # type: ignore[no-untyped-def]
        raise RuntimeError("invented failure")

    coach_app.router.routes.insert(0, Route("/boom", broken))
    app = Starlette(routes=[Mount("/coach", app=coach_app)])
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)

    async def fetch() -> httpx.Response:
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8080") as http:
            return await http.get("/coach/boom")

    try:
        response = asyncio.run(fetch())
    finally:
        coach_app.state.pages.services.engine.dispose()
    assert response.status_code == 500
    assert_hardened(response)
    assert "invented failure" not in response.text and "Traceback" not in response.text
    assert "Etwas ist schiefgegangen" in response.text


def test_https_adds_strict_transport_security_and_secure_cookies(
    settings: Settings, session: Session
) -> None:
    create_account(session, "coach.cleo")
    https = settings.model_copy(update={"public_base_url": "https://coach.example.org"})
    with coach_client(https, base_url="https://coach.example.org/coach") as client:
        login_page = client.get("/login")
        assert_hardened(login_page, https=True)
        assert_hardened(client.get("/static/coach.css"), https=True)
        assert "; secure" in login_page.headers["set-cookie"].lower()
        response = login(client, "coach.cleo")
        assert_hardened(response, https=True)
        cookie = response.headers["set-cookie"].lower()
        assert "coach_session=" in cookie and "; secure" in cookie and "; httponly" in cookie
        assert "samesite=lax" in cookie and "path=/coach" in cookie


def test_cookies_are_httponly_and_samesite(client: SyncASGIClient) -> None:
    login_page = client.get("/login")
    csrf_cookie = login_page.headers["set-cookie"].lower()
    assert (
        "coach_login_csrf=" in csrf_cookie and "; httponly" in csrf_cookie and "samesite=lax" in csrf_cookie
    )
    cookie = login(client, "coach.anna").headers["set-cookie"].lower()
    assert "; httponly" in cookie and "samesite=lax" in cookie and "; secure" not in cookie


def test_a_planted_session_id_is_never_taken_over(
    client: SyncASGIClient, session: Session, settings: Settings
) -> None:
    """Session fixation: a cookie value set before login (by someone else) does not become the session."""
    planted = "planted-by-someone-else-0123456789"
    client.cookies.set("coach_session", planted, domain="127.0.0.1", path="/coach")
    login(client, "coach.anna")
    issued = client.cookies["coach_session"]
    assert issued != planted
    session.rollback()
    assert session.scalar(select(func.count()).select_from(CoachSession)) == 1
    with coach_client(settings) as attacker:
        attacker.cookies.set("coach_session", planted, domain="127.0.0.1", path="/coach")
        assert attacker.get("/").status_code == 303  # the planted id leads to the login page


def test_the_session_id_changes_at_every_login_and_the_old_one_dies(client: SyncASGIClient) -> None:
    login(client, "coach.anna")
    first = client.cookies["coach_session"]
    login(client, "admin.ben")  # switching accounts in the same browser
    second = client.cookies["coach_session"]
    assert first != second
    assert "admin.ben" in client.get("/").text
    client.cookies.set("coach_session", first, path="/coach")
    assert client.get("/").status_code == 303


def test_every_route_is_in_the_route_table(client: SyncASGIClient) -> None:
    """Routes outside PAGE_ROUTES would escape the role and CSRF checks that the table drives."""
    app = client._client._transport.app.routes[0].app  # type: ignore[attr-defined]
    served = set()
    for route in app.routes:
        if isinstance(route, Mount):
            assert route.path == "/static"
            continue
        assert isinstance(route, Route)
        for method in route.methods or ():
            if method != "HEAD":
                served.add((route.path, method))
    declared = {(r.path, m) for r in PAGE_ROUTES for m in r.methods}
    assert served == declared


POST_ROUTES = [r for r in PAGE_ROUTES if "POST" in r.methods]


@pytest.mark.parametrize("route", POST_ROUTES, ids=lambda r: r.name)
def test_every_post_route_needs_the_csrf_token(
    client: SyncASGIClient, session: Session, route: PageRoute
) -> None:
    profile = invented_profile(session, status=ProfileStatus.IN_REVIEW)
    path = _concrete(route, profile.id)
    form = {"status": "closed", "coach": "admin.ben", "text": "Notiz", "date": "2026-12-03",
            "time": "10:30", "place": "Raum 2", "username": "coach.anna", "password": PASSWORD}  # fmt: skip
    if route.role is None:  # the login form: a double-submit cookie instead of a session
        client.cookies.clear()
        assert client.post(path, data=form).status_code == 403
        client.get("/login")
        assert client.post(path, data={**form, "csrf_token": "forged"}).status_code == 403
        assert "coach_session" not in client.cookies
        return
    login(client, "coach.anna")
    session.rollback()
    entries_before = session.scalar(select(func.count()).select_from(AuditEntry))
    login_page = client.get("/login").text
    login_token = csrf_from(login_page[login_page.index('class="login-form"') :])
    for token in (None, "", "forged", login_token):  # the login form's token is not the session's
        data = form if token is None else {**form, "csrf_token": token}
        response = client.post(path, data=data)
        assert response.status_code == 403, (route.name, token)
        assert "Das Formular ist abgelaufen" in response.text
    session.rollback()
    stored = session.get(Profile, profile.id)
    assert stored is not None and stored.status is ProfileStatus.IN_REVIEW
    assert stored.assigned_coach is None
    assert session.scalar(select(func.count()).select_from(AuditEntry)) == entries_before
    assert client.get("/").status_code == 200  # still logged in: nothing happened
    # With the token the same request works: the refusal above was the token, nothing else.
    response = client.post(path, data={**form, "csrf_token": page_csrf(client)})
    assert response.status_code == 303


def test_login_is_throttled_and_the_attempts_are_audited(client: SyncASGIClient, session: Session) -> None:
    for _ in range(5):
        assert login(client, "coach.anna", "wrong-password-x").status_code == 401
    assert login(client, "coach.anna").status_code == 429
    session.rollback()
    details = session.scalars(
        select(AuditEntry.detail).where(AuditEntry.actor == "coach.anna").order_by(AuditEntry.id)
    ).all()
    assert details == ["wrong_password"] * 5 + ["throttled"]


def test_templates_and_static_files_have_no_inline_script_or_style() -> None:
    """The CSP forbids inline code; this finds it before a browser does."""
    inline = re.compile(r"<script|<style|\sstyle=|\son[a-z]+=|javascript:", re.IGNORECASE)
    for template in sorted((PACKAGE_DIR / "templates").glob("*.html")):
        found = inline.findall(template.read_text(encoding="utf-8"))
        assert found == [], f"{template.name}: {found}"
    static = {path.suffix for path in Path(PACKAGE_DIR / "static").iterdir()}
    assert static == {".css"}  # no scripts at all: the pages work without JavaScript
