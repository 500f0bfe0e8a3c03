"""The English source texts of domain.yml's responses, as Rasa sends them to the bot."""

from __future__ import annotations

from functools import cache

import yaml

from bot.i18n_extract import as_sent
from core.settings import PROJECT_ROOT


@cache
def domain_text(response: str) -> str:
    """The text of the first variation of `response`, placeholders the bot fills included."""
    domain = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
    return as_sent(str(domain["responses"][response][0]["custom"]["text"]))
