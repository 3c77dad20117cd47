"""The flags of `ml-intern`, declared once: how each is spelled, and the setting it sets.

`app.run` lists them by name; what they mean for Settings lives in `RunOptions`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

import typer

ADVANCED = "Advanced"

# Settings a flag sets, and the flag to name when its value is refused.
FLAG_NAMES = {
    "model_name": "--model",
    "max_iterations": "--max-iterations",
    "max_budget_usd": "--max-budget-usd",
    "price_per_mtok": "--price-per-mtok",
    "goal_max_turns": "--max-turns",
    "goal_max_minutes": "--max-minutes",
}


class OutputFormat(StrEnum):
    text = "text"
    json = "json"
    stream_json = "stream-json"


class ApprovalMode(StrEnum):
    ask = "ask"
    auto = "auto"
    deny = "deny"


class Sandbox(StrEnum):
    off = "off"
    workspace_write = "workspace-write"


class Effort(StrEnum):
    low = "low"
    medium = "medium"
    high = "high"


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"ml-intern {version('ml-intern')}")
        raise typer.Exit()


Prompt = Annotated[
    str | None,
    typer.Argument(help="Run this request headless and exit. Without it: interactive chat."),
]
PrintMode = Annotated[
    bool,
    typer.Option(
        "--print",
        "-p",
        help='Headless, as Claude Code\'s -p: ml-intern -p "..." (or piped input as the prompt).',
    ),
]
Model = Annotated[
    str | None,
    typer.Option(
        "--model",
        "-m",
        help="Model id, e.g. anthropic/claude-sonnet-4-5, "
        "openai/gpt-5, ollama/llama3.1. Env: ML_INTERN_MODEL.",
    ),
]
MaxIterations = Annotated[
    int | None,
    typer.Option("--max-iterations", "-n", help="Model calls allowed per turn (-1: no limit)."),
]
Format = Annotated[
    OutputFormat,
    typer.Option("--output-format", "-o", help="Headless output: text, json or stream-json."),
]
Yolo = Annotated[bool, typer.Option("--yolo", help="Approve every tool call without asking.")]
Budget = Annotated[
    float | None,
    typer.Option("--max-budget-usd", help="Stop before spending more than this (USD)."),
]
GoalCondition = Annotated[
    str | None,
    typer.Option(
        "--goal",
        metavar="CONDITION",
        help="Headless: keep working across turns until the model shows CONDITION holds "
        "(citing the output that proves it), or a limit is reached. The prompt, if any, "
        "starts the work.",
    ),
]
MaxTurns = Annotated[
    int | None,
    typer.Option("--max-turns", help="Turns a goal may take (default 20)."),
]
MaxMinutes = Annotated[
    float | None,
    typer.Option("--max-minutes", help="Minutes a goal may take (default: no time limit)."),
]
PricePerMtok = Annotated[
    str | None,
    typer.Option(
        "--price-per-mtok",
        metavar="IN,OUT",
        help="The model's price in USD per million input,output tokens (e.g. 3,15), for "
        "models without a known price: lets --max-budget-usd be enforced.",
    ),
]
NoStream = Annotated[
    bool,
    typer.Option("--no-stream", help="Ask the model for whole answers.", rich_help_panel=ADVANCED),
]
Approval = Annotated[
    ApprovalMode | None,
    typer.Option(
        "--approval-mode",
        help="For calls that need approval: ask, auto (headless default) or deny.",
        rich_help_panel=ADVANCED,
    ),
]
SandboxMode = Annotated[
    Sandbox | None,
    typer.Option(
        "--sandbox",
        help="Confine bash, write/edit and stdio MCP servers: off (default) or "
        "workspace-write (bubblewrap: only the working and temp dirs writable, .git, .env* "
        "and configs/ read-only, no network, no unix sockets, no capabilities).",
        rich_help_panel=ADVANCED,
    ),
]
SandboxTools = Annotated[
    bool,
    typer.Option(
        "--sandbox-tools",
        help="Offer a remote GPU sandbox (a private HF Space): "
        "after sandbox_create, bash/read/write/edit run there.",
        rich_help_panel=ADVANCED,
    ),
]
AllowNetwork = Annotated[
    bool,
    typer.Option(
        "--allow-network",
        help="With --sandbox workspace-write: keep the network.",
        rich_help_panel=ADVANCED,
    ),
]
SafeMode = Annotated[
    bool,
    typer.Option(
        "--safe-mode",
        help="Load no extensions: no skills, commands, plugins, hooks or AGENTS.md memory, "
        "from the project or your own folders.",
        rich_help_panel=ADVANCED,
    ),
]
EffortLevel = Annotated[
    Effort | None,
    typer.Option(
        "--effort", help="Reasoning effort for models that support it.", rich_help_panel=ADVANCED
    ),
]
Resume = Annotated[
    str | None,
    typer.Option(
        "--resume",
        "-r",
        help="Resume a saved session by id (or unique prefix); "
        "without an id: choose one (chat) or list them (headless).",
    ),
]
Continue = Annotated[
    bool, typer.Option("--continue", "-c", help="Resume the latest session of this directory.")
]
NoWait = Annotated[
    bool,
    typer.Option(
        "--no-wait",
        help="Headless: exit when the turn ends, without waiting for the background runs "
        "it started (they keep running).",
    ),
]
WaitLimit = Annotated[
    str | None,
    typer.Option(
        "--wait-limit",
        metavar="DURATION",
        help="Headless: wait at most this long for background runs (90, 30m, 2h; default: "
        "until they end, within the iteration and budget limits).",
    ),
]
Version = Annotated[
    bool | None,
    typer.Option(
        "--version", "-V", callback=_version, is_eager=True, help="Print the version and exit."
    ),
]


@dataclass
class RunOptions:
    """What was given on the command line for one run."""

    prompt: str | None
    print_mode: bool
    model: str | None
    max_iterations: int | None
    output_format: OutputFormat
    yolo: bool
    max_budget_usd: float | None
    price_per_mtok: str | None
    no_stream: bool
    approval_mode: ApprovalMode | None
    sandbox: Sandbox | None
    sandbox_tools: bool
    allow_network: bool
    effort: Effort | None
    safe_mode: bool
    resume: str | None
    continue_: bool
    goal: str | None = None
    max_turns: int | None = None
    max_minutes: float | None = None
    no_wait: bool = False
    wait_limit: str | None = None

    def settings_layer(self) -> dict[str, Any]:
        """The flags as a settings layer (None: not given); a refused value is a usage
        error naming the flag."""
        from pydantic import ValidationError

        from agent.config import EXTENSION_KEYS, Settings, first_problem
        from agent.errors import UsageError

        layer = {
            "model_name": self.model,
            "max_iterations": self.max_iterations,
            "stream": False if self.no_stream else None,
            "yolo": True if self.yolo else None,
            "max_budget_usd": self.max_budget_usd,
            "price_per_mtok": self.price_per_mtok,
            "approval_mode": self.approval_mode.value if self.approval_mode else None,
            "effort": self.effort.value if self.effort else None,
            "sandbox": self.sandbox.value if self.sandbox else None,
            "allow_network": True if self.allow_network else None,
            "tool_runtime": "sandbox" if self.sandbox_tools else None,
            **{key: {"enabled": False} if self.safe_mode else None for key in EXTENSION_KEYS},
            "memory": False if self.safe_mode else None,
            "disable_all_hooks": True if self.safe_mode else None,
            "goal_max_turns": self.max_turns,
            "goal_max_minutes": self.max_minutes,
            "wait_for_runs": False if self.no_wait else None,
            "wait_limit_s": duration_s(self.wait_limit, "--wait-limit")
            if self.wait_limit
            else None,
        }
        try:
            Settings.model_validate({k: v for k, v in layer.items() if v is not None})
        except ValidationError as exc:
            field, message = first_problem(exc)
            raise UsageError(
                f"invalid value for {FLAG_NAMES.get(field.split('.')[0], field)}: {message}"
            ) from None
        return layer


def duration_s(text: str, flag: str) -> float:
    """`90`, `90s`, `30m`, `2h` in seconds; anything else is a usage error naming `flag`."""
    from agent.errors import UsageError

    units = {"s": 1, "m": 60, "h": 3600}
    number, unit = (text[:-1], text[-1]) if text[-1:] in units else (text, "s")
    try:
        seconds = float(number) * units[unit]
    except ValueError:
        seconds = -1
    if not seconds > 0 or seconds == float("inf"):
        raise UsageError(f"invalid value for {flag}: {text!r} (give a duration: 90, 30m, 2h)")
    return seconds


def resume_marked(argv: list[str]) -> list[str]:
    """`--resume` without an id means "choose one": give the option its marker value.

    The word after `--resume` is the id unless it starts with `-` or cannot be one
    (a prompt with spaces); a word that names no session is then an error, never a prompt.
    """
    out = list(argv)
    for i, arg in enumerate(out):
        if arg == "--":
            break
        if arg in ("--resume", "-r"):
            from agent.cli.commands.sessions import PICK
            from agent.context.store import looks_like_session_id

            following = out[i + 1] if i + 1 < len(out) else None
            if not following or following.startswith("-") or not looks_like_session_id(following):
                out[i] = f"--resume={PICK}"
    return out
