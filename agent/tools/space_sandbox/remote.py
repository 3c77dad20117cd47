"""bash, read, write and edit routed into the remote sandbox once one runs.

Without a sandbox they run locally, unless the runtime is "sandbox", where they
ask the model to create one first. Same arguments, same results as the local tools:
the server inside runs the same implementation.
"""

from __future__ import annotations

import dataclasses
import json
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from agent.tools.http import make_client
from agent.tools.space_sandbox.client import STATE, Sandbox
from agent.tools.spec import ToolContext, ToolError, ToolResult, ToolSpec, send_log

if TYPE_CHECKING:
    import httpx


def _unreachable(box: Sandbox, exc: Exception) -> ToolError:
    return ToolError(
        f"cannot reach the sandbox {box.space_id} ({type(exc).__name__}): it may be paused, "
        "restarting or deleted. Try again, or delete it and create a new one."
    )


def _refused(box: Sandbox, response: httpx.Response) -> ToolError:
    if response.status_code == 401:
        return ToolError(f"the sandbox {box.space_id} refused the request (401): token mismatch")
    if response.status_code == 413:
        return ToolError(
            f"the request was too large for the sandbox {box.space_id} (413): "
            "send the content in smaller parts, e.g. write the file and then extend it with edit"
        )
    return ToolError(f"the sandbox {box.space_id} answered {response.status_code}")


async def remote_exec(box: Sandbox, args: Any, ctx: ToolContext) -> ToolResult:
    """Run a bash command inside the sandbox, streaming its output to `ctx.log`."""
    import httpx

    if args.run_in_background:
        raise ToolError(
            "run_in_background is not available in the sandbox: start the command with "
            "`nohup CMD > run.log 2>&1 &` and read run.log"
        )
    payload = {"command": args.command, "timeout": args.timeout, "work_dir": args.work_dir}
    result: dict[str, Any] | None = None
    try:
        async with make_client(box.headers(), timeout_s=args.timeout + 30.0) as client:
            async with client.stream("POST", f"{box.url}/exec", json=payload) as response:
                if response.status_code != 200:
                    raise _refused(box, response)
                async for line in response.aiter_lines():
                    record = json.loads(line) if line.strip() else {}
                    if "log" in record:
                        send_log(ctx.log, record["log"], int(record.get("omitted_lines", 0)))
                    result = record.get("result", result)
    except httpx.HTTPError as exc:
        raise _unreachable(box, exc) from None
    if result is None:
        raise ToolError(f"the sandbox {box.space_id} stopped answering before the command ended")
    data = {"exit_code": result.get("exit_code"), "sandbox": box.space_id}
    return ToolResult(str(result.get("output")), bool(result.get("is_error")), data)


async def remote_file(box: Sandbox, name: str, args: BaseModel) -> ToolResult:
    import httpx

    try:
        async with make_client(box.headers(), timeout_s=60.0) as client:
            response = await client.post(f"{box.url}/{name}", json=args.model_dump())
    except httpx.HTTPError as exc:
        raise _unreachable(box, exc) from None
    if response.status_code != 200:
        raise _refused(box, response)
    body = response.json()
    return ToolResult(str(body.get("content")), bool(body.get("is_error")), body.get("data"))


NO_SANDBOX = (
    "No sandbox is running, and tools run in the sandbox in this session: create one with "
    "sandbox_create (cpu-basic is free; pick a GPU flavor for GPU code), then retry."
)
ROUTED_NOTE = " When a sandbox is running (sandbox_create), this runs inside the sandbox."


def _routed(spec: ToolSpec) -> ToolSpec:
    local = spec.handler

    async def handler(args: Any, ctx: ToolContext) -> ToolResult | str:
        box: Sandbox | None = ctx.state.get(STATE)
        if box is None or not box.url:
            if ctx.settings.tool_runtime == "sandbox":
                raise ToolError(NO_SANDBOX)
            return await local(args, ctx)
        if spec.name == "bash":
            return await remote_exec(box, args, ctx)
        return await remote_file(box, spec.name, args)

    return dataclasses.replace(spec, handler=handler, description=spec.description + ROUTED_NOTE)


def routed_tools() -> list[ToolSpec]:
    """bash, read, write and edit: in the sandbox when one runs, else on this machine."""
    from agent.tools.local.local_tools import local_tools

    return [
        _routed(spec) for spec in local_tools() if spec.name in ("bash", "read", "write", "edit")
    ]
