"""Starts the real stack for integration tests: Telegram stand-in, action server, Rasa and the bot."""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session

from core.processes import ManagedProcess, action_server_process, bot_process, rasa_process
from core.settings import Settings
from core.train import model_path, train
from storage.db import make_engine, make_session_factory, upgrade
from tests.support.telegram_standin import TelegramStandIn

# A log line of level ERROR or CRITICAL in the bot's, the action server's or Rasa's log format.
ERROR_LINE = re.compile(r"^\S+ \S+ (?:ERROR|CRITICAL)\b")
TEST_HASH_KEY = "integration-test-key-not-secret"
TEST_ENCRYPTION_KEYS = "dGVzdC1lbmNyeXB0aW9uLWtleS0zMi1ieXRlcy0hISE"  # 32 bytes, for tests only


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Stack:
    settings: Settings
    standin: TelegramStandIn
    processes: dict[str, ManagedProcess]

    def session(self) -> Session:
        return make_session_factory(make_engine(self.settings.effective_database_url, lock_at_begin=False))()

    # Where the log check of the running test starts (tests/integration/conftest.py).
    error_baseline: dict[str, int] = field(default_factory=dict)

    def ignore_errors_so_far(self) -> None:
        """For a test that stops processes on purpose: what they log while shutting down is not
        checked, everything after this call is."""
        self.error_baseline = self.log_sizes()

    def log_sizes(self) -> dict[str, int]:
        return {path.name: path.stat().st_size for path in (self.settings.data_dir / "logs").glob("*.log")}

    def errors_logged_since(self, sizes: dict[str, int]) -> list[str]:
        """ERROR lines the processes logged after `sizes` was taken: Rasa, for one, logs a failed
        action and carries on as if nothing happened."""
        found = []
        for path in sorted((self.settings.data_dir / "logs").glob("*.log")):
            with path.open("rb") as log:
                log.seek(sizes.get(path.name, 0))
                lines = log.read().decode("utf-8", "replace").splitlines()
            found += [f"{path.name}: {line}" for line in lines if ERROR_LINE.match(line)]
        return found


@contextmanager
def running_stack(
    data_dir: Path,
    database_url: str | None = None,
    bot_log_level: str = "DEBUG",
    *,
    rasa_replicas: int = 1,
    tracker_store_url: str | None = None,
    lock_store_url: str | None = None,
) -> Iterator[Stack]:
    """The stand-in, the action server, `rasa_replicas` Rasa servers (named rasa, rasa-2, ...; the
    bot gets all their URLs in RASA_URL) and the bot."""
    if not model_path().exists():
        train()  # `make test` trains before pytest runs; this covers a bare `pytest` call
    # Before the settings are read: every process (Rasa's tracker store too) must use these keys.
    encryption_keys = os.environ.setdefault("ENCRYPTION_KEYS", TEST_ENCRYPTION_KEYS)
    rasa_ports = [free_port() for _ in range(rasa_replicas)]
    action_port, bot_port = free_port(), free_port()
    standin = TelegramStandIn()
    standin.start()
    settings = Settings(
        DATA_DIR=data_dir,
        DATABASE_URL=database_url,
        TRACKER_STORE_URL=tracker_store_url,
        LOCK_STORE_URL=lock_store_url,
        RASA_URL=",".join(f"http://127.0.0.1:{port}" for port in rasa_ports),
        ACTION_SERVER_PORT=action_port,
        ACTION_ENDPOINT_URL=f"http://127.0.0.1:{action_port}/webhook",
        WEB_PORT=bot_port,
        TELEGRAM_BOT_TOKEN=standin.token,
        TELEGRAM_BASE_URL=standin.base_url,
        TELEGRAM_BASE_FILE_URL=standin.base_file_url,
        ID_HASH_KEY=TEST_HASH_KEY,
    )
    upgrade(settings.effective_database_url)
    telegram_env = {
        "TELEGRAM_BOT_TOKEN": standin.token,
        "TELEGRAM_BASE_URL": standin.base_url,
        "TELEGRAM_BASE_FILE_URL": standin.base_file_url,
        "ID_HASH_KEY": TEST_HASH_KEY,
        "ENCRYPTION_KEYS": encryption_keys,
        "LOG_LEVEL": bot_log_level,
        "PTB_TIMEDELTA": "true",
    }
    replicas = [rasa_process(settings, replica) for replica in range(rasa_replicas)]
    processes = {
        "actions": action_server_process(settings),
        **{replica.name: replica for replica in replicas},
        "bot": bot_process(settings, telegram_env),
    }
    try:
        for process in processes.values():
            process.start()
        for process in processes.values():
            process.wait_healthy(timeout=240)
        yield Stack(settings, standin, processes)
    finally:
        for process in reversed(list(processes.values())):
            process.stop()
        standin.stop()
