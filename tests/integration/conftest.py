"""The real stack for integration tests (see tests/support/stack.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.stack import Stack, running_stack


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("stack-data")) as running:
        yield running


@pytest.fixture(autouse=True)
def no_errors_logged(request: pytest.FixtureRequest) -> Iterator[None]:
    """A test that used the stack fails if any process logged an error meanwhile."""
    if "stack" not in request.fixturenames:
        yield
        return
    running: Stack = request.getfixturevalue("stack")
    running.ignore_errors_so_far()
    yield
    errors = running.errors_logged_since(running.error_baseline)
    assert not errors, "errors in the process logs:\n" + "\n".join(errors[:20])
