"""Hypothesis strategies for hostile input: texts, Telegram updates, Rasa payloads, trackers, slot values.

Everything here is data, not checks (see tests/fuzz/targets.py). The strategies stay inside what the
outside world can really send (valid Unicode and valid Bot API shapes, callback_data of 1-64 bytes)
but are hostile within it: any script, control and bidi characters, format strings, huge texts,
malformed button payloads, missing senders, unsupported message kinds.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import yaml
from babel import Locale
from babel.messages.pofile import read_po
from hypothesis import strategies as st

from actions.intake import DONE, NO, answer_payload, edit_payload
from actions.parsing import _country_names
from actions.questions import BY_SLOT, FORM_SLOTS, QUESTIONS, SKIPPED, WORK_SLOTS, Question
from bot.i18n import LOCALE_DIR, translate
from bot.rendering import CALLBACK_DATA_MAX_BYTES, language_payload
from bot.telegram_app import COMMAND_TEXTS
from core.languages import CHAT_LANGUAGES, native_name

BOT_ID = 7000000099
BOT_USERNAME = "intake_fuzz_bot"
DOMAIN_FILE = LOCALE_DIR.parent.parent / "domain.yml"

# Characters and snippets that break naive code: bidi overrides and marks, zero-width and BOM,
# C0/C1 controls, line and paragraph separators, combining marks, emoji sequences, wide ligatures,
# case-mapping oddities, digits of other scripts, format strings, markup, path tricks, our own
# sentinels and Rasa's payload syntax.
NASTY: tuple[str, ...] = (
    "\u202e", "\u202d", "\u202a", "\u202b", "\u202c", "\u2066", "\u2067", "\u2068", "\u2069", "\u200f",
    "\u200e", "\u061c", "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\x00", "\x07", "\x1b[31m",
    "\r\n", "\r", "\t", "\x0b", "\x0c", "\x85", "\u2028", "\u2029", "\u00a0", "\u3000", "\u0301",
    "e\u0301", "\u0338", "Z\u0351\u036b\u0343\u036a\u0302\u036b", "🏳️‍🌈", "👩‍👩‍👧‍👦", "🇬🇪", "🇦🇲",
    "\U0001f600", "\ufdfa", "\ufdfd", "\U0001242b", "ﷺ", "İ", "ı", "ß", "ẞ", "ﬃ", "ǅ", "ᾈ", "ΐ", "ς",
    "٣", "۵", "१", "𝟗", "½", "²", "Ⅻ", "①", "٫", "٬", "{", "}", "{0}", "{}", "{name}", "{country!r}",
    "{count:>99999}", "{a.__class__}", "%s", "%(x)s", "<b>", "</b>", "<script>alert(1)</script>",
    "*_`[]()~>#+-=|{}.!", "\\", "'", '"', "../../etc/passwd", "=cmd|' /C calc'!A0", "@SUM(1+1)",
    "null", "None", "NaN", "-1", "1e309", "0x10", "9" * 30, "__skipped__", "__done__", "__no__", "/",
    "/start", "/answer{", '/answer{"value":', '/answer{"value":"GE"}', "/set_language{}", "iv:ok:1",
    "?", "؟", ";", "՞", "...", " ", "  ", "\n\n",
)  # fmt: skip


@cache
def msgids() -> tuple[str, ...]:
    """Every English source string of the bot's catalog (what Rasa's payloads carry as text)."""
    with (LOCALE_DIR / "messages.pot").open("rb") as file:
        return tuple(sorted(str(m.id) for m in read_po(file) if m.id and isinstance(m.id, str)))


@cache
def vocabulary() -> tuple[str, ...]:
    """Words people really type: option labels in every language, country and language names."""
    words: set[str] = set()
    for question in QUESTIONS:
        for option in question.options + question.extra_options:
            words.add(option.code)
            words.update(translate(lang, option.label) for lang in CHAT_LANGUAGES)
    for lang in (*CHAT_LANGUAGES, "sr_Latn"):
        locale = Locale.parse(lang)
        words.update(str(locale.territories.get(code, code)) for code in ("GE", "AM", "AL", "XK", "SY"))
        words.update(str(locale.languages.get(code, code)) for code in ("de", "ru", "ku", "tr"))
    words.update(native_name(code) for code in CHAT_LANGUAGES)
    words.update(("Goergia", "Albnia", "armeniaa", "Sakartvelo", "Тбилиси", "2,5", "١٠", "3 years"))
    return tuple(sorted(words))


@cache
def intent_names() -> tuple[str, ...]:
    domain = yaml.safe_load(DOMAIN_FILE.read_text(encoding="utf-8"))
    return tuple(str(name) for name in domain["intents"])


@cache
def country_codes() -> tuple[str, ...]:
    return tuple(sorted(set(_country_names().values())))


def option_codes(question: Question) -> tuple[str, ...]:
    return tuple(o.code for o in question.options + question.extra_options)


@cache
def all_codes() -> tuple[str, ...]:
    codes = {code for q in QUESTIONS for code in option_codes(q)}
    return tuple(sorted(codes | set(country_codes()) | {SKIPPED, DONE, NO}))


@cache
def pick(items: tuple[str, ...]) -> st.SearchStrategy[str]:
    """sampled_from for long tuples, without Hypothesis printing the whole tuple as the strategy's repr."""
    return st.integers(0, len(items) - 1).map(items.__getitem__)


# --- texts -----------------------------------------------------------------------------------

any_char = st.characters(exclude_categories=("Cs",))  # JSON cannot carry lone surrogates


@cache
def atoms() -> st.SearchStrategy[str]:
    return st.one_of(
        st.text(any_char, max_size=24),
        pick(NASTY),
        pick(vocabulary()),
        st.from_regex(r"[0-9٠-٩۰-۹.,\- ]{1,8}", fullmatch=True),
    )


@cache
def hostile_text(max_atoms: int = 10) -> st.SearchStrategy[str]:
    """Any valid Unicode text, built from pieces that are likely to matter, joined by odd separators."""
    pieces = st.lists(
        st.tuples(atoms(), st.sampled_from(("", " ", "  ", ", ", "\n", "\u200f", "-"))), max_size=max_atoms
    )
    return pieces.map(lambda parts: "".join(a + s for a, s in parts))


@cache
def long_text(min_size: int = 3000, max_size: int = 6000) -> st.SearchStrategy[str]:
    """Texts around Telegram's limits: one piece repeated, or words without any space."""
    return st.builds(
        lambda piece, size: (piece * (size // max(len(piece), 1) + 1))[:size],
        st.one_of(atoms().filter(bool), st.sampled_from(("ab ", "x", "Грузия ", "\n", "9", "a\u0301"))),
        st.integers(min_size, max_size),
    )


@cache
def user_text() -> st.SearchStrategy[str]:
    return st.one_of(hostile_text(), hostile_text(40), long_text(), st.text(any_char, max_size=200))


@cache
def short_text(max_size: int = 20) -> st.SearchStrategy[str]:
    return st.one_of(st.text(any_char, max_size=max_size), pick(NASTY), pick(vocabulary()))


# --- Rasa's side: intents, entities, button payloads ------------------------------------------


def fit_callback_data(data: str) -> str:
    """Cut to Telegram's 64 bytes at a character boundary (what a client can possibly send)."""
    return data.encode("utf-8")[:CALLBACK_DATA_MAX_BYTES].decode("utf-8", errors="ignore")


@cache
def callback_data() -> st.SearchStrategy[str]:
    """What a (modified) Telegram client can put into callback_data: 1-64 bytes, well- or ill-formed."""
    value = st.one_of(pick(all_codes()), short_text())
    well_formed = st.one_of(
        st.builds(answer_payload, value),
        st.builds(edit_payload, st.one_of(st.sampled_from(FORM_SLOTS), short_text())),
        st.builds(language_payload, st.one_of(st.sampled_from(CHAT_LANGUAGES), short_text(6))),
        st.sampled_from(intent_names()).map(lambda name: "/" + name),
        st.builds(
            lambda a, n: f"iv:{a}:{n}",
            st.sampled_from(("ok", "no", "OK", "", "maybe")),
            st.one_of(st.integers(-5, 10**19).map(str), short_text(8)),
        ),
    )
    malformed = st.one_of(
        st.builds(lambda s, cut: s[:cut], well_formed, st.integers(0, 40)),  # cut anywhere
        st.builds(lambda s, junk: s + junk, well_formed, short_text(8)),
        st.builds(
            lambda j: "/answer" + j, st.one_of(short_text(), st.sampled_from(("{", "{}", "{{", "[1]")))
        ),
        st.builds(
            lambda v: "/answer" + json.dumps({"value": v}),
            st.one_of(
                st.integers(),
                st.floats(allow_nan=False),
                st.none(),
                st.booleans(),
                st.lists(st.integers(), max_size=3),
                st.dictionaries(short_text(4), st.integers(), max_size=2),
            ),
        ),
        st.text(any_char, min_size=1, max_size=64),
    )
    return st.one_of(well_formed, malformed).map(fit_callback_data).filter(bool)


@cache
def intents() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {"name": st.one_of(st.sampled_from(intent_names()), st.none(), short_text(12))},
        optional={"confidence": st.one_of(st.floats(0, 1), st.sampled_from((0.0, 0.6, 0.9, 0.95, 1.0)))},
    )


@cache
def entity_values() -> st.SearchStrategy[Any]:
    return st.one_of(
        pick(all_codes()),
        short_text(),
        st.integers(),
        st.floats(allow_nan=False),
        st.none(),
        st.booleans(),
        st.lists(st.integers(), max_size=2),
        st.dictionaries(short_text(4), st.integers(), max_size=2),
    )


@cache
def entities() -> st.SearchStrategy[list[dict[str, Any]]]:
    entity = st.fixed_dictionaries(
        {
            "entity": st.one_of(st.sampled_from(("value", "language", "slot", "country")), short_text(8)),
            "value": entity_values(),
        },
        optional={"start": st.integers(0, 100), "end": st.integers(0, 100)},
    )
    return st.lists(entity, max_size=3)


# --- Rasa's replies (custom payloads, bot/rendering.py) ----------------------------------------


@st.composite
def msgid_with_params(draw: st.DrawFn) -> tuple[str, dict[str, Any] | None]:
    """A real source string; when it has placeholders, params with hostile values (user words)."""
    msgid = draw(pick(msgids()))
    if "{" not in msgid:
        return msgid, None
    names = [part.split("}")[0] for part in msgid.split("{")[1:] if "}" in part]
    params = {name: draw(st.one_of(short_text(60), st.integers(), long_text(100, 5000))) for name in names}
    if draw(st.booleans()):
        params.update(draw(st.dictionaries(short_text(8), short_text(), max_size=2)))
    return msgid, params


@cache
def _button_payload(fitting: bool) -> st.SearchStrategy[str]:
    if fitting:
        return callback_data()
    return st.one_of(callback_data(), st.text(any_char, max_size=120), st.just(""))


@st.composite
def rasa_payload(draw: st.DrawFn, fitting: bool = True, erase: bool = True) -> dict[str, Any]:
    """One custom payload as Rasa sends it; `fitting` keeps every button payload within 64 bytes
    (our actions always do; render refuses the others)."""
    payload: dict[str, Any] = {}
    if draw(st.integers(0, 9)):
        payload["lang"] = draw(
            st.one_of(st.sampled_from(CHAT_LANGUAGES), st.sampled_from(("None", "", "pt")), short_text(6))
        )
    choice = draw(st.integers(0, 5))
    if choice <= 2:
        payload["text"], params = draw(msgid_with_params())
        if params is not None:
            payload["params"] = params
    elif choice <= 4:  # a plain text (e.g. a Rasa text response with a slot filled in)
        payload["text"] = draw(user_text().filter(str.strip))
    if draw(st.integers(0, 2)) == 0:
        payload["progress"] = draw(st.one_of(st.integers(1, 11).map(lambda i: f"{i}/11"), short_text(10)))
    if draw(st.integers(0, 3)) == 0:
        line = st.fixed_dictionaries(
            {
                "label": st.one_of(pick(msgids()), short_text()),
                "value": st.one_of(user_text(), pick(msgids())),
                "translate": st.booleans(),
            }
        )
        payload["lines"] = draw(st.lists(line, max_size=30))
    if draw(st.integers(0, 3)) == 0:
        payload["footer"] = draw(st.one_of(pick(msgids()), short_text().filter(str.strip)))
    if draw(st.booleans()):
        button = st.fixed_dictionaries(
            {
                "title": st.one_of(pick(msgids()), short_text(40).filter(str.strip)),
                "payload": _button_payload(fitting),
            },
            optional={
                "raw": st.booleans(),
                "selected": st.booleans(),
                "prefix": short_text(4),
                "suffix": short_text(4),
                "row": st.booleans(),
            },
        )
        payload["buttons"] = draw(st.lists(button, max_size=40))
        payload["columns"] = draw(st.one_of(st.none(), st.integers(0, 4)))
    if draw(st.integers(0, 3)) == 0:
        payload["keyboard"] = draw(st.one_of(st.just("chat_languages"), short_text(8)))
    if draw(st.integers(0, 3)) == 0:
        payload["replace"] = draw(st.booleans())
    if draw(st.integers(0, 9)) == 0:
        payload["document"] = {"filename": draw(short_text()) or "data.json", "content": draw(user_text())}
    if erase and draw(st.integers(0, 19)) == 0:
        payload["erase_conversation"] = True
    if (payload.get("buttons") or payload.get("keyboard")) and not payload.get("text"):
        payload["text"] = draw(pick(msgids()))  # our domain never sends buttons without a text
    if draw(st.integers(0, 4)) == 0:  # a plain Rasa response rather than a custom payload
        return {"recipient_id": "x", **{k: v for k, v in payload.items() if k in ("text", "buttons")}}
    return {"recipient_id": "x", "custom": payload}


# --- Telegram updates ------------------------------------------------------------------------


@cache
def language_codes() -> st.SearchStrategy[str | None]:
    return st.one_of(
        st.none(),
        st.sampled_from((*CHAT_LANGUAGES, "pt-br", "sr-Latn", "de_AT", "zh-hans", "", "-", "EN")),
        short_text(8),
    )


@st.composite
def telegram_user(draw: st.DrawFn, is_bot: bool | None = None) -> dict[str, Any]:
    user: dict[str, Any] = {
        "id": draw(st.integers(1, 2**52)),
        "is_bot": draw(st.booleans()) if is_bot is None else is_bot,
        "first_name": draw(short_text(64)) or "A",
    }
    code = draw(language_codes())
    if code is not None:
        user["language_code"] = code
    if draw(st.booleans()):
        user["username"] = draw(st.from_regex(r"[A-Za-z][A-Za-z0-9_]{4,31}", fullmatch=True))
    return user


def chat_for(user: dict[str, Any] | None, kind: str, chat_id: int) -> dict[str, Any]:
    if kind == "private":
        return {"id": user["id"] if user else chat_id, "type": "private", "first_name": "A"}
    if kind == "channel":
        return {"id": -1001000000000 - chat_id, "type": "channel", "title": "T"}
    return {"id": -chat_id, "type": kind, "title": "T"}


def text_content(text: str, with_entity: bool) -> dict[str, Any]:
    content: dict[str, Any] = {"text": text}
    if with_entity and text.startswith("/") and len(text) > 1:
        command = text.split(maxsplit=1)[0]
        content["entities"] = [
            {"type": "bot_command", "offset": 0, "length": len(command.encode("utf-16-le")) // 2}
        ]
    return content


@cache
def command_text() -> st.SearchStrategy[str]:
    name = st.one_of(
        st.sampled_from(tuple(COMMAND_TEXTS)),
        st.sampled_from(tuple(c.upper() for c in COMMAND_TEXTS)),
        st.from_regex(r"[a-z_0-9]{1,32}", fullmatch=True),
    )
    address = st.sampled_from(("", "", f"@{BOT_USERNAME}", "@other_bot", "@"))
    args = st.one_of(st.just(""), hostile_text().map(lambda t: " " + t))
    return st.builds(lambda n, a, r: f"/{n}{a}{r}", name, address, args)


MEDIA: dict[str, dict[str, Any]] = {
    "sticker": {
        "file_id": "CAACsticker",
        "file_unique_id": "s1",
        "type": "regular",
        "width": 512,
        "height": 512,
        "is_animated": False,
        "is_video": False,
        "emoji": "👍",
    },
    "photo": [{"file_id": "AgACphoto", "file_unique_id": "p1", "width": 90, "height": 67}],
    "document": {
        "file_id": "BQACdocument",
        "file_unique_id": "d1",
        "file_name": "cv.pdf",
        "mime_type": "application/pdf",
        "file_size": 24051,
    },
    "location": {"latitude": 52.52, "longitude": 13.40},
    "contact": {"phone_number": "+49 30 000000", "first_name": "A"},
    "video_note": {"file_id": "DQACnote", "file_unique_id": "v1", "length": 240, "duration": 3},
    "dice": {"emoji": "🎲", "value": 3},
    "venue": {"location": {"latitude": 1.0, "longitude": 2.0}, "title": "T", "address": "A"},
}


@st.composite
def message(draw: st.DrawFn, content: dict[str, Any], chat_kind: str | None = None) -> dict[str, Any]:
    user = draw(st.one_of(telegram_user(is_bot=False), telegram_user(), st.none()))
    kind = chat_kind or draw(
        st.sampled_from(("private", "private", "private", "private", "group", "supergroup"))
    )
    result: dict[str, Any] = {
        "message_id": draw(st.integers(1, 2**31 - 1)),
        "date": draw(st.integers(0, 2**32)),
        "chat": chat_for(user, kind, draw(st.integers(1, 2**40))),
        **content,
    }
    if user is not None:
        result["from"] = user
    if draw(st.integers(0, 9)) == 0:
        result["caption"] = draw(user_text())
    return result


@st.composite
def update_payload(draw: st.DrawFn) -> dict[str, Any]:
    """One Bot API update (without update_id, which the harness assigns)."""
    kind = draw(
        st.sampled_from(
            (
                "text",
                "text",
                "text",
                "command",
                "command",
                "callback",
                "callback",
                "callback",
                "edited",
                "voice",
                "media",
                "channel_post",
                "other",
            )
        )
    )
    if kind == "text":
        text = draw(user_text())
        return {"message": draw(message(text_content(text, draw(st.booleans()))))}
    if kind == "command":
        text = draw(command_text())
        return {"message": draw(message(text_content(text, draw(st.integers(0, 5)) > 0)))}
    if kind == "edited":
        text = draw(st.one_of(user_text(), command_text()))
        edited = draw(message(text_content(text, True)))
        return {"edited_message": {**edited, "edit_date": edited["date"] + 1}}
    if kind == "voice":
        voice: dict[str, Any] = {
            "file_id": "AwACvoice",
            "file_unique_id": "vo1",
            "duration": draw(st.integers(0, 3600)),
        }
        mime = draw(st.one_of(st.none(), st.sampled_from(("audio/ogg", "audio/mpeg")), short_text(12)))
        if mime is not None:
            voice["mime_type"] = mime
        return {"message": draw(message({"voice": voice}))}
    if kind == "media":
        name = draw(st.sampled_from(tuple(MEDIA)))
        return {"message": draw(message({name: MEDIA[name]}))}
    if kind == "channel_post":
        text = draw(st.one_of(user_text(), command_text()))
        post = draw(message(text_content(text, True), chat_kind="channel"))
        post.pop("from", None)
        return {"channel_post": post}
    if kind == "other":
        user = draw(telegram_user())
        return draw(
            st.sampled_from(
                (
                    {"inline_query": {"id": "1", "from": user, "query": "q", "offset": ""}},
                    {"chosen_inline_result": {"result_id": "1", "from": user, "query": "q"}},
                    {
                        "my_chat_member": {
                            "chat": chat_for(user, "private", 1),
                            "from": user,
                            "date": 0,
                            "old_chat_member": {
                                "status": "member",
                                "user": {"id": BOT_ID, "is_bot": True, "first_name": "B"},
                            },
                            "new_chat_member": {
                                "status": "kicked",
                                "until_date": 0,
                                "user": {"id": BOT_ID, "is_bot": True, "first_name": "B"},
                            },
                        }
                    },
                )
            )
        )
    # A button tap: on a bot message in the chat, on one too old to be accessible, or inline.
    user = draw(st.one_of(telegram_user(is_bot=False), telegram_user()))
    query: dict[str, Any] = {"id": str(draw(st.integers(1, 2**63))), "from": user, "chat_instance": "-538771"}
    data = draw(st.one_of(callback_data(), callback_data(), st.none()))
    if data is not None:
        query["data"] = data
    where = draw(st.sampled_from(("message", "message", "message", "inaccessible", "inline")))
    chat = chat_for(user, draw(st.sampled_from(("private", "private", "private", "group"))), 5)
    message_id = draw(st.integers(1, 2**31 - 1))
    if where == "message":
        bot = {"id": BOT_ID, "is_bot": True, "first_name": "Intake", "username": BOT_USERNAME}
        query["message"] = {
            "message_id": message_id,
            "from": bot,
            "chat": chat,
            "date": draw(st.integers(1, 2**32)),
            "text": "…",
        }
    elif where == "inaccessible":
        query["message"] = {"message_id": message_id, "chat": chat, "date": 0}
    else:
        query["inline_message_id"] = "AAAAinline"
    return {"callback_query": query}


@st.composite
def rasa_behaviour(draw: st.DrawFn) -> dict[str, Any]:
    """What the fake Rasa answers: a list of payloads, optionally echoing the user's text, or nothing."""
    return {
        "unavailable": draw(st.integers(0, 9)) == 0,
        "replies": draw(st.lists(rasa_payload(fitting=True), max_size=4)),
        "echo": draw(st.booleans()),
    }


@st.composite
def update_case(draw: st.DrawFn) -> dict[str, Any]:
    """One to three updates for the same bot, what Rasa answers, and how the Bot API behaves."""
    return {
        "updates": draw(st.lists(update_payload(), min_size=1, max_size=3)),
        "rasa": draw(rasa_behaviour()),
        "edit_fails": draw(st.booleans()),
        "repeat_first": draw(st.integers(0, 4)) == 0,
    }


# --- slot values: what the validators can produce, and anything at all ---------------------------


@cache
def free_text_value(lang_strategy: st.SearchStrategy[str]) -> st.SearchStrategy[Any]:
    return st.one_of(
        user_text()
        .filter(lambda t: t.strip() != "" and not t.strip().startswith("/"))
        .map(lambda t: t.strip()[:4096]),
        st.fixed_dictionaries({"text": user_text().map(lambda t: t[:4096]), "language": lang_strategy}),
        st.fixed_dictionaries(
            {
                "voice_note_id": st.text(any_char, min_size=1, max_size=20),
                "text": st.just(""),
                "duration": st.one_of(st.none(), st.floats(0, 10**6)),
                "mime_type": st.one_of(st.none(), short_text(20)),
            }
        ),
    )


@cache
def reachable_value(slot: str) -> st.SearchStrategy[Any]:
    """A value the intake form can store in `slot` (see ValidateIntakeForm.validate_answer)."""
    question = BY_SLOT[slot]
    skipped = [st.just(SKIPPED)] if question.optional else []
    codes = option_codes(question)
    if question.kind == "text":
        values = free_text_value(st.sampled_from(CHAT_LANGUAGES))
    elif question.kind == "country":
        values = pick(country_codes())
    elif question.kind == "years":
        values = st.one_of(
            st.sampled_from(codes), st.floats(0, 60).map(str), st.integers(0, 60).map(float).map(str)
        )
    elif question.kind == "multi":
        limit = question.max_choices or len(codes)
        values = st.lists(st.sampled_from(codes), unique=True, min_size=1, max_size=limit)
    elif question.kind == "summary":
        values = st.just("confirm")
    else:
        values = st.sampled_from(codes)
    return st.one_of(st.none(), values, *skipped)


@st.composite
def work_entries(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Finished work experience entries as the form files them (actions.profile.work_entry)."""
    from actions.profile import work_entry

    entries = []
    for _ in range(draw(st.integers(0, 3))):
        slots = {slot: draw(reachable_value(slot)) for slot in WORK_SLOTS}
        entry = work_entry(slots, draw(st.sampled_from(CHAT_LANGUAGES)))
        if entry:
            entries.append(entry)
    return entries


@st.composite
def reachable_slots(draw: st.DrawFn) -> dict[str, Any]:
    slots = {slot: draw(reachable_value(slot)) for slot in FORM_SLOTS}
    slots["work_experience"] = draw(st.one_of(st.none(), work_entries()))
    return slots


json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=False, allow_infinity=False),
        short_text(),
        pick(all_codes()),
    ),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(short_text(8), inner, max_size=4)),
    max_leaves=8,
)


@st.composite
def hostile_slots(draw: st.DrawFn) -> dict[str, Any]:
    """Reachable slots with some replaced by any JSON value (an older version's tracker, a bug)."""
    slots = draw(reachable_slots())
    for slot in draw(st.lists(st.sampled_from((*FORM_SLOTS, "work_experience")), unique=True, max_size=4)):
        slots[slot] = draw(json_values)
    return slots


@st.composite
def profile_case(draw: st.DrawFn) -> dict[str, Any]:
    hostile = draw(st.integers(0, 2)) == 0
    return {
        "hostile": hostile,
        "slots": draw(hostile_slots() if hostile else reachable_slots()),
        "lang": draw(st.sampled_from(CHAT_LANGUAGES)),
        "source": draw(st.sampled_from((None, "chosen", "detected", "telegram_client"))),
        "consented": draw(st.integers(0, 5)) > 0,
    }


# --- validator calls -------------------------------------------------------------------------


@st.composite
def validator_case(draw: st.DrawFn) -> dict[str, Any]:
    """One call of validate_<slot>: the message Rasa parsed, the slot value and the tracker state."""
    slot = draw(st.sampled_from(FORM_SLOTS))
    question = BY_SLOT[slot]
    lang = draw(st.one_of(st.sampled_from(CHAT_LANGUAGES), st.none()))
    how = draw(st.sampled_from(("button", "button", "typed", "typed", "payload")))
    if how == "button":  # a tap on an answer button; the value may be any (client-made) data
        tapped = draw(
            st.one_of(
                st.sampled_from((*option_codes(question), SKIPPED, DONE, NO)), pick(all_codes()), short_text()
            )
        )
        text = answer_payload(tapped)
        intent: dict[str, Any] = {"name": "answer", "confidence": 1.0}
        parsed_entities: list[dict[str, Any]] = [{"entity": "value", "value": tapped}]
    elif how == "payload":  # any callback data Rasa parsed into whatever intent and entities
        text = draw(callback_data())
        intent, parsed_entities = draw(intents()), draw(entities())
    else:
        text = draw(user_text())
        intent, parsed_entities = draw(intents()), draw(entities())
    metadata: dict[str, Any] = {
        "detected_language": draw(st.one_of(st.none(), st.sampled_from(CHAT_LANGUAGES), short_text(5))),
        "telegram_language": draw(st.one_of(st.none(), st.sampled_from(CHAT_LANGUAGES))),
        "message_id": draw(st.integers(1, 2**31)),
    }
    if draw(st.integers(0, 5)) == 0:
        metadata["voice"] = {
            "voice_note_id": draw(st.text(any_char, min_size=1, max_size=20)),
            "duration": draw(st.floats(0, 10**6)),
            "mime_type": draw(st.one_of(st.sampled_from(("audio/ogg",)), short_text(20))),
        }
        text = "🎤"
    slots = draw(reachable_slots())
    slots.update(chat_language=lang, requested_slot=slot, consent_given=True, intake_status=None)
    if question.kind == "multi":
        codes = option_codes(question)
        slots["multi_selection"] = draw(
            st.one_of(
                st.none(),
                st.lists(st.sampled_from(codes), unique=True, max_size=question.max_choices or len(codes)),
            )
        )
    slots["country_candidate"] = draw(st.one_of(st.none(), pick(country_codes())))
    # The form maps the whole text into the requested slot (from_text); now and then an earlier answer
    # is re-validated instead.
    value = text if draw(st.integers(0, 5)) else draw(reachable_value(slot))
    slots[slot] = value
    return {
        "slot": slot,
        "value": value,
        "slots": slots,
        "latest_message": {"text": text, "intent": intent, "entities": parsed_entities, "metadata": metadata},
        "submitted": draw(st.integers(0, 9)) == 0,
    }
