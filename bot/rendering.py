"""Turns Rasa's replies into messages with buttons in the user's language.

Rasa (domain responses and custom actions) sends custom payloads of this form::

    {"lang": "de",                       # chat language; anything unsupported means "not chosen yet"
     "text": "English source string",    # translated with bot/locale/<lang>/LC_MESSAGES/messages.po
     "params": {"name": "value"},        # optional, fills {name} placeholders after translation
     "buttons": [{"title": "English source string", "payload": "/intent{...}"}],
     "keyboard": "chat_languages"}       # optional, a keyboard the bot builds itself

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

    def button_list(self) -> list[Button]:
        return [button for row in self.buttons for button in row]


def callback_data_fits(data: str) -> bool:
    return 0 < len(data.encode("utf-8")) <= CALLBACK_DATA_MAX_BYTES


def language_payload(code: str) -> str:
    return "/choose_language" + json.dumps({"language": code}, separators=(",", ":"))


def _language_keyboard() -> list[Button]:
    return [Button(native_name(code), language_payload(code)) for code in CHAT_LANGUAGES]


def _layout(buttons: Sequence[Button]) -> tuple[tuple[Button, ...], ...]:
    """Two buttons a row when every title is short, else one a row (readable on a phone)."""
    per_row = 2 if all(len(b.title) <= 18 for b in buttons) else 1
    return tuple(tuple(buttons[i : i + per_row]) for i in range(0, len(buttons), per_row))


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


def render_response(response: Mapping[str, Any], fallback_lang: str) -> list[OutgoingMessage]:
    """One Rasa reply as one or more Telegram messages (long texts are split; buttons go last)."""
    payload: Mapping[str, Any] = response.get("custom") or response
    lang = str(payload.get("lang") or "")
    if not is_supported(lang):
        lang = fallback_lang
    msgid = str(payload.get("text") or "")
    text = translate(lang, msgid, payload.get("params")) if msgid else ""

    buttons: list[Button] = []
    if payload.get("keyboard") == "chat_languages":
        buttons.extend(_language_keyboard())
    for raw in payload.get("buttons") or []:
        data = str(raw.get("payload") or "")
        if not callback_data_fits(data):
            raise ValueError(f"button payload does not fit Telegram's callback_data: {data!r}")
        buttons.append(Button(translate(lang, str(raw.get("title") or "")), data))

    if not text and not buttons:
        return []
    parts = split_text(_direction(text, lang)) if text else [""]
    messages = [OutgoingMessage(part, lang) for part in parts[:-1]]
    messages.append(OutgoingMessage(parts[-1], lang, _layout(buttons)))
    return messages


def render(responses: Iterable[Mapping[str, Any]], fallback_lang: str) -> list[OutgoingMessage]:
    messages: list[OutgoingMessage] = []
    for response in responses:
        messages.extend(render_response(response, fallback_lang))
    return messages


def notice(lang: str, msgid: str, **params: Any) -> OutgoingMessage:
    """A message the bot sends by itself (not from Rasa), e.g. about a sticker."""
    return OutgoingMessage(_direction(translate(lang, msgid, params or None), lang), lang)
