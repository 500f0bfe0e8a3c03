"""Pure parts of the coach pages' hardening: security headers, escaping helpers, audit labels."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bot.coach import labels as L
from bot.coach.app import fill, is_https_link, isolate
from bot.coach.exports import neutralise
from bot.coach.headers import SecurityHeaders, security_headers
from storage.coach_models import AuditAction


def _directives(policy: str) -> dict[str, str]:
    return dict(part.strip().split(" ", 1) for part in policy.split(";"))


def test_content_security_policy_allows_nothing_inline_or_foreign() -> None:
    csp = _directives(security_headers(https=False)["Content-Security-Policy"])
    assert csp["default-src"] == "'self'"
    assert csp["script-src"] == "'self'" and csp["style-src"] == "'self'"
    assert csp["frame-ancestors"] == "'none'" and csp["form-action"] == "'self'"
    assert csp["base-uri"] == "'none'" and csp["object-src"] == "'none'"
    assert not any("unsafe" in value or "*" in value or "data:" in value for value in csp.values())


def test_hsts_only_over_https() -> None:
    assert "Strict-Transport-Security" not in security_headers(https=False)
    hsts = security_headers(https=True)["Strict-Transport-Security"]
    assert hsts.startswith("max-age=31536000")


def test_permissions_and_opener_policies() -> None:
    headers = security_headers(https=False)
    features = dict(item.split("=") for item in headers["Permissions-Policy"].split(", "))
    assert features["camera"] == features["microphone"] == features["geolocation"] == "()"
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert headers["X-Frame-Options"] == "DENY" and headers["X-Content-Type-Options"] == "nosniff"


def test_the_middleware_adds_headers_but_keeps_a_response_s_own() -> None:
    sent: list[dict[str, Any]] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"x-frame-options", b"SAMEORIGIN")]})  # fmt: skip
        await send({"type": "http.response.body", "body": b"ok"})

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request"}

    asyncio.run(SecurityHeaders(app, https=True)({"type": "http"}, receive, send))
    headers = {name.decode(): value.decode() for name, value in sent[0]["headers"]}
    assert headers["x-frame-options"] == "SAMEORIGIN"
    assert "content-security-policy" in headers and "strict-transport-security" in headers
    assert sent[1]["body"] == b"ok"


def test_isolate_and_fill_escape_what_people_typed() -> None:
    name = "<b>\u202eanna</b>"
    assert str(isolate(name)) == "<bdi>&lt;b&gt;\u202eanna&lt;/b&gt;</bdi>"
    assert str(fill("Coach: {name}", name=isolate(name))) == f"Coach: {isolate(name)}"
    assert str(fill("<i>{x}</i>", x="<script>")) == "&lt;i&gt;&lt;script&gt;&lt;/i&gt;"


@pytest.mark.parametrize(
    ("link", "clickable"),
    [
        ("https://meet.example.org/abc", True),
        ("javascript:alert(1)", False),
        ("JAVASCRIPT:alert(1)", False),
        ("data:text/html,<script>", False),
        ("http://meet.example.org/abc", False),
        ("https://meet.example.org/a b", False),
        (None, False),
    ],
)
def test_only_https_links_are_clickable(link: str | None, clickable: bool) -> None:
    assert is_https_link(link) is clickable


def test_a_cell_starting_with_a_line_break_is_neutralised_too() -> None:
    assert neutralise("\n=1+1") == "'\n=1+1"


def test_every_audit_action_has_a_german_label() -> None:
    assert set(L.AUDIT_ACTION) == {action.value for action in AuditAction}
    assert L.label(L.AUDIT_ACTION, "profile_deleted") == "Profil gelöscht"
    assert L.audit_detail(AuditAction.STATUS_CHANGED, "in_review") == "In Prüfung"
    assert L.audit_detail(AuditAction.PROFILE_DELETED, "retention") == "Aufbewahrungsfrist abgelaufen"
    assert L.audit_detail(AuditAction.LOGIN_FAILED, "throttled") == "gesperrt nach zu vielen Fehlversuchen"
    assert L.audit_detail(AuditAction.COACH_ASSIGNED, None) == "nicht zugewiesen"
    assert L.audit_detail(AuditAction.INTERVIEW_ANSWERED, "accepted") == "Ja, der Termin passt"
    assert L.audit_detail(AuditAction.LOGIN, None) == ""


@pytest.mark.parametrize("name", ["participant", "System", "(unknown)"])
def test_audit_actor_names_cannot_be_account_names(name: str, tmp_path: Any) -> None:
    from bot.coach.__main__ import main

    with pytest.raises(SystemExit, match="audit log"):
        main(["create-user", name, "--url", f"sqlite:///{tmp_path / 'intake.db'}", "--password-stdin"])
