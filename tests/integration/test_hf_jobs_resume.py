"""Resuming an HF job from its last checkpoint on the Hub, and the expected cost of a run
set by epochs, through the real CLI against the fake Hub."""

from __future__ import annotations

import json

import pytest

from tests.fakes import llm_server as llm
from tests.fakes.hub_jobs import JobScript, JobsHub

TRAIN = """\
import os
from trl import SFTConfig, SFTTrainer
config = SFTConfig(output_dir="out", max_steps=1000, save_steps=100, push_to_hub=True,
                   hub_model_id="testuser/qwen-sft", hub_strategy="checkpoint")
ckpt = os.environ.get("RESUME_FROM_CHECKPOINT") or None
SFTTrainer(model="Qwen/Qwen3-0.6B", args=config).train(resume_from_checkpoint=ckpt)
"""
LAUNCH = {
    "operation": "uv",
    "script": TRAIN,
    "flavor": "a10g-large",
    "timeout": "2h",
    "env": {"WANDB_PROJECT": "qwen"},
    "secrets": {"WANDB_API_KEY": "$WANDB_API_KEY"},
}


@pytest.fixture
def hub(monkeypatch):
    with JobsHub() as fake:
        monkeypatch.setenv("HF_ENDPOINT", fake.url)
        monkeypatch.setenv("ML_INTERN_DATASETS_SERVER_URL", fake.url)
        monkeypatch.setenv("HF_TOKEN", "hf_test")
        monkeypatch.setenv("WANDB_API_KEY", "wandb-secret-value-123")
        monkeypatch.setenv("ML_INTERN_SHARE_TRACES", "false")
        yield fake


def _outputs(result) -> list[str]:
    return [e["content"] for e in result.lines() if e["type"] == "tool_output"]


def test_a_timed_out_job_resumes_from_its_last_checkpoint_on_the_hub(cli, fake_llm, hub):
    hub.scripts.append(JobScript(lines=["{'loss': 2.1}"], final=None))
    fake_llm.script(llm.tool_call("hf_jobs", LAUNCH), llm.text("Launched."))
    result = cli(
        "-o",
        "stream-json",
        "--yolo",
        "--max-budget-usd",
        "20",
        "--no-wait",
        "fine-tune qwen on a GPU",
    )
    assert result.exit_code == 0, result.stderr
    first = hub.only_job()
    hub.finish(first.id, "ERROR", "Job timeout: the job ran longer than its timeout")

    resume = {"operation": "resume", "job_id": first.id}
    # Nothing pushed yet: no silent restart, the model is told to offer a fresh run.
    hub.add_repo("testuser/qwen-sft", files={"config.json": "{}"})
    fake_llm.script(llm.tool_call("hf_jobs", resume), llm.text("No checkpoint."))
    result = cli("-o", "stream-json", "--yolo", "--max-budget-usd", "20", "resume the job")
    assert result.exit_code == 0, result.stderr
    (refusal,) = _outputs(result)
    assert f"Not resumed: job {first.id} left no checkpoint on the Hub" in refusal
    assert "testuser/qwen-sft has no last-checkpoint/ or checkpoint-N/ folder" in refusal
    assert "offer a fresh run" in refusal
    assert len(hub.jobs) == 1

    hub.repo("testuser/qwen-sft").commit(
        "main",
        "checkpoints",
        [
            {"key": "file", "value": {"path": p, "content": "e30=", "encoding": "base64"}}
            for p in (
                "checkpoint-200/trainer_state.json",
                "last-checkpoint/trainer_state.json",
                "last-checkpoint/optimizer.pt",
            )
        ],
    )
    fake_llm.script(llm.tool_call("hf_jobs", resume), llm.text("Asked."))
    result = cli("-o", "stream-json", "--approval-mode", "deny", "resume the job")
    assert result.exit_code == 0, result.stderr
    (asked,) = _outputs(result)
    assert (
        f"needs approval (resumes job {first.id} from its last checkpoint, "
        "hub://testuser/qwen-sft/last-checkpoint: starts a Hugging Face job on a10g-large at "
        "$1.80/h with a timeout of 2h 00m: worst case $3.60"
    ) in asked
    assert len(hub.jobs) == 1

    fake_llm.script(llm.tool_call("hf_jobs", resume), llm.text("Resumed."))
    result = cli(
        "-o", "stream-json", "--yolo", "--max-budget-usd", "20", "--no-wait", "resume the job"
    )
    assert result.exit_code == 0, result.stderr
    (started,) = _outputs(result)
    assert f"Resuming job {first.id} from hub://testuser/qwen-sft/last-checkpoint." in started
    second = next(job for job in hub.jobs.values() if job.id != first.id)
    assert second.spec["flavor"] == first.spec["flavor"] == "a10g-large"
    assert second.spec["timeoutSeconds"] == first.spec["timeoutSeconds"] == 7200
    assert second.spec["command"] == first.spec["command"]  # the same script
    assert second.spec["environment"] == {
        **first.spec["environment"],
        "RESUME_FROM_CHECKPOINT": "hub://testuser/qwen-sft/last-checkpoint",
    }
    assert second.spec["secrets"] == {"WANDB_API_KEY": "wandb-secret-value-123"}

    listed = cli("runs", "--json")
    assert listed.exit_code == 0, listed.stderr
    entries = {e["id"]: e for e in json.loads(listed.stdout)}
    assert entries[second.id]["resumed_from"] == first.id
    assert entries[first.id]["resumed_from"] == ""
    assert "wandb-secret-value-123" not in listed.stdout
    assert entries[first.id]["spec"]["secrets"] == {"WANDB_API_KEY": "$WANDB_API_KEY"}
    assert f"(resumes {first.id})" in cli("runs").stdout
    shown = cli("runs", second.id)
    assert f"resumed from: {first.id} (its last checkpoint)" in shown.stdout
    table = cli("runs", "--csv")
    assert f",{first.id}\r\n" in table.stdout or f",{first.id}\n" in table.stdout


LORA_EPOCHS = """\
from datasets import load_dataset
from trl import SFTConfig, SFTTrainer
data = load_dataset("acme/chat", split="train")
config = SFTConfig(output_dir="out", per_device_train_batch_size=4, max_length=2048,
                   gradient_accumulation_steps=2, gradient_checkpointing=True, bf16=True,
                   num_train_epochs=2, use_peft=True, push_to_hub=True,
                   hub_model_id="testuser/llama-lora", hub_strategy="checkpoint")
SFTTrainer(model="acme/llama-7b", args=config, train_dataset=data).train()
"""


def test_the_approval_line_prices_a_run_set_by_epochs(cli, fake_llm, hub):
    config = {"model_type": "llama", "hidden_size": 4096, "num_hidden_layers": 32}
    hub.add_repo(
        "acme/llama-7b",
        files={"config.json": json.dumps({**config, "num_attention_heads": 32})},
        safetensors={"parameters": {"BF16": 7_000_000_000}, "total": 7_000_000_000},
    )
    rows = [{"text": f"row {i}"} for i in range(1000)]
    hub.add_repo("acme/chat", "dataset", viewer={"default": {"train": rows, "test": rows[:10]}})
    call = {"operation": "uv", "script": LORA_EPOCHS, "flavor": "a10g-large", "timeout": "3h"}
    unknown = {**call, "script": LORA_EPOCHS.replace("acme/chat", "acme/not-on-the-hub")}
    fake_llm.script(
        llm.tool_call("hf_jobs", call), llm.tool_call("hf_jobs", unknown), llm.text("Asked.")
    )
    result = cli("-o", "stream-json", "--approval-mode", "deny", "fine-tune llama for 2 epochs")
    assert result.exit_code == 0, result.stderr
    known, not_known = _outputs(result)
    # 1,000 rows / (4 x 2) a step = 125 steps an epoch; 250 steps x 8 x 2048 tokens = 4.1M;
    # 6 x 7e9 x 4.1e6 FLOPs at 35% of an A10G's 70 TFLOPS: 7,022 s, at $1.80/h $3.51
    assert (
        "expected ~$3.51 for ~1h 57m (2 epochs of 1,000 rows = 250 steps, 4.1M tokens; rough)"
    ) in known
    assert "expected cost unknown (epochs over an unknown dataset size)" in not_known
    assert hub.requests_to("/api/jobs/", "POST") == []
