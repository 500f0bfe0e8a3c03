"""A small chaos run in the suite (the large one is `make chaos`): people do whole intakes while the
bot, the action server and Rasa are each killed with SIGKILL and restarted; no answer may be lost or
doubled, and every profile must be complete and correct."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.chaos import run_chaos
from tests.support.stack import running_stack

pytestmark = pytest.mark.integration


def test_no_answer_is_lost_or_doubled_when_every_process_is_killed(tmp_path: Path) -> None:
    # A stack of its own: killing processes must not disturb the other tests' stack.
    with running_stack(tmp_path / "chaos") as stack:
        result = run_chaos(stack, users=6, kills=4, seed=4242, think_s=(0.3, 1.5), ramp_s=5.0)
    report = "\n".join(result.lines() + result.problems)
    assert result.kills == {"rasa": 1, "actions": 1, "bot": 2}, report
    assert (result.lost, result.duplicated, result.wrong, result.processed_twice) == (0, 0, 0, 0), report
    assert result.complete == result.users == 6, report
