"""An HF job as a run: followed in the background (status and log stream, as `follow`
does for wait=true), its lines scrubbed and handed to the run as they come, its cost
counted from the running time at the flavor's price."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from typing import Any

from agent.runs.model import Ended, Run
from agent.tools.jobs.follow import Followed, follow
from agent.tools.spec import ToolContext

OUTCOMES = {"COMPLETED": "succeeded", "ERROR": "failed", "CANCELED": "killed"}


class HfJobSource:
    """Follows one job for its run; `aclose` stops following (the job goes on)."""

    def __init__(
        self,
        ctx: ToolContext,
        namespace: str,
        job_id: str,
        usd_per_hour: float | None,
        first: dict[str, Any] | None = None,
    ) -> None:
        self._lines: list[str] = []
        self._started = time.time()
        self._ended_at: float | None = None
        self._rate = usd_per_hour
        quiet = dataclasses.replace(ctx, log=self._log, state={})  # not the tool's own view
        self._task = asyncio.get_running_loop().create_task(
            follow(ctx.settings, quiet, namespace, job_id, first), name=f"run-{job_id}"
        )

    def _log(self, text: str, omitted_lines: int = 0) -> None:
        from agent.context.redact import redact

        self._lines.append(redact(text))

    async def read(self) -> tuple[str, Ended | None]:
        text = "".join(line + "\n" for line in self._lines)
        self._lines.clear()
        if not self._task.done():
            return text, None
        self._ended_at = self._ended_at or time.time()
        try:
            followed = self._task.result()
        except asyncio.CancelledError:
            return text, Ended("ended", None, "no longer followed")
        except Exception as exc:
            return text, Ended("ended", None, f"could not be followed: {exc}")
        return text, _ended(followed)

    def cost_usd(self) -> float | None:
        if self._rate is None:
            return None
        return self._rate * ((self._ended_at or time.time()) - self._started) / 3600

    async def aclose(self) -> None:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)


def _ended(followed: Followed) -> Ended:
    stage = followed.stage
    message = (followed.info.get("status") or {}).get("message")
    detail = f"{stage} on the Hub" + (f" ({message})" if message else "")
    return Ended(OUTCOMES.get(stage, "ended"), None, detail)


def job_run(
    ctx: ToolContext,
    namespace: str,
    job_id: str,
    command: str,
    flavor: str,
    url: str,
    usd_per_hour: float | None,
    first: dict[str, Any] | None = None,
) -> tuple[Run, HfJobSource]:
    """The run of a job just started, and what follows it."""
    from agent.context.redact import redact

    run = Run(job_id, "hf_job", redact(command), links=[url], hardware=flavor)
    return run, HfJobSource(ctx, namespace, job_id, usd_per_hour, first)
