"""RASA_URL with several Rasa replicas: parsing, validation, and one local Rasa process per URL."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from core.processes import REDIS_LOCK_STORE, rasa_endpoint_env, rasa_process
from core.settings import Settings


def test_one_url_is_one_replica() -> None:
    assert Settings(RASA_URL="http://127.0.0.1:5005/").rasa_urls == ["http://127.0.0.1:5005"]


def test_comma_separated_urls_are_replicas() -> None:
    settings = Settings(RASA_URL=" http://rasa:5005, http://rasa-2:5005/ ,")
    assert settings.rasa_urls == ["http://rasa:5005", "http://rasa-2:5005"]


@pytest.mark.parametrize(
    "value", ["", " , ", "rasa:5005", "http://rasa:5005,rasa-2:5005", "http://a:1,http://a:1/"]
)
def test_bad_rasa_url_fails_at_start(value: str) -> None:
    with pytest.raises(ValidationError, match="RASA_URL"):
        Settings(RASA_URL=value)


def test_each_replica_is_its_own_process_on_its_own_port(tmp_path: Path) -> None:
    settings = Settings(
        DATA_DIR=tmp_path,
        RASA_URL="http://127.0.0.1:5105,http://127.0.0.1:5106",
        LOCK_STORE_URL="redis://127.0.0.1:6379/3",
    )
    first, second = rasa_process(settings, 0), rasa_process(settings, 1)
    assert (first.name, second.name) == ("rasa", "rasa-2")
    assert first.argv[first.argv.index("--port") + 1] == "5105"
    assert second.argv[second.argv.index("--port") + 1] == "5106"
    assert second.health_url == "http://127.0.0.1:5106/"
    assert first.log_path != second.log_path
    # Both share the lock store: Redis, the same database.
    assert first.env["LOCK_STORE_TYPE"] == second.env["LOCK_STORE_TYPE"] == REDIS_LOCK_STORE
    assert rasa_endpoint_env(settings)["LOCK_STORE_DB"] == "3"
