"""A job's start and its end as events (`job_submitted`, `job_finished`): front ends show
them and JobSubmitted/JobFinished hooks run on them. The end is told once per job, when a
tool first sees its final status."""

from __future__ import annotations

from agent import events as ev
from agent.tools.jobs.api import TERMINAL_STAGES
from agent.tools.spec import ToolContext

BACKEND = "hf_jobs"


def submitted(ctx: ToolContext, job_id: str, hardware: str, worst_usd: float, url: str) -> None:
    ctx.emit(
        ev.JobSubmitted(
            job_id=job_id,
            backend=BACKEND,
            hardware=hardware,
            cost_estimate_usd=worst_usd,
            links=[url],
        )
    )


def observed(
    ctx: ToolContext, job_id: str, stage: str, hardware: str, cost: float | None, url: str
) -> None:
    """Tell of the job's end if `stage` is final and it was not told before."""
    told: set[str] = ctx.state.setdefault("jobs_finished", set())
    if stage not in TERMINAL_STAGES or job_id in told:
        return
    told.add(job_id)
    ctx.emit(
        ev.JobFinished(
            job_id=job_id,
            backend=BACKEND,
            status=stage,
            hardware=hardware,
            cost_usd=cost,
            links=[url],
        )
    )
