"""The Jobs and Spaces endpoints of the Hugging Face Hub, added to the loopback FakeHub.

`JobsHub` answers what huggingface_hub's HfApi sends for Jobs (`/api/jobs/...`,
`/api/scheduled-jobs/...`, the hardware table, the logs SSE stream) and for running a
Space (secrets, hardware, runtime, pause, delete), on top of everything FakeHub serves
(repo creation and commits included). Jobs follow a `JobScript` deterministically, driven
by the client's own requests, so no test waits on a clock:

- a job is SCHEDULING when created and RUNNING from the first time it is inspected;
- when its logs stream opens, the script's lines are appended and, if the script has a
  final stage, the job ends there and the stream closes; otherwise the stream stays open
  until the job is cancelled or a test calls `finish`.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import socket
import threading
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.fakes.hub_api import Call, Response
from tests.fakes.hub_server import FakeHub, _Handler
from tests.fakes.hub_state import HubError, now_iso

TERMINAL = ("COMPLETED", "CANCELED", "ERROR", "DELETED")
_ids = itertools.count(1)


def _price_row(
    name: str, pretty: str, usd_per_hour: float, gpu: str | None = None, vram: int = 24, n: int = 1
) -> dict:
    per_minute = usd_per_hour / 60
    accelerator = None
    if gpu:
        accelerator = {
            "type": "gpu",
            "model": gpu,
            "quantity": str(n),
            "vram": f"{vram} GB",
            "manufacturer": "Nvidia",
        }
    return {
        "name": name,
        "prettyName": pretty,
        "cpu": "4 vCPU",
        "ram": "15 GB",
        "ephemeralStorage": "50 GB",
        "accelerator": accelerator,
        "unitCostMicroUSD": round(per_minute * 1_000_000),
        "unitCostUSD": per_minute,
        "unitLabel": "minute",
    }


HARDWARE = [
    _price_row("cpu-basic", "CPU Basic", 0.012),
    _price_row("cpu-upgrade", "CPU Upgrade", 0.03),
    _price_row("t4-small", "Nvidia T4 - small", 0.6, "T4", 16),
    _price_row("a10g-small", "Nvidia A10G - small", 1.2, "A10G"),
    _price_row("a10g-large", "Nvidia A10G - large", 1.8, "A10G"),
    _price_row("a100-large", "Nvidia A100 - large", 3.0, "A100", 80),
    _price_row("h200", "Nvidia H200", 6.0, "H200", 141),
    _price_row("a100x8", "8x Nvidia A100 - large", 24.0, "A100", 640, 8),
]


@dataclass
class JobScript:
    """What a job does once it runs: log lines, then a final stage (None: keeps running)."""

    lines: list[str] = field(default_factory=lambda: ["hello from the job"])
    final: str | None = "COMPLETED"
    message: str | None = None
    running_secs: int = 90
    queued_polls: int = 0  # inspections that still find it waiting for hardware
    framing: str = "spaced"  # how log events are written: see `sse_event`


@dataclass
class FakeJob:
    id: str
    owner: str
    spec: dict[str, Any]
    script: JobScript
    stage: str = "SCHEDULING"
    message: str | None = None
    created_at: str = field(default_factory=now_iso)
    logs: list[dict[str, str]] = field(default_factory=list)
    script_started: bool = False
    running_secs: int | None = None

    def info(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "createdAt": self.created_at,
            "dockerImage": self.spec.get("dockerImage"),
            "spaceId": self.spec.get("spaceId"),
            "command": self.spec.get("command"),
            "arguments": [],
            "environment": self.spec.get("environment", {}),
            "secrets": dict.fromkeys(self.spec.get("secrets", {}), "[encrypted]"),
            "flavor": self.spec.get("flavor"),
            "labels": self.spec.get("labels"),
            "status": {"stage": self.stage, "message": self.message},
            "durations": {"runningSecs": self.running_secs, "totalSecs": self.running_secs},
            "owner": {"id": f"id-{self.owner}", "name": self.owner, "type": "user"},
        }


@dataclass
class SpaceRun:
    """A Space's runtime: its secrets, requested hardware and the stages still to show."""

    secrets: dict[str, str] = field(default_factory=dict)
    hardware: str | None = None
    stages: deque[str] = field(default_factory=deque)
    stage: str = "BUILDING"
    sleep_time: int | None = None


class StreamResponse(Response):
    """A response whose body is written chunk by chunk while `chunks` yields."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        super().__init__(200, b"", {"Content-Type": "text/event-stream"})
        self.chunks = chunks


class JobsHub(FakeHub):
    """FakeHub plus Jobs and Space runtimes. See the module docstring for the job flow."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.hardware = [dict(row) for row in HARDWARE]
        self.jobs: dict[str, FakeJob] = {}
        self.scheduled: dict[str, dict[str, Any]] = {}
        self.scripts: deque[JobScript] = deque()
        self.unpayable: set[str] = set()
        self.broken_images: set[str] = set()
        self.spaces: dict[str, SpaceRun] = {}
        self.space_stages: list[str] = ["BUILDING", "APP_STARTING", "RUNNING"]
        self.space_domain = "sandbox.example.invalid"
        self.on_space_start: Callable[[str, SpaceRun], None] | None = None
        self.changed = threading.Condition(self.lock)

    def handler_class(self) -> type[BaseHTTPRequestHandler]:
        return _StreamingHandler

    # -- test controls -----------------------------------------------------------------

    def only_job(self) -> FakeJob:
        assert len(self.jobs) == 1, f"expected one job, got {len(self.jobs)}"
        return next(iter(self.jobs.values()))

    def finish(self, job_id: str, stage: str = "COMPLETED", message: str | None = None) -> None:
        with self.changed:
            job = self.jobs[job_id]
            job.stage, job.message = stage, message
            job.running_secs = job.script.running_secs
            self.changed.notify_all()

    # -- routing -----------------------------------------------------------------------

    def _route(
        self,
        method: str,
        path: str,
        query: dict[str, list[str]],
        headers: dict[str, str],
        body: bytes,
    ) -> Response:
        for verbs, pattern, handler in _ROUTES:
            match = pattern.match(path)
            if match and method in verbs:
                user = self.user(headers)
                return handler(self, Call(method, list(match.groups()), query, user, body, path))
        return super()._route(method, path, query, headers, body)

    def jobs_user(self, call: Call, namespace: str) -> str:
        if call.user is None:
            raise HubError(401, "Invalid credentials in Authorization header")
        if not self.can_write(namespace, call.user):
            raise HubError(403, f"You don't have the rights to manage jobs in {namespace}")
        return call.user

    def job(self, call: Call) -> FakeJob:
        namespace, job_id = call.groups[0], call.groups[1]
        self.jobs_user(call, namespace or "")
        job = self.jobs.get(job_id or "")
        if job is None or job.owner != namespace:
            raise HubError(404, f"Job {job_id} not found")
        return job

    def space(self, call: Call) -> tuple[str, SpaceRun]:
        space_id = f"{call.groups[0]}/{call.groups[1]}"
        repo = self.find("space", space_id, call.user)
        self.check_write(repo, call.user)
        return space_id, self.spaces.setdefault(space_id, SpaceRun())


# -- jobs ------------------------------------------------------------------------------


def _hardware(hub: JobsHub, call: Call) -> Response:
    return Response.json(hub.hardware)


def _run(hub: JobsHub, call: Call) -> Response:
    namespace = call.groups[0] or ""
    hub.jobs_user(call, namespace)
    spec = call.json()
    flavors = [row["name"] for row in hub.hardware]
    if spec.get("flavor") not in flavors:
        raise HubError(400, f"Invalid flavor '{spec.get('flavor')}'")
    if namespace in hub.unpayable and spec.get("flavor") != "cpu-basic":
        raise HubError(402, "Payment required: add a payment method to run jobs on this hardware")
    job_id = hashlib.sha1(f"job-{next(_ids)}".encode()).hexdigest()[:24]
    script = hub.scripts.popleft() if hub.scripts else JobScript()
    job = FakeJob(job_id, namespace, spec, script)
    if spec.get("dockerImage") in hub.broken_images:
        job.script = JobScript(lines=[], final=None)
    hub.jobs[job_id] = job
    return Response.json(job.info())


def _list(hub: JobsHub, call: Call) -> Response:
    namespace = call.groups[0] or ""
    hub.jobs_user(call, namespace)
    stages = call.args("stage")
    found = [
        j.info()
        for j in hub.jobs.values()
        if j.owner == namespace and (not stages or j.stage in stages)
    ]
    return Response.json(found)


def _inspect(hub: JobsHub, call: Call) -> Response:
    job = hub.job(call)
    if job.stage == "SCHEDULING" and job.script.queued_polls > 0:
        job.script.queued_polls -= 1
    elif job.stage == "SCHEDULING":
        image = job.spec.get("dockerImage")
        if image in hub.broken_images:
            job.stage = "ERROR"
            job.message = f"Failed to pull image '{image}': manifest unknown"
        else:
            job.stage = "RUNNING"
    return Response.json(job.info())


def _cancel(hub: JobsHub, call: Call) -> Response:
    job = hub.job(call)
    if job.stage not in TERMINAL:
        hub.finish(job.id, "CANCELED")
    return Response.json({})


def _logs(hub: JobsHub, call: Call) -> Response:
    job = hub.job(call)
    if job.stage == "RUNNING" and not job.script_started:
        job.script_started = True
        for line in ["===== Job started =====", *job.script.lines]:
            job.logs.append({"data": line, "timestamp": now_iso()})
        if job.script.final:
            job.stage, job.message = job.script.final, job.script.message
            job.running_secs = job.script.running_secs
    return StreamResponse(_log_events(hub, job))


def _log_events(hub: JobsHub, job: FakeJob) -> Iterator[bytes]:
    sent = 0
    while True:
        with hub.changed:
            batch = job.logs[sent:]
            sent = len(job.logs)
            if not batch:
                if job.stage in TERMINAL:
                    return
                hub.changed.wait(1.0)
        for event in batch:
            yield sse_event(event, job.script.framing)
        if not batch:
            yield b": keep-alive\n\n"


def sse_event(event: dict[str, str], framing: str) -> bytes:
    """One log event as the SSE standard allows it to be written: "spaced" (`data: {...}`,
    as the Hub writes it today), "compact" (`data:{...}`, no space after the colon) or
    "multiline" (the JSON split over several `data:` lines, which a reader joins)."""
    body = json.dumps(event)
    if framing == "compact":
        return f"data:{body}\n\n".encode()
    if framing == "multiline":
        lines = json.dumps(event, indent=1).splitlines()
        return "".join(f"data: {line}\n" for line in lines).encode() + b"\n"
    return f"data: {body}\n\n".encode()


# -- scheduled jobs ----------------------------------------------------------------------


def _scheduled_info(namespace: str, sid: str, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": sid,
        "createdAt": now_iso(),
        "jobSpec": {**body["jobSpec"], "timeout": body["jobSpec"].get("timeoutSeconds")},
        "schedule": body["schedule"],
        "suspend": bool(body.get("suspend")),
        "concurrency": False,
        "status": {"lastJob": None, "nextJobRunAt": "2030-01-01T00:00:00.000Z"},
        "owner": {"id": f"id-{namespace}", "name": namespace, "type": "user"},
    }


def _scheduled_create(hub: JobsHub, call: Call) -> Response:
    namespace = call.groups[0] or ""
    hub.jobs_user(call, namespace)
    body = call.json()
    if body["jobSpec"].get("flavor") not in [row["name"] for row in hub.hardware]:
        raise HubError(400, "Invalid flavor")
    sid = hashlib.sha1(f"sched-{next(_ids)}".encode()).hexdigest()[:24]
    hub.scheduled[sid] = _scheduled_info(namespace, sid, body)
    return Response.json(hub.scheduled[sid])


def _scheduled_list(hub: JobsHub, call: Call) -> Response:
    namespace = call.groups[0] or ""
    hub.jobs_user(call, namespace)
    return Response.json([s for s in hub.scheduled.values() if s["owner"]["name"] == namespace])


def _scheduled_one(hub: JobsHub, call: Call) -> Response:
    namespace, sid, action = call.groups
    hub.jobs_user(call, namespace or "")
    item = hub.scheduled.get(sid or "")
    if item is None or item["owner"]["name"] != namespace:
        raise HubError(404, f"Scheduled job {sid} not found")
    if call.method == "DELETE":
        del hub.scheduled[item["id"]]
        return Response.json({})
    if action in ("suspend", "resume"):
        item["suspend"] = action == "suspend"
        return Response.json({})
    return Response.json(item)


# -- spaces ------------------------------------------------------------------------------


def _space_secret(hub: JobsHub, call: Call) -> Response:
    _, run = hub.space(call)
    body = call.json()
    if call.method == "DELETE":
        run.secrets.pop(body["key"], None)
    else:
        run.secrets[body["key"]] = body.get("value", "")
    return Response.json({})


def _space_hardware(hub: JobsHub, call: Call) -> Response:
    space_id, run = hub.space(call)
    body = call.json()
    if body.get("flavor") not in [row["name"] for row in hub.hardware]:
        raise HubError(400, f"Invalid flavor '{body.get('flavor')}'")
    run.hardware, run.sleep_time = body["flavor"], body.get("sleepTimeSeconds")
    run.stages = deque(hub.space_stages)
    if hub.on_space_start is not None:
        hub.on_space_start(space_id, run)
    return Response.json(_runtime(hub, run))


def _space_runtime(hub: JobsHub, call: Call) -> Response:
    _, run = hub.space(call)
    if run.stages:
        run.stage = run.stages.popleft()
    return Response.json(_runtime(hub, run))


def _space_pause(hub: JobsHub, call: Call) -> Response:
    _, run = hub.space(call)
    run.stage, run.stages = "PAUSED", deque()
    return Response.json(_runtime(hub, run))


def _space_jwt(hub: JobsHub, call: Call) -> Response:
    space_id, _ = hub.space(call)
    return Response.json({"token": f"jwt-for-{space_id.replace('/', '-')}"})


def _runtime(hub: JobsHub, run: SpaceRun) -> dict[str, Any]:
    return {
        "stage": run.stage,
        "hardware": {
            "current": run.hardware if run.stage == "RUNNING" else None,
            "requested": run.hardware,
        },
        "gcTimeout": run.sleep_time,
        "domains": [{"domain": hub.space_domain, "stage": "READY"}],
    }


def _delete_repo(hub: JobsHub, call: Call) -> Response:
    body = call.json()
    repo_type = body.get("type") or "model"
    namespace = body.get("organization") or call.user
    repo_id = f"{namespace}/{body['name']}"
    repo = hub.find(repo_type, repo_id, call.user)
    hub.check_write(repo, call.user)
    del hub.repos[(repo_type, repo_id)]
    hub.spaces.pop(repo_id, None)
    return Response.json({})


_NS = r"([^/]+)"
_ROUTES: list[tuple[tuple[str, ...], re.Pattern[str], Callable[[JobsHub, Call], Response]]] = [
    (("GET",), re.compile(r"^/api/jobs/hardware$"), _hardware),
    (("GET",), re.compile(r"^/api/spaces/hardware$"), _hardware),
    (("POST",), re.compile(rf"^/api/jobs/{_NS}$"), _run),
    (("GET",), re.compile(rf"^/api/jobs/{_NS}$"), _list),
    (("GET",), re.compile(rf"^/api/jobs/{_NS}/{_NS}$"), _inspect),
    (("POST",), re.compile(rf"^/api/jobs/{_NS}/{_NS}/cancel$"), _cancel),
    (("GET",), re.compile(rf"^/api/jobs/{_NS}/{_NS}/logs$"), _logs),
    (("POST",), re.compile(rf"^/api/scheduled-jobs/{_NS}$"), _scheduled_create),
    (("GET",), re.compile(rf"^/api/scheduled-jobs/{_NS}$"), _scheduled_list),
    (
        ("GET", "DELETE", "POST"),
        re.compile(rf"^/api/scheduled-jobs/{_NS}/{_NS}(?:/(suspend|resume))?$"),
        _scheduled_one,
    ),
    (("POST", "DELETE"), re.compile(rf"^/api/spaces/{_NS}/{_NS}/secrets$"), _space_secret),
    (("POST",), re.compile(rf"^/api/spaces/{_NS}/{_NS}/hardware$"), _space_hardware),
    (("GET",), re.compile(rf"^/api/spaces/{_NS}/{_NS}/runtime$"), _space_runtime),
    (("POST",), re.compile(rf"^/api/spaces/{_NS}/{_NS}/pause$"), _space_pause),
    (("GET",), re.compile(rf"^/api/spaces/{_NS}/{_NS}/jwt$"), _space_jwt),
    (("DELETE",), re.compile(r"^/api/repos/delete$"), _delete_repo),
]


class _StreamingHandler(_Handler):
    """FakeHub's handler, able to write a server-sent event stream as it is produced."""

    def _serve(self) -> None:
        fake: JobsHub = self.server.fake  # type: ignore[attr-defined]
        body = self._read_body()
        headers = {k.lower(): v for k, v in self.headers.items()}
        reply = fake.handle(self.command, self.path, headers, body)
        if not isinstance(reply, StreamResponse):
            self._reply(reply)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        try:
            for chunk in reply.chunks:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _reply(self, reply: Response) -> None:
        self.send_response(reply.status)
        reply.headers.setdefault("Content-Length", str(len(reply.body)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(reply.body)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _serve


def free_port() -> int:
    """A port nothing listens on right now, for a server a test starts next."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
