"""Will a cluster job fit its GPUs, and will it end before its time limit: asked of a
submission before anyone approves it.

The same estimate as for HF Jobs (`agent.compute.estimate`, the model's shape from the Hub),
against the GPUs the job asks for: the type and count from `gres` / `gpus` (or the script's
own #SBATCH lines), a type from the partition's GRES as `sinfo` reports it when the job names
none, and `slurm.gpu_memory_gb` when neither names a GPU the table knows (or names one sold in
several sizes without saying which). A cluster bills no
dollars, so the line shows the expected run time against the time limit instead: a job
expected to outlast it is killed part-way, which the line says. A run that cannot fit even
with gradient checkpointing is refused with the numbers and GPUs that would hold it. What
cannot be known is said in the line; an estimate never blocks a job it could not make.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

from agent.compute.estimate import GB, fits, gb, train_seconds
from agent.compute.fit import (
    ADVICE,
    Sized,
    SizingLines,
    checkpointed,
    count_steps,
    describe,
    needs,
    sized,
    tokens_of,
)
from agent.compute.gpus import GPU_MODELS, GpuRequest, gpu_memory, gres_gpus
from agent.compute.script import read_plan
from agent.tools.jobs.api import human_duration
from agent.tools.jobs.sizing import dataset_rows, model_shape
from agent.tools.slurm import commands
from agent.tools.slurm.args import SlurmArgs
from agent.tools.slurm.script import limit_seconds
from agent.tools.spec import ToolContext, ToolError

GPUS_PER_NODE = 8  # the usual most a node holds, for what would fit
_SBATCH_GPUS = re.compile(r"^#SBATCH\s+(?:--gres|--gpus-per-node|--gpus|-G)[= ]\s*(\S+)", re.M)
_PY_FILE = re.compile(r"(?<![\w/.-])([\w./-]+\.py)\b")
_MAX_SCRIPT_BYTES = 1_000_000


@dataclass(frozen=True)
class JobGpus:
    """The GPUs a job gets, as far as they are known: how many in all, their type as the
    cluster spells it, one GPU's memory, and the table's model for its throughput."""

    count: int
    kind: str | None
    memory_gb: float | None
    model: str | None
    assumed: bool = False
    nodes: int = 1

    def label(self) -> str:
        over = f" over {self.nodes} nodes" if self.nodes > 1 else ""
        return f"{self.count} x {self.kind or 'GPU'}{over}"

    def each(self) -> str:
        if self.memory_gb is None:
            return "memory unknown"
        if not self.assumed or self.model is None:
            return f"{self.memory_gb:g} GB each"
        sizes = " and ".join(f"{size:g}" for size in GPU_MODELS[self.model].memory_gb)
        return (
            f"{self.memory_gb:g} GB each assumed: the {self.model} comes in {sizes} GB and "
            f"'{self.kind}' does not say which"
        )


def _requested(args: SlurmArgs) -> GpuRequest | None:
    """The GPUs per node a job asks for: its gres and gpus, else its own #SBATCH lines."""
    found = gres_gpus(args.gres) if args.gres else None
    if found is None:
        for spec in _SBATCH_GPUS.findall(args.script or ""):
            if found := gres_gpus(spec):
                break
    if args.gpus is not None:
        return GpuRequest(args.gpus, found.kind if found else None)
    return found


async def _partition_kind(args: SlurmArgs, ctx: ToolContext) -> str | None:
    """The GPU type the partition's nodes have (`sinfo -o %G`), or None (no GPUs listed, or
    the cluster did not answer). Of a partition with several, the one with the most memory:
    a job is refused only when no GPU it may get could hold it."""
    if not args.partition:
        return None
    try:
        out = await commands.run(ctx.settings, ["sinfo", "-h", "-p", args.partition, "-o", "%G"])
    except ToolError:
        return None
    kinds = [found.kind for line in out.split() if (found := gres_gpus(line)) and found.kind]

    def most(kind: str) -> float:
        known = gpu_memory(kind)
        return known.gb if known else 0.0

    return max(kinds, key=most) if kinds else None


async def job_gpus(args: SlurmArgs, ctx: ToolContext) -> JobGpus | None:
    """The job's GPUs; None when it asks for none."""
    request = _requested(args)
    if request is None or request.count < 1:
        return None
    kind = request.kind or await _partition_kind(args, ctx)
    count = request.count * args.nodes
    found = gpu_memory(kind) if kind else None
    setting = ctx.settings.slurm.gpu_memory_gb
    model = found.model if found else None
    if found is None or (found.assumed and setting is not None):
        return JobGpus(count, kind, setting, model, nodes=args.nodes)
    return JobGpus(count, kind, found.gb, model, found.assumed, args.nodes)


def job_code(args: SlurmArgs, ctx: ToolContext) -> str:
    """The job's script or command, with the local Python files it runs (their settings are
    what the estimate reads). Over ssh the files are on the cluster and not read."""
    code = args.script or args.command or ""
    if ctx.settings.slurm.host:
        return code
    base = Path(ctx.cwd) / (args.workdir or "")
    texts = [code]
    for name in dict.fromkeys(_PY_FILE.findall(code)):
        path = base / name
        try:
            if path.is_file() and path.stat().st_size <= _MAX_SCRIPT_BYTES:
                texts.append(path.read_text(errors="replace"))
        except OSError:
            continue
    return "\n".join(texts)


async def size(args: SlurmArgs, ctx: ToolContext) -> str | None:
    """The sizing part of a submission's approval line (None: the job neither trains nor
    serves a model); a ToolError when the run cannot fit the job's GPUs."""
    plan = read_plan(job_code(args, ctx))
    if plan is None:
        return None
    if plan.model_id is None:
        return "memory not estimated (no model id found in the job's code)"
    try:
        shape = await model_shape(ctx.settings, plan.model_id)
    except ToolError as exc:
        return f"memory not estimated ({str(exc).rstrip('.')})"
    run = sized(plan, plan.model_id, shape)
    gpus = await job_gpus(args, ctx)
    if gpus is None:
        return (
            f"~{gb(run.need)} of GPU memory needed ({describe(run)}), but the job asks for "
            "no GPU (set gpus or gres)"
        )
    if gpus.memory_gb is None:
        line = (
            f"~{gb(run.need)} of GPU memory needed on {gpus.label()} ({describe(run)}); "
            "GPU memory unknown (name the type in gres, e.g. gpu:a100:1, or set "
            "slurm.gpu_memory_gb)"
        )
        return line + await _time(run, gpus, args, ctx)
    smallest = checkpointed(run)
    if not fits(smallest.need, gpus.memory_gb, gpus.count):
        raise ToolError(_refusal(smallest, gpus))
    total = gpus.memory_gb * gpus.count
    line = (
        f"memory ~{gb(run.need)} of {total:g} GB on {gpus.label()} ({gpus.each()}) "
        f"({describe(run)})"
    )
    if not fits(run.need, gpus.memory_gb, gpus.count):
        line += (
            f"; more than {gpus.label()} have unless gradient checkpointing is on "
            f"(~{gb(smallest.need)} with it)"
        )
    return line + await _time(run, gpus, args, ctx)


async def _time(run: Sized, gpus: JobGpus, args: SlurmArgs, ctx: ToolContext) -> str:
    """The expected run time against the time limit, as the line's last part."""
    plan = run.plan
    if plan.work.mode == "serve":
        return "; a server runs until its time limit"
    rows = None
    if plan.max_steps is None:
        rows = await dataset_rows(ctx.settings, plan.dataset_id)
    counted = count_steps(plan, rows, gpus.count)
    if counted is None:
        return "; expected time unknown (epochs over an unknown dataset size)"
    steps, how = counted
    tokens = tokens_of(plan, steps, gpus.count)
    seconds = train_seconds(run.shape.params, tokens, gpus.model, gpus.count)
    if seconds is None:
        kind = gpus.kind or "an unnamed GPU type"
        return f"; expected time not estimated (no throughput figure for {kind})"
    try:
        limit = limit_seconds(args.time or "")
    except ToolError:
        limit = None
    text = f"; expected ~{human_duration(seconds)}"
    if limit is not None:
        text += f" of the {human_duration(limit)} time limit"
    text += f" ({how}, {tokens / 1e6:.1f}M tokens; rough)"
    if limit is not None and seconds > limit:
        text += (
            ", longer than the time limit: Slurm will kill the job before it ends. Raise time, "
            "or save checkpoints as it goes (save_steps) and resume the killed job from the "
            "last one"
        )
    return text


def _refusal(run: Sized, gpus: JobGpus) -> str:
    """Not queued, with the numbers and the GPUs that would hold the run."""
    assert gpus.memory_gb is not None
    text = (
        f"Not queued: {needs(run)}, and the job's {gpus.label()} "
        f"({gpus.each()}) {'have' if gpus.count > 1 else 'has'} "
        f"{gpus.memory_gb * gpus.count:g} GB."
    )
    return text + _would_fit(run.need, gpus) + ADVICE


def _would_fit(need: float, gpus: JobGpus) -> str:
    """The count of the job's GPU type that would hold `need` bytes sharded, and the
    fewest common GPUs on one node that would."""
    assert gpus.memory_gb is not None
    same = math.ceil(need / (gpus.memory_gb * GB))
    text = f" It would fit on {same} x {gpus.kind or 'such GPUs'}"
    if same > GPUS_PER_NODE:
        text += f" ({math.ceil(same / GPUS_PER_NODE)} nodes of {GPUS_PER_NODE})"
    text += ", the model sharded across them (FSDP or DeepSpeed ZeRO-3)"
    one_node = [
        (count, model.memory_gb[-1], model.name)
        for model in GPU_MODELS.values()
        for count in range(1, GPUS_PER_NODE + 1)
        if fits(need, model.memory_gb[-1], count)
    ]
    if same <= GPUS_PER_NODE or not one_node:
        return text + (
            "." if same <= GPUS_PER_NODE else f"; no node of {GPUS_PER_NODE} common GPUs holds it."
        )
    count, memory_gb, name = min(one_node)
    return text + f"; on one node: {count} x {name} ({memory_gb:g} GB each)."


lines = SizingLines()  # sizing lines waiting for their approval text
