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
