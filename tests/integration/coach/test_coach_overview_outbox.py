"""Programme overview counts and charts; the Telegram outbox (coach notices, invitations, answers)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session
from telegram import InlineKeyboardMarkup

from bot.coach.services import CoachServices
from bot.coach.telegram import load_pending, record_answer
from core.settings import Settings
from storage.coach import ReviewRepository, enqueue_submission_notice, programme_overview
from storage.coach_models import InterviewAppointment, InterviewResponse, OutboxMessage, OutboxStatus
from storage.models import Participant, ProfileStatus
from storage.repository import count_intake_start
from tests.support.coach import SyncASGIClient, invented_profile, login, shown


def _scenario(session: Session) -> None:
    invented_profile(session, country="GE")
    invented_profile(session, country="GE", status=ProfileStatus.IN_REVIEW)
    closed = invented_profile(
        session, country="TR", chat="tr", interview="tr", status=ProfileStatus.IN_REVIEW
    )
    review = ReviewRepository(session)
    review.change_status(closed, ProfileStatus.INTERVIEW_SCHEDULED, "coach.anna")
    review.change_status(closed, ProfileStatus.CLOSED, "coach.anna")
    invented_profile(session, country="IQ", chat="ar", status=ProfileStatus.IN_PROGRESS)  # a consented draft
    session.add(Participant(subject_hash="started-only", chat_language="fa"))  # no consent yet
    for _ in range(6):  # greeted by the bot: 4 consented, 2 did not (yet)
        count_intake_start(session)
    session.commit()


def test_overview_counts(session: Session) -> None:
    _scenario(session)
    data = programme_overview(session)
    assert data.participants == 3
    assert data.by_status["submitted"] == 1 and data.by_status["in_review"] == 1
    assert data.by_status["closed"] == 1 and data.by_status["in_progress"] == 1
    assert data.by_country == {"GE": 2, "TR": 1}
    assert data.by_language == {"ka": 2, "tr": 1}
    month = datetime.now(UTC).strftime("%Y-%m")
    assert sum(data.by_month.values()) == 3 and set(data.by_month) <= {month, _previous_month()}
    assert data.funnel == {
        "started": 6,
        "consented": 4,
        "submitted": 3,
        "interview_scheduled": 1,
        "interviewed": 1,
    }


def test_intakes_from_before_starts_were_counted_are_started_at_least_when_consented(
    session: Session,
) -> None:
    invented_profile(session, country="GE")
    invented_profile(session, country="AM", status=ProfileStatus.IN_PROGRESS)
    session.commit()
    assert programme_overview(session).funnel["started"] == 2
    count_intake_start(session)
    assert programme_overview(session).funnel["started"] == 2  # one counted start, two consents
    for _ in range(2):
        count_intake_start(session)
    assert programme_overview(session).funnel["started"] == 3


def _previous_month() -> str:
    now = datetime.now(UTC)
    return f"{now.year - (now.month == 1)}-{(now.month - 2) % 12 + 1:02d}"


def test_overview_page_draws_charts_with_text_alternatives(client: SyncASGIClient, session: Session) -> None:
    _scenario(session)
    login(client, "coach.anna")
    page = client.get("/overview").text
    assert "3 von 150 Teilnehmenden (2 %) haben ein Profil eingereicht." in page
    assert page.count('<svg role="img"') == 6
    assert "<desc" in page and "Profile nach Rückkehrland: Georgien 2; Türkei 1" in page
    assert "<figcaption" in page and '<th scope="row">Georgien</th>' in page


def test_submission_notice_is_a_link_without_personal_data(settings: Settings, session: Session) -> None:
    profile = invented_profile(
        session, extra={"notes_for_coach": {"text": "Geheimnis-Freitext", "language": "de"}}
    )
    enqueue_submission_notice(session, profile.id)
    session.commit()
    services = CoachServices(
        settings.model_copy(
            update={"coach_chat_id": "-1001234", "public_base_url": "https://coach.example.org"}
        ),
        None,
    )
    [message] = load_pending(services)
    assert message.chat_id == -1001234
    assert (
        message.text
        == f"Neues Profil eingegangen. Zusammenfassung: https://coach.example.org/coach/profiles/{profile.id}"
    )
    for private in ("Nino", "Geheimnis", "საცხობი", "Georgien", "GE"):
        assert not shown(private, message.text.replace(profile.id, ""))
    services.engine.dispose()


def test_without_coach_chat_the_notice_is_skipped(settings: Settings, session: Session) -> None:
    profile = invented_profile(session)
    enqueue_submission_notice(session, profile.id)
    session.commit()
    services = CoachServices(settings, None)
    assert load_pending(services) == []
    session.expire_all()
    assert session.scalars(select(OutboxMessage.status)).one() is OutboxStatus.SKIPPED
    services.engine.dispose()


def test_invitation_in_the_chat_language_and_the_answer(settings: Settings, session: Session) -> None:
    profile = invented_profile(
        session, chat="tr", interview="tr", status=ProfileStatus.IN_REVIEW, chat_id="700800900"
    )
    appointment = ReviewRepository(session).schedule_interview(
        profile, datetime(2026, 12, 3, 9, 30, tzinfo=UTC), "coach.anna", place="Beratungsstelle, Raum 2"
    )
    session.commit()
    services = CoachServices(settings, None)
    [message] = load_pending(services)
    assert message.chat_id == 700800900
    assert message.text.startswith("Koçunuz sizi ilk görüşmeye davet ediyor:\n3 Aralık 2026 Perşembe, 10:30")
    assert "Yer: Beratungsstelle, Raum 2" in message.text
    assert isinstance(message.markup, InlineKeyboardMarkup)
    buttons = [row[0] for row in message.markup.inline_keyboard]
    assert [b.text for b in buttons] == ["Evet, uygun", "Lütfen başka bir saat önerin"]
    assert [b.callback_data for b in buttons] == [f"iv:ok:{appointment.id}", f"iv:no:{appointment.id}"]
    assert all(len(str(b.callback_data).encode()) <= 64 for b in buttons)

    assert record_answer(services, appointment.id, InterviewResponse.ACCEPTED, 111) == (
        "tr",
        False,
    )  # wrong chat
    assert record_answer(services, appointment.id, InterviewResponse.ACCEPTED, 700800900) == ("tr", True)
    session.expire_all()
    stored = session.get(InterviewAppointment, appointment.id)
    assert stored is not None and stored.response is InterviewResponse.ACCEPTED
    services.engine.dispose()
