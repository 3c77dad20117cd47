"""A Slurm job as a run: followed in the background (its state from the controller, its
output file as it grows), its lines scrubbed and handed to the run as they come. Its end is
told once as a `job_finished` event, so JobFinished hooks run whoever noticed it."""

from __future__ import annotations

import asyncio

from agent import events as ev
from agent.runs.model import Ended, Run
from agent.tools.slurm import jobs, parse
from agent.tools.spec import ToolContext

BACKEND = "slurm"
_TOLD = "slurm.finished"


def tell_end(ctx: ToolContext, job_id: str, records: list[parse.Job], hardware: str) -> None:
    """Emit `job_finished` for a job seen in a final state, once per job."""
    state = parse.overall_state(records)
    told: set[str] = ctx.state.setdefault(_TOLD, set())
    if state not in parse.TERMINAL or job_id in told:
        return
    told.add(job_id)
    ctx.emit(ev.JobFinished(job_id=job_id, backend=BACKEND, status=state, hardware=hardware))


class SlurmJobSource:
    """Follows one job for its run; `aclose` stops following (the job goes on)."""

    def __init__(self, ctx: ToolContext, job_id: str, hardware: str) -> None:
        self._lines: list[str] = []
        self._ctx = ctx
        self._job_id = job_id
        self._hardware = hardware
        self._task = asyncio.get_running_loop().create_task(
            jobs.follow(ctx.settings, job_id, self._line), name=f"run-slurm-{job_id}"
        )

    def _line(self, text: str) -> None:
        from agent.context.redact import redact

        self._lines.append(redact(text))

    async def read(self) -> tuple[str, Ended | None]:
        text = "".join(line + "\n" for line in self._lines)
        self._lines.clear()
        if not self._task.done():
            return text, None
        try:
            records = self._task.result()
        except asyncio.CancelledError:
            return text, Ended("ended", None, "no longer followed")
        except Exception as exc:
            return text, Ended("ended", None, f"could not be followed: {exc}")
        tell_end(self._ctx, self._job_id, records, self._hardware)
        return text, parse.ended(records)

    def cost_usd(self) -> float | None:
        return None  # a cluster's time is not billed per job here

    async def aclose(self) -> None:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)


def slurm_run(
    ctx: ToolContext, job_id: str, command: str, hardware: str
) -> tuple[Run, SlurmJobSource]:
    """The run of a job just submitted, and what follows it."""
    from agent.context.redact import redact

    run = Run(job_id, BACKEND, redact(command), hardware=hardware)
    return run, SlurmJobSource(ctx, job_id, hardware)
