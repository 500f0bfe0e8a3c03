"""Local stand-in for the Telegram Bot API that validates every request against the official spec."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import itertools
import json
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

SPEC_PATH = Path(__file__).resolve().parents[1] / "data" / "bot-api-10.1.json"
BOT_ID = 7000000001
BOT_USERNAME = "intake_test_bot"
DEFAULT_TOKEN = f"{BOT_ID}:AAH-standin-Intake0TestToken0000000000"
MAX_CALLBACK_DATA_BYTES = 64
MAX_MESSAGE_LENGTH = 4096
TEXT_LIMITED_METHODS = ("sendMessage", "editMessageText")
MEDIA_METHODS = {"sendDocument": "document", "sendVoice": "voice", "sendAudio": "audio", "sendPhoto": "photo"}
_FIRST_UPDATE_ID = 810000001
_ATTACH_RE = re.compile(r"attach://([\w.-]+)")
_DISPOSITION_PARAM_RE = re.compile(r'(\w+)=(?:"((?:[^"\\]|\\.)*)"|([^;\s]*))')


@dataclass(frozen=True)
class RecordedCall:
    """One accepted Bot API call; ``status`` is the HTTP status answered (429 etc. for fail_next)."""

    method: str
    params: dict[str, Any]
    time: float
    status: int = 200
    result: dict[str, Any] = field(default_factory=dict, compare=False)  # the answered object, once sent


@dataclass
class Upload:
    """A file uploaded with multipart/form-data."""

    method: str
    field: str
    filename: str
    content_type: str
    data: bytes = dataclasses.field(repr=False)
    file_id: str = ""


# Told of every successfully answered call, in the stand-in's thread: (call, what was answered).
CallListener = Callable[[RecordedCall, Any], None]


class ApiError(Exception):
    """An error answered to the client in Telegram's error format."""

    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code, self.description, self.retry_after = code, description, retry_after

    def response(self) -> JSONResponse:
        body: dict[str, Any] = {"ok": False, "error_code": self.code, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return JSONResponse(body, status_code=self.code)


class BotApiSpec:
    """The method/type tables of ``bot-api-*.json`` plus coercion and validation of values."""

    _SCALARS = frozenset({"String", "Integer", "Float", "Boolean", "True", "InputFile"})

    def __init__(self, path: Path = SPEC_PATH) -> None:
        data = json.loads(path.read_text(encoding="utf-8"))
        self.version: str = data["version"]
        self.methods: dict[str, Any] = data["methods"]
        self.types: dict[str, Any] = data["types"]
        self._by_lower = {name.lower(): name for name in self.methods}

    def resolve(self, method: str) -> str | None:
        """Canonical spelling of a (case-insensitive) method name, or None if unknown."""
        return self._by_lower.get(method.lower())

    def fields(self, method: str) -> dict[str, dict[str, Any]]:
        return {f["name"]: f for f in self.methods[method]["fields"]}

    def coerce(self, value: Any, types: list[str]) -> Any:
        """Turn a form-encoded string into the first declared type it parses as."""
        if not isinstance(value, str):
            return value
        for type_name in types:
            if type_name == "Integer" and re.fullmatch(r"-?\d+", value):
                return int(value)
            if type_name == "Float" and re.fullmatch(r"-?\d+(\.\d*)?([eE][-+]?\d+)?", value):
                return float(value)
            if type_name in ("Boolean", "True") and value.lower() in ("true", "false", "1", "0"):
                return value.lower() in ("true", "1")
            if type_name not in self._SCALARS and value[:1] in ("{", "["):
                try:
                    return json.loads(value)
                except json.JSONDecodeError:
                    return value
        return value

    def check(self, value: Any, types: list[str], path: str) -> list[str]:
        """Problems of ``value`` against the union ``types``; empty if any alternative matches."""
        best: list[str] | None = None
        for type_name in types:
            problems = self._check_one(value, type_name, path)
            if not problems:
                return []
            if best is None or len(problems) < len(best):
                best = problems
        return best or []

    def _check_one(self, value: Any, type_name: str, path: str) -> list[str]:
        if type_name.startswith("Array of "):
            if not isinstance(value, list):
                return [f"{path}: expected {type_name}, got {type(value).__name__}"]
            inner = [type_name.removeprefix("Array of ")]
            return [p for i, item in enumerate(value) for p in self.check(item, inner, f"{path}[{i}]")]
        scalar_ok = {
            "String": lambda v: isinstance(v, (str, int, float)) and not isinstance(v, bool),
            "Integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
            "Float": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
            "Boolean": lambda v: isinstance(v, bool),
            "True": lambda v: v is True,
            "InputFile": lambda v: isinstance(v, (str, Upload)),
        }.get(type_name)
        if scalar_ok is not None:
            return [] if scalar_ok(value) else [f"{path}: expected {type_name}, got {value!r:.60}"]
        spec = self.types.get(type_name)
        if spec is None or (not spec["fields"] and not spec["subtypes"]):
            return []  # not described by the spec: nothing to check
        if spec["subtypes"]:
            return self.check(value, spec["subtypes"], path)
        if not isinstance(value, dict):
            return [f"{path}: expected {type_name} object, got {value!r:.60}"]
        fields = {f["name"]: f for f in spec["fields"]}
        problems = [f"{path}: unknown field {key!r} for {type_name}" for key in value if key not in fields]
        for name, spec_field in fields.items():
            if name in value:
                problems += self.check(value[name], spec_field["types"], f"{path}.{name}")
            elif spec_field["required"]:
                problems.append(f"{path}: {type_name} requires field {name!r}")
        return problems


def _limit_problems(method: str, params: dict[str, Any]) -> list[str]:
    """Checks of documented limits that the JSON spec cannot express."""
    problems = []
    text = params.get("text")
    if method in TEXT_LIMITED_METHODS and isinstance(text, str) and not 1 <= len(text) <= MAX_MESSAGE_LENGTH:
        problems.append(f"text must be 1-{MAX_MESSAGE_LENGTH} characters, got {len(text)}")
    markup = params.get("reply_markup")
    rows = markup.get("inline_keyboard") if isinstance(markup, dict) else None
    for row in rows if isinstance(rows, list) else []:
        for button in row if isinstance(row, list) else []:
            data = button.get("callback_data") if isinstance(button, dict) else None
            if isinstance(data, str) and not 1 <= len(data.encode("utf-8")) <= MAX_CALLBACK_DATA_BYTES:
                problems.append(
                    f"BUTTON_DATA_INVALID: callback_data {data!r:.80} is {len(data.encode('utf-8'))} bytes "
                    f"(1-{MAX_CALLBACK_DATA_BYTES} allowed)"
                )
    return problems


def _parse_multipart(
    body: bytes, content_type: str
) -> tuple[dict[str, str], dict[str, tuple[str, str, bytes]]]:
    """Split a multipart/form-data body into text fields and files (filename, content type, bytes)."""
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    if match is None:
        raise ValueError("multipart body without boundary")
    fields: dict[str, str] = {}
    files: dict[str, tuple[str, str, bytes]] = {}
    for chunk in (b"\r\n" + body).split(b"\r\n--" + match[1].encode("latin-1"))[1:]:
        if chunk.startswith(b"--"):
            break
        head, separator, data = chunk.partition(b"\r\n\r\n")
        if not separator:
            raise ValueError("malformed multipart part")
        headers = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            name, _, value = line.partition(":")
            if name.strip():
                headers[name.strip().lower()] = value.strip()
        disposition = {
            m[1].lower(): m[2] if m[2] is not None else m[3]
            for m in _DISPOSITION_PARAM_RE.finditer(headers.get("content-disposition", ""))
        }
        if "name" not in disposition:
            raise ValueError("multipart part without a name")
        if "filename" in disposition:
            mime = headers.get("content-type", "application/octet-stream")
            files[disposition["name"]] = (disposition["filename"], mime, data)
        else:
            fields[disposition["name"]] = data.decode("utf-8")
    return fields, files


async def _read_params(request: Request) -> tuple[dict[str, Any], dict[str, tuple[str, str, bytes]]]:
    """Parameters from the query string and a JSON, urlencoded or multipart body."""
    params: dict[str, Any] = dict(request.query_params)
    files: dict[str, tuple[str, str, bytes]] = {}
    content_type = request.headers.get("content-type", "")
    mime = content_type.split(";")[0].strip().lower()
    body = await request.body()
    if mime == "application/json" and body:
        decoded = json.loads(body)
        if not isinstance(decoded, dict):
            raise ValueError("JSON body must be an object")
        params.update(decoded)
    elif mime == "application/x-www-form-urlencoded":
        params.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    elif mime == "multipart/form-data":
        fields, files = _parse_multipart(body, content_type)
        params.update(fields)
    elif body:
        raise ValueError(f"unsupported content type {content_type!r}")
    return params, files


def _dump(params: dict[str, Any]) -> str:
    return json.dumps(params, default=repr, ensure_ascii=False)


def _unique_id(file_id: str) -> str:
    return "AgAD" + hashlib.sha1(file_id.encode()).hexdigest()[:12]


def _chat(chat_id: int | str) -> dict[str, Any]:
    if isinstance(chat_id, int) and chat_id > 0:
        return {"id": chat_id, "type": "private", "first_name": "Test"}
    if isinstance(chat_id, int):
        return {"id": chat_id, "type": "supergroup", "title": "Test group"}
    return {"id": -1001000000001, "type": "channel", "title": "Test channel", "username": chat_id.lstrip("@")}


def _same_chat(value: Any, chat_id: int | str) -> bool:
    return value is not None and str(value) == str(chat_id)


class TelegramStandIn:
    """A Bot API server on 127.0.0.1 (own thread + event loop) that records and validates calls."""

    def __init__(self, token: str = DEFAULT_TOKEN, spec_path: Path = SPEC_PATH) -> None:
        self.token = token
        self.spec = BotApiSpec(spec_path)
        self.calls: list[RecordedCall] = []
        self.violations: list[str] = []
        self.uploads: list[Upload] = []
        bot_id = int(token.split(":")[0]) if token.split(":")[0].isdigit() else BOT_ID
        self.bot_user: dict[str, Any] = {
            "id": bot_id,
            "is_bot": True,
            "first_name": "Intake Test Bot",
            "username": BOT_USERNAME,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }
        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._pending: list[dict[str, Any]] = []
        self._next_update_id = _FIRST_UPDATE_ID
        self._poll_waiters: set[asyncio.Event] = set()
        self._failures: dict[str, list[tuple[int, int]]] = {}
        self._message_ids: dict[int | str, itertools.count[int]] = {}
        self._messages: dict[tuple[int | str, int], dict[str, Any]] = {}
        self._files: dict[str, tuple[str, bytes]] = {}
        self._file_counter = itertools.count(1)
        self._webhook: dict[str, Any] = {}
        self._commands: dict[tuple[str, str], list[Any]] = {}
        self._listeners: list[CallListener] = []
        self._closing = False
        self._port = 0
        self._thread: threading.Thread | None = None
        self._server: uvicorn.Server | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._app = Starlette(
            routes=[
                Route("/bot{token}/{method}", self._api, methods=["GET", "POST"]),
                Route("/file/bot{token}/{file_path:path}", self._download, methods=["GET"]),
            ]
        )

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://127.0.0.1:{self._port}/file/bot"

    @property
    def native_thread_id(self) -> int | None:
        """The OS id of the server's thread (to measure its CPU time), None when stopped."""
        return self._thread.native_id if self._thread is not None else None

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("Telegram stand-in already started")
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self._port = sock.getsockname()[1]
        config = uvicorn.Config(
            self._app,
            log_level="warning",
            access_log=False,
            lifespan="off",
            ws="none",
            timeout_graceful_shutdown=2,
        )
        self._server = uvicorn.Server(config)
        self._closing = False
        self._thread = threading.Thread(
            target=self._run, args=(self._server, sock), name=f"telegram-standin-{self._port}", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("Telegram stand-in failed to start")
            time.sleep(0.01)

    def _run(self, server: uvicorn.Server, sock: socket.socket) -> None:
        async def serve() -> None:
            self._loop = asyncio.get_running_loop()
            await server.serve(sockets=[sock])

        asyncio.run(serve())
        sock.close()

    def stop(self) -> None:
        if self._thread is None or self._server is None:
            return
        with self._lock:
            self._closing = True
            waiters = list(self._poll_waiters)
        self._wake(waiters)
        self._server.should_exit = True
        self._thread.join(timeout=15)
        self._thread = self._server = self._loop = None

    def __enter__(self) -> TelegramStandIn:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- test controls -----------------------------------------------------------------------

    def push_update(self, update: dict[str, Any]) -> int:
        """Queue an update for getUpdates, assigning the next update_id if missing."""
        with self._lock:
            update = self._with_update_id(update)
            self._pending.append(update)
            self._pending.sort(key=lambda u: u["update_id"])
            waiters = list(self._poll_waiters)
        self._wake(waiters)
        return int(update["update_id"])

    def post_to_webhook(self, url: str, update: dict[str, Any], secret_token: str | None = None) -> int:
        """POST an update to a webhook like Telegram does; returns the HTTP status."""
        with self._lock:
            update = self._with_update_id(update)
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret_token} if secret_token else {}
        return httpx.post(url, json=update, headers=headers, timeout=30).status_code

    def fail_next(self, method: str, count: int = 1, error_code: int = 429, retry_after: int = 1) -> None:
        """Answer the next ``count`` calls of ``method`` with an error (default: flood control)."""
        canonical = self.spec.resolve(method)
        if canonical is None:
            raise ValueError(f"{method!r} is not a Bot API {self.spec.version} method")
        with self._lock:
            self._failures.setdefault(canonical, []).extend([(error_code, retry_after)] * count)

    def add_file(self, file_id: str, data: bytes, file_path: str | None = None) -> str:
        """Make ``file_id`` resolvable by getFile and downloadable; returns its file_path."""
        with self._lock:
            path = file_path or f"documents/file_{next(self._file_counter)}"
            self._files[file_id] = (path, data)
        return path

    def add_listener(self, listener: CallListener) -> None:
        """Call ``listener(call, result)`` after each successfully answered call, in the stand-in's
        thread (``result`` is what was answered, e.g. the list of updates of a getUpdates). For load
        generators that must not scan ``calls``; it must return quickly."""
        with self._lock:
            self._listeners.append(listener)

    def mark(self) -> int:
        """Number of calls recorded so far (pass as ``since`` to wait_for_calls)."""
        with self._lock:
            return len(self.calls)

    def wait_for_calls(
        self, method: str, count: int = 1, timeout: float = 30, chat_id: int | None = None, since: int = 0
    ) -> list[RecordedCall]:
        """Block until ``count`` matching calls were recorded; return all matching calls."""
        canonical = self.spec.resolve(method) or method
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                matched = [
                    call
                    for call in self.calls[since:]
                    if call.method == canonical
                    and (chat_id is None or _same_chat(call.params.get("chat_id"), chat_id))
                ]
                remaining = deadline - time.monotonic()
                if len(matched) >= count:
                    return matched
                if remaining <= 0:
                    target = f"{count} {canonical} call(s)" + (
                        f" to chat {chat_id}" if chat_id is not None else ""
                    )
                    raise TimeoutError(
                        f"timed out after {timeout}s waiting for {target} since #{since}; "
                        f"got {len(matched)}.\n{self.describe_calls()}"
                    )
                self._cond.wait(remaining)

    def sent_messages(self, chat_id: int) -> list[dict[str, Any]]:
        """Params of successful sendMessage calls to ``chat_id``, in order."""
        with self._lock:
            return [
                call.params
                for call in self.calls
                if call.method == "sendMessage"
                and call.status == 200
                and _same_chat(call.params.get("chat_id"), chat_id)
            ]

    def describe_calls(self, last: int = 25) -> str:
        """Readable dump of the most recent calls (getUpdates omitted) and all violations."""
        with self._lock:
            indexed = [(i, c) for i, c in enumerate(self.calls) if c.method != "getUpdates"][-last:]
            lines = [f"  #{i} {c.method} [{c.status}] {_dump(c.params):.300}" for i, c in indexed]
            lines += [f"  violation: {v}" for v in self.violations]
        return "Recent calls:\n" + ("\n".join(lines) if lines else "  (none)")

    # -- internals ---------------------------------------------------------------------------

    def _with_update_id(self, update: dict[str, Any]) -> dict[str, Any]:
        update = dict(update)
        update.setdefault("update_id", self._next_update_id)
        self._next_update_id = max(self._next_update_id, update["update_id"] + 1)
        return update

    def _wake(self, waiters: list[asyncio.Event]) -> None:
        loop = self._loop
        if loop is None:
            return
        for waiter in waiters:
            try:
                loop.call_soon_threadsafe(waiter.set)
            except RuntimeError:  # loop already closed
                return

    def _violation(self, text: str) -> None:
        with self._cond:
            self.violations.append(text)
            self._cond.notify_all()

    async def _api(self, request: Request) -> Response:
        method_name = request.path_params["method"]
        if request.path_params["token"] != self.token:
            self._violation(f"{method_name}: request with a wrong bot token")
            return ApiError(401, "Unauthorized").response()
        method = self.spec.resolve(method_name)
        if method is None:
            self._violation(f"{method_name}: not a Bot API {self.spec.version} method")
            return ApiError(404, "Not Found: method not found").response()
        try:
            raw, files = await _read_params(request)
        except (ValueError, UnicodeDecodeError) as exc:
            self._violation(f"{method}: unreadable request: {exc}")
            return ApiError(400, f"Bad Request: {exc}").response()
        params, problems = self._validate(method, raw, files)
        if problems:
            for problem in problems:
                self._violation(f"{method}: {problem}")
            return ApiError(400, f"Bad Request: {problems[0]}").response()
        with self._cond:
            queued = self._failures.get(method)
            failure = queued.pop(0) if queued else None
            call = RecordedCall(method, params, time.time(), failure[0] if failure else 200)
            self.calls.append(call)
            self._cond.notify_all()
        try:
            if failure:
                raise self._simulated_error(*failure)
            result = (
                await self._get_updates(params) if method == "getUpdates" else self._answer(method, params)
            )
        except ApiError as error:
            return error.response()
        except Exception as exc:  # a bug in the stand-in, not in the bot: make it loud
            self._violation(f"{method}: stand-in crashed: {exc!r}")
            return ApiError(500, f"Internal Server Error: {exc!r}").response()
        if isinstance(result, dict):
            call.result.update(result)
        for listener in self._listeners:
            listener(call, result)
        return JSONResponse({"ok": True, "result": result})

    @staticmethod
    def _simulated_error(code: int, retry_after: int) -> ApiError:
        if code == 429:
            return ApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after)
        descriptions = {400: "Bad Request: simulated error", 403: "Forbidden: bot was blocked by the user"}
        return ApiError(code, descriptions.get(code, f"Error {code}: simulated error"))

    def _validate(
        self, method: str, raw: dict[str, Any], files: dict[str, tuple[str, str, bytes]]
    ) -> tuple[dict[str, Any], list[str]]:
        spec_fields = self.spec.fields(method)
        attached = {
            name for value in raw.values() if isinstance(value, str) for name in _ATTACH_RE.findall(value)
        }
        for name, (filename, mime, data) in files.items():
            upload = Upload(method, name, filename, mime, data)
            if name not in attached:
                raw[name] = upload
            with self._lock:
                number = next(self._file_counter)
                upload.file_id = f"BQACAgIAAxkBAAI{number:06d}standin"
                self._files[upload.file_id] = (
                    f"{MEDIA_METHODS.get(method, 'document')}s/file_{number}",
                    data,
                )
                self.uploads.append(upload)
        params: dict[str, Any] = {}
        problems: list[str] = []
        for name, value in raw.items():
            spec_field = spec_fields.get(name)
            if spec_field is None:
                problems.append(f"unknown parameter {name!r}")
                continue
            params[name] = self.spec.coerce(value, spec_field["types"])
            problems += self.spec.check(params[name], spec_field["types"], name)
        problems += [
            f"parameter {n!r} is required"
            for n, f in spec_fields.items()
            if f["required"] and n not in params
        ]
        return params, problems + _limit_problems(method, params)

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = params.get("offset")
        limit = min(max(int(params.get("limit", 100)), 1), 100)
        deadline = time.monotonic() + max(int(params.get("timeout", 0)), 0)
        with self._lock:
            if self._webhook.get("url"):
                raise ApiError(
                    409,
                    "Conflict: can't use getUpdates method while webhook is active; "
                    "use deleteWebhook to delete the webhook first",
                )
            if offset is not None and offset < 0:
                self._pending = self._pending[offset:]
            elif offset is not None:
                self._pending = [u for u in self._pending if u["update_id"] >= offset]
        while True:
            with self._lock:
                batch = self._pending[:limit]
                remaining = deadline - time.monotonic()
                if batch or remaining <= 0 or self._closing:
                    return batch
                waiter = asyncio.Event()
                self._poll_waiters.add(waiter)
            try:
                await asyncio.wait_for(waiter.wait(), remaining)
            except TimeoutError:
                pass
            finally:
                with self._lock:
                    self._poll_waiters.discard(waiter)

    def _answer(self, method: str, params: dict[str, Any]) -> Any:
        with self._lock:
            if method in MEDIA_METHODS:
                return self._send_media(method, params)
            scope = json.dumps(params.get("scope", {"type": "default"}), sort_keys=True)
            commands_key = (scope, params.get("language_code", ""))
            if method == "getMe":
                return self.bot_user
            if method == "setWebhook":
                self._webhook = {k: v for k, v in params.items() if k != "certificate"}
                self._pending = [] if params.get("drop_pending_updates") else self._pending
            elif method == "deleteWebhook":
                self._webhook = {}
                self._pending = [] if params.get("drop_pending_updates") else self._pending
            elif method == "getWebhookInfo":
                info = {
                    "url": self._webhook.get("url", ""),
                    "has_custom_certificate": False,
                    "pending_update_count": len(self._pending),
                }
                extra = ("max_connections", "allowed_updates", "ip_address")
                return info | {key: self._webhook[key] for key in extra if key in self._webhook}
            elif method == "setMyCommands":
                self._commands[commands_key] = params["commands"]
            elif method == "deleteMyCommands":
                self._commands.pop(commands_key, None)
            elif method == "getMyCommands":
                return self._commands.get(commands_key, [])
            elif method == "sendMessage":
                return self._new_message(params["chat_id"], params, text=params["text"])
            elif method in ("editMessageText", "editMessageReplyMarkup"):
                return self._edit_message(params)
            elif method == "getFile":
                if params["file_id"] not in self._files:
                    raise ApiError(400, "Bad Request: invalid file_id")
                path, data = self._files[params["file_id"]]
                file_id = params["file_id"]
                return {
                    "file_id": file_id,
                    "file_unique_id": _unique_id(file_id),
                    "file_size": len(data),
                    "file_path": path,
                }
            return True

    def _new_message(self, chat_id: int | str, params: dict[str, Any], **content: Any) -> dict[str, Any]:
        message_id = next(self._message_ids.setdefault(chat_id, itertools.count(1)))
        message = {
            "message_id": message_id,
            "from": self.bot_user,
            "chat": _chat(chat_id),
            "date": int(time.time()),
        }
        message.update(content)
        if isinstance(params.get("reply_markup"), dict) and "inline_keyboard" in params["reply_markup"]:
            message["reply_markup"] = params["reply_markup"]  # Telegram only echoes inline keyboards
        self._messages[(chat_id, message_id)] = message
        return message

    def _edit_message(self, params: dict[str, Any]) -> dict[str, Any] | bool:
        if "inline_message_id" in params:
            return True
        chat_id, message_id = params.get("chat_id", 0), params.get("message_id", 0)
        known = self._messages.get((chat_id, message_id))
        message = (
            dict(known)
            if known
            else {"message_id": message_id, "from": self.bot_user, "chat": _chat(chat_id)}
        )
        message.setdefault("date", int(time.time()))
        message["edit_date"] = int(time.time())
        if "text" in params:
            message["text"] = params["text"]
        message.pop("reply_markup", None)
        if isinstance(params.get("reply_markup"), dict) and "inline_keyboard" in params["reply_markup"]:
            message["reply_markup"] = params["reply_markup"]
        self._messages[(chat_id, message_id)] = message
        return message

    def _send_media(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        kind = MEDIA_METHODS[method]
        value = params[kind]
        if isinstance(value, str) and value.startswith("attach://"):
            value = next(
                (u for u in reversed(self.uploads) if u.field == value.removeprefix("attach://")), value
            )
        upload = value if isinstance(value, Upload) else None
        file_id = upload.file_id if upload else str(value)
        size = len(upload.data) if upload else len(self._files.get(file_id, ("", b""))[1])
        media: dict[str, Any] = {"file_id": file_id, "file_unique_id": _unique_id(file_id), "file_size": size}
        if kind == "photo":
            content: dict[str, Any] = {"photo": [{**media, "width": 320, "height": 240}]}
        else:
            if kind in ("voice", "audio"):
                media["duration"] = params.get("duration", 1)
            if upload:
                media["mime_type"] = upload.content_type
                media.update({} if kind == "voice" else {"file_name": upload.filename})
            content = {kind: media}
        if "caption" in params:
            content["caption"] = params["caption"]
        return self._new_message(params["chat_id"], params, **content)

    async def _download(self, request: Request) -> Response:
        if request.path_params["token"] != self.token:
            self._violation("file download with a wrong bot token")
            return ApiError(401, "Unauthorized").response()
        with self._lock:
            data = next(
                (d for path, d in self._files.values() if path == request.path_params["file_path"]), None
            )
        if data is None:
            return ApiError(404, "Not Found").response()
        return Response(data, media_type="application/octet-stream")


# -- update builders (Bot API shaped dicts; push_update assigns update_id) --------------------

_BUILDER_MESSAGE_IDS = itertools.count(5001)


def user(user_id: int, first_name: str = "Test", language_code: str | None = None) -> dict[str, Any]:
    """A (human) Telegram User."""
    result: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
    if language_code is not None:
        result["language_code"] = language_code
    return result


def _message(
    user_id: int, message_id: int | None, language_code: str | None, **content: Any
) -> dict[str, Any]:
    return {
        "message_id": message_id if message_id is not None else next(_BUILDER_MESSAGE_IDS),
        "from": user(user_id, language_code=language_code),
        "chat": {"id": user_id, "type": "private", "first_name": "Test"},
        "date": int(time.time()),
        **content,
    }


def _text_content(text: str) -> dict[str, Any]:
    content: dict[str, Any] = {"text": text}
    if text.startswith("/"):
        command = text.split(maxsplit=1)[0]
        content["entities"] = [
            {"type": "bot_command", "offset": 0, "length": len(command.encode("utf-16-le")) // 2}
        ]
    return content


def text_update(
    user_id: int, text: str, message_id: int | None = None, language_code: str | None = None
) -> dict[str, Any]:
    """A private text message; ``/commands`` carry a bot_command entity."""
    return {"message": _message(user_id, message_id, language_code, **_text_content(text))}


def edited_text_update(
    user_id: int, text: str, message_id: int = 1, language_code: str | None = None
) -> dict[str, Any]:
    """An edit of an earlier private text message."""
    message = _message(user_id, message_id, language_code, **_text_content(text))
    return {"edited_message": {**message, "edit_date": message["date"]}}


def callback_update(
    user_id: int, data: str, message_id: int = 1, language_code: str | None = None, text: str = "…"
) -> dict[str, Any]:
    """A press on an inline keyboard button of a bot message (whose `text` Telegram includes)."""
    bot_message = {
        "message_id": message_id,
        "from": {"id": BOT_ID, "is_bot": True, "first_name": "Intake Test Bot", "username": BOT_USERNAME},
        "chat": {"id": user_id, "type": "private", "first_name": "Test"},
        "date": int(time.time()),
        "text": text,
    }
    return {
        "callback_query": {
            "id": f"{4386000000000000000 + next(_BUILDER_MESSAGE_IDS)}",
            "from": user(user_id, language_code=language_code),
            "chat_instance": "-5387712203480212468",
            "data": data,
            "message": bot_message,
        }
    }


def sticker_update(user_id: int, language_code: str | None = None) -> dict[str, Any]:
    sticker = {
        "file_id": "CAACAgIAAxkBAAIStandinSticker01",
        "file_unique_id": "AgADStk1",
        "type": "regular",
        "width": 512,
        "height": 512,
        "is_animated": False,
        "is_video": False,
        "emoji": "👍",
    }
    return {"message": _message(user_id, None, language_code, sticker=sticker)}


def photo_update(user_id: int, language_code: str | None = None) -> dict[str, Any]:
    photo = [
        {
            "file_id": "AgACAgIAAxkBAAIStandinPhotoS01",
            "file_unique_id": "AQADPh01",
            "width": 90,
            "height": 67,
        },
        {
            "file_id": "AgACAgIAAxkBAAIStandinPhotoM01",
            "file_unique_id": "AQADPh02",
            "width": 800,
            "height": 600,
        },
    ]
    return {"message": _message(user_id, None, language_code, photo=photo)}


def document_update(user_id: int, language_code: str | None = None) -> dict[str, Any]:
    document = {
        "file_id": "BQACAgIAAxkBAAIStandinDocument01",
        "file_unique_id": "AgADDoc1",
        "file_name": "report.pdf",
        "mime_type": "application/pdf",
        "file_size": 24051,
    }
    return {"message": _message(user_id, None, language_code, document=document)}


def location_update(user_id: int, language_code: str | None = None) -> dict[str, Any]:
    return {
        "message": _message(
            user_id, None, language_code, location={"latitude": 52.520008, "longitude": 13.404954}
        )
    }


def voice_update(
    user_id: int,
    file_id: str,
    duration: int = 3,
    mime_type: str = "audio/ogg",
    language_code: str | None = None,
) -> dict[str, Any]:
    """A voice note; register its bytes with ``TelegramStandIn.add_file(file_id, ...)`` for getFile."""
    voice = {
        "file_id": file_id,
        "file_unique_id": _unique_id(file_id),
        "duration": duration,
        "mime_type": mime_type,
    }
    return {"message": _message(user_id, None, language_code, voice=voice)}
