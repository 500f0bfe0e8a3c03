"""Exports: JSON validated against the schema, CSV for German Excel, the printable summary."""

from __future__ import annotations

import json

from sqlalchemy.orm import Session

from storage.export import validate_export
from storage.models import Profile, ProfileStatus
from tests.support.coach import SyncASGIClient, invented_profile, login


def test_json_export_of_one_profile_validates(client: SyncASGIClient, session: Session) -> None:
    profile = invented_profile(session)
    login(client, "coach.anna")
    response = client.get(f"/profiles/{profile.id}/export.json")
    assert response.status_code == 200
    assert response.headers["content-disposition"] == f'attachment; filename="profile-{profile.id}.json"'
    document = response.json()
    validate_export(document)
    assert document["profile_id"] == profile.id
    assert document["return_plan"]["country"] == "GE"


def test_json_export_of_a_filtered_list(client: SyncASGIClient, session: Session) -> None:
    ge = invented_profile(session, country="GE")
    invented_profile(session, country="TR", chat="tr", interview="tr")
    login(client, "coach.anna")
    documents = client.get("/export.json", params={"country": "GE"}).json()
    assert [d["profile_id"] for d in documents] == [ge.id]
    for document in documents:
        validate_export(document)
    assert len(client.get("/export.json").json()) == 2


def test_a_profile_that_breaks_the_schema_is_not_exported(client: SyncASGIClient, session: Session) -> None:
    profile = invented_profile(session)
    answers = dict(profile.answers)
    answers["return_plan"] = {"country": "Georgia!", "timeframe": "soon"}
    profile.set_answers(answers)
    session.commit()
    login(client, "coach.anna")
    response = client.get(f"/profiles/{profile.id}/export.json")
    assert response.status_code == 422
    assert "Exportformat" in response.text
    listed = client.get("/export.json")
    assert listed.json() == [] and listed.headers["x-skipped-incomplete"] == "1"


def test_csv_opens_in_german_excel_and_neutralises_formulas(client: SyncASGIClient, session: Session) -> None:
    invented_profile(session, country="GE", coach='=HYPERLINK("http://x")')
    invented_profile(
        session, country="TR", chat="tr", interview="tr", coach="@SUM(1)", status=ProfileStatus.IN_REVIEW
    )
    login(client, "coach.anna")
    response = client.get("/export.csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    body = response.content
    assert body.startswith(b"\xef\xbb\xbf")
    text = body.decode("utf-8-sig")
    lines = text.split("\r\n")
    assert lines[-1] == "" and all("\n" not in line for line in lines)
    header = lines[0].split(";")
    assert header[:5] == ["Profil-ID", "Status", "Eingereicht", "Rückkehrland (Code)", "Rückkehrland"]
    assert any(";Georgien;" in line for line in lines)
    assert "'=HYPERLINK" in text and ";=HYPERLINK" not in text
    assert "'@SUM(1)" in text
    filtered = client.get("/export.csv", params={"country": "TR"}).content.decode("utf-8-sig").split("\r\n")
    assert len([line for line in filtered if line]) == 2


def test_print_page_is_one_clean_page(client: SyncASGIClient, session: Session) -> None:
    profile = invented_profile(session)
    login(client, "coach.anna")
    page = client.get(f"/profiles/{profile.id}/print").text
    assert "<nav" not in page and "Abmelden" not in page and "<form" not in page
    assert "/coach/static/print.css" in page
    assert "Gespräch vorbereiten" in page and "Georgien" in page
    css = client.get("/static/print.css").text
    assert "size: A4" in css


def test_export_json_body_is_utf8(client: SyncASGIClient, session: Session) -> None:
    profile = invented_profile(session)
    login(client, "coach.anna")
    raw = client.get(f"/profiles/{profile.id}/export.json").content.decode("utf-8")
    assert "საცხობი" in raw  # not \u-escaped
    assert json.loads(raw)["aspirations"]["description"]["language"] == "ka"
    assert session.get(Profile, profile.id) is not None
