"""The server inside a remote sandbox: bash, read, write and edit, over HTTP.

It runs in a private Docker Space (see Dockerfile beside this file) and serves the
very functions the local tools use, so a command or an edit behaves the same in
the sandbox as on the user's machine. Every request must carry the sandbox's
token in `X-Sandbox-Token`; the server knows only the token's SHA-256 (from the
Space secret SANDBOX_TOKEN_SHA256) and fails closed without it. Everything it
sends back is scrubbed of secrets first.

    python -m agent.tools.space_sandbox.server --host 0.0.0.0 --port 7860

Routes: GET /health; POST /exec {command, timeout, work_dir} answers with NDJSON
lines `{"log": line}` while the command runs, then `{"result": {output, exit_code,
timed_out, is_error}}`; POST /read, /write, /edit take the local tools' arguments
and answer `{content, is_error, data}`. A request body over SANDBOX_MAX_BODY_BYTES
(32 MiB by default) is answered 413, one that stalls for READ_TIMEOUT_S 408; a client
that never finishes a request's head is cut off by the server (`guard.py`).
"""

from __future__ import annotations

import ast
import asyncio
import hashlib
import hmac
import json
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from agent.config import Settings
from agent.context.redact import LineScrubber, redact, redact_obj
from agent.tools.local import bash as sh
from agent.tools.local import edit as ed
from agent.tools.local import files as fs
from agent.tools.spec import LogSink, ToolContext, ToolError, ToolResult, no_log

if TYPE_CHECKING:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response

TOKEN_HEADER = "x-sandbox-token"
TOKEN_ENV = "SANDBOX_TOKEN_SHA256"
WORKDIR_ENV = "SANDBOX_WORKDIR"
MAX_BODY_ENV = "SANDBOX_MAX_BODY_BYTES"
READ_TIMEOUT_ENV = "SANDBOX_READ_TIMEOUT_S"
HEADER_TIMEOUT_ENV = "SANDBOX_HEADER_TIMEOUT_S"
MAX_CONNECTIONS_ENV = "SANDBOX_MAX_CONNECTIONS"
DEFAULT_MAX_BODY_BYTES = 32 * 1024 * 1024  # a large file written whole still fits
READ_TIMEOUT_S = 30.0  # the longest a request body may go without a byte
APP_PORT = 7860
PACKAGE_ROOT = Path(__file__).resolve().parents[3]
README = f"""---
title: ml-intern sandbox
sdk: docker
app_port: {APP_PORT}
pinned: false
---
A private sandbox for ml-intern. Requests need the sandbox's own token.
"""
FileHandler = Callable[[Any, ToolContext], Awaitable[ToolResult]]
FILE_TOOLS: dict[str, tuple[type[BaseModel], FileHandler]] = {
    "read": (fs.ReadArgs, fs.read),
    "write": (fs.WriteArgs, fs.write),
    "edit": (ed.EditArgs, ed.edit),
}


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class _RequireToken:
    """ASGI middleware: no request reaches a route without the sandbox's token."""

    def __init__(self, app: Any, digest: str) -> None:
        self.app = app
        self.digest = digest

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        from starlette.responses import JSONResponse

        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        given = headers.get(TOKEN_HEADER, "")
        if not self.digest:
            reply = JSONResponse({"error": "the sandbox has no token configured"}, 503)
        elif not hmac.compare_digest(token_digest(given), self.digest):
            reply = JSONResponse({"error": "missing or wrong sandbox token"}, 401)
        else:
            await self.app(scope, receive, send)
            return
        await reply(scope, receive, send)


class _CapBody:
    """ASGI middleware: a request body over `limit` bytes is answered 413 before any
    route reads it, so a token holder cannot fill the server's memory, and one that
    stalls for `read_timeout_s` is answered 408, so it cannot hold a connection for
    ever. The body is read here and handed on as one message."""

    def __init__(self, app: Any, limit: int, read_timeout_s: float) -> None:
        self.app = app
        self.limit = limit
        self.read_timeout_s = read_timeout_s

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"")
        body: bytes | None = b""
        refusal = f"request body over {self.limit} bytes", 413
        if declared.isdigit() and int(declared) > self.limit:
            body = None
        while body is not None:
            try:
                message = await asyncio.wait_for(receive(), self.read_timeout_s)
            except TimeoutError:
                body, refusal = None, (f"no request body for {self.read_timeout_s:g} s", 408)
                break
            body += message.get("body", b"")
            if len(body) > self.limit:
                body = None
            elif not message.get("more_body", False):
                break
        if body is None:
            from starlette.responses import JSONResponse

            error, status = refusal
            await JSONResponse({"error": error}, status)(scope, receive, send)
            return
        sent = False

        async def replay() -> dict[str, Any]:
            nonlocal sent
            if sent:
                return await receive()  # after the body: only a disconnect can come
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


def _invalid(exc: ValidationError) -> str:
    parts = [f"{'.'.join(map(str, e['loc'])) or 'arguments'}: {e['msg']}" for e in exc.errors()]
    return "Invalid arguments: " + "; ".join(parts)


class _Sandbox:
    """The server's state: where it works, and what the file tools remember between calls."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.settings = Settings()
        self.state: dict[str, Any] = {}

    def context(self, log: LogSink = no_log) -> ToolContext:
        return ToolContext(settings=self.settings, cwd=self.workdir, state=self.state, log=log)

    async def health(self, request: Request) -> Response:
        from starlette.responses import JSONResponse

        return JSONResponse({"ok": True, "workdir": str(self.workdir)})

    async def file_tool(self, request: Request) -> Response:
        from starlette.responses import JSONResponse

        model, handler = FILE_TOOLS[request.url.path.strip("/")]
        try:
            args = model.model_validate(await request.json())
            result = await handler(args, self.context())
        except ValidationError as exc:
            result = ToolResult(_invalid(exc), is_error=True)
        except ValueError:
            result = ToolResult("The request body is not a JSON object.", is_error=True)
        except ToolError as exc:
            result = ToolResult(str(exc), is_error=True)
        body = {"content": redact(result.content), "is_error": result.is_error}
        body["data"] = redact_obj(result.data)
        return JSONResponse(body)

    async def exec(self, request: Request) -> Response:
        from starlette.responses import StreamingResponse

        try:
            args = sh.BashArgs.model_validate({**await request.json(), "run_in_background": False})
        except (ValidationError, ValueError, TypeError) as exc:
            message = _invalid(exc) if isinstance(exc, ValidationError) else "bad request body"
            result = {"output": message, "exit_code": None, "timed_out": False, "is_error": True}
            return StreamingResponse(
                iter([_line({"result": result})]), media_type="application/x-ndjson"
            )
        return StreamingResponse(self._run(args, request), media_type="application/x-ndjson")

    async def _run(self, args: sh.BashArgs, request: Request) -> AsyncIterator[str]:
        """The command's lines as they come, then its result; a dropped client stops it."""
        queue: asyncio.Queue[tuple[str, int] | None] = asyncio.Queue()

        def log(text: str, omitted_lines: int = 0) -> None:
            queue.put_nowait((text, omitted_lines))

        task = asyncio.create_task(sh.run_foreground(args, self.context(log)))
        task.add_done_callback(lambda _: queue.put_nowait(None))
        watcher = asyncio.create_task(_stop_when_disconnected(request, task))
        scrubber = LineScrubber()  # a private key printed over many lines goes whole
        try:
            omitted = 0  # lines left out before the next record
            while (chunk := await queue.get()) is not None:
                text, skipped = chunk
                omitted += skipped
                if (shown := _scrubbed_lines(scrubber, text)) is not None:
                    yield _line({"log": shown, "omitted_lines": omitted})
                    omitted = 0
            if held := scrubber.flush():
                yield _line({"log": "".join(held).removesuffix("\n"), "omitted_lines": omitted})
            yield _line({"result": _exec_result(task)})
        finally:
            watcher.cancel()
            if not task.done():
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)


async def _stop_when_disconnected(request: Request, task: asyncio.Task[ToolResult]) -> None:
    """Cancel `task` (which kills the command) once the client has gone. Watched here
    rather than left to the framework: under ASGI 2.4 Starlette waits for a write to
    fail, which a quiet command never makes and a server need not report."""
    while (await request.receive())["type"] != "http.disconnect":
        pass
    task.cancel()


def _exec_result(task: asyncio.Task[ToolResult]) -> dict[str, Any]:
    try:
        result = task.result()
    except ToolError as exc:
        return {"output": redact(str(exc)), "exit_code": None, "timed_out": False, "is_error": True}
    code = (result.data or {}).get("exit_code")
    return {
        "output": redact(result.content),
        "exit_code": code,
        "timed_out": result.is_error and result.data is None,
        "is_error": result.is_error,
    }


def _scrubbed_lines(scrubber: LineScrubber, text: str) -> str | None:
    """The lines of `text` that can be shown now, scrubbed (None: nothing yet); a private
    key's lines are held until its END and then shown as one marker."""
    pieces = [piece for line in text.split("\n") for piece in scrubber.feed(line + "\n")]
    return "".join(pieces).removesuffix("\n") if pieces else None


def _line(record: dict[str, Any]) -> str:
    return json.dumps(record) + "\n"


def _agent_imports(source: str) -> set[str]:
    """Modules under `agent` that a module imports, except those for type checking only."""
    found: set[str] = set()

    class Visitor(ast.NodeVisitor):
        def visit_If(self, node: ast.If) -> None:
            if "TYPE_CHECKING" not in ast.unparse(node.test):
                self.generic_visit(node)

        def visit_Import(self, node: ast.Import) -> None:
            found.update(a.name for a in node.names if a.name.split(".")[0] == "agent")

        def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
            if node.module and node.module.split(".")[0] == "agent":
                found.add(node.module)
                found.update(f"{node.module}.{a.name}" for a in node.names)

    Visitor().visit(ast.parse(source))
    return found


def _module_file(name: str) -> Path | None:
    base = PACKAGE_ROOT.joinpath(*name.split("."))
    return next((p for p in (base.with_suffix(".py"), base / "__init__.py") if p.is_file()), None)


def space_files() -> dict[str, bytes]:
    """The Space's files: README, Dockerfile, this server and every agent module it imports
    (found by reading the imports, so the bundle follows the local tools as they change)."""
    files: dict[str, bytes] = {}
    todo = [__name__ if __name__ != "__main__" else "agent.tools.space_sandbox.server"]
    while todo:
        name = todo.pop()
        path = _module_file(name)
        key = path.relative_to(PACKAGE_ROOT).as_posix() if path else None
        if path is None or key is None or key in files:
            continue  # a name imported from a module, or a module already taken
        files[key] = path.read_bytes()
        todo.extend(_agent_imports(files[key].decode()))
        todo.extend(name.rsplit(".", depth)[0] for depth in range(1, name.count(".") + 1))
    files["Dockerfile"] = (Path(__file__).parent / "Dockerfile").read_bytes()
    files["README.md"] = README.encode()
    return files


def create_app(
    token_sha256: str | None = None,
    workdir: Path | None = None,
    max_body_bytes: int | None = None,
    read_timeout_s: float | None = None,
) -> Starlette:
    """The sandbox's ASGI app. By default the token digest, the working directory, the
    request body limit and its read timeout come from the environment; the digest is then
    removed from it, so commands never see it."""
    from starlette.applications import Starlette
    from starlette.routing import Route

    digest = token_sha256 if token_sha256 is not None else os.environ.pop(TOKEN_ENV, "")
    root = (workdir or Path(os.environ.get(WORKDIR_ENV) or Path.cwd())).resolve()
    root.mkdir(parents=True, exist_ok=True)
    sandbox = _Sandbox(root)
    routes = [
        Route("/health", sandbox.health, methods=["GET"]),
        Route("/exec", sandbox.exec, methods=["POST"]),
        *(Route(f"/{name}", sandbox.file_tool, methods=["POST"]) for name in FILE_TOOLS),
    ]
    limit = max_body_bytes or int(os.environ.get(MAX_BODY_ENV) or DEFAULT_MAX_BODY_BYTES)
    app = Starlette(routes=routes)
    read_timeout = read_timeout_s or float(os.environ.get(READ_TIMEOUT_ENV) or READ_TIMEOUT_S)
    app.add_middleware(_CapBody, limit=limit, read_timeout_s=read_timeout)
    app.add_middleware(_RequireToken, digest=digest.strip().lower())
    return app


def main(argv: list[str] | None = None) -> None:
    """Serve the sandbox as its Space runs it (the Dockerfile's command); the head
    timeout and the connection cap can be set in the environment."""
    import argparse

    import uvicorn

    from agent.tools.space_sandbox import guard

    parser = argparse.ArgumentParser(description="the ml-intern sandbox server")
    parser.add_argument("--host", default="0.0.0.0")
    parser.add_argument("--port", type=int, default=APP_PORT)
    args = parser.parse_args(argv)
    config = guard.server_config(
        create_app(),
        header_timeout_s=float(os.environ.get(HEADER_TIMEOUT_ENV) or guard.HEADER_TIMEOUT_S),
        max_connections=int(os.environ.get(MAX_CONNECTIONS_ENV) or guard.MAX_CONNECTIONS),
        host=args.host,
        port=args.port,
    )
    uvicorn.Server(config).run()


if __name__ == "__main__":
    main()
