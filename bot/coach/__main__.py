"""Command line of the coach pages.

python -m bot.coach create-user NAME --role coach|admin [--password-stdin]
python -m bot.coach seed --count 200        (invented demo profiles; never on real data)
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Sequence

from sqlalchemy.exc import IntegrityError, OperationalError

from bot.coach.auth import MIN_PASSWORD_LENGTH, hash_password
from core.settings import get_settings
from storage.coach import CoachUserRepository
from storage.coach_models import ACTOR_PARTICIPANT, ACTOR_SYSTEM, ACTOR_UNKNOWN, CoachRole
from storage.db import display_url, make_engine, make_session_factory, resolve_url, session_scope, upgrade

# Names the audit log uses for who acted when no coach did.
RESERVED_NAMES = {ACTOR_PARTICIPANT, ACTOR_SYSTEM, ACTOR_UNKNOWN}


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Repeat the password: ") != first:
        raise SystemExit("The passwords differ; nothing was created.")
    return first


def create_user(url: str, name: str, role: str, password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise SystemExit(
            f"The password needs at least {MIN_PASSWORD_LENGTH} characters; nothing was created."
        )
    factory = make_session_factory(make_engine(url))
    try:
        with session_scope(factory) as session:
            CoachUserRepository(session).create(name, hash_password(password), role)
    except IntegrityError:
        raise SystemExit(f"An account named {name!r} exists already.") from None


def seed(url: str, count: int) -> int:
    from bot.coach.seed import seed_profiles

    factory = make_session_factory(make_engine(url))
    with factory() as session:
        return len(seed_profiles(session, count))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.coach", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create-user", help="create a coach or admin account")
    create.add_argument("name")
    create.add_argument("--role", choices=[r.value for r in CoachRole], default=CoachRole.COACH.value)
    create.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    demo = commands.add_parser("seed", help="add invented demo profiles")
    demo.add_argument("--count", type=int, default=200)
    for sub in (create, demo):
        sub.add_argument("--url", help="database URL (default: DATABASE_URL from the settings)")
    args = parser.parse_args(argv)

    url = resolve_url(args.url or get_settings().effective_database_url)
    try:
        upgrade(url)
        if args.command == "create-user":
            name = args.name.strip()
            if not name or len(name) > 64:
                raise SystemExit("A username has 1 to 64 characters.")
            if name.casefold() in RESERVED_NAMES:
                raise SystemExit(
                    f"{name!r} names the participant or the system in the audit log; choose another."
                )
            create_user(url, name, args.role, _read_password(args.password_stdin))
            print(f"created {args.role} account {name!r}")
        else:
            print(f"added {seed(url, args.count)} invented profiles to {display_url(url)}")
    except OperationalError as error:
        print(
            f"cannot reach the database at {display_url(url)} ({type(error.orig).__name__})", file=sys.stderr
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
