"""Starting, health-checking and stopping the local processes (Rasa, action server, bot)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from sqlalchemy.engine import make_url

from core.settings import PROJECT_ROOT, Settings
from core.train import model_path, rasa_env, rasa_executable


def http_ok(url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - local URLs only
            return 200 <= response.status < 300
    except (urllib.error.URLError, OSError, ValueError):
        return False


@dataclass
class ManagedProcess:
    """One child process with a log file and a health URL."""

    name: str
    argv: list[str]
    env: dict[str, str]
    health_url: str | None
    log_path: Path | None = None
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)
    _log: IO[bytes] | None = field(default=None, init=False)

    def start(self) -> None:
        if self.log_path is not None:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            self._log = self.log_path.open("ab")
        # A session of its own: Ctrl-C in the terminal reaches the supervisor, which stops us in order.
        self.process = subprocess.Popen(
            self.argv,
            cwd=PROJECT_ROOT,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT if self._log else None,
            start_new_session=True,
        )

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                raise RuntimeError(
                    f"{self.name} exited with code {self.process and self.process.poll()}{self._log_hint()}"
                )
            if self.health_url is None or http_ok(self.health_url):
                return
            time.sleep(0.5)
        raise TimeoutError(f"{self.name} not healthy after {timeout:.0f} s{self._log_hint()}")

    def _log_hint(self) -> str:
        return f"; see {self.log_path}" if self.log_path else ""

    def kill(self) -> None:
        """SIGKILL, as a crash or the OOM killer would: no clean-up of any kind."""
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None

    def stop(self, timeout: float = 15.0) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
            except ProcessLookupError:
                pass
        if self._log is not None:
            self._log.close()
            self._log = None


# Rasa's own RedisLockStore is not safe with several replicas (rasa_plugins/lock_store.py).
REDIS_LOCK_STORE = "rasa_plugins.lock_store.AtomicRedisLockStore"


def rasa_endpoint_env(settings: Settings) -> dict[str, str]:
    """The variables endpoints.yml reads, from TRACKER_STORE_URL, LOCK_STORE_URL and ACTION_ENDPOINT_URL."""
    tracker = make_url(settings.effective_tracker_store_url)
    dialect = tracker.get_backend_name()
    env = {
        "ACTION_ENDPOINT_URL": settings.action_endpoint_url,
        "ENCRYPTION_KEYS": ",".join(settings.encryption_keys()),
        "ACTION_TIMEOUT_S": str(settings.action_timeout_s),
        "TICKET_LOCK_LIFETIME": str(settings.rasa_lock_lifetime_s),  # read by Rasa itself
        "TRACKER_DIALECT": dialect,
        "TRACKER_HOST": tracker.host or "",
        "TRACKER_PORT": str(tracker.port or 5432),  # Rasa insists on an integer, even for SQLite
        "TRACKER_DB": tracker.database or "",
        "TRACKER_USER": tracker.username or "",
        "TRACKER_PASSWORD": tracker.password or "",
        "LOCK_STORE_TYPE": "in_memory",
        "LOCK_STORE_HOST": "",
        "LOCK_STORE_PORT": "",
        "LOCK_STORE_DB": "",
    }
    if dialect == "sqlite":
        # Rasa uses a host that contains "://" as the whole URL; its own URL building breaks SQLite paths.
        Path(env["TRACKER_DB"]).parent.mkdir(parents=True, exist_ok=True)
        env["TRACKER_HOST"] = f"sqlite:///{env['TRACKER_DB']}"
    if settings.lock_store_url:
        lock = make_url(settings.lock_store_url)
        env.update(
            LOCK_STORE_TYPE=REDIS_LOCK_STORE,
            LOCK_STORE_HOST=lock.host or "127.0.0.1",
            LOCK_STORE_PORT=str(lock.port or 6379),
            LOCK_STORE_DB=(lock.database or "0"),
        )
    return env


def settings_env(settings: Settings) -> dict[str, str]:
    """The environment that hands this supervisor's settings to a child process."""
    env = dict(os.environ)
    env.update(
        {
            "DATA_DIR": str(settings.data_dir),
            "DATABASE_URL": settings.effective_database_url,
            "RASA_URL": settings.rasa_url,
            "ACTION_SERVER_PORT": str(settings.action_server_port),
            "ACTION_ENDPOINT_URL": settings.action_endpoint_url,
            "WEB_PORT": str(settings.web_port),
            "PYTHONPATH": str(PROJECT_ROOT),
        }
    )
    return env


def rasa_port(url: str) -> int:
    return make_url(f"http://{url.split('://', 1)[-1]}").port or 5005


def rasa_process(settings: Settings, replica: int = 0) -> ManagedProcess:
    """The Rasa server at the `replica`-th URL of RASA_URL (several need LOCK_STORE_URL)."""
    url = settings.rasa_urls[replica]
    name = "rasa" if replica == 0 else f"rasa-{replica + 1}"
    env = rasa_env()
    env.update(rasa_endpoint_env(settings))
    env["PYTHONPATH"] = str(PROJECT_ROOT)  # for rasa_plugins (the encrypted tracker store)
    return ManagedProcess(
        name=name,
        argv=[
            rasa_executable(), "run", "--enable-api", "--port", str(rasa_port(url)),
            "--endpoints", "endpoints.yml", "--credentials", "credentials.yml",
            "--model", str(model_path()),
        ],
        env=env,
        health_url=url + "/",
        log_path=settings.data_dir / "logs" / f"{name}.log",
    )  # fmt: skip


def action_server_process(settings: Settings) -> ManagedProcess:
    return ManagedProcess(
        name="actions",
        argv=[sys.executable, "-m", "actions"],
        env=settings_env(settings),
        health_url=f"http://127.0.0.1:{settings.action_server_port}/health",
        log_path=settings.data_dir / "logs" / "actions.log",
    )


def bot_process(settings: Settings, extra_env: dict[str, str] | None = None) -> ManagedProcess:
    env = settings_env(settings)
    env.update(extra_env or {})
    return ManagedProcess(
        name="bot",
        argv=[sys.executable, "-m", "bot"],
        env=env,
        health_url=f"http://127.0.0.1:{settings.web_port}/healthz",
        log_path=settings.data_dir / "logs" / "bot.log",
    )
