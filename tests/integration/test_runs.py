"""Background runs are watched for free: the agent is woken once when a run ends or goes
wrong, with its metrics and output tail, and a headless run waits for them."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import pytest

from tests.fakes import llm_server as llm

# The first in-process run of a test session imports litellm: slow on a busy machine.
pytestmark = pytest.mark.timeout(150)

TRAIN = """\
import sys, time
for step in range(1, 9):
    print({"loss": round(3.0 - step * 0.25, 2), "grad_norm": 1.5, "learning_rate": 5e-05,
           "epoch": step / 8}, flush=True)
    time.sleep(0.01)
if sys.argv[1:] == ["nan"]:
    print({"loss": float("nan"), "grad_norm": float("nan"), "epoch": 1.1}, flush=True)
    print({"loss": float("nan"), "grad_norm": float("nan"), "epoch": 1.2}, flush=True)
    while True:
        time.sleep(0.05)
print("training done", flush=True)
"""


def write_script(folder: Path) -> str:
    (folder / "train.py").write_text(TRAIN)
    return f"{sys.executable} train.py"


def last_message(request: dict) -> str:
    return str(request["messages"][-1]["content"])


def woken_with(*needles: str):
    def check(body: dict) -> None:
        text = last_message(body)
        assert "Woken by the runs you are watching" in text, text
        for needle in needles:
            assert needle in text, text

    return check


def test_a_loss_that_becomes_nan_wakes_the_model_once_and_nothing_is_spent_meanwhile(
    cli, fake_llm, isolated_env
):
    command = write_script(isolated_env) + " nan"
    fake_llm.script(
        llm.tool_call("bash", {"command": command, "run_in_background": True}),
        llm.text("Training started; I will wait for it."),
        llm.tool_call(
            "kill_background",
            {"job_id": "bg1"},
            expect=woken_with("bg1: loss became nan", "grad_norm=nan", "Output tail"),
        ),
        llm.text("The loss diverged to NaN at epoch 1.1; I stopped the run."),
    )
    result = cli("-o", "json", "train it and report")
    assert result.exit_code == 0, result.stderr
    assert result.result()["final_text"].startswith("The loss diverged")
    # the wake is the only request between the turn that started the run and the answer
    assert len(fake_llm.requests) == 4
    wakes = [r for r in fake_llm.requests if "Woken by" in last_message(r)]
    assert len(wakes) == 1
    assert "loss=2" not in last_message(fake_llm.requests[2])  # the last values, not old ones


def test_a_run_that_ends_wakes_the_model_with_its_final_metrics(cli, fake_llm, isolated_env):
    command = write_script(isolated_env)
    fake_llm.script(
        llm.tool_call("bash", {"command": command, "run_in_background": True}),
        llm.text("Started. I'll wait for it to finish."),
        llm.text(
            "Final loss 1.0.",
            expect=woken_with("bg1: ended: exited 0", "loss=1 ", "training done"),
        ),
    )
    result = cli("train it and report")
    assert result.exit_code == 0, result.stderr
    assert "Waiting for background runs (bg1)" in result.stderr
    assert "· woken: bg1 ended: exited 0" in result.stderr
    assert result.stdout.rstrip().endswith("Final loss 1.0.")
    assert len(fake_llm.requests) == 3


def test_no_wait_leaves_at_once_and_the_run_keeps_going(cli, fake_llm, isolated_env):
    command = write_script(isolated_env) + " nan"
    fake_llm.script(
        llm.tool_call("bash", {"command": command, "run_in_background": True}),
        llm.text("Started."),
    )
    result = cli("-o", "json", "--no-wait", "start training")
    assert result.exit_code == 0, result.stderr
    pid = int(fake_llm.requests[1]["messages"][-1]["content"].split("(pid ")[1].split(")")[0])
    os.killpg(pid, signal.SIGKILL)
    assert len(fake_llm.requests) == 2


def test_wait_limit_is_a_duration(cli, fake_llm):
    result = cli("--wait-limit", "soon", "hi")
    assert result.exit_code == 2
    assert "invalid value for --wait-limit: 'soon' (give a duration: 90, 30m, 2h)" in result.stderr
