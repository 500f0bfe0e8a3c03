"""Fixtures of the fuzz tests: each target opened once per module, in pytest's temporary directory."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack

import pytest

from tests.fuzz.targets import TARGETS, Check


@pytest.fixture(scope="module")
def open_target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], Check]]:
    """open_target(name) -> the target's check function, closed at the end of the module."""
    with ExitStack() as stack:

        def open_one(name: str) -> Check:
            check: Check = stack.enter_context(TARGETS[name].open(tmp_path_factory.mktemp(f"fuzz-{name}")))
            return check

        yield open_one
