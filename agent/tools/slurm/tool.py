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

from agent.runs.registry import runs_of
from agent.tools.slurm import commands, guards, jobs, parse, sizing
from agent.tools.slurm.args import ASKS, WAIT_LIMIT_S, SlurmArgs, array_tasks
from agent.tools.slurm.job_run import tell_end
from agent.tools.slurm.resume_job import resume
from agent.tools.slurm.script import batch_script, sbatch_argv
from agent.tools.slurm.submit import hardware_of, submit
from agent.tools.spec import ToolContext, ToolError, ToolResult, ToolSpec

if TYPE_CHECKING:
    from agent.config import Settings

ARRAY_ASKS_ABOVE = 10  # an array of more tasks asks even where approvals are automatic
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
- A job that trains or serves a model is sized before the user is asked: its GPU memory \
against the GPUs it asks for (name the type in gres, e.g. 'gpu:a100:2') and its expected \
run time against its time limit; one that cannot fit is refused with the GPUs that would.
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
    return await resume(_need_job(args), ctx)


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
    if line := sizing.lines.remembered(parsed):
        text += f"; {line}"
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
    """Before anyone is asked: what cannot be queued as it is, or cannot fit the job's
    GPUs, is refused; the estimate of one that fits goes into the approval text."""
    if args.operation == "run":
        guards.check_launch(args)
        batch_script(args)
        sbatch_argv(args, None)
        sizing.lines.remember(args, await sizing.size(args, ctx))


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
