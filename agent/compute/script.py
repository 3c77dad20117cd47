"""What a job's script or command says about the model run: which model, how it is trained
or served, batch, sequence length, precision, how long (steps, or epochs over a named
dataset) and where it pushes its checkpoints.

Read from the text only (TRL and transformers command-line flags, and the keyword
arguments of TrainingArguments, SFTConfig and from_pretrained in a Python script), never
run, so a value the script computes at run time is not seen and the default is used.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from agent.compute.estimate import Mode, Precision, Workload

_ID = r"[A-Za-z0-9][\w.-]*/[\w.-]*[A-Za-z0-9]"
_MODEL_PATTERNS = [
    rf"--model[_-]name[_-]or[_-]path[= ]+['\"]?({_ID})",
    rf"\bmodel_name_or_path\s*=\s*['\"]({_ID})['\"]",
    rf"\bvllm\s+serve\s+({_ID})",
    rf"--model(?:[_-]id)?[= ]+['\"]?({_ID})",
    rf"from_pretrained\(\s*['\"]({_ID})['\"]",
    rf"\bmodel\s*=\s*['\"]({_ID})['\"]",
    rf"\b[A-Z_]*MODEL[A-Z_]*\s*=\s*['\"]({_ID})['\"]",
]
_DATASET_PATTERNS = [
    rf"--dataset[_-]name[= ]+['\"]?({_ID})",
    rf"\bdataset_name\s*=\s*['\"]({_ID})['\"]",
    rf"load_dataset\(\s*['\"]({_ID})['\"]",
    rf"\b[A-Z_]*DATASET[A-Z_]*\s*=\s*['\"]({_ID})['\"]",
]
_HUB_MODEL_ID = re.compile(rf"(?:--|\b)hub[_-]model[_-]id(?:\s*=\s*|\s+)['\"]?({_ID})")
_OUTPUT_DIR = re.compile(
    r"(?:--|\b)output[_-]dir(?:\s*=\s*|\s+)['\"]?([\w./-]+)|TrainingArguments\(\s*['\"]([\w./-]+)"
)
_SERVES = re.compile(
    r"\bvllm\s+serve\b|text-generation-launcher|sglang\.launch_server|\bLLM\(|vllm\.entrypoints"
)
_TRAINS = re.compile(r"\b\w*Trainer\s*\(|\.train\s*\(|\btrl\s+(sft|dpo|grpo|kto|reward)\b")


@dataclass(frozen=True)
class RunPlan:
    """The model run a script describes; `max_steps` and `grad_accum` give the tokens a
    training run processes (None: the script does not say); without max_steps, `epochs`
    over the rows of `dataset_id` do."""

    model_id: str | None
    work: Workload
    max_steps: int | None
    grad_accum: int
    epochs: float | None = None
    dataset_id: str | None = None


def trains(code: str) -> bool:
    """Whether the code runs a Trainer (transformers, TRL) or the TRL command line."""
    return bool(_TRAINS.search(code))


def _setting(code: str, *names: str) -> str | None:
    """The value of the first of `names` set as a flag (`--name value`, `--name=value`) or a
    keyword argument (`name=value`) in `code`."""
    for name in names:
        spelled = name.replace("_", "[_-]")
        match = re.search(rf"(?:--|\b){spelled}(?:\s*=\s*|\s+)['\"]?([\w.]+)", code)
        if match:
            return match.group(1)
    return None


def _number(code: str, *names: str) -> int | None:
    value = _setting(code, *names)
    try:
        return int(float(value)) if value is not None else None
    except ValueError:
        return None


def _real(code: str, *names: str) -> float | None:
    value = _setting(code, *names)
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _flag(code: str, name: str) -> bool:
    value = _setting(code, name)
    if value is not None:
        return value.lower() in ("true", "1", "yes")
    return bool(re.search(rf"--{name.replace('_', '[_-]')}(?:\s|$)", code))


def _lora_config_r(code: str) -> int | None:
    match = re.search(r"LoraConfig\([^)]*?\br\s*=\s*(\d+)", code, re.S)
    return int(match.group(1)) if match else None


def model_id(code: str) -> str | None:
    for pattern in _MODEL_PATTERNS:
        if match := re.search(pattern, code):
            return match.group(1)
    return None


def dataset_id(code: str) -> str | None:
    """The Hub dataset the code trains on, when it names one."""
    for pattern in _DATASET_PATTERNS:
        if match := re.search(pattern, code):
            return match.group(1)
    return None


def output_repo(code: str) -> str | None:
    """Where a Trainer pushes: its hub_model_id, else its output folder's name (which the
    Trainer pushes under the token's account); None when the code names neither."""
    if match := _HUB_MODEL_ID.search(code):
        return match.group(1)
    if match := _OUTPUT_DIR.search(code):
        name = (match.group(1) or match.group(2)).rstrip("/").rsplit("/", 1)[-1]
        return name if name not in ("", ".", "..") else None
    return None


def mode_of(code: str) -> Mode | None:
    """Full fine-tune, LoRA, QLoRA or serving; None when the code neither trains nor serves."""
    if _SERVES.search(code):
        return "serve"
    if not trains(code):
        return None
    four_bit = _flag(code, "load_in_4bit") or ("BitsAndBytesConfig(" in code and "4bit" in code)
    if four_bit:
        return "qlora"
    if _flag(code, "use_peft") or re.search(r"LoraConfig\(|lora_r\b|get_peft_model", code):
        return "lora"
    return "full"


def _precision(code: str, mode: Mode) -> Precision:
    if _flag(code, "bf16") or "bfloat16" in code:
        return "bf16"
    if _flag(code, "fp16") or "float16" in code:
        return "fp16"
    return "bf16" if mode == "serve" else "fp32"


def read_plan(code: str) -> RunPlan | None:
    """The run `code` describes, or None when it neither trains nor serves a model."""
    mode = mode_of(code)
    if mode is None:
        return None
    seq = _number(
        code,
        "max_seq_length",
        "max_length",
        "max_model_len",
        "max_input_length",
        "max_total_tokens",
    )
    batch = _number(code, "per_device_train_batch_size", "max_num_seqs", "batch_size")
    work = Workload(
        mode=mode,
        precision=_precision(code, mode),
        batch=batch or (1 if mode == "serve" else 8),
        seq_len=seq or (4096 if mode == "serve" else 1024),
        gradient_checkpointing=_flag(code, "gradient_checkpointing"),
        lora_r=_number(code, "lora_r", "lora_rank") or _lora_config_r(code) or 16,
    )
    return RunPlan(
        model_id(code),
        work,
        _number(code, "max_steps"),
        _number(code, "gradient_accumulation_steps") or 1,
        _real(code, "num_train_epochs"),
        dataset_id(code),
    )
