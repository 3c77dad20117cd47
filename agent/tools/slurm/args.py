"""The arguments of slurm_jobs, shared by the tool, its approval step and its guards."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Operation = Literal["run", "ps", "inspect", "logs", "cancel", "resume"]
LAUNCHES = ("run", "resume")
ASKS = (*LAUNCHES, "cancel")
WAIT_LIMIT_S = 7 * 24 * 3600.0
_ARRAY_PART = re.compile(r"^(\d+)(?:-(\d+)(?::(\d+))?)?$")


class SlurmArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    operation: Operation = Field(description="What to do; see the tool description.")
    script: str | None = Field(
        None, description="run: the batch script's text (a shell script; #SBATCH lines kept)."
    )
    command: str | None = Field(None, description="run: one shell command line, instead of script.")
    partition: str | None = Field(None, description="run: the partition (queue); required.")
    time: str | None = Field(
        None,
        description="run: the time limit, required: minutes or Slurm's forms "
        "('90', '4:00:00', '1-12:00:00'). The job is killed when it runs out.",
    )
    nodes: int = Field(1, ge=1, le=1024, description="run: number of nodes.")
    gpus: int | None = Field(None, ge=0, description="run: GPUs per node (--gpus-per-node).")
    gres: str | None = Field(None, description="run: generic resources, e.g. 'gpu:a100:4'.")
    cpus: int | None = Field(None, ge=1, description="run: CPUs per task (--cpus-per-task).")
    mem: str | None = Field(None, description="run: memory per node, e.g. '64G'.")
    array: str | None = Field(
        None, description="run: a job array for sweeps, e.g. '0-7' or '1,3,5' or '0-15%4'."
    )
    env: dict[str, str] = Field(default_factory=dict, description="run: environment variables.")
    workdir: str | None = Field(
        None, description="run: working directory on the cluster (default: here, or home)."
    )
    output: str | None = Field(
        None, description="run: the output file (default slurm-%j.out in the working directory)."
    )
    name: str | None = Field(None, description="run: the job's name.")
    keep_nothing: bool = Field(
        False,
        description="run: acknowledge that the job saves nothing outside scratch space (a "
        "smoke test). Without it, a training job that never saves is refused.",
    )
    job_id: str | None = Field(
        None, description="inspect, logs, cancel, resume: the job id (an array's id for all)."
    )
    follow: bool = Field(False, description="logs: stream until the job ends.")
    tail: int = Field(50, ge=1, le=2000, description="logs: how many of the last lines to show.")

    @field_validator("array")
    @classmethod
    def _array(cls, value: str | None) -> str | None:
        if value is not None:
            array_tasks(value)
        return value


def array_tasks(spec: str) -> int:
    """How many tasks an array spec starts ('0-9' 10, '1,3,5' 3, '0-9:2%4' 5)."""
    count = 0
    for part in spec.split("%")[0].split(","):
        match = _ARRAY_PART.match(part.strip())
        if not match:
            raise ValueError(f"not a Slurm array: {spec!r} (e.g. '0-7', '1,3,5', '0-15%4')")
        first, last, step = match.group(1), match.group(2), match.group(3)
        if last is None:
            count += 1
        elif int(last) >= int(first):
            count += (int(last) - int(first)) // int(step or 1) + 1
    return count
