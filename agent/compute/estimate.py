"""How much GPU memory, time and money a training or serving run needs, before it starts.

Pure arithmetic, no I/O: the job tools (HF Jobs today, a cluster scheduler later) read the
model's shape from the Hub and the run's settings from its script, and ask this module
whether it fits the chosen hardware. The figures are rough on purpose (a few formulas that
people check by hand), and they leave out fixed overheads (CUDA context, allocator
fragmentation, the logits of a large vocabulary), so an estimate above the hardware's
memory is a safe reason to refuse, and one below it is no promise.

Memory, in bytes, with P parameters (GB below means 10^9 bytes, as GPU memory is sold):

- weights: P x bytes per parameter of the precision the model is held in (fp32 4, bf16 or
  fp16 2, 8-bit 1, 4-bit 0.5);
- full fine-tuning with AdamW adds, per trainable parameter, 4 bytes of gradients (kept in
  fp32) and 8 bytes of optimizer states (two fp32 moments). In mixed precision (bf16/fp16)
  the optimizer also keeps a 4-byte fp32 master copy beside the 2-byte half copy, so a
  mixed-precision full fine-tune costs 2 + 4 + 4 + 8 = 18 bytes per parameter, and an fp32
  one 4 + 4 + 8 = 16;
- LoRA freezes the base (held in bf16, or in 4 bits for QLoRA) and trains two small
  matrices per adapted projection: r x (d_in + d_out) parameters each. We adapt the four
  attention projections of every layer (q, k, v, o: d_in = d_out = hidden size), so the
  trainable share is layers x 4 x r x 2 x hidden, and each trainable parameter costs
  4 (fp32 weight) + 4 (gradient) + 8 (Adam) = 16 bytes;
- activations kept for the backward pass, per layer, about 34 x batch x sequence x hidden
  bytes in 16-bit (attention computed by a fused kernel, so no sequence-squared term);
  with gradient checkpointing only each layer's input is kept: 2 x batch x sequence x
  hidden bytes per layer;
- serving: the weights plus the KV cache, 2 (keys and values) x layers x key-value heads x
  head size x sequence x batch x 2 bytes (16-bit cache).

Time: training takes about 6 x P floating-point operations per token (forward and
backward); we assume a GPU sustains 35% of its dense bf16 peak. That makes the expected
cost a rough figure, to compare with the worst case (price per hour x timeout).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from agent.compute.gpus import GPU_MODELS

GB = 1e9
Mode = Literal["full", "lora", "qlora", "serve"]
Precision = Literal["fp32", "bf16", "fp16"]

BYTES_PER_PARAM = {"fp32": 4.0, "bf16": 2.0, "fp16": 2.0, "int8": 1.0, "int4": 0.5}
ADAM_STATE_BYTES = 8.0  # two fp32 moments
GRADIENT_BYTES = 4.0  # gradients kept in fp32
MASTER_WEIGHT_BYTES = 4.0  # the fp32 copy mixed precision keeps for the update
LORA_TRAINABLE_BYTES = 4.0 + GRADIENT_BYTES + ADAM_STATE_BYTES
ACTIVATION_BYTES_PER_LAYER = 34.0  # x batch x sequence x hidden, 16-bit, fused attention
CHECKPOINTED_BYTES_PER_LAYER = 2.0  # only each layer's input is kept
KV_BYTES = 2.0  # a 16-bit cache
FLOPS_PER_PARAM_TOKEN = 6.0  # forward (2) and backward (4)
UTILISATION = 0.35  # share of the dense peak a training run sustains, roughly

# Dense bf16 peak, in teraFLOPS per GPU, by the model name the Hub gives (agent.compute.gpus).
PEAK_TFLOPS = {name: gpu.peak_tflops for name, gpu in GPU_MODELS.items() if gpu.peak_tflops}


@dataclass(frozen=True)
class ModelShape:
    """What the estimate needs of a model: its size and the shape of its layers."""

    params: float
    hidden: int
    layers: int
    heads: int
    kv_heads: int
    head_dim: int | None = None

    @property
    def head_size(self) -> int:
        return self.head_dim or self.hidden // max(self.heads, 1)


@dataclass(frozen=True)
class Workload:
    """How the model is used: trained fully, with LoRA or QLoRA, or served."""

    mode: Mode
    precision: Precision = "bf16"
    batch: int = 1
    seq_len: int = 1024
    gradient_checkpointing: bool = False
    lora_r: int = 16


@dataclass(frozen=True)
class Memory:
    """An estimate's parts in bytes: model state (weights, gradients, optimizer) and the
    part that grows with batch and sequence (activations, or the KV cache when serving)."""

    weights: float
    training_state: float
    activations: float

    @property
    def total(self) -> float:
        return self.weights + self.training_state + self.activations


def lora_params(shape: ModelShape, r: int) -> float:
    """Trainable parameters of LoRA on the four attention projections of every layer."""
    return shape.layers * 4 * r * 2 * shape.hidden


def activation_bytes(shape: ModelShape, work: Workload) -> float:
    per_layer = (
        CHECKPOINTED_BYTES_PER_LAYER if work.gradient_checkpointing else ACTIVATION_BYTES_PER_LAYER
    )
    return per_layer * work.batch * work.seq_len * shape.hidden * shape.layers


def kv_cache_bytes(shape: ModelShape, batch: int, seq_len: int) -> float:
    return 2 * shape.layers * shape.kv_heads * shape.head_size * seq_len * batch * KV_BYTES


def memory(shape: ModelShape, work: Workload) -> Memory:
    """GPU memory of `work` on a model of `shape`, by the formulas in this module's doc."""
    p = shape.params
    if work.mode == "serve":
        weights = p * BYTES_PER_PARAM[work.precision]
        return Memory(weights, 0.0, kv_cache_bytes(shape, work.batch, work.seq_len))
    activations = activation_bytes(shape, work)
    if work.mode == "full":
        mixed = work.precision != "fp32"
        weights = p * BYTES_PER_PARAM[work.precision]
        state = p * (GRADIENT_BYTES + ADAM_STATE_BYTES + (MASTER_WEIGHT_BYTES if mixed else 0.0))
        return Memory(weights, state, activations)
    base = BYTES_PER_PARAM["int4" if work.mode == "qlora" else "bf16"]
    state = lora_params(shape, work.lora_r) * LORA_TRAINABLE_BYTES
    return Memory(p * base, state, activations)


def train_seconds(params: float, tokens: float, gpu: str | None, gpus: int) -> float | None:
    """Rough run time of training `params` on `tokens` on `gpus` GPUs of model `gpu`; None
    when the GPU's throughput is not known."""
    peak = PEAK_TFLOPS.get((gpu or "").upper())
    if peak is None or gpus < 1:
        return None
    return FLOPS_PER_PARAM_TOKEN * params * tokens / (gpus * peak * 1e12 * UTILISATION)


def fits(need: float, gpu_memory_gb: float, gpus: int) -> bool:
    """Whether `need` bytes fit the GPUs' memory added up (sharded across them at best)."""
    return need <= gpu_memory_gb * GB * max(gpus, 1)


def gb(amount: float) -> str:
    """Bytes as GB for a person: one decimal below 100 GB, whole numbers above."""
    value = amount / GB
    return f"{value:.1f} GB" if value < 100 else f"{math.ceil(value)} GB"


def typical_shape(params_b: float) -> ModelShape:
    """A decoder of about `params_b` billion parameters shaped like the common open models
    (hidden size and depth growing together, grouped key-value heads), for the sizing guide."""
    hidden = {1: 2048, 3: 3072, 7: 4096, 13: 5120, 34: 7168, 70: 8192}
    layers = {1: 16, 3: 28, 7: 32, 13: 40, 34: 48, 70: 80}
    key = min(hidden, key=lambda size: abs(size - params_b))
    heads = hidden[key] // 128
    return ModelShape(params_b * 1e9, hidden[key], layers[key], heads, max(heads // 8, 1))


GUIDE_SIZES = (1, 3, 7, 13, 34, 70)
GUIDE_MODES: tuple[Mode, ...] = ("full", "lora", "qlora", "serve")


def guide_need(params_b: float, mode: Mode) -> float:
    """Memory of the sizing guide's run of `mode` on a typical model of `params_b` billion
    parameters: training in bf16 on batches of 4 x 2048 tokens with gradient checkpointing,
    serving a batch of 8 at 4096 tokens."""
    shape = typical_shape(params_b)
    if mode == "serve":
        return memory(shape, Workload("serve", "bf16", 8, 4096)).total
    return memory(shape, Workload(mode, "bf16", 4, 2048, gradient_checkpointing=True)).total


def largest_fitting(gpu_memory_gb: float, mode: Mode) -> int | None:
    """The largest of the guide's model sizes (billions) whose `mode` run fits."""
    sizes = [size for size in GUIDE_SIZES if guide_need(size, mode) <= gpu_memory_gb * GB]
    return max(sizes) if sizes else None


def sizing_guide() -> str:
    """GPU memory by model size and use, one line per size, for the model's prompt."""
    lines = []
    for size in GUIDE_SIZES:
        needs = ", ".join(f"{_LABELS[mode]} {gb(guide_need(size, mode))}" for mode in GUIDE_MODES)
        lines.append(f"{size}B: {needs}")
    return "; ".join(lines)


_LABELS = {"full": "full", "lora": "LoRA", "qlora": "QLoRA", "serve": "serving"}
