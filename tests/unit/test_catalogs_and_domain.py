"""The dialogue's pieces fit together: domain, questions, catalogs and every button's callback data."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from babel.messages.pofile import read_po

from actions.intake import ASK_ACTIONS, answer_payload, edit_payload
from actions.questions import FORM_SLOTS, QUESTIONS, SKIPPED
from bot.rendering import CALLBACK_DATA_MAX_BYTES
from core.i18n import LOCALE_DIR
from core.languages import CHAT_LANGUAGES
from core.settings import PROJECT_ROOT

DOMAIN = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))


def _read(path: Path):  # type: ignore[no-untyped-def]
    with path.open("rb") as file:
        return read_po(file)


TEMPLATE = _read(LOCALE_DIR / "messages.pot")
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def test_form_asks_every_question_in_order() -> None:
    assert DOMAIN["forms"]["intake_form"]["required_slots"] == list(FORM_SLOTS)
    for slot in FORM_SLOTS:
        [mapping] = DOMAIN["slots"][slot]["mappings"]
        assert mapping["type"] == "from_text"
        assert mapping["conditions"] == [{"active_loop": "intake_form", "requested_slot": slot}]
        assert f"action_ask_{slot}" in DOMAIN["actions"]
    assert {a().name() for a in ASK_ACTIONS} == {f"action_ask_{s}" for s in FORM_SLOTS}


def test_every_button_fits_telegrams_callback_data() -> None:
    payloads = [answer_payload(o.code) for q in QUESTIONS for o in q.options + q.extra_options]
    payloads += [answer_payload(SKIPPED), answer_payload("__done__"), *(edit_payload(s) for s in FORM_SLOTS)]
    for response in DOMAIN["responses"].values():
        for variation in response:
            payloads += [b["payload"] for b in (variation.get("custom") or {}).get("buttons", [])]
    too_long = [p for p in payloads if len(p.encode()) > CALLBACK_DATA_MAX_BYTES]
    assert not too_long


def test_template_has_every_question_text() -> None:
    ids = {m.id for m in TEMPLATE}
    for question in QUESTIONS:
        assert question.text in ids and question.why in ids
        for option in question.options:
            if option.translate:
                assert option.label in ids, option.label


@pytest.mark.parametrize("lang", [c for c in CHAT_LANGUAGES if c != "en"])
def test_every_catalog_is_complete_marked_draft_and_keeps_placeholders(lang: str) -> None:
    path = Path(LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po")
    catalog = _read(path)
    wanted = {m.id for m in TEMPLATE if m.id}
    have = {m.id: m for m in catalog if m.id}
    missing = [i for i in wanted if not (i in have and have[i].string and not have[i].fuzzy)]
    assert not missing, f"{lang}: {len(missing)} untranslated, e.g. {missing[:3]}"
    for message in have.values():
        if message.id in wanted:
            assert set(PLACEHOLDER.findall(str(message.id))) == set(PLACEHOLDER.findall(str(message.string)))
            assert any("draft" in c for c in message.user_comments), f"{lang}: {message.id!r} not marked"
    assert "DRAFT" in path.read_text(encoding="utf-8").split("msgid", 1)[0]
