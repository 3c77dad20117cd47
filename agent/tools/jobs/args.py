"""The arguments of hf_jobs, shared by the tool, its approval step and its guards."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Operation = Literal[
    "run",
    "uv",
    "ps",
    "logs",
    "inspect",
    "cancel",
    "resume",
    "hardware",
    "scheduled run",
    "scheduled ps",
    "scheduled inspect",
    "scheduled delete",
    "scheduled suspend",
    "scheduled resume",
]
LAUNCHES = ("run", "uv", "scheduled run")
ASKS = (*LAUNCHES, "resume", "cancel", "scheduled delete", "scheduled resume")
WAIT_LIMIT_S = 7 * 24 * 3600.0


class JobsArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    operation: Operation = Field(description="What to do; see the tool description.")
    image: str | None = Field(
        None, description="Docker image (run: default python:3.12; uv: an image with uv)."
    )
    command: list[str] | str | None = Field(
        None, description="run: the command, as a list of arguments or one shell line."
    )
    script: str | None = Field(
        None, description="uv: Python code, a local .py path or an https URL."
    )
    script_args: list[str] = Field(default_factory=list, description="uv: script arguments.")
    dependencies: list[str] = Field(
        default_factory=list, description="uv: extra pip packages for the script."
    )
    python: str | None = Field(None, description="uv: Python version, e.g. '3.12'.")
    flavor: str = Field("cpu-basic", description="Hardware flavor, e.g. t4-small, a10g-large.")
    timeout: str | int = Field(
        "30m", description="Maximum run time: seconds or e.g. '45m', '6h', '1d'."
    )
    env: dict[str, str] = Field(default_factory=dict, description="Plain environment variables.")
    secrets: dict[str, str] = Field(
        default_factory=dict,
        description='Secret variables, by reference to the user\'s environment: {"NAME": "$NAME"}.',
    )
    wait: bool = Field(False, description="run/uv: follow the job to its end.")
    keep_nothing: bool = Field(
        False,
        description="run/uv: acknowledge that nothing the job writes is kept (a smoke test). "
        "Without it, a training job that never pushes to the Hub is refused.",
    )
    schedule: str | None = Field(
        None, description="scheduled run: cron expression or @hourly/@daily/@weekly/@monthly."
    )
    job_id: str | None = Field(None, description="logs, inspect, cancel, resume: the job id.")
    scheduled_job_id: str | None = Field(
        None, description="scheduled inspect/delete/suspend/resume: the scheduled job id."
    )
    namespace: str | None = Field(
        None, description="User or organization that owns (and pays for) the jobs; default: you."
    )
    follow: bool = Field(False, description="logs: stream until the job ends.")
    tail: int = Field(50, ge=1, le=2000, description="logs: how many of the last lines to show.")
