"""A Slurm job that trains a model is sized before anyone approves it, through the real CLI:
its memory against the GPUs it asks for, its expected run time against its time limit, and
a run that cannot fit is refused with the GPUs that would hold it. Nothing is submitted, so
no cluster is needed except where the partition's GRES is asked of one."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.fakes import llm_server as llm
from tests.fakes.hub_jobs import JobsHub

LLAMA_7B = {"hidden_size": 4096, "num_hidden_layers": 32, "num_attention_heads": 32}
LLAMA_70B = {
    "hidden_size": 8192,
    "num_hidden_layers": 80,
    "num_attention_heads": 64,
    "num_key_value_heads": 8,
}
LORA_7B = """\
from trl import SFTConfig, SFTTrainer
config = SFTConfig(output_dir="out", per_device_train_batch_size=4, max_length=2048,
                   gradient_checkpointing=True, bf16=True, max_steps=200,
                   use_peft=True, push_to_hub=True, hub_model_id="me/llama-lora")
SFTTrainer(model="acme/llama-7b", args=config).train()
"""
FULL_70B = """\
from transformers import Trainer, TrainingArguments, AutoModelForCausalLM
model = AutoModelForCausalLM.from_pretrained("acme/llama-70b", torch_dtype="bfloat16")
args = TrainingArguments("out", bf16=True, per_device_train_batch_size=1, max_steps=10,
                         gradient_checkpointing=True, push_to_hub=True)
Trainer(model=model, args=args).train()
"""


@pytest.fixture
def hub(monkeypatch):
    with JobsHub() as fake:
        monkeypatch.setenv("HF_ENDPOINT", fake.url)
        monkeypatch.setenv("HF_TOKEN", "hf_test")
        monkeypatch.setenv("ML_INTERN_SHARE_TRACES", "false")
        for repo_id, params, config in (
            ("acme/llama-7b", 7_000_000_000, LLAMA_7B),
            ("acme/llama-70b", 70_000_000_000, LLAMA_70B),
        ):
            fake.add_repo(
                repo_id,
                files={"config.json": json.dumps({"model_type": "llama", **config})},
                safetensors={"parameters": {"BF16": params}, "total": params},
            )
        yield fake


def configure(**slurm: object) -> None:
    """Offer slurm_jobs whatever is installed here, with these settings."""
    path = Path(os.environ["XDG_CONFIG_HOME"]) / "ml-intern" / "cli_agent_config.json"
    settings = json.loads(path.read_text())
    settings["slurm"] = {"enabled": True, **slurm}
    path.write_text(json.dumps(settings))


def python_job(script: str, **settings: object) -> dict:
    """A submission whose batch script runs `script` with Python."""
    body = f"#!/bin/bash\npython - <<'EOF'\n{script}EOF\n"
    return {"operation": "run", "partition": "gpu", "script": body, **settings}


def outputs(result) -> list[str]:
    return [e["content"] for e in result.lines() if e["type"] == "tool_output"]


def test_a_70b_full_fine_tune_on_one_24_gb_gpu_is_refused_before_approval(cli, fake_llm, hub):
    configure()
    call = python_job(FULL_70B, gres="gpu:a10g:1", time="12:00:00")
    fake_llm.script(llm.tool_call("slurm_jobs", call), llm.text("Too big."))
    result = cli("-o", "stream-json", "--yolo", "fully fine-tune llama 70b on the cluster")
    assert result.exit_code == 0, result.stderr
    (refusal,) = outputs(result)
    # 70e9 x (2 weights + 16 gradients, Adam and fp32 master) + checkpointed activations
    assert refusal.startswith(
        "Not queued: full fine-tuning of acme/llama-70b (70.0B parameters, bf16, batch 1 x "
        "1024 tokens) needs about 1262 GB of GPU memory (weights 140 GB, gradients and "
        "optimizer states 1120 GB, activations 1.3 GB), and the job's 1 x a10g (24 GB each) "
        "has 24 GB."
    ), refusal
    # 1262 GB / 24 GB = 53 GPUs; on one node, 7 x 192 GB is the fewest that hold it
    assert "It would fit on 53 x a10g (7 nodes of 8), the model sharded" in refusal
    assert "on one node: 7 x MI300X (192 GB each)" in refusal
    assert "LoRA or QLoRA" in refusal
    assert not [e for e in result.lines() if e["type"] == "approval_required"]


def test_the_approval_line_shows_memory_and_time_against_the_jobs_gpus_and_limit(
    cli, fake_llm, hub, isolated_env
):
    configure()
    (isolated_env / "train.py").write_text(LORA_7B)
    lora = python_job(LORA_7B, gres="gpu:a100:1", time="4:00:00")
    short = python_job(LORA_7B, gres="gpu:a100_80gb:2", time="5")
    by_file = {
        "operation": "run",
        "partition": "gpu",
        "command": "python train.py",
        "gres": "gpu:mystery:1",
        "time": "1:00:00",
    }
    nodes = python_job(LORA_7B, nodes=2, gpus=4, gres="gpu:h100", time="1:00:00")
    fake_llm.script(
        llm.tool_call("slurm_jobs", lora),
        llm.tool_call("slurm_jobs", short),
        llm.tool_call("slurm_jobs", by_file),
        llm.tool_call("slurm_jobs", nodes),
        llm.text("Asked."),
    )
    result = cli("-o", "stream-json", "--approval-mode", "deny", "fine-tune llama with LoRA")
    assert result.exit_code == 0, result.stderr
    line, over, unknown, two_nodes = outputs(result)
    assert "needs approval (submits a Slurm job (partition gpu, gpu:a100:1, time limit" in line
    # 14 GB of bf16 weights + 0.27 GB of adapters and their Adam states + 2.1 GB activations
    assert (
        "memory ~16.4 GB of 40 GB on 1 x a100 (40 GB each assumed: the A100 comes in 40 and "
        "80 GB and 'a100' does not say which) (LoRA fine-tuning of acme/llama-7b (7.0B "
        "parameters, bf16, batch 4 x 2048 tokens))" in line
    ), line
    # 200 steps x 4 x 2048 tokens x 6 x 7e9 FLOPs at 35% of an A100's 312 TFLOPS: 630 s
    assert "expected ~10m 30s of the 4h 00m time limit (200 steps, 1.6M tokens; rough)" in line
    assert "longer than the time limit" not in line
    # two GPUs: twice the tokens in the same time, which the 5-minute limit does not hold
    assert "memory ~16.4 GB of 160 GB on 2 x a100_80gb (80 GB each)" in over, over
    assert "expected ~10m 30s of the 5m 00s time limit (200 steps, 3.3M tokens; rough)" in over
    assert "longer than the time limit: Slurm will kill the job before it ends" in over
    assert "resume the killed job from the last one" in over
    # the settings are read from the script the command runs; the type is not in the table
    assert "~16.4 GB of GPU memory needed on 1 x mystery (LoRA fine-tuning" in unknown, unknown
    assert "GPU memory unknown (name the type in gres" in unknown
    assert "slurm.gpu_memory_gb" in unknown
    # 4 GPUs per node on 2 nodes: 8 x 80 GB, and 8 x the tokens at 989 TFLOPS each: 199 s
    assert "memory ~16.4 GB of 640 GB on 8 x h100 over 2 nodes (80 GB each)" in two_nodes
    assert "expected ~3m 18s of the 1h 00m time limit (200 steps, 13.1M tokens" in two_nodes


def test_the_partitions_gres_and_then_the_setting_give_the_gpu_memory(cli, fake_llm, hub, slurm):
    # the test cluster's partition lists no GPUs, so the setting says what one GPU holds
    configure(gpu_memory_gb=12)
    call = {**python_job(LORA_7B, gpus=1, time="4:00:00"), "partition": "debug"}
    a100 = {**call, "gres": "gpu:a100:1"}  # 40 or 80 GB: the setting says which
    fake_llm.script(
        llm.tool_call("slurm_jobs", call), llm.tool_call("slurm_jobs", a100), llm.text("Too big.")
    )
    result = cli("-o", "stream-json", "--yolo", "fine-tune llama with LoRA")
    assert result.exit_code == 0, result.stderr
    refusal, ambiguous = outputs(result)
    assert "needs about 16.4 GB of GPU memory" in refusal, refusal
    assert "and the job's 1 x GPU (12 GB each) has 12 GB" in refusal
    assert "It would fit on 2 x such GPUs, the model sharded" in refusal
    assert "and the job's 1 x a100 (12 GB each) has 12 GB" in ambiguous, ambiguous
