"""The words of a sizing, shared by every backend that sizes a run before it starts (HF
Jobs, Slurm): what the run is, what its memory is made of, how many steps it takes. Each
backend says against what hardware, and what to do when it does not fit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from pydantic import BaseModel

from agent.compute.estimate import ModelShape, gb, memory
from agent.compute.script import RunPlan

MODES = {
    "full": "full fine-tuning",
    "lora": "LoRA fine-tuning",
    "qlora": "QLoRA fine-tuning",
    "serve": "serving",
}
DEFAULT_EPOCHS = 3.0  # the Trainer's num_train_epochs when a script sets neither it nor max_steps
ADVICE = (
    " Or make the run smaller (LoRA or QLoRA, a smaller batch with gradient accumulation, "
    "gradient checkpointing, shorter sequences), after asking the user."
)


@dataclass(frozen=True)
class Sized:
    """A run that was estimated: its plan, its model's shape and the memory it needs."""

    plan: RunPlan
    model_id: str
    shape: ModelShape
    need: float


def sized(plan: RunPlan, model_id: str, shape: ModelShape) -> Sized:
    return Sized(plan, model_id, shape, memory(shape, plan.work).total)


def checkpointed(run: Sized) -> Sized:
    """The run with gradient checkpointing on: the least memory it can take. A run is
    refused only when even this does not fit, since a trainer's own default may turn
    checkpointing on where the script does not say."""
    least = replace(run.plan, work=replace(run.plan.work, gradient_checkpointing=True))
    return sized(least, run.model_id, run.shape)


def describe(run: Sized) -> str:
    """'LoRA fine-tuning of org/model (7.0B parameters, bf16, batch 4 x 2048 tokens)'."""
    work = run.plan.work
    return (
        f"{MODES[work.mode]} of {run.model_id} ({run.shape.params / 1e9:.1f}B parameters, "
        f"{work.precision}, batch {work.batch} x {work.seq_len} tokens)"
    )


def needs(run: Sized) -> str:
    """'full fine-tuning of ... needs about 1262 GB of GPU memory (weights 140 GB, ...)'."""
    parts = memory(run.shape, run.plan.work)
    varying = "KV cache" if run.plan.work.mode == "serve" else "activations"
    breakdown = f"weights {gb(parts.weights)}"
    if parts.training_state:
        breakdown += f", gradients and optimizer states {gb(parts.training_state)}"
    breakdown += f", {varying} {gb(parts.activations)}"
    return f"{describe(run)} needs about {gb(run.need)} of GPU memory ({breakdown})"


def count_steps(plan: RunPlan, rows: int | None, gpus: int) -> tuple[int, str] | None:
    """The optimizer steps of a run on `gpus` data-parallel GPUs and how they were found;
    None when unknown."""
    if plan.max_steps is not None:
        return plan.max_steps, f"{plan.max_steps} steps"
    if rows is None:
        return None
    epochs = plan.epochs or DEFAULT_EPOCHS
    per_step = plan.work.batch * plan.grad_accum * max(gpus, 1)
    steps = math.ceil(epochs * math.ceil(rows / per_step))
    default = "" if plan.epochs else ", the Trainer's default"
    return steps, f"{epochs:g} epochs{default} of {rows:,} rows = {steps:,} steps"


def tokens_of(plan: RunPlan, steps: int, gpus: int) -> int:
    """Tokens a training run processes: steps x batch x accumulation x sequence x GPUs."""
    return steps * plan.work.batch * plan.grad_accum * plan.work.seq_len * max(gpus, 1)


class SizingLines:
    """Each launch's sizing line, kept from the check before approval for the approval's
    text (asked for right after), keyed by the launch's arguments; a few dozen at most."""

    MOST = 64

    def __init__(self) -> None:
        self._lines: dict[str, str] = {}

    def remember(self, args: BaseModel, line: str | None) -> None:
        key = args.model_dump_json()
        if line is None:
            self._lines.pop(key, None)
            return
        if len(self._lines) >= self.MOST:
            self._lines.clear()
        self._lines[key] = line

    def remembered(self, args: BaseModel) -> str | None:
        return self._lines.get(args.model_dump_json())
