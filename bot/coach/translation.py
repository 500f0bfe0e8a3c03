"""Machine translation of free-text answers into German: a pluggable backend, none by default.

TRANSLATION_BACKEND names a factory as ``module:attribute`` (a class or a function without
arguments) that returns a TranslationBackend. Its output is always shown as machine-made, with
the engine's name.
"""

from __future__ import annotations

import hashlib
import importlib
import logging
from collections import OrderedDict
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from core.settings import ConfigurationError

logger = logging.getLogger(__name__)


@runtime_checkable
class TranslationBackend(Protocol):
    """Translates text from ``source_language`` (a BCP 47 code) into ``target_language``."""

    @property
    def engine(self) -> str:
        """The name shown next to every translation, e.g. "DeepL" or "LibreTranslate 1.6"."""
        ...

    def translate(self, text: str, source_language: str, target_language: str) -> str: ...


@dataclass(frozen=True)
class MachineTranslation:
    text: str
    engine: str


def load_backend(spec: str | None) -> TranslationBackend | None:
    """The configured backend, or None when TRANSLATION_BACKEND is unset."""
    if not spec:
        return None
    module_name, _, attribute = spec.partition(":")
    try:
        factory = getattr(importlib.import_module(module_name), attribute)
        backend = factory()
    except (ImportError, AttributeError, TypeError) as error:
        raise ConfigurationError(
            f"TRANSLATION_BACKEND={spec!r} cannot be loaded ({type(error).__name__}): "
            "give module:factory of a TranslationBackend, or unset it."
        ) from error
    if not isinstance(backend, TranslationBackend):
        raise ConfigurationError(f"TRANSLATION_BACKEND={spec!r} does not make a TranslationBackend.")
    return backend


class CachedTranslator:
    """Translations into German, remembered in memory so a page view does not ask twice."""

    def __init__(self, backend: TranslationBackend | None, size: int = 2048) -> None:
        self.backend = backend
        self._size = size
        self._cache: OrderedDict[str, MachineTranslation] = OrderedDict()

    def to_german(self, text: str, language: str) -> MachineTranslation | None:
        if self.backend is None or not text or language.split("-")[0] == "de":
            return None
        key = hashlib.sha256(f"{language}\0{text}".encode()).hexdigest()
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return cached
        try:
            translated = self.backend.translate(text, language, "de")
        except Exception as error:  # a backend outage must not take the summary page down
            logger.warning("translation backend %s failed: %s", self.backend.engine, type(error).__name__)
            return None
        result = MachineTranslation(text=translated, engine=self.backend.engine)
        self._cache[key] = result
        if len(self._cache) > self._size:
            self._cache.popitem(last=False)
        return result
