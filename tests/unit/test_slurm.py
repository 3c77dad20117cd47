"""The Slurm tool's pure parts: the batch script and sbatch line it builds (multi-node
included), its guards, what asks first, reading Slurm's output, and resuming's text."""

from __future__ import annotations

import asyncio
import math

import pytest

from agent.compute.resume import newest_checkpoint, output_dir, resumed_script
from agent.config import Settings
from agent.tools.slurm import guards, parse
from agent.tools.slurm.args import SlurmArgs, array_tasks
from agent.tools.slurm.commands import argv_for
from agent.tools.slurm.script import batch_script, sbatch_argv, slurm_time
from agent.tools.slurm.tool import estimate_spend, slurm_configured
from agent.tools.spec import ToolError


def args(**values: object) -> SlurmArgs:
    return SlurmArgs.model_validate(
        {"operation": "run", "partition": "gpu", "time": "2:00:00", **values}
    )


def test_more_than_one_node_runs_the_body_per_node_with_what_torchrun_needs():
    script = "#!/bin/bash\n#SBATCH --account=proj\ntorchrun --nnodes=$NNODES train.py\n"
    text = batch_script(args(script=script, nodes=2, gpus=4, env={"HF_HOME": "/data/hf cache"}))
    lines = text.splitlines()
    assert lines[:3] == ["#!/bin/bash", "#SBATCH --account=proj", "export HF_HOME='/data/hf cache'"]
    assert (
        'export MASTER_ADDR="$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1)"' in lines
    )
    assert 'export GPUS_PER_NODE="4"' in lines
    assert 'export WORLD_SIZE="$((NNODES * GPUS_PER_NODE))"' in lines
    srun = lines[-2] + "\n" + lines[-1]
    assert srun.startswith('srun --nodes="$NNODES" --ntasks-per-node=1 bash -c ')
    assert 'export NODE_RANK="$SLURM_NODEID"\ntorchrun --nnodes=$NNODES train.py\'' in srun
    single = batch_script(args(command="python train.py"))
    assert single == "#!/bin/bash\npython train.py\n"
    with pytest.raises(ToolError, match="needs a shell script"):
        batch_script(args(script="#!/usr/bin/env python\nprint(1)\n", nodes=2))


def test_the_sbatch_line_carries_every_setting_and_refuses_without_partition_or_time():
    argv = sbatch_argv(args(command="x", gpus=2, mem="64G", array="0-3", cpus=8), "/work")
    assert argv == [
        "sbatch",
        "--parsable",
        "--partition=gpu",
        "--time=2:00:00",
        "--nodes=1",
        "--gpus-per-node=2",
        "--cpus-per-task=8",
        "--mem=64G",
        "--array=0-3",
        "--chdir=/work",
    ]
    with pytest.raises(ToolError, match="run needs partition"):
        sbatch_argv(args(command="x", partition=None), None)
    with pytest.raises(ToolError, match="run needs time"):
        sbatch_argv(args(command="x", time=None), None)
    assert (slurm_time("4h"), slurm_time("90"), slurm_time("1-12:00:00")) == (
        "0-04:00:00",
        "90",
        "1-12:00:00",
    )
    with pytest.raises(ToolError, match="not a Slurm time limit"):
        slurm_time("soon")


def test_a_large_array_asks_a_person_even_when_approvals_are_automatic():
    assert (array_tasks("0-9"), array_tasks("1,3,5"), array_tasks("0-15:2%4")) == (10, 3, 8)
    settings = Settings()
    ten = asyncio.run(estimate_spend({**args(command="x").model_dump(), "array": "0-9"}, settings))
    many = asyncio.run(
        estimate_spend({**args(command="x").model_dump(), "array": "0-10"}, settings)
    )
    assert ten is not None and ten[1] == 0.0
    assert many is not None and math.isinf(many[1]) and "array of 11 tasks" in many[0]
    looking = asyncio.run(estimate_spend({"operation": "ps"}, settings))
    assert looking is None
    with pytest.raises(ValueError, match="not a Slurm array"):
        args(command="x", array="all of them")


def test_a_training_job_that_saves_only_to_scratch_space_is_refused():
    scratch = "python -c 'Trainer(args=TrainingArguments(output_dir=\"/tmp/out\")).train()'"
    with pytest.raises(ToolError, match="saves nothing outside the node's scratch space"):
        guards.check_launch(args(command=scratch))
    guards.check_launch(args(command=scratch, keep_nothing=True))
    guards.check_launch(args(command=scratch.replace("/tmp/out", "/project/me/out")))
    guards.check_launch(args(command="trl sft --output_dir $TMPDIR/x --push_to_hub"))
    with pytest.raises(ToolError):
        guards.check_launch(args(command="trl sft --model_name_or_path a/b --output_dir $TMPDIR/x"))


def test_the_cluster_is_reached_over_ssh_when_a_login_node_is_configured(monkeypatch, tmp_path):
    remote = Settings.model_validate({"slurm": {"host": "me@login", "ssh_options": ["-p", "2222"]}})
    assert argv_for(remote, ["squeue", "--me", "-o", "%i|%j"]) == [
        "ssh",
        "-o",
        "BatchMode=yes",
        "-p",
        "2222",
        "me@login",
        "squeue --me -o '%i|%j'",
    ]
    assert argv_for(Settings(), ["squeue"]) == ["squeue"]
    monkeypatch.setenv("PATH", str(tmp_path))  # no sbatch here
    assert slurm_configured(remote) and not slurm_configured(Settings())
    (tmp_path / "sbatch").write_text("#!/bin/sh\n")
    (tmp_path / "sbatch").chmod(0o755)
    assert slurm_configured(Settings())
    assert not slurm_configured(Settings.model_validate({"slurm": {"enabled": False}}))
    with pytest.raises(ValueError, match="a host name for ssh"):
        Settings.model_validate({"slurm": {"host": "-oProxyCommand=x"}})


def test_scontrol_records_say_how_a_job_or_an_array_ended():
    text = (
        "JobId=7 ArrayJobId=7 ArrayTaskId=0 JobName=sweep JobState=COMPLETED Reason=None "
        "ExitCode=0:0 StdOut=/work/slurm-7_0.out\n"
        "JobId=8 ArrayJobId=7 ArrayTaskId=1 JobName=sweep JobState=FAILED Reason=NonZeroExitCode "
        "ExitCode=3:0 StdOut=/work/my logs/slurm-7_1.out\n"
    )
    jobs = parse.scontrol_jobs(text)
    assert jobs[1]["StdOut"] == "/work/my logs/slurm-7_1.out"
    assert parse.overall_state(jobs) == "FAILED"
    end = parse.ended(jobs)
    assert (end.status, end.exit_code, end.detail) == ("failed", 3, "FAILED on Slurm (exit code 3)")
    timeout = parse.ended([{"JobState": "TIMEOUT", "ExitCode": "0:15"}])
    assert (timeout.status, timeout.detail) == (
        "killed",
        "TIMEOUT on Slurm (killed at its time limit)",
    )
    assert parse.overall_state([{"JobState": "COMPLETED"}, {"JobState": "PENDING"}]) == "PENDING"
    sacct = parse.sacct_jobs("9|train|CANCELLED by 0|0:0|00:01:00|gpu|node1|/work\n")
    assert sacct[0]["JobState"] == "CANCELLED"


def test_resuming_points_the_same_script_at_its_newest_checkpoint():
    script = (
        "#!/bin/bash\n#SBATCH --gpus=1\npython train.py \\\n  --output_dir runs/a \\\n  --lr 1e-4\n"
    )
    assert output_dir(script) == "runs/a"
    assert (
        newest_checkpoint(["checkpoint-9", "checkpoint-10", "logs", "checkpoint-2/"])
        == "checkpoint-10"
    )
    assert newest_checkpoint(["logs"]) is None
    again = resumed_script(script, "/w/runs/a/checkpoint-10")
    assert again.splitlines() == [
        "#!/bin/bash",
        "#SBATCH --gpus=1",
        "export RESUME_FROM_CHECKPOINT=/w/runs/a/checkpoint-10",
        "python train.py \\",
        "  --output_dir runs/a --resume_from_checkpoint /w/runs/a/checkpoint-10 \\",
        "  --lr 1e-4",
    ]
    inline = "#!/usr/bin/env python\ntrainer = Trainer(args=TrainingArguments(output_dir='o'))\ntrainer.train()\n"
    assert resumed_script(inline, "o/checkpoint-2").splitlines()[-1] == (
        'trainer.train(resume_from_checkpoint="o/checkpoint-2")'
    )


def test_a_job_read_back_from_the_controller_is_submitted_again_with_its_settings():
    from agent.tools.slurm.recorded import args_from_record

    line = (
        "JobId=1 JobName=sft UserId=root(0) JobState=TIMEOUT TimeLimit=1-00:00:00 "
        "Partition=gpu NumNodes=2-2 NumCPUs=16 CPUs/Task=8 MinMemoryNode=64G "
        "WorkDir=/project/me StdOut=/project/me/slurm-1.out TresPerNode=gres:gpu:4"
    )
    wrapped = batch_script(args(script="#!/bin/bash\ntorchrun train.py\n", nodes=2, gpus=4))
    again = args_from_record(parse.scontrol_jobs(line)[0], wrapped)
    assert (again.partition, again.time, again.nodes, again.cpus) == ("gpu", "1-00:00:00", 2, 8)
    assert (again.mem, again.gres, again.workdir, again.name) == (
        "64G",
        "gpu:4",
        "/project/me",
        "sft",
    )
    assert batch_script(again) == wrapped  # a script read back is not wrapped in srun twice


def test_the_ledger_keeps_what_resubmits_a_job_but_no_secret():
    from agent.tools.slurm.submit import spec_of

    plain = spec_of(args(command="python train.py", env={"LR": "1e-4"}), "/work")
    assert plain == {
        "command": "python train.py",
        "partition": "gpu",
        "time": "2:00:00",
        "env": {"LR": "1e-4"},
        "workdir": "/work",
        "scrubbed": False,
    }
    secret = spec_of(args(command="python train.py", env={"HF_TOKEN": "hf_" + "a1B2" * 9}), None)
    assert secret["scrubbed"] is True
    assert "a1B2" not in str(secret)


def test_a_jobs_output_is_read_in_bounded_looks_with_progress_redraws_as_lines(
    tmp_path, monkeypatch
):
    from agent.tools.slurm import commands
    from agent.tools.slurm.jobs import OutputReader

    monkeypatch.setattr(commands, "READ_MOST", 64)  # looks of 64 bytes over a longer log
    log = tmp_path / "slurm-7.out"
    bar = "".join(f"\r{i}/40 [00:0{i % 10}]" for i in range(1, 41))
    log.write_text("start\n" + bar + "\n" + "x" * 100 + "\n{'loss': 2.0}\n" + "tail")
    job = {"JobId": "7", "StdOut": str(log)}
    reader = OutputReader(Settings())

    first = asyncio.run(reader.read([job]))
    assert first == ["start", "1/40 [00:01]", "2/40 [00:02]", "3/40 [00:03]", "4/40 [00:04]"]
    rest = asyncio.run(reader.read([job], final=True))
    assert rest[-3:] == ["x" * 100, "{'loss': 2.0}", "tail"]  # to the end, no line cut
    assert first + rest[:-3] == ["start"] + [f"{i}/40 [00:0{i % 10}]" for i in range(1, 41)]
    # the newest lines of a long log come from its end, without the line the cut splits
    last = asyncio.run(OutputReader(Settings()).read_last([job]))
    assert last == ["{'loss': 2.0}", "tail"]
