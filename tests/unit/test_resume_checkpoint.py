"""Finding the checkpoint to continue from, and the relaunch that points a run at it."""

from __future__ import annotations

import shlex
import subprocess

from agent.compute.resume import (
    RESUME_ENV,
    hub_checkpoint_folder,
    hub_reference,
    newest_checkpoint,
    parse_hub_reference,
    relaunch,
)


def test_newest_checkpoint_is_the_highest_step_not_the_last_in_text_order() -> None:
    names = [
        "out/checkpoint-900/trainer_state.json",
        "out/checkpoint-1000/model.safetensors",
        "out/checkpoint-200",
        "out/runs/events.out",
        "checkpoint-final/x",
        "notes-checkpoint-5000.txt",
    ]
    assert newest_checkpoint(names) == "out/checkpoint-1000"
    assert newest_checkpoint(["README.md", "model.safetensors"]) is None


def test_hub_checkpoint_prefers_last_checkpoint_folder() -> None:
    files = ["config.json", "checkpoint-50/trainer_state.json", "last-checkpoint/optimizer.pt"]
    assert hub_checkpoint_folder(files) == "last-checkpoint"
    assert hub_checkpoint_folder(["checkpoint-50/a", "checkpoint-150/a"]) == "checkpoint-150"
    assert hub_checkpoint_folder(["config.json", "model.safetensors"]) is None


def test_hub_reference_round_trips() -> None:
    ref = hub_reference("me/model", "last-checkpoint")
    assert ref == "hub://me/model/last-checkpoint"
    assert parse_hub_reference(ref) == ("me/model", "last-checkpoint")
    assert parse_hub_reference("/scratch/out/checkpoint-5") is None


def test_script_reads_the_environment_only() -> None:
    again = relaunch(["python", "train.py", "--epochs", "3"], "/scratch/out/checkpoint-5")
    assert again.argv == ["python", "train.py", "--epochs", "3"]
    assert again.env == {RESUME_ENV: "/scratch/out/checkpoint-5"}


def test_command_line_trainer_gets_the_flag_replacing_an_old_one() -> None:
    argv = ["trl", "sft", "--output_dir", "out", "--resume_from_checkpoint", "old"]
    again = relaunch(argv, "/scratch/out/checkpoint-5")
    assert again.argv == [
        "trl",
        "sft",
        "--output_dir",
        "out",
        "--resume_from_checkpoint",
        "/scratch/out/checkpoint-5",
    ]
    line = relaunch(["bash", "-c", "cd x && trl sft --output_dir o"], "/c/checkpoint-5")
    assert line.argv == [
        "bash",
        "-c",
        "cd x && trl sft --output_dir o --resume_from_checkpoint /c/checkpoint-5",
    ]


def test_command_line_trainer_downloads_a_hub_checkpoint_first() -> None:
    argv = ["echo", "--output_dir", "o"]
    again = relaunch(argv, "hub://me/model/last-checkpoint")
    assert again.env == {RESUME_ENV: "hub://me/model/last-checkpoint"}
    assert again.argv[:2] == ["/bin/sh", "-c"]
    assert 'snapshot_download("me/model", allow_patterns=["last-checkpoint/*"]' in again.argv[2]
    # The command after the download runs with the local copy (python swapped for `true`).
    shell = again.argv[2].replace("python -c", "true")
    done = subprocess.run(["/bin/sh", "-c", shell, *again.argv[3:]], capture_output=True, text=True)
    assert shlex.split(done.stdout) == [
        "--output_dir",
        "o",
        "--resume_from_checkpoint",
        "/tmp/resume-checkpoint/last-checkpoint",
    ]


def test_the_ledger_keeps_how_to_relaunch_a_job_but_no_secret(tmp_path) -> None:
    from agent.tools.jobs.args import JobsArgs
    from agent.tools.jobs.resume_job import spec_of

    token = "hf_" + "a1B2c3D4e5" * 4
    args = JobsArgs(
        operation="run",
        command=["python", "train.py"],
        flavor="a10g-large",
        timeout="4h",
        env={"WANDB_PROJECT": "p"},
        secrets={
            "WANDB_API_KEY": "$WANDB_API_KEY",
            "OTHER": "literal-value",
            "HF_TOKEN": "$HF_TOKEN",
        },
    )
    spec = spec_of(args, tmp_path, "me")
    assert spec["command"] == ["python", "train.py"] and not spec["scrubbed"]
    assert (spec["flavor"], spec["timeout"], spec["env"]) == (
        "a10g-large",
        "4h",
        {"WANDB_PROJECT": "p"},
    )
    # by reference, never by value; the HF token goes by the user's configuration
    assert spec["secrets"] == {"WANDB_API_KEY": "$WANDB_API_KEY", "OTHER": "$OTHER"}
    leaked = args.model_copy(update={"command": ["python", "train.py", "--hub_token", token]})
    spec = spec_of(leaked, tmp_path, "me")
    assert spec["scrubbed"] and token not in str(spec)
