"""HF Jobs through the real CLI: the worst case is checked against the budget before launch."""

from __future__ import annotations

import json

import pytest

from tests.fakes import llm_server as llm
from tests.fakes.hub_jobs import JobsHub

LAUNCH = {
    "operation": "run",
    "command": ["python", "train.py"],
    "flavor": "a10g-large",
    "timeout": "2h",
    "image": "python:3.12",
}


@pytest.fixture
def hub(monkeypatch):
    with JobsHub() as fake:
        monkeypatch.setenv("HF_ENDPOINT", fake.url)
        monkeypatch.setenv("HF_TOKEN", "hf_test")
        monkeypatch.setenv("ML_INTERN_SHARE_TRACES", "false")
        yield fake


def test_a_launch_the_budget_does_not_cover_is_refused_headless(cli, fake_llm, hub):
    fake_llm.script(llm.tool_call("hf_jobs", LAUNCH), llm.text("Could not launch."))
    result = cli("-o", "stream-json", "--max-budget-usd", "1", "train on a GPU")
    assert result.exit_code == 0, result.stderr
    refusal = fake_llm.requests[1]["messages"][-1]["content"]
    assert "Not run" in refusal
    assert "a10g-large" in refusal
    assert "--max-budget-usd does not cover it" in refusal
    assert hub.requests_to("/api/jobs/", "POST") == []


def test_a_covered_launch_runs_and_counts_against_the_budget(cli, fake_llm, hub):
    fake_llm.script(llm.tool_call("hf_jobs", LAUNCH), llm.text("Launched."))
    result = cli("-o", "json", "--no-wait", "--max-budget-usd", "10", "train on a GPU")
    assert result.exit_code == 0, result.stderr
    launched = fake_llm.requests[1]["messages"][-1]["content"]
    assert "Not run" not in launched
    assert len(hub.requests_to("/api/jobs/", "POST")) == 1
    summary = json.loads(result.stdout)
    assert summary["total_cost_usd"] == pytest.approx(3.6, abs=0.01)


def test_sandbox_tools_flag_offers_the_remote_sandbox(cli, fake_llm):
    fake_llm.script(llm.tool_call("bash", {"command": "nvidia-smi"}), llm.text("Need a sandbox."))
    result = cli("--sandbox-tools", "-o", "stream-json", "check the GPU")
    assert result.exit_code == 0, result.stderr
    tools = result.lines()[0]["tools"]
    assert "sandbox_create" in tools
    assert "bash_output" not in tools
    refusal = fake_llm.requests[1]["messages"][-1]["content"]
    assert "create one with sandbox_create" in refusal


def test_a_schedule_is_never_started_without_a_person(cli, fake_llm, hub):
    schedule = {**LAUNCH, "operation": "scheduled run", "schedule": "@daily"}
    fake_llm.script(llm.tool_call("hf_jobs", schedule), llm.text("Needs you."))
    result = cli("-o", "json", "--yolo", "--max-budget-usd", "1000", "train every day")
    assert result.exit_code == 0, result.stderr
    refusal = fake_llm.requests[1]["messages"][-1]["content"]
    assert "Not run" in refusal
    assert "no budget can cover it" in refusal
    assert "hf jobs scheduled run" in refusal
    assert hub.scheduled == {}


TRAIN_NO_PUSH = """\
from trl import SFTConfig, SFTTrainer
trainer = SFTTrainer(model="Qwen/Qwen3-0.6B", args=SFTConfig(output_dir="out"))
trainer.train()
"""


def test_a_training_job_that_would_lose_its_model_is_refused_before_approval(cli, fake_llm, hub):
    call = {"operation": "uv", "script": TRAIN_NO_PUSH, "flavor": "a10g-large", "timeout": "3h"}
    fake_llm.script(
        llm.tool_call("hf_jobs", call), llm.text("Refused: the script does not save the model.")
    )
    result = cli("-o", "stream-json", "--yolo", "fine-tune qwen")
    assert result.exit_code == 0, result.stderr
    refusal = fake_llm.requests[1]["messages"][-1]["content"]
    assert "never saves to the Hub" in refusal and "push_to_hub" in refusal
    assert not [e for e in result.lines() if e["type"] == "approval_required"]
    assert hub.requests_to("/api/jobs/", "POST") == []


def _add_model(hub: JobsHub, repo_id: str, params: int, **config: int) -> None:
    hub.add_repo(
        repo_id,
        files={"config.json": json.dumps({"model_type": "llama", **config})},
        safetensors={"parameters": {"BF16": params}, "total": params},
    )


LORA_7B = """\
from trl import SFTConfig, SFTTrainer
config = SFTConfig(output_dir="out", per_device_train_batch_size=4, max_length=2048,
                   gradient_checkpointing=True, bf16=True, max_steps=200,
                   use_peft=True, push_to_hub=True, hub_model_id="me/llama-lora")
SFTTrainer(model="acme/llama-7b", args=config).train()
"""


def test_the_approval_line_shows_memory_and_cost_of_a_training_job(cli, fake_llm, hub):
    _add_model(hub, "acme/llama-7b", 7_000_000_000, **LLAMA_7B)
    call = {"operation": "uv", "script": LORA_7B, "flavor": "a10g-large", "timeout": "3h"}
    unknown = {**call, "script": LORA_7B.replace("acme/llama-7b", "acme/not-on-the-hub")}
    unsure = {**call, "script": LORA_7B.replace("gradient_checkpointing=True,", "")}
    fake_llm.script(
        llm.tool_call("hf_jobs", call),
        llm.tool_call("hf_jobs", unknown),
        llm.tool_call("hf_jobs", unsure),
        llm.text("Asked."),
    )
    result = cli("-o", "stream-json", "--approval-mode", "deny", "fine-tune llama with LoRA")
    assert result.exit_code == 0, result.stderr
    outputs = [e["content"] for e in result.lines() if e["type"] == "tool_output"]
    line, not_sized, without_checkpointing = outputs
    assert "at $1.80/h with a timeout of 3h 00m: worst case $5.40" in line
    # 14 GB of bf16 weights + 0.27 GB of adapters and their Adam states + 2.1 GB activations
    assert "memory ~16.4 GB of 24 GB on a10g-large" in line
    assert "LoRA fine-tuning of acme/llama-7b (7.0B parameters, bf16, batch 4 x 2048" in line
    # 200 steps x 4 x 2048 tokens x 6 x 7e9 FLOPs at 35% of an A10G's 70 TFLOPS: 2,809 s
    assert "expected ~$1.40 for ~46m 48s (200 steps, 1.6M tokens; rough)" in line
    assert "needs approval (starts a Hugging Face job" in not_sized  # asked, never blocked
    assert "memory not estimated (model acme/not-on-the-hub was not found" in not_sized
    # activations 34 x 4 x 2048 x 4096 x 32 bytes without checkpointing: asked, with a warning
    assert "memory ~50.8 GB of 24 GB on a10g-large" in without_checkpointing
    assert "unless gradient checkpointing is on (~16.4 GB with it)" in without_checkpointing
    assert hub.requests_to("/api/jobs/", "POST") == []


FULL_70B = """\
from transformers import Trainer, TrainingArguments, AutoModelForCausalLM
model = AutoModelForCausalLM.from_pretrained("acme/llama-70b", torch_dtype="bfloat16")
args = TrainingArguments("out", bf16=True, per_device_train_batch_size=1, max_steps=10,
                         gradient_checkpointing=True, push_to_hub=True)
Trainer(model=model, args=args).train()
"""


def test_a_run_that_cannot_fit_is_refused_before_approval(cli, fake_llm, hub):
    _add_model(hub, "acme/llama-70b", 70_000_000_000, **LLAMA_70B)
    _add_model(hub, "acme/llama-7b", 7_000_000_000, **LLAMA_7B)
    big = {"operation": "uv", "script": FULL_70B, "flavor": "a10g-large", "timeout": "6h"}
    small = {**big, "script": FULL_70B.replace("llama-70b", "llama-7b")}
    fake_llm.script(
        llm.tool_call("hf_jobs", big), llm.tool_call("hf_jobs", small), llm.text("Too big.")
    )
    result = cli("-o", "stream-json", "--yolo", "fully fine-tune llama 70b")
    assert result.exit_code == 0, result.stderr
    first, second = (e["content"] for e in result.lines() if e["type"] == "tool_output")
    # 70e9 x (2 weights + 16 gradients, Adam and fp32 master) + 2 x 1024 x 8192 x 80 bytes
    assert first.startswith(
        "Not started: full fine-tuning of acme/llama-70b (70.0B parameters, bf16, batch 1 x "
        "1024 tokens) needs about 1262 GB of GPU memory (weights 140 GB, gradients and "
        "optimizer states 1120 GB, activations 1.3 GB), and a10g-large has 24 GB (1x A10G"
    )
    assert "No Jobs flavor has that much GPU memory" in first
    assert "needs about 127 GB" in second  # 126 GB + 0.27 GB of activations, rounded up
    assert "A flavor that fits: h200 (1x H200 (141 GB), $6.00/h" in second
    assert not [e for e in result.lines() if e["type"] == "approval_required"]
    assert hub.requests_to("/api/jobs/", "POST") == []


LLAMA_7B = {"hidden_size": 4096, "num_hidden_layers": 32, "num_attention_heads": 32}
LLAMA_70B = {
    "hidden_size": 8192,
    "num_hidden_layers": 80,
    "num_attention_heads": 64,
    "num_key_value_heads": 8,
}
