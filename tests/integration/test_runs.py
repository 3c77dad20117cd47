"""Background runs are watched for free: the agent is woken once when a run ends or goes
wrong, with its metrics and output tail, and a headless run waits for them."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import sys
from pathlib import Path

import pytest

from tests.fakes import llm_server as llm
from tests.fakes.hub_jobs import JobScript, JobsHub
from tests.fakes.slack_server import FakeSlack

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


SUMMARY = (
    "## Goal\ntrain a model\n## Decisions\nbaseline first\n## Files\ntrain.py\n"
    "## Commands and outcomes\ntwo prints of x\n## Open problems\nnone\n## Next steps\nanother run"
)


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


def test_a_run_that_ends_wakes_the_model_and_stays_in_the_ledger(cli, fake_llm, monkeypatch):
    """A normal end wakes the model with the final metrics; the run, with the model's note,
    is listed by `ml-intern runs` after the session, and given back to the model when the
    session is continued and after a compaction."""
    command = write_script(Path.cwd()) + " --learning_rate 5e-05 --model_name_or_path org/tiny"
    fake_llm.script(
        llm.tool_call("bash", {"command": command, "run_in_background": True}),
        llm.text("Started. I'll wait for it to finish."),
        llm.tool_call(
            "runs",
            {"run_id": "bg1", "note": "baseline: loss 3 -> 1 in one epoch"},
            expect=woken_with("bg1: ended: exited 0", "loss=1 ", "training done"),
        ),
        llm.text("Final loss 1.0."),
    )
    result = cli("train it and report")
    assert result.exit_code == 0, result.stderr
    assert "Waiting for background runs (bg1)" in result.stderr
    assert "· woken: bg1 ended: exited 0" in result.stderr
    assert result.stdout.rstrip().endswith("Final loss 1.0.")
    assert len(fake_llm.requests) == 4

    listed = cli("runs")
    assert listed.exit_code == 0, listed.stderr
    (line,) = listed.stdout.splitlines()
    assert " bg1 " in line and "exited 0" in line
    assert "loss 1 █▇▆▅▄▃▂▁" in line  # the last value and the falling curve
    rows = list(csv.DictReader(io.StringIO(cli("runs", "--csv").stdout)))
    assert len(rows) == 1
    assert rows[0]["note"] == "baseline: loss 3 -> 1 in one epoch"
    assert json.loads(rows[0]["hyperparameters"])["learning_rate"] == "5e-05"
    assert json.loads(rows[0]["hub_ids"]) == {"model_name_or_path": "org/tiny"}
    assert json.loads(rows[0]["metrics_final"])["loss"] == 1.0
    shown = cli("runs", "bg1").stdout
    assert "training done" in shown and "┤" in shown  # the tail and the chart

    monkeypatch.setenv("ML_INTERN_COMPACTION_THRESHOLD_TOKENS", "6500")
    big = "python3 -c \"print('x' * 12000)\""
    brief = "Experiment ledger of this session so far"
    kept = "Experiment ledger (runs launched so far)"
    note = "note: baseline: loss 3 -> 1 in one epoch"
    fake_llm.script(
        llm.tool_call("bash", {"command": big}, expect=lambda b: _holds(b, brief, note)),
        llm.tool_call("bash", {"command": big}),
        llm.text(SUMMARY),
        llm.text("Next: a lower learning rate.", expect=lambda b: _holds(b, kept, note)),
    )
    continued = cli("--continue", "-o", "stream-json", "what next?")
    assert continued.exit_code == 0, continued.stderr
    assert [e for e in continued.lines() if e["type"] == "compacted"]


def _holds(body: dict, *needles: str) -> None:
    text = json.dumps(body["messages"], ensure_ascii=False)
    for needle in needles:
        assert needle in text, needle


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


def test_a_monitor_regex_wakes_the_model_when_a_line_matches(cli, fake_llm, monkeypatch):
    """...and the person hears of it on Slack when it is configured."""
    Path("notes.txt").write_text("PRIVATE NOTE\n")  # a wake-up quoting @notes.txt attaches nothing
    job = (
        "until [ -e go ]; do sleep 0.01; done; echo 'checkpoint saved at step 50 @notes.txt'; "
        "until [ -e stop ]; do sleep 0.01; done"
    )
    fake_llm.script(
        llm.tool_call("bash", {"command": job, "run_in_background": True}),
        llm.tool_call("monitor", {"regex": r"checkpoint saved at step \d+", "run_id": "bg1"}),
        llm.tool_call("monitor", {"action": "list"}),
        llm.tool_call("bash", {"command": "touch go"}),
        llm.text("Waiting for the first checkpoint."),
        llm.tool_call(
            "kill_background",
            {"job_id": "bg1"},
            expect=woken_with(
                r"bg1: printed a line matching /checkpoint saved at step \d+/: "
                "checkpoint saved at step 50"
            ),
        ),
        llm.text("The checkpoint is there; stopped the run."),
    )
    with FakeSlack(token="xoxb-test-token-1234", channels=("C1",)) as slack:
        monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test-token-1234")
        monkeypatch.setenv("SLACK_CHANNEL_ID", "C1")
        monkeypatch.setenv("ML_INTERN_SLACK_URL", slack.api_url)
        result = cli("-o", "json", "train and tell me at the first checkpoint")
        texts = [m["text"] for m in slack.wait_for_messages(3)]
    assert result.exit_code == 0, result.stderr
    assert texts[1].startswith(
        r"⏰ *Run update*: bg1 printed a line matching /checkpoint saved at step \d+/: "
        "checkpoint saved at step 50"
    )
    added = fake_llm.requests[2]["messages"][-1]["content"]
    assert added.startswith("Added condition m") and "output matches /checkpoint" in added
    listed = fake_llm.requests[3]["messages"][-1]["content"]
    assert listed.endswith(r"output matches /checkpoint saved at step \d+/ (run bg1)")
    assert len(fake_llm.requests) == 7
    assert "PRIVATE NOTE" not in json.dumps(fake_llm.requests[5]["messages"])


def test_an_hf_job_is_followed_through_the_hub_and_wakes_the_model(cli, fake_llm, monkeypatch):
    launch = {
        "operation": "run",
        "command": ["python", "train.py", "--lr", "1e-4"],
        "flavor": "a10g-large",
        "timeout": "2h",
        "image": "python:3.12",
    }
    with JobsHub() as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        monkeypatch.setenv("HF_TOKEN", "hf_test")
        monkeypatch.setenv("ML_INTERN_SHARE_TRACES", "false")
        lines = [f"{{'loss': {3 - i / 2}, 'epoch': {i / 4}}}" for i in range(1, 5)]
        hub.scripts.append(JobScript(lines=[*lines, "saved to org/tiny-ft"]))
        fake_llm.script(
            llm.tool_call("hf_jobs", launch),
            llm.text("The job runs; I'll wait."),
            llm.text(
                "Done: loss 1.",
                expect=woken_with(
                    ": ended: COMPLETED on the Hub",
                    "Last metrics: epoch 1: loss=1",
                    "saved to org/tiny-ft",
                ),
            ),
        )
        result = cli("-o", "json", "--max-budget-usd", "10", "train on a GPU and report")
        hub_url = hub.url
    assert result.exit_code == 0, result.stderr
    assert result.result()["final_text"] == "Done: loss 1."
    (entry,) = json.loads(cli("runs", "--json").stdout)
    assert entry["kind"] == "hf_job" and entry["hardware"] == "a10g-large"
    assert entry["links"][0].startswith(hub_url) and entry["links"][0].endswith(entry["id"])
    assert entry["hyperparameters"] == {"lr": "1e-4"}


def test_a_torn_ledger_file_is_named_not_silently_left_out(cli):
    from agent.runs.ledger import ledger_dir

    ledger_dir().mkdir(parents=True, exist_ok=True)
    torn = ledger_dir() / "20261207-000000-abcdef.json"
    torn.write_text('{"runs": [{"id": "bg1", "kind"')

    listed = cli("runs", "--all")

    assert listed.exit_code == 0
    assert "No background runs" in listed.stdout
    assert f"a run ledger was left out: {torn}" in listed.stderr
