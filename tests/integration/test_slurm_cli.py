"""Slurm through the real CLI, against a real one-node cluster (tests/slurm.py): jobs are
submitted, followed and cancelled, an array runs its tasks, a job killed at its time limit
wakes the agent and is resumed from the checkpoint it wrote, and all of them are runs in
the ledger with their hooks heard."""

from __future__ import annotations

import json
import os
import re
import shlex
import sys
import time
from pathlib import Path

import pytest

from agent.tools.slurm.script import multi_node
from tests.fakes import llm_server as llm

# the time-limit job is killed by the controller's periodic check, 60 to 90 s after it starts
pytestmark = pytest.mark.timeout(300)

TRAIN = """\
import argparse, os, time
parser = argparse.ArgumentParser()
parser.add_argument("--output_dir")
parser.add_argument("--resume_from_checkpoint")
parser.add_argument("--steps", type=int)
parser.add_argument("--hang", action="store_true")
args = parser.parse_args()
start = 0
if args.resume_from_checkpoint:
    print("resumed from", args.resume_from_checkpoint, flush=True)
    start = int(args.resume_from_checkpoint.rsplit("-", 1)[1])
for step in range(start + 1, args.steps + 1):
    print({"loss": round(3.0 - step * 0.25, 2), "epoch": step / 4}, flush=True)
    os.makedirs(os.path.join(args.output_dir, f"checkpoint-{step}"), exist_ok=True)
if args.hang and not args.resume_from_checkpoint:
    time.sleep(600)
print("training done", flush=True)
"""
PYTHON = shlex.quote(sys.executable)


def submitted(body: dict) -> list[str]:
    """The job ids the tool reported submitting so far, in order."""
    found = []
    for message in body["messages"]:
        if message["role"] == "tool":
            found += re.findall(r"Submitted job (\d+)", str(message["content"]))
    return found


def call_on_job(name: str, make: object, expect: object = None) -> llm.Step:
    """A tool call whose arguments name a job submitted earlier (ids are the cluster's)."""

    def serve(reply: llm.Reply) -> None:
        arguments = make(submitted(reply.body))  # type: ignore[operator]
        made = (llm._call(name, arguments, None),)
        llm._Answer(None, None, made, finish="tool_calls").serve(reply)

    return llm.Step(f"tool_call({name})", serve, expect)  # type: ignore[arg-type]


def tool_said(*needles: str, woken: bool = False):
    def check(body: dict) -> None:
        text = str(body["messages"][-1]["content"])
        if woken:
            assert "Woken by the runs you are watching" in text, text
        for needle in needles:
            assert needle in text, text

    return check


def run(**settings: object) -> dict:
    return {"operation": "run", "partition": "debug", **settings}


def test_jobs_on_a_cluster_are_followed_woken_cancelled_and_resumed(
    cli, fake_llm, slurm, isolated_env, tmp_path
):
    (isolated_env / "train.py").write_text(TRAIN)
    seen = tmp_path / "hooks.jsonl"
    recorder = tmp_path / "record.py"
    recorder.write_text(
        f"import sys\nopen({str(seen)!r}, 'a').write(sys.stdin.read().strip() + '\\n')\n"
    )
    record = {"matcher": "slurm", "hooks": [{"type": "command", "command": f"{PYTHON} {recorder}"}]}
    config = Path(os.environ["XDG_CONFIG_HOME"]) / "ml-intern" / "cli_agent_config.json"
    settings = json.loads(config.read_text())
    settings["hooks"] = {"JobSubmitted": [record], "JobFinished": [record]}
    config.write_text(json.dumps(settings))

    hangs = f"#!/bin/bash\n{PYTHON} train.py --output_dir out --steps 2 --hang\n"
    trains = f"{PYTHON} train.py --output_dir outb --steps 4"
    tasks = f'{PYTHON} -c \'import os; print("task", os.environ["SLURM_ARRAY_TASK_ID"])\''
    echo = 'echo "MASTER_ADDR=$MASTER_ADDR NODE_RANK=$NODE_RANK NNODES=$NNODES WORLD=$WORLD_SIZE"'
    distributed = "#!/bin/bash\n" + multi_node("#!/bin/bash", echo, None, None)
    fake_llm.script(
        llm.tool_call("slurm_jobs", run(script=hangs, time="1")),
        llm.tool_call(
            "slurm_jobs",
            run(command=trains),
            expect=tool_said("Submitted job", "time limit 1"),
        ),
        llm.tool_call(
            "slurm_jobs",
            run(command=trains, time="5"),
            expect=tool_said("run needs time", "no default is assumed"),
        ),
        call_on_job(
            "slurm_jobs", lambda ids: {"operation": "logs", "job_id": ids[1], "follow": True}
        ),
        llm.tool_call(
            "slurm_jobs",
            run(command=tasks, time="5", array="0-2"),
            expect=tool_said("ended: COMPLETED on Slurm", "{'loss': 2.0, 'epoch': 1.0}"),
        ),
        call_on_job(
            "slurm_jobs",
            lambda ids: {"operation": "logs", "job_id": ids[2], "follow": True},
            expect=tool_said("as an array of 3 tasks"),
        ),
        llm.tool_call(
            "slurm_jobs",
            run(command=tasks, time="5", array="0-19"),
            expect=tool_said("[0] task 0", "[1] task 1", "[2] task 2"),
        ),
        llm.tool_call(
            "slurm_jobs",
            run(script=distributed, time="5"),
            expect=tool_said("Not run", "array of 20 tasks", "no budget can cover it"),
        ),
        call_on_job(
            "slurm_jobs", lambda ids: {"operation": "logs", "job_id": ids[3], "follow": True}
        ),
        llm.tool_call(
            "slurm_jobs",
            run(command="sleep 300", time="5"),
            expect=tool_said(f"MASTER_ADDR={slurm.node} NODE_RANK=0 NNODES=1 WORLD=1"),
        ),
        call_on_job("slurm_jobs", lambda ids: {"operation": "cancel", "job_id": ids[4]}),
        llm.text("The long run is training; I'll wait for it.", expect=tool_said("Cancelled job")),
        call_on_job(
            "slurm_jobs",
            lambda ids: {"operation": "resume", "job_id": ids[0]},
            expect=tool_said(
                "ended: TIMEOUT on Slurm (killed at its time limit)", "epoch 0.5", woken=True
            ),
        ),
        llm.text("Resumed it; waiting.", expect=tool_said("out/checkpoint-2 as job")),
        llm.text(
            "Done: it continued from checkpoint 2.",
            expect=tool_said("COMPLETED on Slurm", "resumed from", "checkpoint-2", woken=True),
        ),
    )
    result = cli("--yolo", "-o", "json", "train on the cluster")

    assert result.exit_code == 0, result.stderr
    assert result.result()["final_text"] == "Done: it continued from checkpoint 2."
    entries = {e["id"]: e for e in json.loads(cli("runs", "--json").stdout)}
    ids = submitted(fake_llm.requests[-1])
    hanging, followed, array, _, cancelled, resumed = (entries[i] for i in ids)
    assert {e["kind"] for e in entries.values()} == {"slurm"}
    assert hanging["status"] == "killed" and "TIMEOUT" in hanging["outcome"]
    assert followed["metrics"]["loss"]["last"] == 2.0
    assert followed["hyperparameters"]["steps"] == "4"
    assert array["status"] == "succeeded" and cancelled["status"] == "killed"
    assert resumed["resumed_from"] == ids[0] and resumed["status"] == "succeeded"
    heard = [json.loads(line) for line in seen.read_text().splitlines()]
    submits = [e["job_id"] for e in heard if e["hook_event_name"] == "JobSubmitted"]
    ends = {e["job_id"]: e["status"] for e in heard if e["hook_event_name"] == "JobFinished"}
    assert submits == ids and {e["backend"] for e in heard} == {"slurm"}
    assert ends[ids[0]] == "TIMEOUT" and ends[ids[4]] == "CANCELLED"
    assert ends[ids[5]] == "COMPLETED"


def test_a_job_submitted_by_hand_is_resumed_from_what_the_controller_kept(
    cli, fake_llm, slurm, isolated_env
):
    (isolated_env / "train.py").write_text(TRAIN)
    script = (
        f"#!/bin/bash\n{PYTHON} train.py --output_dir out --steps 3\n"
        'test -n "$RESUME_FROM_CHECKPOINT"\n'  # fails the first time, as a crash would
    )
    (isolated_env / "job.sh").write_text(script)
    job_id = slurm.run(
        "sbatch", "--parsable", "-p", "debug", "-t", "5", f"--chdir={isolated_env}", "job.sh"
    ).strip()
    deadline = time.monotonic() + 60
    while "JobState=FAILED" not in slurm.run("scontrol", "show", "job", "-o", job_id):
        assert time.monotonic() < deadline, slurm.run("scontrol", "show", "job", "-o", job_id)
        time.sleep(0.2)  # the job's state, polled with a deadline
    fake_llm.script(
        llm.tool_call("slurm_jobs", {"operation": "resume", "job_id": job_id}),
        llm.text(
            "Resumed; waiting.", expect=tool_said(f"Resumed job {job_id} from", "checkpoint-3")
        ),
        llm.text(
            "It finished.",
            expect=tool_said("COMPLETED on Slurm", "resumed from", "out/checkpoint-3", woken=True),
        ),
    )
    result = cli("--yolo", "-o", "json", "resume the crashed job")

    assert result.exit_code == 0, result.stderr
    (entry,) = json.loads(cli("runs", "--json").stdout)
    assert entry["resumed_from"] == job_id and entry["hardware"] == "partition debug"
