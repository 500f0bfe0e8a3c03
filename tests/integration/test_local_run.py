"""The README's run command with no configuration: ``python -m core.run`` (what ``make run`` calls).

Without TELEGRAM_BOT_TOKEN it gives a chat in the terminal through the real processes, with an
embedded SQLite database and keys made in DATA_DIR; Ctrl-C stops every process it started.
Only the ports are set, so that the test cannot collide with anything else on the machine.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

from tests.support.stack import free_port

ROOT = Path(__file__).resolve().parents[2]
# Whatever the test session or the machine set: the run command must work without any of it.
CONFIGURATION = (
    "TELEGRAM_BOT_TOKEN", "TELEGRAM_MODE", "TELEGRAM_BASE_URL", "TELEGRAM_BASE_FILE_URL", "DATABASE_URL",
    "TRACKER_STORE_URL", "LOCK_STORE_URL", "ENCRYPTION_KEYS", "ID_HASH_KEY", "APP_ENV", "LOG_LEVEL",
)  # fmt: skip


class Terminal:
    """The run command's stdin and stdout, as a person at a terminal sees them."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        self.process = process
        self._output = bytearray()
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        with self.process.stdout:
            while chunk := os.read(self.process.stdout.fileno(), 4096):
                with self._lock:
                    self._output += chunk

    def close(self) -> None:
        """After the process ended: read the rest and close the pipes."""
        self._reader.join(timeout=10)
        assert self.process.stdin is not None
        self.process.stdin.close()

    @property
    def output(self) -> str:
        with self._lock:
            return self._output.decode("utf-8", "replace")

    def wait_for(self, text: str, timeout: float, after: int = 0) -> int:
        """Wait until `text` is shown after position `after`; return the position after it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.output.find(text, after)
            if found >= 0:
                return found + len(text)
            assert self.process.poll() is None, f"the run command ended early:\n{self.output[-3000:]}"
            time.sleep(0.1)
        raise AssertionError(f"{text!r} not shown within {timeout:.0f} s:\n{self.output[-3000:]}")

    def type(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line.encode() + b"\n")
        self.process.stdin.flush()


def descendants(pid: int) -> set[int]:
    found: set[int] = set()
    for children in Path(f"/proc/{pid}/task").glob("*/children"):
        for child in map(int, children.read_text().split()):
            found |= {child, *descendants(child)}
    return found


def running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def test_the_run_command_gives_a_local_chat_without_configuration_and_ctrl_c_stops_everything(
    tmp_path: Path,
) -> None:
    rasa_port, action_port, web_port = free_port(), free_port(), free_port()
    env = {key: value for key, value in os.environ.items() if key not in CONFIGURATION}
    env.update(
        DATA_DIR=str(tmp_path / "data"),
        RASA_URL=f"http://127.0.0.1:{rasa_port}",
        ACTION_SERVER_PORT=str(action_port),
        ACTION_ENDPOINT_URL=f"http://127.0.0.1:{action_port}/webhook",
        WEB_PORT=str(web_port),
        PYTHONPATH=str(ROOT),
    )
    # A terminal's Ctrl-C signals its foreground process group: the run command gets its own.
    process = subprocess.Popen(
        [sys.executable, "-m", "core.run"], cwd=ROOT, env=env, stdin=subprocess.PIPE,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, process_group=0,
    )  # fmt: skip
    terminal = Terminal(process)
    try:
        at = terminal.wait_for("[1] Deutsch", timeout=300)
        terminal.wait_for("you> ", timeout=10, after=at)
        terminal.type("1")
        at = terminal.wait_for("Sind Sie einverstanden?", timeout=60, after=at)
        assert "[1] Ja, ich bin einverstanden" in terminal.output[at:]
        terminal.type("1")
        at = terminal.wait_for("Wie darf ich Sie nennen?", timeout=60, after=at)
        terminal.type("Testperson")
        at = terminal.wait_for("Wie alt sind Sie?", timeout=60, after=at)
        terminal.wait_for("you> ", timeout=10, after=at)

        started = descendants(process.pid)
        assert len(started) >= 3, f"expected Rasa, the action server and the bot: {started}"
        os.killpg(process.pid, signal.SIGINT)
        assert process.wait(timeout=60) == 0, terminal.output[-3000:]
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        terminal.close()
    assert "all processes stopped" in terminal.output
    assert not [pid for pid in started if running(pid)], "processes left running after Ctrl-C"

    # No configuration: the embedded SQLite database and keys made in DATA_DIR; the consent is in it.
    data = tmp_path / "data"
    assert (data / "encryption.key").exists() and (data / "id-hash.key").exists()
    with sqlite3.connect(data / "intake.db") as database:
        assert database.execute("SELECT count(*) FROM participants").fetchone() == (1,)
    assert (data / "rasa-tracker.db").exists()
