"""Chaos test: scripted people do whole intakes while the bot, the action server and Rasa are killed
with SIGKILL at random moments and restarted; prints lost, duplicated and complete counts.

    make chaos                                   # 100 people, at least 30 kills
    .venv/bin/python scripts/chaos.py --users 10 --kills 6 --seed 7

The exit status is 1 unless every profile is complete and correct, no answer was lost or doubled,
no message was processed twice by Rasa and at least --kills processes were killed. The processes'
logs stay in the printed folder for a look afterwards.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.chaos import run_chaos  # noqa: E402
from tests.support.stack import running_stack  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--kills", type=int, default=30, help="at least this many SIGKILLs")
    parser.add_argument("--seed", type=int, default=20261125)
    parser.add_argument("--think", type=float, nargs=2, default=(2.0, 8.0), metavar=("MIN", "MAX"))
    parser.add_argument("--ramp", type=float, default=60.0, help="people start within this many seconds")
    parser.add_argument("--database-url", default=None, help="default: a SQLite file in the run's folder")
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="intake-chaos-"))
    print(f"chaos: {args.users} people, >= {args.kills} kills, seed {args.seed}; logs in {data_dir}/logs")
    started = time.monotonic()
    with running_stack(data_dir, args.database_url) as stack:
        print(f"chaos: stack up in {time.monotonic() - started:.0f} s")
        result = run_chaos(
            stack,
            users=args.users,
            kills=args.kills,
            seed=args.seed,
            think_s=tuple(args.think),
            ramp_s=args.ramp,
            progress=lambda line: print(f"chaos: {line}", flush=True),
        )
    for line in result.lines():
        print(f"chaos: {line}")
    for problem in result.problems[:30]:
        print(f"chaos: problem: {problem}")
    ok = (
        result.complete == result.users
        and result.lost == result.duplicated == result.wrong == result.processed_twice == 0
        and result.total_kills >= args.kills
    )
    print(f"chaos: {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
