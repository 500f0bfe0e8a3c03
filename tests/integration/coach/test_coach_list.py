"""The profile list: filters, sort, search over codes and German labels, pagination, escaping."""

from __future__ import annotations

import re

from sqlalchemy.orm import Session

from storage.models import ProfileStatus
from tests.support.coach import SyncASGIClient, invented_profile, login

ROW_RE = re.compile(r'<th scope="row"><a href="/coach/profiles/([\w-]+)">')


def ids(html: str) -> list[str]:
    return ROW_RE.findall(html)


def _make_three(session: Session) -> dict[str, str]:
    ge = invented_profile(session, country="GE", chat="ka", goal="self_employment", submitted_days_ago=3)
    tr = invented_profile(
        session, country="TR", chat="tr", interview="de", interpreter=False, goal="employment",
        status=ProfileStatus.IN_REVIEW, coach="coach.anna", submitted_days_ago=2,
    )  # fmt: skip
    iq = invented_profile(
        session,
        country="IQ",
        chat="ar",
        interview="ar",
        goal="further_training",
        status=ProfileStatus.CLOSED,
        submitted_days_ago=1,
    )
    return {"GE": ge.id, "TR": tr.id, "IQ": iq.id}


def test_list_shows_german_labels_and_newest_first(client: SyncASGIClient, session: Session) -> None:
    made = _make_three(session)
    login(client, "coach.anna")
    page = client.get("/")
    assert page.status_code == 200
    assert ids(page.text) == [made["IQ"], made["TR"], made["GE"]]
    for text in (
        "Georgien",
        "Türkei",
        "Irak",
        "Georgisch",
        "Selbstständigkeit",
        "In Prüfung",
        "Abgeschlossen",
    ):
        assert text in page.text
    assert '<html lang="de">' in page.text
    assert '<th scope="col"' in page.text


def test_drafts_are_not_listed(client: SyncASGIClient, session: Session) -> None:
    draft = invented_profile(session, status=ProfileStatus.IN_PROGRESS)
    login(client, "coach.anna")
    assert draft.id not in client.get("/").text
    assert client.get(f"/profiles/{draft.id}").status_code == 404


def test_filters(client: SyncASGIClient, session: Session) -> None:
    made = _make_three(session)
    login(client, "coach.anna")
    assert ids(client.get("/", params={"status": "in_review"}).text) == [made["TR"]]
    assert ids(client.get("/", params={"country": "GE"}).text) == [made["GE"]]
    assert ids(client.get("/", params={"language": "ar"}).text) == [made["IQ"]]
    assert ids(client.get("/", params={"language": "de"}).text) == [made["TR"]]  # interview language
    assert ids(client.get("/", params={"goal": "employment"}).text) == [made["TR"]]
    assert ids(client.get("/", params={"coach": "coach.anna"}).text) == [made["TR"]]
    assert set(ids(client.get("/", params={"coach": "-"}).text)) == {made["GE"], made["IQ"]}
    assert ids(client.get("/", params={"country": "GE", "status": "closed"}).text) == []


def test_search_finds_codes_and_german_labels(client: SyncASGIClient, session: Session) -> None:
    made = _make_three(session)
    login(client, "coach.anna")
    for query, expected in [
        ("Georgien", [made["GE"]]),
        ("georg", [made["GE"]]),
        ("GE", [made["GE"]]),
        ("türkei", [made["TR"]]),
        ("Turkei", [made["TR"]]),
        ("Arabisch", [made["IQ"]]),
        ("Weiterbildung", [made["IQ"]]),
        ("Prüfung", [made["TR"]]),
        ("Georgien Abgeschlossen", []),
        ("Xanadu", []),
    ]:
        assert ids(client.get("/", params={"q": query}).text) == expected, query


def test_sort_by_each_column(client: SyncASGIClient, session: Session) -> None:
    made = _make_three(session)
    login(client, "coach.anna")
    by_country = ids(client.get("/", params={"sort": "country", "dir": "asc"}).text)
    assert by_country == [made["GE"], made["IQ"], made["TR"]]  # Georgien, Irak, Türkei
    assert ids(client.get("/", params={"sort": "country", "dir": "desc"}).text) == by_country[::-1]
    assert ids(client.get("/", params={"sort": "submitted", "dir": "asc"}).text) == [
        made["GE"],
        made["TR"],
        made["IQ"],
    ]
    assert ids(client.get("/", params={"sort": "status", "dir": "asc"}).text) == [
        made["GE"],
        made["TR"],
        made["IQ"],
    ]
    for column in ("chat_language", "interview_language", "interpreter", "goal", "coach"):
        page = client.get("/", params={"sort": column, "dir": "asc"})
        assert sorted(ids(page.text)) == sorted(made.values()), column
        assert 'aria-sort="ascending"' in page.text


def test_pagination(client: SyncASGIClient, session: Session) -> None:
    for day in range(55):
        invented_profile(session, country="AL", chat="sq", submitted_days_ago=day + 1)
    login(client, "coach.anna")
    first = client.get("/")
    assert len(ids(first.text)) == 50
    assert "55 Profile, Seite 1 von 2" in first.text
    second = client.get("/", params={"page": 2})
    assert len(ids(second.text)) == 5
    assert not set(ids(first.text)) & set(ids(second.text))
    assert len(ids(client.get("/", params={"page": 99}).text)) == 5  # past the end: the last page


def test_user_content_is_escaped(client: SyncASGIClient, session: Session) -> None:
    profile = invented_profile(
        session, extra={"notes_for_coach": {"text": "<script>alert('x')</script>", "language": "ka"}}
    )
    login(client, "coach.anna")
    page = client.get(f"/profiles/{profile.id}").text
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page
    search = client.get("/", params={"q": '"><img src=x onerror=alert(1)>'}).text
    assert "<img src=x" not in search
