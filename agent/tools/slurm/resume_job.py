"""slurm_jobs operation='resume': a job that failed, was cancelled, preempted or hit its time
limit, submitted again from the newest `checkpoint-N` under its output_dir.

What it ran comes from the experiment ledger (`spec`, kept at submission), else from the
controller while it still knows the job (a job submitted by hand); the checkpoint from a
listing of the output folder on the cluster's filesystem. The relaunch is an ordinary
submission whose run names the original (`resumed_from`).
"""

from __future__ import annotations

from typing import Any

from agent.compute.resume import RESUME_ENV, resumed_script
from agent.runs.ledger import load_project
from agent.runs.registry import runs_of
from agent.tools.slurm import checkpoints, jobs, parse, recorded
from agent.tools.slurm.args import SlurmArgs
from agent.tools.slurm.job_run import BACKEND
from agent.tools.slurm.submit import submit
from agent.tools.spec import ToolContext, ToolError, ToolResult


def _ledger(ctx: ToolContext, job_id: str) -> dict[str, Any] | None:
    """The job's newest ledger entry (this session's first, then the project's)."""
    entries = [*reversed(runs_of(ctx.state, ctx.session_id, ctx.cwd).entries())]
    entries += load_project(ctx.cwd)
    return next((e for e in entries if e.get("id") == job_id and e.get("kind") == BACKEND), None)


async def _state(ctx: ToolContext, job_id: str, entry: dict[str, Any] | None) -> list[parse.Job]:
    """The job's records, or, for a job Slurm forgot, one made from its ledger entry."""
    try:
        return await jobs.job_state(ctx.settings, job_id)
    except ToolError:
        if entry is None or entry.get("status") == "running":
            raise
        ended = {"killed": "CANCELLED", "failed": "FAILED"}.get(str(entry.get("status")))
        return [{"JobId": job_id, "JobState": ended or "COMPLETED"}]


async def resume(job_id: str, ctx: ToolContext) -> ToolResult:
    entry = _ledger(ctx, job_id)
    records = await _state(ctx, job_id, entry)
    state = parse.overall_state(records)
    if state not in parse.RESUMABLE:
        raise ToolError(
            f"job {job_id} is {state}: resume is for a job that failed, was cancelled, "
            "preempted or hit its time limit"
        )
    spec = dict(entry.get("spec") or {}) if entry else {}
    if spec.pop("scrubbed", False):
        raise ToolError(
            f"Not resumed: job {job_id}'s script or env held a secret, which the ledger does "
            "not keep, so it cannot be submitted again from there. Submit it again yourself "
            f"with operation='run' and {RESUME_ENV} set to its newest checkpoint."
        )
    if spec:
        original = SlurmArgs.model_validate({**spec, "operation": "run"})
    else:
        original = await recorded.submitted_args(ctx.settings, job_id, records[0])
    script = original.script or f"#!/bin/bash\n{original.command}"
    workdir = records[0].get("WorkDir") or original.workdir
    checkpoint = await checkpoints.newest(ctx.settings, script, workdir)
    again = original.model_copy(
        update={"script": resumed_script(script, checkpoint), "command": None}
    )
    result = await submit(again, ctx, resumed_from=job_id)
    new_id = (result.data or {}).get("job_id")
    result.content = f"Resumed job {job_id} from {checkpoint} as job {new_id}.\n" + result.content
    return result
