"""Submitting a job (`sbatch`): the checks, the run it becomes, and what the ledger keeps to
submit it again (`spec`: its script and settings, with secrets scrubbed)."""

from __future__ import annotations

from typing import Any

from agent import events as ev
from agent.runs.registry import runs_of
from agent.tools.slurm import commands, guards
from agent.tools.slurm.args import SlurmArgs, array_tasks
from agent.tools.slurm.job_run import BACKEND, slurm_run
from agent.tools.slurm.script import batch_script, sbatch_argv, slurm_time
from agent.tools.spec import ToolContext, ToolError, ToolResult

_NOT_KEPT = {"operation", "job_id", "follow", "tail"}


def hardware_of(args: SlurmArgs) -> str:
    """What the job asked for, in a few words (the runs' and the ledger's `hardware`)."""
    parts = [f"partition {args.partition}"]
    if args.nodes > 1:
        parts.append(f"{args.nodes} nodes")
    if args.gpus:
        parts.append(f"{args.gpus} GPU{'s' if args.gpus > 1 else ''}/node")
    if args.gres:
        parts.append(args.gres)
    return ", ".join(parts)


def _command_of(args: SlurmArgs) -> str:
    """The job's command for the ledger: the command, or the script's lines that run."""
    if args.command:
        return args.command
    lines = (line.strip() for line in (args.script or "").splitlines())
    return " ; ".join(line for line in lines if line and not line.startswith("#"))


def spec_of(args: SlurmArgs, workdir: str | None) -> dict[str, Any]:
    """What the ledger keeps to submit the job again; `scrubbed` when a secret was cut out
    (it cannot run again as kept)."""
    from agent.context.redact import redact_obj

    launched = args.model_dump(exclude_defaults=True, exclude=_NOT_KEPT)
    if workdir and not args.workdir:
        launched["workdir"] = workdir
    kept = redact_obj(launched)
    return {**kept, "scrubbed": kept != launched}


async def submit(args: SlurmArgs, ctx: ToolContext, resumed_from: str = "") -> ToolResult:
    """sbatch the job, make it a watched run, and say how to look at it."""
    guards.check_launch(args)
    script = batch_script(args)
    workdir = None if ctx.settings.slurm.host else str(ctx.cwd)
    out = await commands.run(ctx.settings, sbatch_argv(args, workdir), stdin=script)
    job_id = out.strip().split(";")[0]
    if not job_id:
        raise ToolError(f"sbatch printed no job id: {out!r}")
    hardware = hardware_of(args)
    ctx.emit(ev.JobSubmitted(job_id=job_id, backend=BACKEND, hardware=hardware))
    run, source = slurm_run(ctx, job_id, _command_of(args), hardware)
    run.resumed_from = resumed_from
    run.spec = spec_of(args, workdir)
    runs_of(ctx.state, ctx.session_id, ctx.cwd).add(run, source)
    tasks = f" as an array of {array_tasks(args.array)} tasks" if args.array else ""
    limit = slurm_time(args.time or "")
    ctx.log(f"submitted job {job_id}{tasks} ({hardware}, time limit {limit})")
    return ToolResult(
        f"Submitted job {job_id}{tasks} to partition {args.partition} (time limit {limit}).\n"
        "It is watched: you are woken when it ends, prints a traceback, runs out of memory or "
        "its loss becomes NaN, so end your turn to wait instead of polling. Look at it with "
        f"operation='logs' job_id='{job_id}' or inspect; stop it with cancel.",
        data={"job_id": job_id},
    )
