"""Two processes writing the embedded SQLite database at once wait for each other; neither fails.

The action server (answers) and the bot (update inbox, outbox, reminders) share the file. A
deferred transaction that read before the other one committed a write cannot upgrade to a write
lock and fails at once with "database is locked", whatever the busy timeout: that lost answers.
"""

from __future__ import annotations

import threading
from pathlib import Path

from sqlalchemy import text

from storage.db import make_engine


def test_read_then_write_waits_for_a_concurrent_writer(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    first, second = make_engine(url), make_engine(url)  # two engines: like two processes
    with first.begin() as connection:
        connection.execute(text("CREATE TABLE answers (value TEXT)"))

    has_read, errors = threading.Event(), []

    def read_then_write() -> None:
        try:
            with first.begin() as connection:
                connection.execute(text("SELECT count(*) FROM answers")).scalar_one()
                has_read.set()
                threading.Event().wait(0.3)  # the other writer tries meanwhile
                connection.execute(text("INSERT INTO answers VALUES ('first')"))
        except Exception as error:
            errors.append(error)
            has_read.set()

    def write() -> None:
        has_read.wait(5)
        try:
            with second.begin() as connection:
                connection.execute(text("INSERT INTO answers VALUES ('second')"))
        except Exception as error:
            errors.append(error)

    threads = [threading.Thread(target=read_then_write), threading.Thread(target=write)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert errors == []
    with first.connect() as connection:
        values = connection.execute(text("SELECT value FROM answers ORDER BY value")).scalars().all()
    assert values == ["first", "second"]
    first.dispose()
    second.dispose()
