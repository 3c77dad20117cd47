"""The batch script and the `sbatch` command line of a `run`.

Settings go on the command line (so the person approves what is asked for); the script
keeps its own `#SBATCH` lines and gets the `env` exports after them. With more than one
node the script's body runs once per node under `srun`, with the variables torchrun and
accelerate need: MASTER_ADDR (the allocation's first host), MASTER_PORT, NNODES,
NODE_RANK, GPUS_PER_NODE and WORLD_SIZE.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from agent.tools.slurm.args import SlurmArgs
from agent.tools.spec import ToolError

_TIME = re.compile(r"^(\d+-)?\d+(:\d{1,2}){0,2}$")
_SHORT_TIME = re.compile(r"^(\d+(?:\.\d+)?)\s*(m|min|h|d)$", re.IGNORECASE)
_SHELLS = ("bash", "sh", "zsh")
_PER_NODE = 'srun --nodes="$NNODES" --ntasks-per-node=1'
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def slurm_time(value: str) -> str:
    """The time limit in Slurm's spelling; '4h', '90m' and '2d' are converted."""
    text = value.strip()
    if _TIME.match(text):
        return text
    if short := _SHORT_TIME.match(text):
        minutes = (
            float(short.group(1)) * {"m": 1, "min": 1, "h": 60, "d": 1440}[short.group(2).lower()]
        )
        whole = max(1, round(minutes))
        return f"{whole // 1440}-{whole % 1440 // 60:02d}:{whole % 60:02d}:00"
    raise ToolError(
        f"time {value!r} is not a Slurm time limit: use minutes ('90'), 'H:MM:SS' "
        "('4:00:00'), 'D-HH:MM:SS' ('1-12:00:00'), or '4h' / '90m' / '2d'"
    )


def limit_seconds(value: str) -> int:
    """The time limit in seconds, from any of Slurm's spellings ('90', '90:30', '4:00:00',
    '1-12', '1-12:30', '1-12:30:00') or '4h' / '90m' / '2d'."""
    days, _, clock = slurm_time(value).rpartition("-")
    parts = [int(part) for part in clock.split(":")]
    if days:  # days-hours[:minutes[:seconds]]
        hours, minutes, seconds = [*parts, 0, 0][:3]
        return ((int(days) * 24 + hours) * 60 + minutes) * 60 + seconds
    if len(parts) == 3:
        return (parts[0] * 60 + parts[1]) * 60 + parts[2]
    return parts[0] * 60 + (parts[1] if len(parts) > 1 else 0)  # minutes[:seconds]


def batch_script(args: SlurmArgs) -> str:
    """The script `sbatch` gets on its standard input."""
    if args.script and args.command:
        raise ToolError("run takes script or command, not both")
    body = args.script or args.command
    if not body or not body.strip():
        raise ToolError("run needs script (the batch script's text) or command")
    if not body.startswith("#!"):
        body = "#!/bin/bash\n" + body
    head, rest = _split_header(body)
    for name in args.env:
        if not _ENV_NAME.match(name):
            raise ToolError(f"env: {name!r} is not a variable name")
    exports = [f"export {name}={shlex.quote(value)}" for name, value in args.env.items()]
    if args.nodes > 1 and _PER_NODE not in rest:  # a script read back is wrapped already
        rest = multi_node(head[0], rest, args.gpus, args.gres)
    return "\n".join([*head, *exports, rest]).rstrip("\n") + "\n"


def _split_header(script: str) -> tuple[list[str], str]:
    """(the shebang and the leading comment and #SBATCH lines, the rest)."""
    lines = script.splitlines()
    count = 1
    while count < len(lines) and (
        not lines[count].strip() or lines[count].lstrip().startswith("#")
    ):
        count += 1
    return lines[:count], "\n".join(lines[count:])


def multi_node(shebang: str, body: str, gpus: int | None, gres: str | None) -> str:
    """The body run once per node by `srun`, with the distributed-training variables."""
    words = shebang[2:].split()
    interpreter = Path(words[-1] if words and words[0].endswith("env") else words[0]).name
    if interpreter not in _SHELLS:
        raise ToolError(
            f"nodes > 1 needs a shell script (it starts {shebang!r}): write a bash script "
            "that starts the training, e.g. torchrun ... train.py"
        )
    per_node = str(gpus) if gpus else _gres_gpus(gres) or "${SLURM_GPUS_ON_NODE:-1}"
    inner = 'export NODE_RANK="$SLURM_NODEID"\n' + body
    return "\n".join(
        [
            'export MASTER_ADDR="$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1)"',
            'export MASTER_PORT="${MASTER_PORT:-$((20000 + SLURM_JOB_ID % 20000))}"',
            'export NNODES="$SLURM_JOB_NUM_NODES"',
            f'export GPUS_PER_NODE="{per_node}"',
            'export WORLD_SIZE="$((NNODES * GPUS_PER_NODE))"',
            f"{_PER_NODE} bash -c {shlex.quote(inner)}",
        ]
    )


def _gres_gpus(gres: str | None) -> str | None:
    match = re.search(r"gpu(?::[\w.-]+)?:(\d+)", gres or "")
    return match.group(1) if match else None


def sbatch_argv(args: SlurmArgs, workdir: str | None) -> list[str]:
    """`sbatch --parsable` with every setting of the call; the script comes on stdin."""
    if not args.partition:
        raise ToolError(
            "run needs partition: ask the user which one (or look with `sinfo`); "
            "there is no silent default"
        )
    if not args.time:
        raise ToolError(
            "run needs time, the job's time limit (e.g. '4:00:00'): estimate it from the "
            "model size, data and hardware; the job is killed when it runs out (no default is "
            "assumed)"
        )
    argv = ["sbatch", "--parsable", f"--partition={args.partition}"]
    argv += [f"--time={slurm_time(args.time)}", f"--nodes={args.nodes}"]
    options = {
        "--gpus-per-node": args.gpus,
        "--gres": args.gres,
        "--cpus-per-task": args.cpus,
        "--mem": args.mem,
        "--array": args.array,
        "--chdir": args.workdir or workdir,
        "--output": args.output,
        "--job-name": args.name,
    }
    argv += [f"{flag}={value}" for flag, value in options.items() if value]
    return argv
