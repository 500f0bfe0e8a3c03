"""Run a check script inside Rasa's own environment (.venv-rasa, Python 3.10), where the code of
rasa_plugins/ runs, and read back what it printed."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest

from core.settings import PROJECT_ROOT
from core.train import RASA_VENV, rasa_env
from tests.support.stack import TEST_ENCRYPTION_KEYS


def run_in_rasa(script: str, *args: str, env: dict[str, str] | None = None) -> Any:
    """Run `script` with Rasa's Python from the project root (on PYTHONPATH; the test encryption
    keys unless ENCRYPTION_KEYS is set) and return the JSON of the last line it printed. Skips the
    test when Rasa's environment is missing; fails it when the script fails."""
    python = RASA_VENV / "bin" / "python"
    if not python.exists():
        pytest.skip(f"Rasa's environment is missing ({python}): run scripts/setup.sh")
    full_env = rasa_env()
    full_env.update(env or {})
    full_env["PYTHONPATH"] = str(PROJECT_ROOT)
    full_env.setdefault("ENCRYPTION_KEYS", TEST_ENCRYPTION_KEYS)
    result = subprocess.run(
        [str(python), "-c", script, *args], env=full_env, cwd=PROJECT_ROOT, capture_output=True,
        text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])
