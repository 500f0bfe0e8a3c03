"""Command line for the intake database: ``python -m storage upgrade|current|rotate-keys``.

rotate-keys: put the new key first in ENCRYPTION_KEYS and keep the old ones after it, run this
command, then remove the old keys. It re-encrypts the intake database and Rasa's tracker store."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy.exc import OperationalError

from core.settings import get_settings
from storage.crypto import default_cipher
from storage.db import current_revision, display_url, head_revision, make_engine, resolve_url, upgrade
from storage.rotation import RotationReport, rotate_database, rotate_tracker_store
from storage.voice import rotate_voice_files


def rotate_keys(url: str, tracker_url: str, voice_dir: Path) -> RotationReport:
    cipher = default_cipher()
    report = RotationReport()
    for target, rotate in ((url, rotate_database), (tracker_url, rotate_tracker_store)):
        engine = make_engine(target)
        try:
            rotate(engine, cipher, report)
        finally:
            engine.dispose()
    rotated, checked = rotate_voice_files(voice_dir, cipher)
    report.rotated["voice files"] = rotated
    report.checked += checked
    for column, count in sorted(report.rotated.items()):
        print(f"{column}: {count} re-encrypted")
    print(f"{report.total} of {report.checked} values re-encrypted under key {cipher.current_key_id}")
    return report


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m storage", description=__doc__)
    parser.add_argument(
        "command",
        choices=("upgrade", "current", "rotate-keys"),
        help="upgrade: migrate the database to the newest revision; current: show its revision; "
        "rotate-keys: re-encrypt everything under the first of ENCRYPTION_KEYS",
    )
    parser.add_argument("--url", help="database URL (default: DATABASE_URL from the settings)")
    parser.add_argument(
        "--tracker-url", help="Rasa's tracker store, for rotate-keys (default: TRACKER_STORE_URL)"
    )
    parser.add_argument(
        "--voice-dir", type=Path, help="voice files, for rotate-keys (default: DATA_DIR/voice)"
    )
    args = parser.parse_args(argv)

    url = resolve_url(args.url)
    shown = display_url(url)
    try:
        if args.command == "rotate-keys":
            settings = get_settings()
            rotate_keys(
                url,
                args.tracker_url or settings.effective_tracker_store_url,
                args.voice_dir or settings.voice_dir,
            )
        elif args.command == "upgrade":
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
