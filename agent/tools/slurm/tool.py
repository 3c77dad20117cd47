"""slurm_jobs: run work on the user's Slurm cluster and manage it, with the same care as
hf_jobs: a time limit is required, a training job must keep what it trains, submitting asks
first (it spends the user's queue and allocation), and a job is a watched run.

Offered only where a cluster is reachable: `slurm.host` is configured (a login node over
ssh) or `sbatch` is on PATH; `slurm.enabled` turns it off or on explicitly.
"""

from __future__ import annotations

import math
import shutil
from collections import deque
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from agent import events as ev
from agent.compute.resume import resumed_script
from agent.runs.registry import runs_of
from agent.tools.slurm import checkpoints, commands, guards, jobs, parse, recorded
from agent.tools.slurm.args import ASKS, WAIT_LIMIT_S, SlurmArgs, array_tasks
from agent.tools.slurm.job_run import BACKEND, slurm_run, tell_end
from agent.tools.slurm.script import batch_script, sbatch_argv, slurm_time
from agent.tools.spec import ToolContext, ToolError, ToolResult, ToolSpec

if TYPE_CHECKING:
    from agent.config import Settings

ARRAY_ASKS_ABOVE = 10  # an array of more tasks asks even where approvals are automatic
LAUNCHED = "slurm.launched"  # job id -> what was submitted (for resume)
TAIL_LINES = 40

DESCRIPTION = """\
Run work on the user's Slurm cluster (sbatch) and manage it: the cluster's own queue, \
partitions and GPUs, through its standard commands.

- run: script (the batch script's text; its #SBATCH lines are kept) or command (one shell \
line). partition and time are required: ask the user which partition (or look with `sinfo` \
via bash) and set the time limit from model size, data and hardware ('4:00:00', \
'1-00:00:00', '90' minutes); the job is killed when it runs out. Optional: gpus (per node), \
gres ('gpu:a100:4'), cpus (per task), mem (per node, '64G'), nodes, array ('0-7' for \
sweeps: $SLURM_ARRAY_TASK_ID picks the setting), env, workdir, output (default \
slurm-%j.out), name.
- Multi-node (nodes > 1): the script's body runs once per node under srun, with \
MASTER_ADDR, MASTER_PORT, NNODES, NODE_RANK, GPUS_PER_NODE and WORLD_SIZE set; launch \
with `torchrun --nnodes=$NNODES --node_rank=$NODE_RANK --nproc_per_node=$GPUS_PER_NODE \
--master_addr=$MASTER_ADDR --master_port=$MASTER_PORT train.py`, or `accelerate launch \
--num_machines=$NNODES --machine_rank=$NODE_RANK --num_processes=$WORLD_SIZE \
--main_process_ip=$MASTER_ADDR --main_process_port=$MASTER_PORT train.py`.
- Save where it outlives the job: output_dir on shared storage (home or project space, not \
/tmp or $TMPDIR), checkpoints as it goes (save_steps), or push to the Hub. A training job \
that saves nothing outside scratch space is refused unless keep_nothing=true.
- A job is watched: you are woken when it ends, prints a traceback, runs out of memory or \
its loss becomes NaN, so end your turn to wait instead of polling. Its metrics are read \
from its output file.
- ps lists your queued and running jobs; inspect shows one (state, reason, nodes, output \
file); logs shows its last lines (follow=true streams until it ends); cancel stops it.
- resume: for a job that failed, was cancelled, preempted or hit its time limit: the same \
script and settings again, with resume_from_checkpoint set to the newest checkpoint-N \
under its output_dir.
- Submitting asks the user first; an array of more than 10 tasks always does.
"""


def slurm_configured(settings: Settings) -> bool:
    """Whether to offer the tool: configured, or the Slurm commands are here."""
    if settings.slurm.enabled is not None:
        return settings.slurm.enabled
    return bool(settings.slurm.host) or shutil.which("sbatch") is not None


def _need_job(args: SlurmArgs) -> str:
    if not args.job_id:
        raise ToolError(f"{args.operation} needs job_id (list your jobs with operation='ps')")
    return args.job_id


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


async def submit(args: SlurmArgs, ctx: ToolContext, resumed_from: str = "") -> ToolResult:
    """sbatch the job, make it a watched run, and say how to look at it."""
    guards.check_launch(args)
    script = batch_script(args)
    workdir = None if ctx.settings.slurm.host else str(ctx.cwd)
    argv = sbatch_argv(args, workdir)
    out = await commands.run(ctx.settings, argv, stdin=script)
    job_id = out.strip().split(";")[0]
    if not job_id:
        raise ToolError(f"sbatch printed no job id: {out!r}")
    hardware = hardware_of(args)
    ctx.state.setdefault(LAUNCHED, {})[job_id] = args.model_dump(exclude_defaults=True)
    ctx.emit(ev.JobSubmitted(job_id=job_id, backend=BACKEND, hardware=hardware))
    run, source = slurm_run(ctx, job_id, _command_of(args), hardware)
    run.resumed_from = resumed_from
    runs_of(ctx.state, ctx.session_id, ctx.cwd).add(run, source)
    tasks = f" as an array of {array_tasks(args.array)} tasks" if args.array else ""
    ctx.log(f"submitted job {job_id}{tasks} ({hardware}, time limit {slurm_time(args.time or '')})")
    return ToolResult(
        f"Submitted job {job_id}{tasks} to partition {args.partition} (time limit "
        f"{slurm_time(args.time or '')}).\nIt is watched: you are woken when it ends, prints a "
        "traceback, runs out of memory or its loss becomes NaN, so end your turn to wait "
        f"instead of polling. Look at it with operation='logs' job_id='{job_id}' or inspect; "
        "stop it with cancel.",
        data={"job_id": job_id},
    )


async def _ps(ctx: ToolContext) -> ToolResult:
    out = await commands.run(ctx.settings, ["squeue", "--me", "-h", "-o", parse.SQUEUE_FORMAT])
    rows = parse.squeue_rows(out)
    if not rows:
        return ToolResult("No queued or running jobs.")
    header = "JOBID | NAME | STATE | TIME | LIMIT | PARTITION | NODES | NODELIST(REASON)"
    return ToolResult("Your jobs:\n" + "\n".join([header, *(" | ".join(r) for r in rows)]))


async def _inspect(args: SlurmArgs, ctx: ToolContext) -> ToolResult:
    job_id = _need_job(args)
    records = await jobs.job_state(ctx.settings, job_id)
    _saw(ctx, job_id, records)
    return ToolResult(parse.describe(records))


def _saw(ctx: ToolContext, job_id: str, records: list[parse.Job]) -> None:
    """The model looked at a job: an end it saw here wakes nobody, and is told once."""
    if parse.overall_state(records) in parse.TERMINAL:
        registry = runs_of(ctx.state)
        registry.saw_end(job_id)
        run = registry.get(job_id)
        tell_end(ctx, job_id, records, run.hardware if run else "")


async def _logs(args: SlurmArgs, ctx: ToolContext) -> ToolResult:
    job_id = _need_job(args)
    if not args.follow:
        lines = await jobs.tail(ctx.settings, job_id, args.tail)
        body = "\n".join(lines) if lines else "(no output yet)"
        return ToolResult(f"Last {len(lines)} lines of job {job_id}:\n{body}")
    last: deque[str] = deque(maxlen=TAIL_LINES)

    def show(line: str) -> None:
        last.append(line)
        ctx.log(line)

    records = await jobs.follow(ctx.settings, job_id, show)
    _saw(ctx, job_id, records)
    end = parse.ended(records)
    lines = [f"Job {job_id} ended: {end.detail}", "", f"Last {len(last)} lines:", *last]
    return ToolResult("\n".join(lines), is_error=end.status == "failed")


async def _cancel(args: SlurmArgs, ctx: ToolContext) -> ToolResult:
    job_id = _need_job(args)
    runs_of(ctx.state).saw_end(job_id)
    await commands.run(ctx.settings, ["scancel", job_id])
    return ToolResult(f"Cancelled job {job_id}.")


async def slurm_jobs(args: SlurmArgs, ctx: ToolContext) -> ToolResult:
    if args.operation == "run":
        return await submit(args, ctx)
    if args.operation == "ps":
        return await _ps(ctx)
    if args.operation == "inspect":
        return await _inspect(args, ctx)
    if args.operation == "logs":
        return await _logs(args, ctx)
    if args.operation == "cancel":
        return await _cancel(args, ctx)
    return await resume(args, ctx)


async def resume(args: SlurmArgs, ctx: ToolContext) -> ToolResult:
    """Submit a job that ended early again, from the newest checkpoint in its output_dir."""
    job_id = _need_job(args)
    launched = ctx.state.get(LAUNCHED, {}).get(job_id)
    records = await jobs.job_state(ctx.settings, job_id)
    state = parse.overall_state(records)
    if state not in parse.RESUMABLE:
        raise ToolError(
            f"job {job_id} is {state}: resume is for a job that failed, was cancelled, "
            "preempted or hit its time limit"
        )
    if launched is not None:
        original = SlurmArgs.model_validate(launched)
    else:
        original = await recorded.submitted_args(ctx.settings, job_id, records[0])
    script = original.script or f"#!/bin/bash\n{original.command}"
    checkpoint = await checkpoints.newest(ctx.settings, script, records[0].get("WorkDir"))
    again = original.model_copy(
        update={"script": resumed_script(script, checkpoint), "command": None}
    )
    result = await submit(again, ctx, resumed_from=job_id)
    new_id = (result.data or {}).get("job_id")
    result.content = f"Resumed job {job_id} from {checkpoint} as job {new_id}.\n" + result.content
    return result


# -- approval ------------------------------------------------------------------------------


def _parse(args: dict[str, Any]) -> SlurmArgs | None:
    try:
        return SlurmArgs.model_validate(args)
    except ValidationError:
        return None


def needs_approval(args: dict[str, Any], settings: Settings) -> bool:
    """Submitting, resuming and cancelling ask; looking never does."""
    return str(args.get("operation")) in ASKS


def approval_reason(parsed: SlurmArgs) -> str:
    if parsed.operation == "cancel":
        return f"cancels Slurm job {parsed.job_id}"
    if parsed.operation == "resume":
        return f"resubmits Slurm job {parsed.job_id} from its last checkpoint"
    text = f"submits a Slurm job ({hardware_of(parsed)}, time limit {parsed.time})"
    if parsed.array:
        text += f" as an array of {array_tasks(parsed.array)} tasks"
    return text


async def estimate_spend(args: dict[str, Any], settings: Settings) -> tuple[str, float] | None:
    """What the person approves. A cluster bills no dollars here, but a large array spends
    much of the user's allocation at once: it counts as unbounded, so it is always asked."""
    parsed = _parse(args)
    if parsed is None or parsed.operation not in ASKS:
        return None
    many = parsed.array is not None and array_tasks(parsed.array) > ARRAY_ASKS_ABOVE
    reason = approval_reason(parsed)
    if many:
        reason += f" (more than {ARRAY_ASKS_ABOVE} tasks: a person decides)"
    return reason, math.inf if many else 0.0


async def check(args: SlurmArgs, ctx: ToolContext) -> None:
    """Before anyone is asked: what cannot be queued as it is is refused."""
    if args.operation == "run":
        guards.check_launch(args)
        batch_script(args)
        sbatch_argv(args, None)


def slurm_tools(settings: Settings) -> list[ToolSpec]:
    if not slurm_configured(settings):
        return []
    return [
        ToolSpec(
            "slurm_jobs",
            DESCRIPTION,
            slurm_jobs,
            args_model=SlurmArgs,
            needs_approval=needs_approval,
            estimate_spend=estimate_spend,
            check=check,
            timeout_s=WAIT_LIMIT_S,
            max_output_chars=20_000,
        )
    ]
