"""A coach in headless Chromium (Debian's, driven by Playwright): log in, filter, read a summary,
change the status, schedule an interview (the real bot process sends it to the Telegram stand-in and
the returnee's tap comes back), export, print, overview. Screenshots go to test-output/screenshots/.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from core.processes import ManagedProcess, bot_process
from core.settings import PROJECT_ROOT, Settings
from storage.coach import ReviewRepository, enqueue_submission_notice
from storage.db import make_engine, make_session_factory, upgrade
from storage.export import validate_export
from storage.models import ProfileStatus
from storage.voice import write_voice
from tests.support.coach import PASSWORD, create_account, invented_profile
from tests.support.stack import free_port
from tests.support.telegram_standin import TelegramStandIn, callback_update

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = PROJECT_ROOT / "test-output" / "screenshots"
RETURNEE_CHAT = 612345678
COACH_CHAT = -1001555000111

pytestmark = pytest.mark.integration


def _require_browser() -> Any:
    if not CHROMIUM.exists():
        pytest.skip(
            "BROWSER TESTS SKIPPED: /usr/bin/chromium is missing. Install Debian's Chromium "
            "(`apt-get install -y chromium`, or run scripts/setup.sh as root)."
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - playwright is in dev.lock
        pytest.skip("BROWSER TESTS SKIPPED: playwright is not installed (requirements/dev.lock)")
    return sync_playwright


@dataclass
class CoachStack:
    base_url: str
    settings: Settings
    standin: TelegramStandIn
    bot: ManagedProcess
    ids: dict[str, str]


@pytest.fixture(scope="module")
def coach_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CoachStack]:
    """The real bot process (web app + PTB polling the Telegram stand-in) on an invented SQLite database."""
    _require_browser()
    data_dir = tmp_path_factory.mktemp("coach-browser")
    port = free_port()
    settings = Settings(DATA_DIR=data_dir, WEB_PORT=port, RASA_URL=f"http://127.0.0.1:{free_port()}")
    url = settings.effective_database_url
    upgrade(url)
    engine = make_engine(url, lock_at_begin=False)
    session = make_session_factory(engine)()
    from bot.coach.seed import seed_profiles

    seed_profiles(session, 60, seed=11)
    create_account(session, "coach.anna", "coach")
    voice_note = {"id": "vn1", "field": "/aspirations/description", "duration_s": 4, "mime_type": "audio/ogg"}
    target = invented_profile(
        session,
        country="TR",
        chat="tr",
        interview="tr",
        goal="self_employment",
        chat_id=str(RETURNEE_CHAT),
        submitted_days_ago=0,
        extra={"voice_notes": [voice_note]},
    )
    ids = {"target": target.id}
    session.close()
    engine.dispose()

    standin = TelegramStandIn()
    standin.start()
    env = {
        "TELEGRAM_BOT_TOKEN": standin.token,
        "TELEGRAM_BASE_URL": standin.base_url,
        "TELEGRAM_BASE_FILE_URL": standin.base_file_url,
        "ENCRYPTION_KEYS": os.environ["ENCRYPTION_KEYS"],
        "ID_HASH_KEY": os.environ["ID_HASH_KEY"],
        "COACH_CHAT_ID": str(COACH_CHAT),
        "COACH_OUTBOX_INTERVAL_S": "1",
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "LOG_LEVEL": "INFO",
    }
    bot = bot_process(settings, env)
    try:
        bot.start()
        bot.wait_healthy(timeout=60)
        yield CoachStack(f"http://127.0.0.1:{port}", settings, standin, bot, ids)
    finally:
        bot.stop()
        standin.stop()


@pytest.fixture
def page(coach_stack: CoachStack, tmp_path: Path) -> Iterator[Any]:
    sync_playwright = _require_browser()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"),  # a new, empty user-data-dir
            executable_path=str(CHROMIUM),
            args=CHROMIUM_ARGS,
            headless=True,
            locale="de-DE",
            timezone_id="Europe/Berlin",
            viewport={"width": 1440, "height": 1000},
            accept_downloads=True,
        )
        try:
            yield context.pages[0] if context.pages else context.new_page()
        finally:
            context.close()


def visible(locator: Any) -> None:
    """Wait (up to 10 s) until the locator is visible; fails otherwise."""
    from playwright.sync_api import expect

    expect(locator).to_be_visible(timeout=10_000)


def reloaded_until(page: Any, selector: str, text: str, timeout_s: float = 10.0) -> bool:
    """Reload the page until `text` shows in `selector` (what the bot records arrives a moment
    after the stand-in saw its request); False after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while text not in page.locator(selector).inner_text():
        if time.monotonic() > deadline:
            return False
        page.wait_for_timeout(300)
        page.reload()
    return True


def shot(page: Any, name: str) -> None:
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def log_in(page: Any, base_url: str) -> None:
    page.goto(base_url + "/")
    assert page.url.startswith(base_url + "/coach/login")
    shot(page, "01-login")
    page.get_by_label("Benutzername").fill("coach.anna")
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    page.wait_for_url(base_url + "/coach/")


def test_a_coach_prepares_an_interview(coach_stack: CoachStack, page: Any) -> None:
    base, standin, target = coach_stack.base_url, coach_stack.standin, coach_stack.ids["target"]
    voice_dir = coach_stack.settings.voice_dir / target
    write_voice(voice_dir / "vn1.ogg", b"OggS\x00invented")

    log_in(page, base)
    visible(page.get_by_role("heading", name="Profile"))
    assert "61 Profile" in page.locator(".result-count").inner_text()
    shot(page, "02-list")

    # filter by country and status, then search by a German country name
    page.get_by_label("Rückkehrland").select_option("TR")
    page.get_by_label("Status", exact=True).select_option("submitted")
    page.get_by_role("button", name="Filter anwenden").click()
    page.wait_for_url(re.compile(r".*country=TR.*"))
    countries = page.locator("table.profiles tbody td:nth-child(4)").all_inner_texts()
    assert countries and set(countries) == {"Türkei"}
    statuses = page.locator("table.profiles tbody td:nth-child(2)").all_inner_texts()
    assert set(statuses) == {"Eingereicht"}
    shot(page, "03-list-filtered")
    page.get_by_label("Suche (Codes und deutsche Namen, z. B. Georgien oder GE)").fill("Türkei")
    page.get_by_role("button", name="Filter anwenden").click()
    page.get_by_role("link", name="Rückkehrland").click()  # sort by the column
    assert page.locator("th[aria-sort]").count() == 1

    # open the summary
    page.goto(f"{base}/coach/profiles/{target}")
    prepare = page.locator("section.prepare")
    assert "ja, Türkisch" in prepare.inner_text()
    assert "Selbstständigkeit / eigenes Geschäft" in prepare.inner_text()
    assert "Unklare Antwort: Bildung" in prepare.inner_text()
    assert page.locator("audio").count() == 1
    audio_ok = page.evaluate("async (u) => (await fetch(u)).status", f"/coach/profiles/{target}/voice/vn1")
    assert audio_ok == 200
    shot(page, "04-summary")

    # status: submitted -> in review
    page.get_by_label("Neuer Status").select_option("in_review")
    page.get_by_role("button", name="Status ändern").click()
    visible(page.get_by_role("status").filter(has_text="Status geändert."))

    # schedule the interview: the bot sends the invitation in Turkish
    since = standin.mark()
    page.get_by_label("Datum").fill("2026-12-03")
    page.get_by_label("Uhrzeit (deutsche Zeit)").fill("10:30")
    page.get_by_label("Ort", exact=True).fill("Beratungsstelle, Raum 2")
    page.get_by_role("button", name="Eintragen und einladen").click()
    visible(page.get_by_text("Gespräch eingetragen. Die Einladung wird über den Bot gesendet."))
    [call] = standin.wait_for_calls("sendMessage", chat_id=RETURNEE_CHAT, since=since, timeout=30)
    assert call.params["text"].startswith(
        "Koçunuz sizi ilk görüşmeye davet ediyor:\n3 Aralık 2026 Perşembe, 10:30"
    )
    keyboard = call.params["reply_markup"]["inline_keyboard"]
    ok_data = keyboard[0][0]["callback_data"]
    assert keyboard[0][0]["text"] == "Evet, uygun" and re.fullmatch(r"iv:ok:\d+", ok_data)
    assert not standin.violations, standin.describe_calls()
    # The stand-in saw the request; the bot records the invitation as sent once the answer is back.
    assert reloaded_until(page, "#invitation-state", "über den Bot gesendet am")

    # the returnee taps "Yes, that works"; the answer shows on the page
    since = standin.mark()
    standin.push_update(callback_update(RETURNEE_CHAT, ok_data, message_id=1, language_code="tr"))
    replies = standin.wait_for_calls("sendMessage", chat_id=RETURNEE_CHAT, since=since, timeout=30)
    assert replies[0].params["text"] == "Teşekkürler! Koçunuz artık bu saatin size uygun olduğunu biliyor."
    assert reloaded_until(page, "#invitation-answer", "Ja, der Termin passt"), "the answer is not shown"
    assert "Gespräch vereinbart" in page.locator(".profile-head").inner_text()
    shot(page, "05-summary-interview-answered")

    # exports: JSON of the profile, CSV of the filtered list, the printable page
    with page.expect_download() as download_info:
        page.get_by_role("link", name="JSON exportieren").click()
    document = json.loads(Path(download_info.value.path()).read_text(encoding="utf-8"))
    validate_export(document)
    assert document["status"] == ProfileStatus.INTERVIEW_SCHEDULED.value
    page.goto(f"{base}/coach/?country=TR")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="CSV (Excel)").click()
    csv_bytes = Path(download_info.value.path()).read_bytes()
    assert csv_bytes.startswith(b"\xef\xbb\xbf") and b"\r\n" in csv_bytes and b";T\xc3\xbcrkei;" in csv_bytes
    page.goto(f"{base}/coach/profiles/{target}/print")
    assert page.locator("nav").count() == 0
    shot(page, "06-print")
    page.emulate_media(media="print")
    pdf = page.pdf(format="A4", prefer_css_page_size=True)
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 1, "the printable summary is not one A4 page"
    page.emulate_media(media="screen")

    # programme overview with charts
    page.goto(f"{base}/coach/overview")
    assert page.locator('svg[role="img"]').count() == 6
    assert "von 150 Teilnehmenden" in page.locator("main").inner_text()
    shot(page, "07-overview")


def test_coach_chat_gets_a_notice_for_a_new_submission(coach_stack: CoachStack) -> None:
    engine = make_engine(coach_stack.settings.effective_database_url, lock_at_begin=False)
    session = make_session_factory(engine)()
    try:
        profile = invented_profile(session, country="AM", chat="hy", interview="de", interpreter=False)
        since = coach_stack.standin.mark()
        enqueue_submission_notice(session, profile.id)
        session.commit()
        [call] = coach_stack.standin.wait_for_calls(
            "sendMessage", chat_id=COACH_CHAT, since=since, timeout=30
        )
        assert call.params["text"] == (
            f"Neues Profil eingegangen. Zusammenfassung: {coach_stack.base_url}/coach/profiles/{profile.id}"
        )
        assert "reply_markup" not in call.params
        ReviewRepository(session)  # the notice changes nothing in the workflow
        session.expire_all()
        assert session.get(type(profile), profile.id).status is ProfileStatus.SUBMITTED
    finally:
        session.close()
        engine.dispose()


def test_hostile_content_stays_inert_in_chromium(coach_stack: CoachStack, page: Any) -> None:
    """Markup, a bidi override, 4,096 characters and formulas in every free-text field: nothing runs,
    nothing loads, no element appears, and the pages themselves break no rule of their CSP."""
    from tests.integration.coach.hostile_content import (
        HOSTILE_ACCOUNTS,
        SCRIPT,
        make_hostile_accounts,
        make_hostile_codes,
        make_hostile_profiles,
    )

    engine = make_engine(coach_stack.settings.effective_database_url, lock_at_begin=False)
    session = make_session_factory(engine)()
    try:
        make_hostile_accounts(session)
        create_account(session, "admin.ben", "admin")
        hostile = make_hostile_profiles(session)
        make_hostile_codes(session)
    finally:
        session.close()
        engine.dispose()

    dialogs: list[str] = []
    refused: list[str] = []
    fetched_x: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.on("console", lambda message: refused.append(message.text) if message.type == "error" else None)
    page.on("request", lambda request: fetched_x.append(request.url) if request.url.endswith("/x") else None)

    base = coach_stack.base_url
    for name in (HOSTILE_ACCOUNTS[0], "admin.ben"):  # a hostile account logs in, then the admin
        page.goto(f"{base}/coach/login")
        page.get_by_label("Benutzername").fill(name)
        page.get_by_label("Passwort").fill(PASSWORD)
        page.get_by_role("button", name="Anmelden").click()
        page.wait_for_url(f"{base}/coach/")

    paths = ["/coach/", f"/coach/?q={SCRIPT}", "/coach/overview", "/coach/admin/audit", "/coach/admin/users"]
    for item in hostile:
        paths += [f"/coach/profiles/{item.id}", f"/coach/profiles/{item.id}/print"]
    for path in paths:
        response = page.goto(base + path)
        assert response is not None and response.status == 200, path
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        counts = page.evaluate(
            """() => ({
                scripts: document.querySelectorAll('script, img, iframe, object, embed').length,
                handlers: [...document.querySelectorAll('*')]
                    .filter(e => [...e.attributes].some(a => a.name.startsWith('on'))).length,
            })"""
        )
        assert counts == {"scripts": 0, "handlers": 0}, path
    page.goto(f"{base}/coach/profiles/{hostile[0].id}")
    visible(page.locator("blockquote").filter(has_text=SCRIPT).first)  # shown as text
    shot(page, "08-hostile-content")
    assert dialogs == []
    assert fetched_x == []
    assert [text for text in refused if "Content Security Policy" in text] == []

    # And if markup ever slipped through, the browser itself refuses to run it.
    ran = page.evaluate(
        """() => { const s = document.createElement('script'); s.textContent = 'window.__ran = 1';
                   document.body.append(s); return window.__ran === 1; }"""
    )
    assert ran is False
