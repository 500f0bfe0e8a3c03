"""Hostile content in every free-text field (markup, a bidi override, 4,096 characters, spreadsheet
formulas) stays inert on every page and in every export."""

from __future__ import annotations

import csv
import io
import json

import httpx
import pytest
from sqlalchemy.orm import Session

from bot.coach.exports import neutralise
from tests.integration.coach.hostile_content import (
    FORMULAS,
    HOSTILE,
    HOSTILE_ACCOUNTS,
    LONG,
    RTL,
    SCRIPT,
    HostileProfile,
    benign_twin,
    check_inert,
    make_hostile_accounts,
    make_hostile_codes,
    make_hostile_profiles,
    tag_names,
)
from tests.support.coach import SyncASGIClient, login, page_csrf

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")


@pytest.fixture
def hostile(client: SyncASGIClient, session: Session) -> list[HostileProfile]:
    make_hostile_accounts(session)
    made = make_hostile_profiles(session)
    make_hostile_codes(session)
    for name in HOSTILE_ACCOUNTS:  # they log in, so they are in the audit log too
        assert login(client, name).status_code == 303
    login(client, "admin.ben")
    return made


def _shown_on_profile_page(item: HostileProfile) -> list[str]:
    values = dict(item.values)
    values["place"] = values["place"][:300]
    values["assigned_coach"] = values["assigned_coach"][:64]
    return list(values.values())


def _shown_on_print_page(item: HostileProfile) -> list[str]:
    hidden = {"flags.note", "coach_note", "place", "video_link"}  # not on the one-page print
    values = {name: value for name, value in item.values.items() if name not in hidden}
    values["assigned_coach"] = values["assigned_coach"][:64]
    return list(values.values())


def test_profile_and_print_pages_keep_hostile_values_as_text(
    client: SyncASGIClient, session: Session, hostile: list[HostileProfile]
) -> None:
    for item in hostile:
        page = client.get(f"/profiles/{item.id}")
        assert page.status_code == 200
        check_inert(page.text, shown=_shown_on_profile_page(item))
        printed = client.get(f"/profiles/{item.id}/print")
        assert printed.status_code == 200
        check_inert(printed.text, shown=_shown_on_print_page(item))
        # No element came from the content: the page of a harmless twin has the same elements.
        twin = benign_twin(session, item)
        assert tag_names(page.text) == tag_names(client.get(f"/profiles/{twin.id}").text)
        assert tag_names(printed.text) == tag_names(client.get(f"/profiles/{twin.id}/print").text)


def test_the_bidi_override_is_isolated_where_it_is_shown(
    client: SyncASGIClient, hostile: list[HostileProfile]
) -> None:
    item = next(h for h in hostile if h.values["assigned_coach"] == RTL)
    page = client.get(f"/profiles/{item.id}").text
    meta = page[page.index('class="meta"') :]
    meta = meta[: meta.index("</p>")]
    assert f"<bdi>{RTL}</bdi>" in meta  # the rest of the line is not turned around


def test_list_search_overview_audit_and_accounts_stay_inert(
    client: SyncASGIClient, hostile: list[HostileProfile]
) -> None:
    listing = client.get("/")
    check_inert(listing.text, shown=[value[:64] for value in HOSTILE])  # assigned coaches
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in listing.text
    for value in HOSTILE:
        found = client.get("/", params={"q": value})
        assert found.status_code == 200
        check_inert(found.text)
        for column in ("country", "language", "goal", "coach"):
            check_inert(client.get("/", params={column: value[:64]}).text)
    overview = client.get("/overview")
    check_inert(overview.text, shown=["<i", '"><img src=x>'])  # hostile codes in the charts
    audit = client.get("/admin/audit")
    check_inert(audit.text, shown=HOSTILE_ACCOUNTS)
    for value in HOSTILE_ACCOUNTS:
        check_inert(client.get("/admin/audit", params={"user": value}).text, shown=[value])
    check_inert(client.get("/admin/users").text, shown=HOSTILE_ACCOUNTS)


def test_a_hostile_note_through_the_form(client: SyncASGIClient, hostile: list[HostileProfile]) -> None:
    target = hostile[0].id
    token = page_csrf(client, f"/profiles/{target}")
    for text in (SCRIPT, RTL, LONG):
        response = client.post(f"/profiles/{target}/notes", data={"csrf_token": token, "text": text})
        assert response.status_code == 303
    page = client.get(f"/profiles/{target}").text
    check_inert(page, shown=[SCRIPT, RTL, LONG[:4000]])


def _assert_download(response: httpx.Response, media_type: str) -> None:
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(media_type)
    assert response.headers["content-disposition"].startswith("attachment;")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "default-src 'self'" in response.headers["content-security-policy"]


def test_json_exports_carry_the_values_unchanged_as_data(
    client: SyncASGIClient, hostile: list[HostileProfile]
) -> None:
    exportable = [h for h in hostile if len(h.values["person.display_name"]) <= 120]
    assert len(exportable) == len(hostile) - 1  # the 4,096-character name breaks the schema
    for item in hostile:
        response = client.get(f"/profiles/{item.id}/export.json")
        if item not in exportable:
            assert response.status_code == 422
            check_inert(response.text)
            continue
        _assert_download(response, "application/json")
        document = response.json()
        assert document["person"]["display_name"] == item.values["person.display_name"]
        assert document["aspirations"]["business_idea"]["text"] == item.values["aspirations.business_idea"]
        assert document["notes_for_coach"]["text"] == item.values["notes_for_coach"]
    listed = client.get("/export.json")
    _assert_download(listed, "application/json")
    documents = json.loads(listed.content.decode("utf-8"))
    assert {d["profile_id"] for d in documents} >= {h.id for h in exportable}
    assert listed.headers["x-skipped-incomplete"] == "2"  # the long name and the hostile codes


def test_csv_export_neutralises_every_formula(client: SyncASGIClient, hostile: list[HostileProfile]) -> None:
    response = client.get("/export.csv")
    _assert_download(response, "text/csv")
    text = response.content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    assert len(rows) == 1 + len(hostile) + 1
    for row in rows:
        for cell in row:
            assert not cell.startswith(FORMULA_STARTS), cell[:40]
    cells = {cell for row in rows for cell in row}
    for value in FORMULAS:
        assert "'" + value in cells  # kept, with a leading apostrophe
        assert neutralise(value) == "'" + value
    assert SCRIPT in cells  # markup is only text in a spreadsheet cell
