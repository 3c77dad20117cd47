"""An HF job as a run: followed in the background (status and log stream, as `follow`
does for wait=true), its lines scrubbed and handed to the run as they come, its cost
counted from the running time at the flavor's price.

A continued session follows again the jobs its ledger left running (`taken_back`): the
log events read before are handed over as earlier output (metrics and tail, no wake-up),
so only what the job printed since, and its end, can wake the agent. The end is told as
a `job_finished` event too (JobFinished hooks), once per job whoever saw it first.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from typing import Any

from agent.runs.model import Ended, Run
from agent.tools.jobs import news
from agent.tools.jobs.follow import Followed, Resume, follow, job_url
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
        *,
        started: float | None = None,
        offset: int = 0,
        flavor: str = "",
    ) -> None:
        self._ctx, self._namespace, self._job_id = ctx, namespace, job_id
        self._lines: list[str] = []
        self._earlier: list[str] = []
        self._started = started or time.time()
        self._ended_at: float | None = None
        self._running_s: float | None = None
        self._rate = usd_per_hour
        self.offset = offset  # log events handed to the run so far
        self._seen = offset
        quiet = dataclasses.replace(ctx, log=self._log, state={})  # not the tool's own view
        resume = Resume(offset, self._earlier.append if offset else None, self._count)
        self._task = asyncio.get_running_loop().create_task(
            self._follow(quiet, namespace, job_id, first, resume, flavor), name=f"run-{job_id}"
        )

    async def _follow(
        self,
        ctx: ToolContext,
        namespace: str,
        job_id: str,
        first: dict[str, Any] | None,
        resume: Resume,
        flavor: str,
    ) -> Followed:
        if self._rate is None and flavor:  # taken back: the price is looked up again
            from agent.tools.jobs.api import load_hardware

            with contextlib.suppress(Exception):
                row = (await load_hardware(ctx.settings)).get(flavor)
                self._rate = row.usd_per_hour if row else None
        return await follow(ctx.settings, ctx, namespace, job_id, first, resume)

    def _log(self, text: str, omitted_lines: int = 0) -> None:
        from agent.context.redact import redact

        self._lines.append(redact(text))

    def _count(self, events: int) -> None:
        self._seen = events

    def earlier(self) -> str:
        """What the job had printed before a continued session took it back: it counts
        for the run's metrics and tail, and wakes nobody."""
        from agent.context.redact import redact

        text = "".join(redact(line) + "\n" for line in self._earlier)
        self._earlier.clear()
        return text

    async def read(self) -> tuple[str, Ended | None]:
        text = "".join(line + "\n" for line in self._lines)
        self._lines.clear()
        self.offset = self._seen
        if not self._task.done():
            return text, None
        self._ended_at = self._ended_at or time.time()
        try:
            followed = self._task.result()
        except asyncio.CancelledError:
            return text, Ended("ended", None, "no longer followed")
        except Exception as exc:
            return text, Ended("ended", None, f"could not be followed: {exc}")
        running = (followed.info.get("durations") or {}).get("runningSecs")
        if isinstance(running, int | float):
            self._running_s = float(running)
        url = job_url(self._ctx.settings, self._namespace, self._job_id)
        flavor = str(followed.info.get("flavor") or "")
        news.observed(self._ctx, self._job_id, followed.stage, flavor, self.cost_usd(), url)
        return text, _ended(followed)

    def cost_usd(self) -> float | None:
        if self._rate is None:
            return None
        if self._running_s is not None:  # the Hub's count: right also for a job that
            return self._rate * self._running_s / 3600  # ended while nobody followed it
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


def taken_back(ctx: ToolContext, entry: dict[str, Any]) -> tuple[Run, HfJobSource] | None:
    """The run of a job a continued session's ledger left running, and what follows it
    again from where it had been read; None when the entry does not say where the job is."""
    job_id, links = str(entry.get("id") or ""), entry.get("links") or []
    namespace = str((entry.get("spec") or {}).get("namespace") or "")
    if not namespace and links:
        namespace = str(links[0]).rstrip("/").split("/")[-2]
    started = entry.get("started_at")
    if not job_id or not namespace or not isinstance(started, int | float):
        return None
    flavor = str(entry.get("hardware") or "")
    run = Run(job_id, "hf_job", str(entry.get("command") or ""), started_at=started)
    run.links, run.hardware = [str(link) for link in links], flavor
    run.spec, run.resumed_from = dict(entry.get("spec") or {}), str(entry.get("resumed_from") or "")
    offset = entry.get("offset")
    run.offset = offset if isinstance(offset, int) else 0
    source = HfJobSource(
        ctx, namespace, job_id, None, started=started, offset=run.offset, flavor=flavor
    )
    return run, source
