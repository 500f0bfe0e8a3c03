"""Server time of the coach pages with 10,000 invented profiles, on SQLite and on PostgreSQL.

    make bench-coach            (or: .venv/bin/python scripts/bench_coach.py [--count N] [--rounds N])

Requests go in-process through httpx.ASGITransport to the real app (routing, session check,
database, templates): the time is the server's, without network. Goal: p95 < 150 ms per page.
PostgreSQL: TEST_POSTGRES_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/postgres);
a temporary database is created and dropped. It is skipped, loudly, when unreachable.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))
os.environ.setdefault("ENCRYPTION_KEYS", "YmVuY2gta2V5LWJlbmNoLWtleS1iZW5jaC1rZXktMzI")
os.environ.setdefault("ID_HASH_KEY", "bench-id-hash-key-not-secret")

import httpx  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bot.coach.auth import hash_password  # noqa: E402
from bot.coach.seed import seed_profiles  # noqa: E402
from bot.web import build_web_app  # noqa: E402
from core.settings import Settings  # noqa: E402
from storage.coach import CoachUserRepository  # noqa: E402
from storage.db import make_engine, make_session_factory, upgrade  # noqa: E402

GOAL_MS = 150.0
PASSWORD = "bench-password-123"  # noqa: S105 - a throwaway account in a temporary database
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def prepare(url: str, count: int) -> list[str]:
    upgrade(url)
    engine = make_engine(url)
    session = make_session_factory(engine)()
    started = time.perf_counter()
    ids = seed_profiles(session, count, seed=2026)
    CoachUserRepository(session).create("bench.coach", hash_password(PASSWORD), "coach")
    session.commit()
    session.close()
    engine.dispose()
    print(f"  seeded {count} profiles in {time.perf_counter() - started:.1f} s")
    return ids


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def measure(url: str, data_dir: Path, ids: list[str], rounds: int) -> dict[str, list[float]]:
    settings = Settings(DATA_DIR=data_dir, DATABASE_URL=url)
    app = build_web_app(settings, None)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    rng = random.Random(7)  # noqa: S311 - picks profiles to open, not a secret
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8080") as client:
        login = (await client.get("/coach/login")).text
        token = re.search(
            r'class="login-form">\s*<input type="hidden" name="csrf_token" value="([^"]+)"', login
        )
        assert token, "no login form"
        response = await client.post(
            "/coach/login", data={"csrf_token": token[1], "username": "bench.coach", "password": PASSWORD}
        )
        assert response.status_code == 303, response.text[:200]
        lists = [
            {},
            {"country": "GE"},
            {"status": "in_review", "goal": "employment"},
            {"q": "Georgien"},
            {"q": "Türkei Anstellung"},
            {"sort": "country", "dir": "asc"},
            {"sort": "goal", "dir": "desc", "page": "40"},
            {"language": "ar", "coach": "coach.b"},
        ]
        pages = {
            "list": lambda i: ("/coach/", lists[i % len(lists)]),
            "detail": lambda i: (f"/coach/profiles/{rng.choice(ids)}", {}),
            "overview": lambda i: ("/coach/overview", {}),
        }
        timings: dict[str, list[float]] = {name: [] for name in pages}
        for name, make in pages.items():
            for i in range(rounds + 5):
                path, params = make(i)
                started = time.perf_counter()
                response = await client.get(path, params=params)
                elapsed = (time.perf_counter() - started) * 1000
                assert response.status_code == 200, (path, response.status_code)
                if i >= 5:  # the first few warm caches and connections
                    timings[name].append(elapsed)
    app.routes[-1].app.state.pages.services.engine.dispose()  # type: ignore[attr-defined]
    return timings


def report(backend: str, timings: dict[str, list[float]]) -> bool:
    ok = True
    for name, values in timings.items():
        median, p95 = statistics.median(values), percentile(values, 0.95)
        verdict = "ok" if p95 < GOAL_MS else f"OVER the {GOAL_MS:.0f} ms goal"
        ok = ok and p95 < GOAL_MS
        figures = f"median {median:7.1f} ms   p95 {p95:7.1f} ms   (n={len(values)})"
        print(f"  {backend:<10} {name:<9} {figures} {verdict}")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=60)
    args = parser.parse_args()
    ok = True
    with tempfile.TemporaryDirectory() as folder:
        data_dir = Path(folder)
        print(f"SQLite ({args.count} profiles)")
        url = f"sqlite:///{data_dir / 'bench.db'}"
        ids = prepare(url, args.count)
        ok = report("sqlite", asyncio.run(measure(url, data_dir, ids, args.rounds))) and ok

        server = make_url(os.environ.get("TEST_POSTGRES_URL", DEFAULT_PG))
        if server.drivername in ("postgresql", "postgres"):
            server = server.set(drivername="postgresql+psycopg")
        admin = create_engine(server, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 2})
        name = f"bench_coach_{secrets.token_hex(4)}"
        try:
            with admin.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
        except Exception as error:  # any failure to reach the server: skip, loudly
            print(
                f"\n*** PostgreSQL SKIPPED: not reachable at {server.render_as_string(hide_password=True)} "
                f"({type(error).__name__}); set TEST_POSTGRES_URL ***\n"
            )
            admin.dispose()
            return 0 if ok else 1
        try:
            url = server.set(database=name).render_as_string(hide_password=False)
            print(f"PostgreSQL ({args.count} profiles)")
            ids = prepare(url, args.count)
            ok = report("postgresql", asyncio.run(measure(url, data_dir, ids, args.rounds))) and ok
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
