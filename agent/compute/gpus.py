"""Common datacenter GPUs: their memory and dense bf16 peak, and which of them a Slurm GRES
names (`gpu:a100:2`, `a100:2`, `h100`, `gpu:a100-80g:4`).

One table, so that memory (does the run fit) and throughput (how long will it take) agree on
what a GPU is. A model sold with several memory sizes (A100 40 and 80 GB, V100 16 and 32 GB)
is taken at the size its GRES type spells (`a100-80g`, `a100_80gb`, `a100-sxm4-80gb`), else
at its smallest, and the estimate says it assumed so: an estimate that errs small refuses
nothing it should not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class GpuModel:
    """A GPU model: its memory sizes in GB (smallest first) and dense bf16 peak in TFLOPS
    (fp16 for GPUs without bf16), None when not listed."""

    name: str
    memory_gb: tuple[float, ...]
    peak_tflops: float | None


GPU_MODELS = {
    model.name: model
    for model in (
        GpuModel("T4", (16,), 65.0),
        GpuModel("V100", (16, 32), 125.0),
        GpuModel("L4", (24,), 121.0),
        GpuModel("A10G", (24,), 70.0),
        GpuModel("A10", (24,), 125.0),
        GpuModel("A30", (24,), 165.0),
        GpuModel("A40", (48,), 150.0),
        GpuModel("A6000", (48,), 155.0),
        GpuModel("L40", (48,), 181.0),
        GpuModel("L40S", (48,), 362.0),
        GpuModel("A100", (40, 80), 312.0),
        GpuModel("H100", (80,), 989.0),
        GpuModel("H200", (141,), 989.0),
        GpuModel("GH200", (96, 144), 989.0),
        GpuModel("B200", (180,), 2250.0),
        GpuModel("MI250X", (128,), 383.0),
        GpuModel("MI300X", (192,), 1307.0),
    )
}
# Longest first, so that "a100" is not read as "a10" nor "l40s" as "l40".
_BY_LENGTH = sorted(GPU_MODELS, key=len, reverse=True)
_SIZE = re.compile(r"(\d{2,3})\s*g(?:b)?\b")


@dataclass(frozen=True)
class GpuRequest:
    """GPUs a job asks for: how many per node, and of which type as the cluster spells it
    (None: any type)."""

    count: int
    kind: str | None


@dataclass(frozen=True)
class GpuMemory:
    """One GPU's memory as the estimate takes it; `assumed` when the type is sold in several
    sizes and its name does not say which."""

    model: str
    gb: float
    assumed: bool


def gres_gpus(spec: str) -> GpuRequest | None:
    """The GPUs in a GRES or --gpus spelling: `gpu:a100:2`, `gpu:2`, `gpu`, `a100:2`,
    `h100`, `2`, or a comma-separated list with one gpu entry; None when it has none."""
    for part in spec.split(","):
        words = [w for w in part.strip().split("(")[0].split(":") if w]
        if not words:
            continue
        if words[0].lower() == "gpu":
            words = words[1:]
        elif not words[0].isdigit() and model_of(words[0]) is None:
            continue  # another resource (shard, license, ...)
        count = 1
        if words and words[-1].isdigit():
            count = int(words.pop())
        return GpuRequest(count, words[0] if words else None)
    return None


def model_of(kind: str) -> GpuModel | None:
    """The table's model a GRES type names (`a100-80g` -> A100), or None."""
    lowered = kind.lower()
    for name in _BY_LENGTH:
        if lowered.startswith(name.lower()) or f"_{name.lower()}" in lowered:
            return GPU_MODELS[name]
    return None


def gpu_memory(kind: str) -> GpuMemory | None:
    """One GPU's memory for a GRES type, or None for a type the table does not know."""
    model = model_of(kind)
    if model is None:
        return None
    sizes = model.memory_gb
    spelled = [float(m.group(1)) for m in _SIZE.finditer(kind.lower())]
    named = [size for size in spelled if size in sizes]
    if named:
        return GpuMemory(model.name, named[0], False)
    return GpuMemory(model.name, sizes[0], len(sizes) > 1)
