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
    result = cli("-o", "json", "--max-budget-usd", "10", "train on a GPU")
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
