"""Unit tests for the local Telegram Bot API stand-in used by the integration tests."""

from __future__ import annotations

import asyncio
import datetime as dtm
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import httpx
import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, RetryAfter

from tests.support.telegram_standin import (
    BOT_USERNAME,
    TelegramStandIn,
    callback_update,
    document_update,
    edited_text_update,
    location_update,
    photo_update,
    sticker_update,
    text_update,
    voice_update,
)

CHAT = 424242001


@pytest.fixture
def standin() -> Iterator[TelegramStandIn]:
    with TelegramStandIn() as server:
        yield server


def make_bot(standin: TelegramStandIn) -> Bot:
    return Bot(standin.token, base_url=standin.base_url, base_file_url=standin.base_file_url)


def api_url(standin: TelegramStandIn, method: str, token: str | None = None) -> str:
    return f"{standin.base_url}{token or standin.token}/{method}"


def test_get_me_and_send_message_with_inline_keyboard(standin: TelegramStandIn) -> None:
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Yes", callback_data="consent:yes")]])

    async def scenario() -> tuple[Any, Any, Any]:
        async with make_bot(standin) as bot:
            me = await bot.get_me()
            first = await bot.send_message(CHAT, "Hello", reply_markup=keyboard)
            second = await bot.send_message(CHAT, "Again")
            return me, first, second

    me, first, second = asyncio.run(scenario())
    assert me.is_bot and me.username == BOT_USERNAME
    assert first.chat.id == CHAT and first.chat.type == "private" and first.text == "Hello"
    assert first.from_user.id == me.id
    assert first.reply_markup == keyboard
    assert second.message_id == first.message_id + 1
    sent = standin.sent_messages(CHAT)
    assert [m["text"] for m in sent] == ["Hello", "Again"]
    assert sent[0]["chat_id"] == CHAT
    assert sent[0]["reply_markup"] == {"inline_keyboard": [[{"text": "Yes", "callback_data": "consent:yes"}]]}
    assert standin.violations == []


def test_get_updates_returns_pushed_updates_and_offset_confirms(standin: TelegramStandIn) -> None:
    first_id = standin.push_update(text_update(CHAT, "/start ref", language_code="de"))
    second_id = standin.push_update(callback_update(CHAT, "consent:yes"))
    assert second_id == first_id + 1

    async def scenario() -> tuple[Any, Any, Any, Any]:
        async with make_bot(standin) as bot:
            limited = await bot.get_updates(limit=1)
            everything = await bot.get_updates()
            confirmed = await bot.get_updates(offset=second_id + 1)
            answered = await bot.answer_callback_query(everything[1].callback_query.id, text="ok")
            return limited, everything, confirmed, answered

    limited, everything, confirmed, answered = asyncio.run(scenario())
    assert [u.update_id for u in limited] == [first_id]
    assert all(isinstance(u, Update) for u in everything)
    message = everything[0].message
    assert message.text == "/start ref" and message.chat.id == CHAT
    assert message.from_user.language_code == "de"
    assert message.entities[0].type == "bot_command" and message.entities[0].length == len("/start")
    assert everything[1].callback_query.data == "consent:yes"
    assert confirmed == ()
    assert answered is True
    assert standin.wait_for_calls("answerCallbackQuery", timeout=1)[0].params["text"] == "ok"
    assert standin.violations == []


def test_get_updates_long_polls_until_an_update_arrives(standin: TelegramStandIn) -> None:
    async def scenario() -> tuple[Any, float]:
        async with make_bot(standin) as bot:
            started = time.monotonic()
            threading.Timer(0.3, standin.push_update, args=[text_update(CHAT, "late")]).start()
            updates = await bot.get_updates(timeout=10, read_timeout=15)
            return updates, time.monotonic() - started

    updates, elapsed = asyncio.run(scenario())
    assert [u.message.text for u in updates] == ["late"]
    assert 0.2 < elapsed < 5


def test_get_updates_without_updates_waits_for_timeout(standin: TelegramStandIn) -> None:
    async def scenario() -> tuple[Any, float]:
        async with make_bot(standin) as bot:
            started = time.monotonic()
            updates = await bot.get_updates(timeout=1, read_timeout=5)
            return updates, time.monotonic() - started

    updates, elapsed = asyncio.run(scenario())
    assert updates == ()
    assert 0.9 < elapsed < 4


def test_get_file_and_download(standin: TelegramStandIn) -> None:
    standin.add_file("AwACAgIAAxkBAAIVoice0001", b"OggS\x00voice\r\nbytes", file_path="voice/file_7.oga")

    async def scenario() -> tuple[Any, bytearray]:
        async with make_bot(standin) as bot:
            telegram_file = await bot.get_file("AwACAgIAAxkBAAIVoice0001")
            return telegram_file, await telegram_file.download_as_bytearray()

    telegram_file, data = asyncio.run(scenario())
    assert telegram_file.file_path.endswith("/voice/file_7.oga")
    assert telegram_file.file_size == len(b"OggS\x00voice\r\nbytes")
    assert bytes(data) == b"OggS\x00voice\r\nbytes"
    assert standin.violations == []


def test_get_file_with_unknown_file_id_is_a_bad_request(standin: TelegramStandIn) -> None:
    async def scenario() -> None:
        async with make_bot(standin) as bot:
            await bot.get_file("AwACAgIAAxkBAAIUnknown")

    with pytest.raises(BadRequest, match=r"(?i)invalid file_id"):
        asyncio.run(scenario())


def test_send_document_upload_is_stored_and_downloadable(standin: TelegramStandIn) -> None:
    payload = bytes(range(256)) + b"\r\n--not-a-boundary\r\n"

    async def scenario() -> tuple[Any, bytearray]:
        async with make_bot(standin) as bot:
            message = await bot.send_document(CHAT, payload, filename="summary.pdf", caption="Your summary")
            telegram_file = await bot.get_file(message.document.file_id)
            return message, await telegram_file.download_as_bytearray()

    message, downloaded = asyncio.run(scenario())
    assert message.document.file_name == "summary.pdf"
    assert message.caption == "Your summary"
    [upload] = standin.uploads
    assert upload.data == payload and upload.filename == "summary.pdf" and upload.method == "sendDocument"
    assert upload.file_id == message.document.file_id
    assert bytes(downloaded) == payload
    call = standin.wait_for_calls("sendDocument", timeout=1, chat_id=CHAT)[0]
    assert call.params["document"] is upload
    assert standin.violations == []


def test_unknown_parameter_is_rejected_and_recorded(standin: TelegramStandIn) -> None:
    response = httpx.post(
        api_url(standin, "sendMessage"), data={"chat_id": "1", "text": "hi", "colour": "red"}
    )
    assert response.status_code == 400
    body = response.json()
    assert body["ok"] is False and body["error_code"] == 400
    assert body["description"].startswith("Bad Request:") and "colour" in body["description"]
    assert len(standin.violations) == 1 and "colour" in standin.violations[0]
    assert standin.calls == []


def test_missing_required_parameter_is_rejected(standin: TelegramStandIn) -> None:
    response = httpx.post(api_url(standin, "sendMessage"), json={"chat_id": 1})
    assert response.status_code == 400
    assert "'text' is required" in standin.violations[0]


def test_unknown_method_is_not_found(standin: TelegramStandIn) -> None:
    response = httpx.post(api_url(standin, "sendTelepathy"), data={"chat_id": "1"})
    assert response.status_code == 404
    assert response.json() == {"ok": False, "error_code": 404, "description": "Not Found: method not found"}
    assert standin.violations and "sendTelepathy" in standin.violations[0]


def test_method_names_are_case_insensitive(standin: TelegramStandIn) -> None:
    response = httpx.get(api_url(standin, "SENDMESSAGE"), params={"chat_id": "7", "text": "query string"})
    assert response.status_code == 200 and response.json()["result"]["text"] == "query string"
    assert standin.sent_messages(7)[0]["text"] == "query string"


def test_callback_data_longer_than_64_bytes_is_rejected(standin: TelegramStandIn) -> None:
    markup = {"inline_keyboard": [[{"text": "Go", "callback_data": "ü" * 33}]]}  # 66 bytes in UTF-8
    response = httpx.post(
        api_url(standin, "sendMessage"),
        data={"chat_id": "1", "text": "hi", "reply_markup": json.dumps(markup)},
    )
    assert response.status_code == 400
    assert any("BUTTON_DATA_INVALID" in v and "66 bytes" in v for v in standin.violations)


def test_too_long_message_text_is_rejected(standin: TelegramStandIn) -> None:
    response = httpx.post(api_url(standin, "sendMessage"), json={"chat_id": 1, "text": "x" * 4097})
    assert response.status_code == 400
    assert any("4096" in v for v in standin.violations)


def test_nested_reply_markup_is_validated_against_the_spec(standin: TelegramStandIn) -> None:
    markup = {"inline_keyboard": [[{"text": "Go", "callback_data": "go", "colour": "red"}]]}
    response = httpx.post(
        api_url(standin, "sendMessage"), json={"chat_id": 1, "text": "hi", "reply_markup": markup}
    )
    assert response.status_code == 400
    assert any("reply_markup.inline_keyboard[0][0]" in v and "colour" in v for v in standin.violations)


def test_wrong_token_is_unauthorized(standin: TelegramStandIn) -> None:
    response = httpx.post(api_url(standin, "getMe", token="123:wrong"))
    assert response.status_code == 401
    assert response.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
    assert standin.violations


def test_fail_next_simulates_flood_control(standin: TelegramStandIn, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # RetryAfter.retry_after as timedelta, no deprecation warning
    standin.fail_next("sendMessage")

    async def scenario() -> Any:
        async with make_bot(standin) as bot:
            with pytest.raises(RetryAfter) as caught:
                await bot.send_message(CHAT, "first")
            return caught.value, await bot.send_message(CHAT, "second")

    error, retried = asyncio.run(scenario())
    assert error.retry_after == dtm.timedelta(seconds=1)
    assert retried.text == "second"
    assert [c.status for c in standin.wait_for_calls("sendMessage", count=2, timeout=1)] == [429, 200]
    assert [m["text"] for m in standin.sent_messages(CHAT)] == ["second"]


def test_fail_next_raw_response_matches_telegram(standin: TelegramStandIn) -> None:
    standin.fail_next("getMe", retry_after=3)
    response = httpx.post(api_url(standin, "getMe"))
    assert response.status_code == 429
    assert response.json() == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 3",
        "parameters": {"retry_after": 3},
    }
    assert httpx.post(api_url(standin, "getMe")).status_code == 200


def test_wait_for_calls_filters_and_times_out_with_a_dump(standin: TelegramStandIn) -> None:
    httpx.post(api_url(standin, "sendMessage"), json={"chat_id": 1, "text": "one"})
    mark = standin.mark()
    later = {"json": {"chat_id": 2, "text": "two"}}
    threading.Timer(0.2, httpx.post, args=[api_url(standin, "sendMessage")], kwargs=later).start()
    calls = standin.wait_for_calls("sendMessage", chat_id=2, since=mark, timeout=5)
    assert [c.params["text"] for c in calls] == ["two"]
    with pytest.raises(TimeoutError, match=r"(?s)2 sendMessage call\(s\) to chat 1.*#0 sendMessage"):
        standin.wait_for_calls("sendMessage", count=2, chat_id=1, timeout=0.2)


def test_webhook_lifecycle_and_conflict_with_get_updates(standin: TelegramStandIn) -> None:
    async def scenario() -> tuple[Any, Any]:
        async with make_bot(standin) as bot:
            await bot.set_webhook(
                "https://example.invalid/hook", secret_token="s3cret", drop_pending_updates=True
            )
            info = await bot.get_webhook_info()
            with pytest.raises(Exception, match="Conflict"):
                await bot.get_updates()
            await bot.delete_webhook()
            return info, await bot.get_webhook_info()

    info, after = asyncio.run(scenario())
    assert info.url == "https://example.invalid/hook" and after.url == ""
    assert standin.violations == []


def test_post_to_webhook_delivers_json_and_secret() -> None:
    received: list[tuple[dict[str, Any], str | None]] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((json.loads(body), self.headers.get("X-Telegram-Bot-Api-Secret-Token")))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    receiver = HTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=receiver.serve_forever, daemon=True)
    thread.start()
    try:
        with TelegramStandIn() as standin:
            url = f"http://127.0.0.1:{receiver.server_address[1]}/webhook"
            status = standin.post_to_webhook(url, text_update(CHAT, "via webhook"), secret_token="s3cret")
    finally:
        receiver.shutdown()
        receiver.server_close()
    assert status == 200
    [(update, secret)] = received
    assert secret == "s3cret"
    assert update["message"]["text"] == "via webhook" and isinstance(update["update_id"], int)


def test_update_builders_parse_as_telegram_updates(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    bot = Bot("7000000001:AAH-unused")
    builders = {
        "text": text_update(CHAT, "hello"),
        "edited": edited_text_update(CHAT, "hello again"),
        "callback": callback_update(CHAT, "menu:1", message_id=9),
        "sticker": sticker_update(CHAT),
        "photo": photo_update(CHAT),
        "document": document_update(CHAT),
        "location": location_update(CHAT),
        "voice": voice_update(CHAT, "AwACAgIAAxkBAAIVoice0002", duration=5),
    }
    updates = {
        name: Update.de_json({"update_id": i, **data}, bot) for i, (name, data) in enumerate(builders.items())
    }
    assert updates["text"].message.entities == ()
    assert updates["edited"].edited_message.text == "hello again"
    assert updates["callback"].callback_query.message.message_id == 9
    assert updates["sticker"].message.sticker.emoji
    assert updates["photo"].message.photo[-1].width == 800
    assert updates["document"].message.document.mime_type == "application/pdf"
    assert updates["location"].message.location.latitude == pytest.approx(52.52, abs=0.01)
    assert updates["voice"].message.voice.duration == dtm.timedelta(seconds=5)
    assert all(u.effective_chat.id == CHAT for u in updates.values())


def test_stop_interrupts_a_pending_long_poll() -> None:
    standin = TelegramStandIn()
    standin.start()
    result: list[int] = []
    poller = threading.Thread(
        target=lambda: result.append(
            httpx.post(api_url(standin, "getUpdates"), json={"timeout": 30}, timeout=40).status_code
        )
    )
    poller.start()
    standin.wait_for_calls("getUpdates", timeout=5)
    started = time.monotonic()
    standin.stop()
    poller.join(timeout=10)
    assert time.monotonic() - started < 5
    assert result == [200]
