"""Following a job: its status changes and log lines, as they happen.

The logs come from the Hub's server-sent event stream, read with httpx on the event
loop rather than through HfApi in a worker thread: cancelling the tool (Ctrl-C)
then closes the connection at once instead of leaving a thread blocked on a socket.
The stream replays a job's log from its start on every connection, so events
already shown are counted and skipped after a reconnect.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from agent.tools.hub.common import Target, hub_client, hub_json, hub_request
from agent.tools.jobs import news
from agent.tools.jobs.api import TERMINAL_STAGES, human_duration, usd
from agent.tools.spec import ToolContext, ToolResult

if TYPE_CHECKING:
    import httpx

    from agent.config import Settings

INTERRUPTED = "hf_jobs.interrupted"
JOB_STARTED = "===== Job started"
TAIL_LINES = 40
FOLLOW_READ_TIMEOUT_S = 120.0  # the Hub sends a keep-alive every 30 s
DRAIN_READ_TIMEOUT_S = 5.0
POLL_FIRST_S = 0.5
POLL_MAX_S = 10.0
_PULL_FAILURE = re.compile(r"pull|manifest|image", re.IGNORECASE)


@dataclass
class Followed:
    """Where following ended: the job's last state and the newest log lines."""

    info: dict[str, Any]
    tail: list[str]
    elapsed_s: float
    events: int = 0
    status_log: list[str] = field(default_factory=list)

    @property
    def stage(self) -> str:
        return stage_of(self.info)


@dataclass
class Resume:
    """Following a job again from where an earlier follower stopped: the log events it
    had read (`seen`) are not shown as new but handed to `on_earlier`; `on_event` hears
    how many events have been read so far, to be saved as the new place to start from."""

    seen: int = 0
    on_earlier: Callable[[str], None] | None = None
    on_event: Callable[[int], None] | None = None


def stage_of(info: dict[str, Any]) -> str:
    return str((info.get("status") or {}).get("stage") or "UNKNOWN")


def job_url(settings: Settings, namespace: str, job_id: str) -> str:
    return f"{settings.hf_endpoint.rstrip('/')}/jobs/{namespace}/{job_id}"


def _target(job_id: str) -> Target:
    return Target(
        what=f"job '{job_id}'",
        not_found_hint="check the id; list your jobs with operation='ps'",
    )


async def job_json(
    client: httpx.AsyncClient, settings: Settings, namespace: str, job_id: str
) -> dict[str, Any]:
    url = f"{settings.hf_endpoint.rstrip('/')}/api/jobs/{namespace}/{job_id}"
    info = await hub_json(client, url, settings=settings, target=_target(job_id))
    return info if isinstance(info, dict) else {}


async def read_logs(
    client: httpx.AsyncClient,
    settings: Settings,
    namespace: str,
    job_id: str,
    *,
    skip: int,
    on_line: Callable[[str], None],
    read_timeout_s: float,
    on_skipped: Callable[[str], None] | None = None,
    on_event: Callable[[int], None] | None = None,
) -> int:
    """Read the log stream until it ends or stays silent; returns how many events it held.

    The lines of the first `skip` events go to `on_skipped` (when given) instead of
    `on_line`; `on_event` hears how many events have been read after each new one.
    The events are parsed by httpx-sse, a full SSE reader: `data:` with or without the
    space, and one event's data spread over several lines, both arrive whole.
    """
    import httpx
    from httpx_sse import EventSource

    url = f"{settings.hf_endpoint.rstrip('/')}/api/jobs/{namespace}/{job_id}/logs"
    timeout = httpx.Timeout(read_timeout_s, connect=10.0)
    response = await hub_request(
        client,
        "GET",
        url,
        settings=settings,
        target=_target(job_id),
        stream=True,
        timeout=timeout,
    )
    count = 0
    try:
        async for event in EventSource(response).aiter_sse():
            if not event.data.lstrip().startswith("{"):
                continue
            count += 1
            if count <= skip and on_skipped is None:
                continue
            with contextlib.suppress(ValueError):
                data = str(json.loads(event.data).get("data", ""))
                if not data.startswith(JOB_STARTED):
                    (on_line if count > skip else on_skipped or on_line)(data.rstrip("\n"))
            if on_event is not None and count > skip:
                on_event(count)
    except (httpx.TimeoutException, httpx.HTTPError):
        pass  # silence or a dropped stream: the caller asks the job's status next
    finally:
        await response.aclose()
    return max(count, skip)


async def fetch_tail(settings: Settings, namespace: str, job_id: str, lines: int) -> list[str]:
    """The newest `lines` lines the job has logged so far."""
    tail: deque[str] = deque(maxlen=lines)
    async with hub_client(settings) as client:
        await read_logs(
            client,
            settings,
            namespace,
            job_id,
            skip=0,
            on_line=tail.append,
            read_timeout_s=DRAIN_READ_TIMEOUT_S,
        )
    return list(tail)


async def follow(
    settings: Settings,
    ctx: ToolContext,
    namespace: str,
    job_id: str,
    first: dict[str, Any] | None = None,
    resume: Resume | None = None,
) -> Followed:
    """Stream status changes and log lines to `ctx.log` until the job ends.

    Cancellation stops at once and leaves the job's id in `ctx.state[INTERRUPTED]`,
    so the front end can ask whether to cancel the job as well.
    """
    ctx.state.pop(INTERRUPTED, None)
    try:
        return await _follow(settings, ctx, namespace, job_id, first, resume or Resume())
    except asyncio.CancelledError:
        ctx.state[INTERRUPTED] = {
            "job_id": job_id,
            "namespace": namespace,
            "url": job_url(settings, namespace, job_id),
        }
        raise


async def _follow(
    settings: Settings,
    ctx: ToolContext,
    namespace: str,
    job_id: str,
    first: dict[str, Any] | None,
    resume: Resume,
) -> Followed:
    start = time.monotonic()
    tail: deque[str] = deque(maxlen=TAIL_LINES)
    done = Followed(first or {}, [], 0.0)

    def show(line: str) -> None:
        tail.append(line)
        ctx.log(line)

    def status(info: dict[str, Any]) -> None:
        message = (info.get("status") or {}).get("message")
        line = f"[{human_duration(time.monotonic() - start)}] job {job_id}: {stage_of(info)}"
        line += f" ({message})" if message else ""
        done.status_log.append(line)
        ctx.log(line)

    async with hub_client(settings) as client:
        earlier = resume.on_earlier  # the first connection only: it replays the log

        async def read_more(skip: int, timeout_s: float) -> int:
            nonlocal earlier
            skipped, earlier = earlier, None
            return await read_logs(
                client,
                settings,
                namespace,
                job_id,
                skip=skip,
                on_line=show,
                read_timeout_s=timeout_s,
                on_skipped=skipped,
                on_event=resume.on_event,
            )

        info = first or await job_json(client, settings, namespace, job_id)
        last, delay, seen = "", POLL_FIRST_S, resume.seen
        while True:
            if stage_of(info) != last:
                last = stage_of(info)
                status(info)
            if last in TERMINAL_STAGES:
                break
            if last == "RUNNING":
                before = seen
                seen = await read_more(seen, FOLLOW_READ_TIMEOUT_S)
                if seen > before:
                    delay = POLL_FIRST_S
                    info = await job_json(client, settings, namespace, job_id)
                    continue
            await asyncio.sleep(delay)
            delay = min(delay * 2, POLL_MAX_S)
            info = await job_json(client, settings, namespace, job_id)
        seen = await read_more(seen, DRAIN_READ_TIMEOUT_S)
    done.info, done.tail, done.events = info, list(tail), seen
    done.elapsed_s = time.monotonic() - start
    return done


def interrupted_job(state: dict[str, Any]) -> dict[str, str] | None:
    """The job whose following was interrupted (and forget it): what to offer to cancel."""
    return state.pop(INTERRUPTED, None)


async def cancel_job(settings: Settings, namespace: str, job_id: str) -> None:
    """Cancel a job, for a front end whose user said yes after interrupting a wait."""
    url = f"{settings.hf_endpoint.rstrip('/')}/api/jobs/{namespace}/{job_id}/cancel"
    async with hub_client(settings) as client:
        response = await hub_request(client, "POST", url, settings=settings, target=_target(job_id))
        await response.aclose()


def finished_result(
    followed: Followed,
    ctx: ToolContext,
    namespace: str,
    job_id: str,
    usd_per_hour: float | None,
    image: str | None = None,
) -> ToolResult:
    """The result of following a job: final status, cost, last lines and the URL."""
    status = followed.info.get("status") or {}
    stage, message = followed.stage, status.get("message")
    running = (followed.info.get("durations") or {}).get("runningSecs")
    lines = [f"Job {job_id} ended: {stage}" + (f" ({message})" if message else "")]
    cost = None
    if running is not None:
        lines.append(f"Running time: {human_duration(running)}")
        if usd_per_hour is not None:
            cost = usd_per_hour * running / 3600
            ctx.usage.record_outside(f"job:{job_id}", cost)
            lines.append(f"Cost: about {usd(cost)}")
    url = job_url(ctx.settings, namespace, job_id)
    lines.append(f"URL: {url}")
    news.observed(ctx, job_id, stage, str(followed.info.get("flavor") or ""), cost, url)
    if stage == "ERROR" and message and _PULL_FAILURE.search(message):
        lines.append(
            f"The image{f' {image!r}' if image else ''} could not be pulled: check its name "
            "and tag exist and are public (Docker Hub 'name:tag', or hf.co/spaces/<id>)."
        )
    shown = followed.tail or ["(no log lines)"]
    lines += ["", f"Last {len(followed.tail)} log lines:" if followed.tail else "Logs:", *shown]
    data = {"job_id": job_id, "stage": stage}
    return ToolResult("\n".join(lines), is_error=stage == "ERROR", data=data)
