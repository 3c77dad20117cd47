"""Continuing a training run from its last checkpoint, whatever ran it (HF Jobs, a cluster).

A relaunch runs the same script or command with one addition that points it at a checkpoint:

- always the environment variable `RESUME_FROM_CHECKPOINT` (the scripts the agent writes read
  it: `trainer.train(resume_from_checkpoint=os.environ.get("RESUME_FROM_CHECKPOINT") or None)`);
- and, for a command that parses TrainingArguments from its command line (the TRL command
  line, `examples/run_*.py`, any command given `--output_dir`), the flag
  `--resume_from_checkpoint PATH`, replacing one it already had.

A checkpoint is either a folder the run can read (a cluster's shared filesystem) or a folder
of a Hub repo, written `hub://REPO_ID/FOLDER` (Trainer's `hub_strategy="checkpoint"` keeps the
latest one in `last-checkpoint/`). A script the agent writes downloads a `hub://` checkpoint
itself (`snapshot_download(REPO_ID, allow_patterns=FOLDER/*)`); for a command-line trainer,
which takes only a local path, the relaunch downloads it first and passes the local copy.

Pure text work, no I/O: the backends list the files and start the relaunch.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterable
from dataclasses import dataclass, field

RESUME_ENV = "RESUME_FROM_CHECKPOINT"
RESUME_FLAG = "--resume_from_checkpoint"
HUB_SCHEME = "hub://"
LAST_CHECKPOINT = "last-checkpoint"
DOWNLOAD_DIR = "/tmp/resume-checkpoint"  # where a command-line trainer gets a Hub checkpoint

_STEP = re.compile(r"^checkpoint-(\d+)$")
_PARSES_ARGS = re.compile(r"\btrl\s+(sft|dpo|grpo|kto|orpo|reward|ppo)\b|--output[_-]dir\b")


def checkpoint_step(name: str) -> int | None:
    """The step of a Trainer checkpoint folder name (`checkpoint-500` -> 500), else None."""
    match = _STEP.match(name.rstrip("/").rsplit("/", 1)[-1])
    return int(match.group(1)) if match else None


def newest_checkpoint(names: Iterable[str]) -> str | None:
    """The `checkpoint-N` folder with the highest N among `names` (folders, or files inside
    them such as `out/checkpoint-500/trainer_state.json`), as its path; None when there is none.
    Other names are ignored."""
    best: tuple[int, str] | None = None
    for name in names:
        parts = name.strip("/").split("/")
        for depth, part in enumerate(parts):
            step = checkpoint_step(part)
            if step is not None and (best is None or step > best[0]):
                best = (step, "/".join(parts[: depth + 1]))
    return best[1] if best else None


def hub_checkpoint_folder(repo_files: Iterable[str]) -> str | None:
    """The folder of a Hub repo to resume from: `last-checkpoint` when the repo has one (what
    `hub_strategy="checkpoint"` pushes), else its newest `checkpoint-N` folder."""
    files = list(repo_files)
    if any(f.startswith(LAST_CHECKPOINT + "/") for f in files):
        return LAST_CHECKPOINT
    return newest_checkpoint(f.rsplit("/", 1)[0] for f in files if "/" in f)


def hub_reference(repo_id: str, folder: str) -> str:
    """`hub://org/model/last-checkpoint`: a checkpoint folder of a Hub repo."""
    return f"{HUB_SCHEME}{repo_id}/{folder.strip('/')}"


def parse_hub_reference(reference: str) -> tuple[str, str] | None:
    """(repo id, folder) of a `hub://` reference; None for a local path."""
    if not reference.startswith(HUB_SCHEME):
        return None
    parts = reference[len(HUB_SCHEME) :].strip("/").split("/")
    if len(parts) < 3:
        return None
    return "/".join(parts[:2]), "/".join(parts[2:])


def parses_training_args(command: str) -> bool:
    """Whether a command takes TrainingArguments on its command line (so it also takes
    `--resume_from_checkpoint`)."""
    return bool(_PARSES_ARGS.search(command))


@dataclass(frozen=True)
class Relaunch:
    """What to run instead: the command's arguments and the environment to add."""

    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)


def _with_flag(argv: list[str], value: str) -> list[str]:
    """`argv` with `--resume_from_checkpoint value`, replacing an earlier value."""
    out: list[str] = []
    skip = False
    for word in argv:
        if skip:
            skip = False
            continue
        if word == RESUME_FLAG:
            skip = True
            continue
        if word.startswith(RESUME_FLAG + "="):
            continue
        out.append(word)
    return [*out, RESUME_FLAG, value]


def _shell_line(argv: list[str]) -> bool:
    """Whether `argv` is one shell line (`sh -c LINE`), as a command given as text runs."""
    return len(argv) == 3 and argv[0].rsplit("/", 1)[-1] in ("sh", "bash") and argv[1] == "-c"


def _download(repo_id: str, folder: str) -> str:
    """A shell command that downloads `folder` of `repo_id` into DOWNLOAD_DIR."""
    fetch = (
        "from huggingface_hub import snapshot_download; "
        f"snapshot_download({json.dumps(repo_id)}, allow_patterns=[{json.dumps(folder + '/*')}], "
        f"local_dir={json.dumps(DOWNLOAD_DIR)})"
    )
    return f"python -c {shlex.quote(fetch)}"


def relaunch(argv: list[str], checkpoint: str) -> Relaunch:
    """How to run `argv` again so that it continues from `checkpoint` (a path, or a
    `hub://REPO/FOLDER` reference). A shell line (`sh -c LINE`) gets the flag at its end,
    which is where its trainer runs when it chains steps with `&&`."""
    env = {RESUME_ENV: checkpoint}
    line = argv[2] if _shell_line(argv) else shlex.join(argv)
    if not parses_training_args(line):
        return Relaunch(list(argv), env)
    hub = parse_hub_reference(checkpoint)
    local = checkpoint if hub is None else f"{DOWNLOAD_DIR}/{hub[1]}"
    if _shell_line(argv):
        line = re.sub(rf"\s*{RESUME_FLAG}(?:=|\s+)\S+", "", line)
        line = f"{line} {RESUME_FLAG} {shlex.quote(local)}"
        if hub is not None:
            line = f"{_download(*hub)} && {line}"
        return Relaunch([argv[0], "-c", line], env)
    flagged = _with_flag(argv, local)
    if hub is None:
        return Relaunch(flagged, env)
    return Relaunch(["/bin/sh", "-c", f'{_download(*hub)} && exec "$@"', "resume", *flagged], env)


# -- a batch script (a cluster job): the same text, told where to resume -----------------

_OUTPUT_DIR = re.compile(
    r"""(?:--output[_-]dir(?:\s*=\s*|\s+)|\boutput_dir\s*=\s*)(['"]?)([^'"\s,)]+)\1"""
)
_OUTPUT_FLAG = re.compile(r"--output[_-]dir\b")
_TRAIN_CALL = re.compile(r"(\.train\()\s*\)")
_RESUME_ARG = re.compile(rf"{RESUME_FLAG}(?:\s*=\s*|\s+)\S+")
_SHELLS = ("sh", "bash", "zsh")


def output_dir(code: str) -> str | None:
    """The folder a script saves into (the last one set, as a later flag wins)."""
    found = _OUTPUT_DIR.findall(code)
    return found[-1][1] if found else None


def resumed_script(code: str, checkpoint: str) -> str:
    """The same script, resuming from `checkpoint` (a path): `trainer.train()` gets
    `resume_from_checkpoint=`, a command line that passes `--output_dir` gets the flag, and
    a shell script exports RESUME_FROM_CHECKPOINT after its `#SBATCH` lines."""
    quoted = shlex.quote(checkpoint)
    lines = []
    for line in code.splitlines():
        if _TRAIN_CALL.search(line):
            line = _TRAIN_CALL.sub(
                lambda m: f"{m.group(1)}resume_from_checkpoint={json.dumps(checkpoint)})", line
            )
        elif _OUTPUT_FLAG.search(line) and not line.lstrip().startswith("#"):
            line = _flag_on_line(_RESUME_ARG.sub("", line), f"{RESUME_FLAG} {quoted}")
        lines.append(line)
    if lines and lines[0].startswith("#!") and not lines[0].split()[-1].endswith(_SHELLS):
        return "\n".join(lines) + "\n"  # not a shell script: no export line
    head = 1 if lines and lines[0].startswith("#!") else 0
    while head < len(lines) and lines[head].lstrip().startswith("#SBATCH"):
        head += 1
    lines.insert(head, f"export {RESUME_ENV}={quoted}")
    return "\n".join(lines) + "\n"


def _flag_on_line(line: str, flag: str) -> str:
    """`flag` added to a command line, before a trailing line continuation."""
    body = line.rstrip()
    if body.endswith("\\"):
        return f"{body[:-1].rstrip()} {flag} \\"
    return f"{body} {flag}"
