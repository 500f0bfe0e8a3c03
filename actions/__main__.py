"""Run the action server: ``python -m actions``."""

from __future__ import annotations

import logging
import os

from rasa_sdk import endpoint
from rasa_sdk.executor import ActionExecutor

from core.logging import configure_logging
from core.settings import ConfigurationError, get_settings


def main() -> None:
    settings = get_settings()
    try:
        settings.require_secrets()
    except ConfigurationError as error:
        raise SystemExit(str(error)) from None
    configure_logging(settings.log_level, style=settings.log_format)
    # rasa-sdk reads its listen address from SANIC_HOST; locally only loopback is needed.
    os.environ.setdefault("SANIC_HOST", settings.action_server_host)
    executor = ActionExecutor()
    executor.register_package("actions")
    logging.getLogger(__name__).info("action server on port %s", settings.action_server_port)
    # endpoints="" : the action server needs no tracing endpoint; Rasa's endpoints.yml is not ours to read.
    endpoint.run(executor, port=settings.action_server_port, endpoints="")


if __name__ == "__main__":
    main()
