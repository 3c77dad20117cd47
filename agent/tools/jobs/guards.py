"""Rules a paid job is held to before it starts, checked rather than hoped for.

A training job on ephemeral hardware loses its model unless it pushes it somewhere, and the
default 30-minute timeout kills most training runs part-way; both are refused before anyone is
asked to pay. A second GPU run of the same script, launched before the first has shown that it
trains, gets a notice.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent.compute.script import trains
from agent.tools.jobs import launch
from agent.tools.spec import ToolContext, ToolError
from agent.wording import counted

if TYPE_CHECKING:
    from agent.tools.jobs.args import JobsArgs

_SAVES = re.compile(
    r"push_to_hub|upload_folder|upload_file|upload_large_folder|create_commit|hf\s+upload"
)
_PUSHES_CHECKPOINTS = re.compile(
    r"hub[_-]strategy\W+(checkpoint|all_checkpoints)|RESUME_FROM_CHECKPOINT|resume_from_checkpoint"
)
_LAUNCHED = "hf_jobs.launched"  # code hash -> (job id, namespace, turn) of this session's runs


def job_code(args: JobsArgs, cwd: Path) -> str | None:
    """What the job runs, as text: the uv script (inline or a local file) or the command.
    None for a script given by URL, which cannot be read before it runs."""
    if args.script is not None:
        if args.script.startswith(("https://", "http://")):
            return None
        return launch.script_code(args.script, cwd)
    command = args.command
    if command is None:
        return None
    return command if isinstance(command, str) else " ".join(command)


def check_launch(args: JobsArgs, ctx: ToolContext) -> None:
    """Refuse a training job that would lose its results or be killed by the default timeout."""
    code = job_code(args, ctx.cwd)
    if code is None or not trains(code):
        return
    problems = []
    if not _SAVES.search(code) and not args.keep_nothing:
        problems.append(
            "it trains but never saves to the Hub: job storage is ephemeral, so the model is "
            "lost when the job ends. Set push_to_hub=True with hub_model_id in the training "
            "arguments (with hub_strategy='checkpoint' and save_steps, so a stopped job can be "
            "resumed), or upload the output folder, or pass keep_nothing=true if losing the "
            "outputs is intended (e.g. a smoke test)"
        )
    if "timeout" not in args.model_fields_set:
        problems.append(
            "it trains with the default 30-minute timeout, which kills most training runs "
            "part-way: estimate the run time from model size, data and hardware and set "
            "timeout (e.g. '4h'), or pass timeout='30m' if that is really enough"
        )
    if problems:
        raise ToolError("Not started: " + "; and ".join(problems) + ".")


def checkpoint_notice(args: JobsArgs, cwd: Path) -> str | None:
    """Say so when a training job pushes its model but no checkpoints: killed by its
    timeout, it cannot be resumed and starts over."""
    try:
        code = job_code(args, cwd)
    except ToolError:
        return None
    if code is None or not trains(code) or not _SAVES.search(code):
        return None
    if _PUSHES_CHECKPOINTS.search(code):
        return None
    return (
        "Note: the script pushes no checkpoints (no hub_strategy='checkpoint'): if the job "
        "stops early it cannot be resumed and starts over. Next time set "
        "hub_strategy='checkpoint' with save_steps, and read RESUME_FROM_CHECKPOINT."
    )


def inline_notice(args: JobsArgs, cwd: Path) -> str | None:
    """Say so when a local file was sent: the job runs this copy, not later edits."""
    script = args.script
    if script is None or "\n" in script or script.startswith(("https://", "http://")):
        return None
    path = (cwd / Path(script).expanduser()).resolve()
    if not path.is_file():
        return None
    lines = len(path.read_text(encoding="utf-8").splitlines())
    return f"Sent the local file {path} ({counted(lines, 'line')}) inline: the job runs this copy."


def remember_launch(args: JobsArgs, ctx: ToolContext, job_id: str, namespace: str) -> None:
    if (key := _code_key(args, ctx)) is not None:
        ctx.state.setdefault(_LAUNCHED, {})[key] = (job_id, namespace, ctx.turn)


def earlier_run(args: JobsArgs, ctx: ToolContext, flavor_is_gpu: bool) -> tuple[str, str] | None:
    """The job id and namespace of a run of the same code started earlier in this turn."""
    key = _code_key(args, ctx)
    if not flavor_is_gpu or key is None:
        return None
    earlier: dict[str, Any] = ctx.state.get(_LAUNCHED, {})
    if key in earlier and earlier[key][2] == ctx.turn:
        return earlier[key][0], earlier[key][1]
    return None


def _code_key(args: JobsArgs, ctx: ToolContext) -> str | None:
    try:
        code = job_code(args, ctx.cwd)
    except ToolError:
        return None
    if code is None:
        code = args.script or ""
    return hashlib.sha256(f"{args.image}\n{code}".encode()).hexdigest()[:16] if code else None
