"""What a new job runs: image, command, environment and secrets, and what it may cost.

A uv job's script travels inside the command (base64), so a script written on the
user's machine runs in the cloud without an upload step. Secrets are passed by
reference (`"$NAME"` reads the user's environment), so their values never pass
through the model; the user's HF token goes along only when the configuration
says so (`jobs_pass_hf_token`).
"""

from __future__ import annotations

import base64
import math
import os
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from agent.context.redact import redact
from agent.tools.hub.common import hub_token
from agent.tools.spec import ToolContext, ToolError

if TYPE_CHECKING:
    from agent.config import Settings

DOCKER_IMAGE = "python:3.12"
UV_IMAGE = "ghcr.io/astral-sh/uv:python3.12-bookworm"
MAX_SCRIPT_BYTES = 256_000
HF_TOKEN_NAMES = ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HUGGINGFACE_HUB_TOKEN")
_QUIET_ENV = {
    "PYTHONUNBUFFERED": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "UV_NO_PROGRESS": "1",
    "TRANSFORMERS_VERBOSITY": "warning",
}


@dataclass
class Launch:
    image: str
    command: list[str]
    env: dict[str, str]
    secrets: dict[str, str]


def docker_launch(image: str | None, command: list[str] | str | None) -> tuple[str, list[str]]:
    if not command:
        raise ToolError(
            "run needs command: a list of arguments (['python', 'train.py']) or a shell line; "
            "for a Python script use operation='uv' with script"
        )
    argv = ["/bin/sh", "-c", command] if isinstance(command, str) else list(command)
    return image or DOCKER_IMAGE, argv


def uv_launch(
    script: str | None,
    script_args: list[str],
    dependencies: list[str],
    python: str | None,
    image: str | None,
    cwd: Path,
) -> tuple[str, list[str]]:
    """`uv run` of a URL, or of code (given inline or read from a local file)."""
    if not script or not script.strip():
        raise ToolError(
            "uv needs script: Python code (PEP 723 inline dependencies are honoured), a local "
            "file path or an https URL"
        )
    options = [f"--with={dep}" for dep in dependencies]
    options += [f"--python={python}"] if python else []
    if script.startswith(("https://", "http://")):
        return image or UV_IMAGE, ["uv", "run", *options, script, *script_args]
    code = script_code(script, cwd)
    if len(code.encode()) > MAX_SCRIPT_BYTES:
        raise ToolError(
            f"the script is larger than {MAX_SCRIPT_BYTES // 1000} kB: push it to a Hub repo "
            "and pass its https URL instead"
        )
    encoded = base64.b64encode(code.encode()).decode()
    runner = shlex.join(["uv", "run", *options, "/tmp/job_script.py"])
    shell = f'echo {encoded} | base64 -d > /tmp/job_script.py && exec {runner} "$@"'
    return image or UV_IMAGE, ["/bin/sh", "-c", shell, "job", *script_args]


def script_code(script: str, cwd: Path) -> str:
    if "\n" in script:
        return script
    path = (cwd / Path(script).expanduser()).resolve()
    if path.is_file():
        return path.read_text(encoding="utf-8")
    if script.endswith(".py") or "/" in script:
        raise ToolError(
            f"script file not found: {path}. Give Python code, an existing local file or a URL"
        )
    return script


def job_env(env: dict[str, str]) -> dict[str, str]:
    """The job's plain environment: never a token, since it shows on the job's page."""
    for name, value in env.items():
        if name.upper() in HF_TOKEN_NAMES or redact(value) != value:
            raise ToolError(
                f"env {name} looks like a secret, and env values show on the job's page: pass "
                f'it in secrets instead, as a reference to your environment, e.g. {{"{name}": '
                f'"${name}"}}'
            )
    return {**_QUIET_ENV, **env}


def job_secrets(requested: dict[str, str], settings: Settings) -> dict[str, str]:
    """Secrets by reference ("$NAME"); the HF token only when the configuration allows it."""
    allowed = settings.jobs_pass_hf_token
    secrets: dict[str, str] = {}
    for name, value in requested.items():
        if name.upper() in HF_TOKEN_NAMES:
            if not allowed:
                raise ToolError(
                    "your configuration does not let jobs receive your HF token. To allow it "
                    '(e.g. for push_to_hub), set "jobs_pass_hf_token": true in '
                    "~/.config/ml-intern/cli_agent_config.json or ML_INTERN_JOBS_PASS_HF_TOKEN=1; "
                    "otherwise run without it"
                )
            continue
        secrets[name] = _dereference(name, value)
    token = hub_token(settings)
    if allowed and token:
        secrets["HF_TOKEN"] = token
    return secrets


def _dereference(name: str, value: str) -> str:
    if not value.startswith("$"):
        return value
    var = value.strip("${}")
    if var not in os.environ:
        raise ToolError(
            f"secret {name} refers to ${var}, which is not set in the user's environment; ask "
            "the user to set it (or put it in .env)"
        )
    return os.environ[var]


def worst_case(usd_per_hour: float | None, timeout_s: int) -> float:
    """Price times timeout; infinite when the price is unknown, so no budget covers it."""
    return math.inf if usd_per_hour is None else usd_per_hour * timeout_s / 3600


def refuse_over_budget(ctx: ToolContext, cost: float, what: str) -> None:
    """A ToolError when `what`, at worst `cost`, would take the session past its budget."""
    budget, spent = ctx.settings.max_budget_usd, ctx.usage.spent_usd
    if budget is None or spent + cost <= budget:
        return
    worst = "an unknown amount" if math.isinf(cost) else f"up to ${cost:.2f}"
    raise ToolError(
        f"Not run: {what} could cost {worst}, and with ${spent:.2f} already spent that "
        f"would pass the budget of ${budget:.2f} (--max-budget-usd). Ask the user to raise the "
        "budget, or use cheaper hardware or a shorter timeout."
    )
