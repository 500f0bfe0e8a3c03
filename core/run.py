"""Run everything locally: ``python -m core.run`` (what ``make run`` calls).

Migrates the database, trains the model if the training data changed, starts the action server
and Rasa, waits until both are healthy, then runs the bot in the foreground: on Telegram when
TELEGRAM_BOT_TOKEN is set, else as a chat in this terminal. Ctrl-C stops every process.
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import time

from core.processes import ManagedProcess, action_server_process, bot_process, rasa_process, settings_env
from core.settings import ConfigurationError, get_settings
from core.train import train
from storage.db import upgrade


def _say(text: str) -> None:
    print(f"run: {text}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--no-bot", action="store_true", help="start Rasa and the action server only")
    args = parser.parse_args(argv)

    settings = get_settings()
    try:
        settings.ensure_data_dir()
        settings.require_secrets()  # local keys are made once here, so the processes never race
    except ConfigurationError as error:
        print(error, file=sys.stderr)
        return 2
    if len(settings.rasa_urls) > 1 and not settings.lock_store_url:
        print("RASA_URL names several Rasa servers: set LOCK_STORE_URL (Redis) too.", file=sys.stderr)
        return 2
    upgrade(settings.effective_database_url)
    train()

    replicas = [rasa_process(settings, replica) for replica in range(len(settings.rasa_urls))]
    background: list[ManagedProcess] = [action_server_process(settings), *replicas]
    # SIGTERM (e.g. from a process manager) stops us like Ctrl-C does.
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        for process in background:
            process.start()
        started = time.monotonic()
        for process in background:
            _say(f"waiting for {process.name} (log: {process.log_path}) ...")
            process.wait_healthy(timeout=300)
        _say(f"Rasa ({len(replicas)}) and the action server are up after {time.monotonic() - started:.0f} s")
        if args.no_bot:
            _say("press Ctrl-C to stop")
            while all(p.alive() for p in background):
                time.sleep(1)
            return 1
        bot = bot_process(settings)
        if settings.telegram_bot_token:
            _say(f"bot on Telegram ({settings.telegram_mode}); log: {bot.log_path}; Ctrl-C stops")
            background.append(bot)
            bot.start()
            while all(p.alive() for p in background):
                time.sleep(1)
            return 1
        # The local chat needs this terminal, so it runs in the foreground with our stdio.
        return subprocess.call(bot.argv, env=settings_env(settings))
    except KeyboardInterrupt:
        _say("stopping ...")
        return 0
    finally:
        for process in reversed(background):
            process.stop()
        _say("all processes stopped")


if __name__ == "__main__":
    sys.exit(main())
