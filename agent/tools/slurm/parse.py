"""Reading what Slurm's commands print: `scontrol show job -o` (one line of Key=Value per job
or array task), `sacct -P` and `squeue` with a fixed format, and what a final state means
for a run."""

from __future__ import annotations

import re

from agent.runs.model import Ended

Job = dict[str, str]

TERMINAL = frozenset(
    {
        "COMPLETED",
        "FAILED",
        "CANCELLED",
        "TIMEOUT",
        "NODE_FAIL",
        "PREEMPTED",
        "OUT_OF_MEMORY",
        "BOOT_FAIL",
        "DEADLINE",
        "REVOKED",
        "SPECIAL_EXIT",
    }
)
KILLED = frozenset({"CANCELLED", "TIMEOUT", "PREEMPTED", "DEADLINE"})
RESUMABLE = frozenset({"FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "PREEMPTED", "OUT_OF_MEMORY"})
_WHY = {
    "TIMEOUT": "killed at its time limit",
    "PREEMPTED": "preempted by a job of higher priority",
    "OUT_OF_MEMORY": "ran out of the memory it asked for",
    "NODE_FAIL": "a node it ran on failed",
    "CANCELLED": "cancelled",
}
_KEY = re.compile(r"(?:^|\s)([A-Za-z][\w/:]*)=")
SQUEUE_FORMAT = "%i|%j|%T|%M|%l|%P|%D|%R"
SACCT_FIELDS = "JobID,JobName,State,ExitCode,Elapsed,Partition,NodeList,WorkDir"


def scontrol_jobs(text: str) -> list[Job]:
    """Each line of `scontrol show job -o` as a dict of its fields."""
    jobs = []
    for line in text.splitlines():
        keys = list(_KEY.finditer(line))
        if not keys:
            continue
        job = {}
        for here, after in zip(keys, [*keys[1:], None], strict=True):
            end = after.start() if after else len(line)
            job[here.group(1)] = line[here.end() : end].strip()
        jobs.append(job)
    return jobs


def sacct_jobs(text: str) -> list[Job]:
    """`sacct -X -P -n -o SACCT_FIELDS` lines in the names `scontrol` uses."""
    names = ["JobId", "JobName", "JobState", "ExitCode", "RunTime", "Partition", "NodeList"]
    names.append("WorkDir")
    jobs = []
    for line in text.splitlines():
        values = line.split("|")
        if len(values) == len(names):
            job = dict(zip(names, values, strict=True))
            job["JobState"] = job["JobState"].split()[0] if job["JobState"] else "UNKNOWN"
            jobs.append(job)
    return jobs


def squeue_rows(text: str) -> list[list[str]]:
    return [line.split("|") for line in text.splitlines() if line.count("|") == 7]


def overall_state(jobs: list[Job]) -> str:
    """One state for a job or a whole array: running while any task is not done, then
    COMPLETED only if every task completed, else the first task's bad end."""
    states = [job.get("JobState", "UNKNOWN") for job in jobs] or ["UNKNOWN"]
    active = [s for s in states if s not in TERMINAL]
    if active:
        return "RUNNING" if "RUNNING" in active else active[0]
    bad = [s for s in states if s != "COMPLETED"]
    return bad[0] if bad else "COMPLETED"


def exit_code(job: Job) -> int | None:
    """The script's exit status from `ExitCode=status:signal` (None when a signal ended it)."""
    status, _, signal = job.get("ExitCode", "").partition(":")
    if not status.isdigit():
        return None
    return None if signal not in ("", "0") else int(status)


def ended(jobs: list[Job]) -> Ended:
    """How a finished job (or array) ends as a run."""
    state = overall_state(jobs)
    bad = next((job for job in jobs if job.get("JobState") == state), jobs[0] if jobs else {})
    code = exit_code(bad)
    why = _WHY.get(state) or (f"exit code {code}" if code else "")
    detail = f"{state} on Slurm" + (f" ({why})" if why else "")
    if state == "COMPLETED":
        return Ended("succeeded", 0, detail)
    return Ended("killed" if state in KILLED else "failed", code, detail)


def describe(jobs: list[Job]) -> str:
    """`inspect` for the model: the fields that matter, one job or task per block."""
    keep = (
        "JobId ArrayJobId ArrayTaskId JobName JobState Reason ExitCode RunTime TimeLimit "
        "Partition NumNodes NumCPUs NodeList TRES WorkDir StdOut SubmitTime StartTime EndTime"
    ).split()
    blocks = []
    for job in jobs:
        blocks.append("\n".join(f"{key}: {job[key]}" for key in keep if job.get(key)))
    return "\n\n".join(blocks)
