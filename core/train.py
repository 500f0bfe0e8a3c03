"""Train the Rasa model, but only when the training data changed: ``python -m core.train``."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from core.settings import PROJECT_ROOT

MODEL_NAME = "intake"
# The NLU tokenizer (rasa_plugins/) is part of the model: a change to it must retrain.
TRAINING_INPUTS = (
    "domain.yml", "config.yml", "nlu",
    "rasa_plugins/nlu_tokenizer.py", "rasa_plugins/text_normalization.py",
)  # fmt: skip
RASA_VENV = PROJECT_ROOT / ".venv-rasa"


def model_path(model_dir: Path | None = None) -> Path:
    return (model_dir or PROJECT_ROOT / "models") / f"{MODEL_NAME}.tar.gz"


def training_record_path(model_dir: Path | None = None) -> Path:
    """A small JSON next to the model: how long its training took and how big it is."""
    return (model_dir or PROJECT_ROOT / "models") / f"{MODEL_NAME}.train.json"


def training_data_hash(root: Path = PROJECT_ROOT) -> str:
    """A digest of every file Rasa trains from, and of the Rasa pin list."""
    digest = hashlib.sha256()
    files: list[Path] = [root / "requirements" / "rasa.lock"]
    for name in TRAINING_INPUTS:
        path = root / name
        files.extend(sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path])
    for file in files:
        digest.update(str(file.relative_to(root)).encode())
        digest.update(file.read_bytes())
    return digest.hexdigest()


def rasa_env() -> dict[str, str]:
    """Environment for Rasa subprocesses: no telemetry, quiet TensorFlow, Rasa's venv first."""
    env = dict(os.environ)
    env.update(
        RASA_TELEMETRY_ENABLED="false",
        TF_CPP_MIN_LOG_LEVEL="2",
        SQLALCHEMY_SILENCE_UBER_WARNING="1",
        PATH=f"{RASA_VENV / 'bin'}{os.pathsep}{env.get('PATH', '')}",
    )
    env.pop("PYTHONPATH", None)
    return env


def rasa_executable() -> str:
    rasa = RASA_VENV / "bin" / "rasa"
    if not rasa.exists():
        raise SystemExit("Rasa environment missing: run 'bash scripts/setup.sh' (or 'make setup') first.")
    return str(rasa)


def train(force: bool = False, model_dir: Path | None = None) -> Path:
    """Train into models/intake.tar.gz unless a model for the same data already exists."""
    target = model_path(model_dir)
    stamp = target.with_suffix(".sha256")
    wanted = training_data_hash()
    if not force and target.exists() and stamp.exists() and stamp.read_text().strip() == wanted:
        print(f"train: model is up to date ({target.relative_to(PROJECT_ROOT)})", flush=True)
        return target
    print("train: training the Rasa model ...", flush=True)
    started = time.monotonic()
    subprocess.run(
        [
            rasa_executable(), "train",
            "--domain", "domain.yml", "--config", "config.yml", "--data", "nlu",
            "--out", str(target.parent), "--fixed-model-name", MODEL_NAME,
        ],
        cwd=PROJECT_ROOT, env=rasa_env(), check=True,
    )  # fmt: skip
    seconds = time.monotonic() - started
    stamp.write_text(wanted + "\n")
    size = target.stat().st_size
    record = {
        "training_seconds": round(seconds, 1),
        "model_bytes": size,
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "data_hash": wanted,
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],  # other work on the cores
    }
    training_record_path(model_dir).write_text(json.dumps(record, indent=2) + "\n")
    print(f"train: done in {seconds:.0f} s, model {size / 1e6:.1f} MB", flush=True)
    return target


if __name__ == "__main__":
    train(force="--force" in sys.argv)
