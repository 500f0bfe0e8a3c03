"""Start the whole stack (Telegram stand-in, action server, Rasa, bot) and print each process's RSS at idle.

Usage: .venv/bin/python scripts/measure_idle.py [--idle-seconds 10]
RSS counts the process and all its children (Sanic runs the action server in a worker process).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.stack import running_stack


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        children = (task / "children").read_text().split() if (task / "children").exists() else []
        for child in map(int, children):
            found += [child, *_children(child)]
    return found


def rss_mib(pid: int) -> float:
    total = 0
    for each in (pid, *_children(pid)):
        try:
            status = Path(f"/proc/{each}/status").read_text()
        except FileNotFoundError:
            continue
        total += next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
    return total / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--idle-seconds", type=float, default=10)
    args = parser.parse_args()
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as data_dir, running_stack(Path(data_dir)) as stack:
        print(f"stack healthy after {time.monotonic() - started:.1f} s; idling {args.idle_seconds:.0f} s")
        time.sleep(args.idle_seconds)
        for name, process in stack.processes.items():
            assert process.pid is not None
            print(f"{name:8s} RSS at idle: {rss_mib(process.pid):7.1f} MiB")


if __name__ == "__main__":
    main()
