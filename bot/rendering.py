"""Turns Rasa's replies into messages with buttons in the user's language.

Rasa (domain responses and custom actions) sends custom payloads of this form::

    {"lang": "de",                       # chat language; anything unsupported means "not chosen yet"
     "text": "English source string",    # translated with bot/locale/<lang>/LC_MESSAGES/messages.po
     "params": {"name": "value"},        # optional, fills {name} placeholders after translation
     "progress": "3/11",                 # optional, shown before the text
     "lines": [{"label": "...", "value": "...", "translate": true}],  # optional, "label: value" lines
     "footer": "English source string",  # optional, after the lines
     "buttons": [{"title": "English source string", "payload": "/intent{...}",
                  "raw": false,          # true: the title is shown as it is (names, codes)
                  "selected": false,     # true: shown ticked (multi-select questions)
                  "prefix": "",          # shown before the translated title
                  "suffix": "",          # shown after it
                  "row": false}],        # true: the button gets a row of its own
     "columns": 2,                       # optional, buttons per row (default: by title length)
     "replace": false,                   # true: replaces the message whose button was tapped
     "keyboard": "chat_languages",       # optional, a keyboard the bot builds itself
     "document": {"filename": "...", "content": "..."},  # optional, sent as a file (/mydata)
     "erase_conversation": false}        # true after /delete: the bot erases the conversation

Plain Rasa text responses (with optional buttons) are accepted too and treated as English
source strings.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.i18n import translate
from core.languages import CHAT_LANGUAGES, RTL_LANGUAGES, is_supported, native_name
from core.settings import get_settings

CALLBACK_DATA_MAX_BYTES = 64  # Telegram's limit for InlineKeyboardButton.callback_data
MESSAGE_MAX_CHARS = 4096  # Telegram's limit for one text message
_RLM = "\u200f"  # right-to-left mark: makes Telegram lay out a message right to left


@dataclass(frozen=True)
class Button:
    title: str
    callback_data: str


@dataclass(frozen=True)
class OutgoingMessage:
    text: str
    lang: str
    buttons: tuple[tuple[Button, ...], ...] = field(default=())
    replace: bool = False  # edit the message whose button was tapped instead of sending a new one
    document: tuple[str, bytes] | None = None  # (file name, content) sent as a file after the text
    erase_conversation: bool = False  # the person's data was deleted: the bot forgets the chat too

    def button_list(self) -> list[Button]:
        return [button for row in self.buttons for button in row]


def callback_data_fits(data: str) -> bool:
    return 0 < len(data.encode("utf-8")) <= CALLBACK_DATA_MAX_BYTES


def language_payload(code: str) -> str:
    return "/set_language" + json.dumps({"language": code}, separators=(",", ":"))


def _language_keyboard() -> list[Button]:
    return [Button(native_name(code), language_payload(code)) for code in CHAT_LANGUAGES]


def _layout(
    buttons: Sequence[Button], own_row: Sequence[bool], columns: int | None
) -> tuple[tuple[Button, ...], ...]:
    """Rows of buttons: `columns` a row (default two when every title is short, else one);
    a button marked as own_row stands alone (Skip, Done, Why)."""
    per_row = columns or (2 if all(len(b.title) <= 18 for b in buttons) else 1)
    rows: list[tuple[Button, ...]] = []
    current: list[Button] = []
    for button, alone in zip(buttons, own_row, strict=True):
        if alone:
            if current:
                rows.append(tuple(current))
                current = []
            rows.append((button,))
            continue
        current.append(button)
        if len(current) == per_row:
            rows.append(tuple(current))
            current = []
    if current:
        rows.append(tuple(current))
    return tuple(rows)


def split_text(text: str, limit: int = MESSAGE_MAX_CHARS) -> list[str]:
    """Split a long text at paragraph, line or word boundaries so each part fits one message."""
    parts: list[str] = []
    while len(text) > limit:
        cut = max(text.rfind(sep, 0, limit) for sep in ("\n\n", "\n", " "))
        if cut <= 0:
            cut = limit
        parts.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    parts.append(text)
    return [part for part in parts if part]


def _direction(text: str, lang: str) -> str:
    return _RLM + text if lang in RTL_LANGUAGES and not text.startswith(_RLM) else text


def _with_standing_params(msgid: str, params: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The configured retention periods, for texts that state them (the consent question)."""
    if "{retention_" not in msgid:
        return dict(params) if params else None
    settings = get_settings()
    return {
        "retention_closed_days": settings.retention_closed_days,
        "retention_draft_days": settings.retention_draft_days,
        **(params or {}),
    }


def _text(payload: Mapping[str, Any], lang: str) -> str:
    parts: list[str] = []
    msgid = str(payload.get("text") or "")
    if msgid:
        text = translate(lang, msgid, _with_standing_params(msgid, payload.get("params")))
        progress = payload.get("progress")
        parts.append(f"{progress} · {text}" if progress else text)
    lines = [
        f"• {translate(lang, str(line.get('label', '')))}: "
        f"{translate(lang, str(line.get('value', ''))) if line.get('translate') else line.get('value', '')}"
        for line in payload.get("lines") or []
    ]
    if lines:
        parts.append("\n".join(lines))
    if payload.get("footer"):
        parts.append(translate(lang, str(payload["footer"])))
    return "\n\n".join(parts)


def render_response(response: Mapping[str, Any], fallback_lang: str) -> list[OutgoingMessage]:
    """One Rasa reply as one or more Telegram messages (long texts are split; buttons go last)."""
    payload: Mapping[str, Any] = response.get("custom") or response
    lang = str(payload.get("lang") or "")
    if not is_supported(lang):
        lang = fallback_lang
    text = _text(payload, lang)

    buttons: list[Button] = []
    own_row: list[bool] = []
    if payload.get("keyboard") == "chat_languages":
        buttons.extend(_language_keyboard())
        own_row.extend([False] * len(CHAT_LANGUAGES))
    for raw in payload.get("buttons") or []:
        data = str(raw.get("payload") or "")
        if not callback_data_fits(data):
            raise ValueError(f"button payload does not fit Telegram's callback_data: {data!r}")
        title = str(raw.get("title") or "")
        title = title if raw.get("raw") else translate(lang, title)
        title = (
            ("✅ " if raw.get("selected") else "")
            + str(raw.get("prefix") or "")
            + title
            + str(raw.get("suffix") or "")
        )
        buttons.append(Button(title, data))
        own_row.append(bool(raw.get("row")))

    if not text and not buttons:
        return []
    parts = split_text(_direction(text, lang)) if text else [""]
    messages = [OutgoingMessage(part, lang) for part in parts[:-1]]
    columns = payload.get("columns")
    document = payload.get("document")
    messages.append(
        OutgoingMessage(
            parts[-1], lang, _layout(buttons, own_row, int(columns) if columns else None),
            replace=bool(payload.get("replace")) and len(parts) == 1,
            document=(str(document["filename"]), str(document["content"]).encode()) if document else None,
            erase_conversation=bool(payload.get("erase_conversation")),
        )
    )  # fmt: skip
    return messages


def render(responses: Iterable[Mapping[str, Any]], fallback_lang: str) -> list[OutgoingMessage]:
    messages: list[OutgoingMessage] = []
    for response in responses:
        messages.extend(render_response(response, fallback_lang))
    return messages


def notice(lang: str, msgid: str, **params: Any) -> OutgoingMessage:
    """A message the bot sends by itself (not from Rasa), e.g. about a sticker."""
    return OutgoingMessage(_direction(translate(lang, msgid, params or None), lang), lang)
