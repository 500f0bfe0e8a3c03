"""Command line for the intake database: ``python -m storage upgrade|current``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from sqlalchemy.exc import OperationalError

from storage.db import current_revision, display_url, head_revision, resolve_url, upgrade


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m storage", description=__doc__)
    parser.add_argument(
        "command",
        choices=("upgrade", "current"),
        help="upgrade: migrate the database to the newest revision; current: show its revision",
    )
    parser.add_argument("--url", help="database URL (default: DATABASE_URL from the settings)")
    args = parser.parse_args(argv)

    url = resolve_url(args.url)
    shown = display_url(url)
    try:
        if args.command == "upgrade":
            upgrade(url)
            print(f"{shown}: upgraded, now at {current_revision(url) or 'no revision'} (head)")
        else:
            revision = current_revision(url)
            head = head_revision()
            if revision is None:
                state = "not migrated: run `python -m storage upgrade`"
            elif revision == head:
                state = "head"
            else:
                state = f"behind head {head}: run `python -m storage upgrade`"
            print(f"{shown}: {revision or 'empty'} ({state})")
    except OperationalError as error:
        print(
            f"cannot reach the database at {shown}: check DATABASE_URL and that the server runs"
            f" ({type(error.orig).__name__})",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
