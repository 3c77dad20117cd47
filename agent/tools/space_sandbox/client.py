"""The remote sandbox: a private Docker Space that runs bash, read, write and edit.

`sandbox_create` builds the Space from this package's own server (the Dockerfile
beside this file plus every agent module the server imports), gives it the SHA-256
of a fresh token as a Space secret, requests the hardware and waits until it
answers. From then on bash, read, write and edit run inside it (see remote.py). The user's HF token never goes to the Space: requests carry the sandbox
token, plus a short-lived Space-scoped token from the Hub for the private Space's
proxy.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import math
import secrets
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from agent.tools.http import make_client
from agent.tools.hub.common import Target, call_hub, hf_api, hub_client, hub_json
from agent.tools.jobs.api import (
    cached_hardware,
    check_flavor,
    human_duration,
    load_hardware,
    usd,
    whoami,
)
from agent.tools.jobs.launch import refuse_over_budget
from agent.tools.spec import ToolContext, ToolError, ToolResult, ToolSpec

if TYPE_CHECKING:
    from agent.config import Settings

STATE = "sandbox"
SECRET = "SANDBOX_TOKEN_SHA256"
TOKEN_HEADER = "X-Sandbox-Token"
SLEEP_AFTER_S = 3600
BUILD_DEADLINE_S = 20 * 60
READY_DEADLINE_S = 120.0
FAILED_STAGES = (
    "BUILD_ERROR",
    "RUNTIME_ERROR",
    "CONFIG_ERROR",
    "NO_APP_FILE",
    "DELETING",
    "STOPPED",
    "PAUSED",
)


@dataclass
class Sandbox:
    """A sandbox of this session. `url` is empty until the Space runs."""

    space_id: str
    flavor: str
    usd_per_hour: float | None
    token: str = dataclasses.field(repr=False)
    url: str = ""
    proxy_token: str | None = dataclasses.field(default=None, repr=False)
    started: float = dataclasses.field(default_factory=time.monotonic)

    def cost(self) -> float | None:
        hours = (time.monotonic() - self.started) / 3600
        return None if self.usd_per_hour is None else self.usd_per_hour * hours

    def headers(self) -> dict[str, str]:
        headers = {TOKEN_HEADER: self.token}
        if self.proxy_token:
            headers["Authorization"] = f"Bearer {self.proxy_token}"
        return headers


class CreateArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    flavor: str = Field(
        "cpu-basic", description="Hardware, e.g. cpu-basic (free), t4-small, a10g-small."
    )
    name: str | None = Field(
        None, description="A persistent Space name to reuse across sessions (default: new)."
    )


class DeleteArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- creating and deleting ------------------------------------------------------------------


async def _runtime(settings: Settings, target: Target, space_id: str) -> Any:
    api = hf_api(settings)
    return await call_hub(settings, target, api.get_space_runtime, space_id)


async def _wait_running(settings: Settings, ctx: ToolContext, space_id: str) -> Any:
    """Poll the Space until it runs; a failed build or start ends with what the Hub says."""
    target = Target(repo_id=space_id, repo_type="space")
    deadline, delay, shown = time.monotonic() + BUILD_DEADLINE_S, 0.25, ""
    logs = f"{settings.hf_endpoint.rstrip('/')}/spaces/{space_id}?logs=build"
    while True:
        runtime = await _runtime(settings, target, space_id)
        if runtime.stage != shown:
            shown = runtime.stage
            ctx.log(f"sandbox {space_id}: {shown}")
        if runtime.stage == "RUNNING":
            return runtime
        if runtime.stage in FAILED_STAGES:
            why = runtime.raw.get("errorMessage") or "no reason given"
            raise ToolError(
                f"the sandbox Space {space_id} did not start: {runtime.stage} ({why}). See its "
                f"logs at {logs}; delete it with sandbox_delete, or try again"
            )
        if time.monotonic() > deadline:
            raise ToolError(f"the sandbox {space_id} was not running after 20 minutes: see {logs}")
        await asyncio.sleep(delay)
        delay = min(delay * 2, 5.0)


def space_url(settings: Settings, runtime: Any, space_id: str) -> str:
    """The Space's own address: its first domain, or the one derived from its id."""
    domains = runtime.raw.get("domains") or []
    domain = (
        domains[0]["domain"]
        if domains
        else (space_id.replace("/", "-").replace("_", "-").replace(".", "-").lower() + ".hf.space")
    )
    template = settings.sandbox_url_template
    return template.format(domain=domain, space_id=space_id).rstrip("/")


async def _proxy_token(settings: Settings, space_id: str) -> str | None:
    """A Space-scoped token from the Hub for the private Space's proxy (never the HF token)."""
    url = f"{settings.hf_endpoint.rstrip('/')}/api/spaces/{space_id}/jwt"
    try:
        async with hub_client(settings) as client:
            data = await hub_json(client, url, settings=settings, target=Target(what=space_id))
    except ToolError:
        return None
    return data.get("token") if isinstance(data, dict) else None


async def _wait_ready(box: Sandbox) -> None:
    """The Space runs before its server listens: ask /health until it answers."""
    import httpx

    deadline, delay = time.monotonic() + READY_DEADLINE_S, 0.1
    async with make_client(box.headers(), timeout_s=10.0) as client:
        while True:
            try:
                response = await client.get(f"{box.url}/health")
                if response.status_code == 200:
                    return
                if response.status_code == 401:
                    raise ToolError(f"the sandbox {box.space_id} refused its token")
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise ToolError(f"the sandbox {box.space_id} runs but its server does not answer")
            await asyncio.sleep(delay)
            delay = min(delay * 2, 3.0)


async def sandbox_create(args: CreateArgs, ctx: ToolContext) -> ToolResult:
    settings = ctx.settings
    if (box := ctx.state.get(STATE)) is not None:
        if not box.url:
            raise ToolError(f"the sandbox {box.space_id} did not start: sandbox_delete it first")
        return ToolResult(f"A sandbox is already running: {box.space_id} ({box.flavor}).")
    row = check_flavor(await load_hardware(settings, "spaces"), args.flavor)
    refuse_over_budget(ctx, row.usd_per_hour or 0.0, f"a sandbox on {args.flavor}")
    user = await whoami(settings, ctx)
    name = args.name or f"ml-intern-sandbox-{secrets.token_hex(4)}"
    space_id = name if "/" in name else f"{user}/{name}"
    box = Sandbox(space_id, args.flavor, row.usd_per_hour, secrets.token_urlsafe(32))
    api, target = hf_api(settings), Target(repo_id=space_id, repo_type="space")
    from huggingface_hub import CommitOperationAdd

    from agent.tools.space_sandbox.server import space_files, token_digest

    ctx.log(f"creating the private Space {space_id}")
    await call_hub(
        settings,
        target,
        api.create_repo,
        space_id,
        repo_type="space",
        private=True,
        space_sdk="docker",
        exist_ok=args.name is not None,
    )
    ctx.state[STATE] = box
    operations = [CommitOperationAdd(path, data) for path, data in space_files().items()]
    await call_hub(
        settings,
        target,
        api.create_commit,
        space_id,
        operations,
        commit_message="ml-intern sandbox server",
        repo_type="space",
    )
    await call_hub(
        settings, target, api.add_space_secret, space_id, SECRET, token_digest(box.token)
    )
    sleep = SLEEP_AFTER_S if args.flavor != "cpu-basic" else None
    await call_hub(
        settings, target, api.request_space_hardware, space_id, args.flavor, sleep_time=sleep
    )
    runtime = await _wait_running(settings, ctx, space_id)
    box.url = space_url(settings, runtime, space_id)
    box.proxy_token = await _proxy_token(settings, space_id)
    await _wait_ready(box)
    page = f"{settings.hf_endpoint.rstrip('/')}/spaces/{space_id}"
    return ToolResult(
        f"Sandbox ready: {space_id} on {args.flavor} ({usd(row.usd_per_hour)}/h). bash, read, "
        f"write and edit now run inside it. Delete it with sandbox_delete when done.\n{page}",
        data={"space_id": space_id, "url": box.url},
    )


async def _end(box: Sandbox, ctx: ToolContext, how: str) -> str:
    """Delete or pause the sandbox, and count what it cost."""
    settings = ctx.settings
    api, target = hf_api(settings), Target(repo_id=box.space_id, repo_type="space")
    if how == "pause":
        await call_hub(settings, target, api.pause_space, box.space_id)
    else:
        await call_hub(settings, target, api.delete_repo, box.space_id, repo_type="space")
    cost = box.cost()
    ctx.usage.record_outside(f"sandbox:{box.space_id}", cost if cost is not None else math.inf)
    ctx.state.pop(STATE, None)
    ran = human_duration(time.monotonic() - box.started)
    verb = "Paused" if how == "pause" else "Deleted"
    return f"{verb} the sandbox {box.space_id} (ran {ran}, about {usd(cost)})."


async def sandbox_delete(args: DeleteArgs, ctx: ToolContext) -> ToolResult:
    box: Sandbox | None = ctx.state.get(STATE)
    if box is None:
        return ToolResult("No sandbox is running.")
    return ToolResult(await _end(box, ctx, "delete"))


async def sandbox_at_exit(ctx: ToolContext) -> str | None:
    """At the end of a session: pause or delete the sandbox (config `sandbox_on_exit`:
    remind | pause | delete), or say that it still runs and what it costs."""
    box: Sandbox | None = ctx.state.get(STATE)
    if box is None:
        return None
    how = ctx.settings.sandbox_on_exit
    if how in ("pause", "delete"):
        return await _end(box, ctx, how)
    return (
        f"The sandbox {box.space_id} is still running on {box.flavor} "
        f"({usd(box.usd_per_hour)}/h, about {usd(box.cost())} so far). Delete it at "
        f"{ctx.settings.hf_endpoint.rstrip('/')}/spaces/{box.space_id}/settings, or ask "
        "ml-intern to run sandbox_delete."
    )


def sandbox_approval_reason(args: dict[str, Any], settings: Settings) -> str:
    flavor = str(args.get("flavor") or "cpu-basic")
    row = (cached_hardware(settings, "spaces") or {}).get(flavor)
    price = usd(row.usd_per_hour if row else None)
    return (
        f"creates a private Space sandbox on {flavor} at {price}/h, billed until sandbox_delete "
        "(it sleeps after an hour without requests)"
    )


async def estimate_spend(args: dict[str, Any], settings: Settings) -> tuple[str, float]:
    """What creating the sandbox commits to: its first hour (prices loaded when reachable)."""
    with contextlib.suppress(ToolError):
        await load_hardware(settings, "spaces")
    return sandbox_approval_reason(args, settings), sandbox_cost_estimate(args, settings)


def sandbox_cost_estimate(args: dict[str, Any], settings: Settings) -> float:
    """The first hour of the sandbox's hardware: what a yes commits to at least."""
    row = (cached_hardware(settings, "spaces") or {}).get(str(args.get("flavor") or "cpu-basic"))
    if row is None or row.usd_per_hour is None:
        return math.inf
    return row.usd_per_hour


def sandbox_tools() -> list[ToolSpec]:
    """sandbox_create and sandbox_delete."""
    return [
        ToolSpec(
            "sandbox_create",
            "Create a remote Linux sandbox (a private Hugging Face Space) on CPU or GPU "
            "hardware; afterwards bash, read, write and edit run inside it. Use it to test "
            "GPU code before launching hf_jobs. Paid hardware bills per hour until "
            "sandbox_delete.",
            sandbox_create,
            args_model=CreateArgs,
            needs_approval=lambda args, settings: True,
            estimate_spend=estimate_spend,
            timeout_s=BUILD_DEADLINE_S + READY_DEADLINE_S + 120,
        ),
        ToolSpec(
            "sandbox_delete",
            "Delete the running sandbox (its files are lost) and stop its billing.",
            sandbox_delete,
            args_model=DeleteArgs,
        ),
    ]
