"""MCP servers as tools, against real servers: our own over stdio, streamable HTTP and
SSE on loopback, and the published `mcp-server-time` over stdio."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from agent.config import McpServer, Settings
from agent.tools.mcp.client import clean_headers
from agent.tools.mcp.manager import MAX_TOOL_NAME, McpManager, exposed_name
from agent.tools.router import ToolRouter
from agent.tools.spec import ToolContext, ToolError
from tests.fakes.mcp_server import STARTUP_LINE, png

ROOT = Path(__file__).resolve().parents[2]
FAKE_TOOLS = [
    "add",
    "auth",
    "crash",
    "echo",
    "exit_soon",
    "fail",
    "image",
    "report",
    "slow",
    "steps",
    "whoami",
    "write_file",
]


def fake_stdio(**fields) -> McpServer:
    args = ["-m", "tests.fakes.mcp_server", "--transport", "stdio"]
    return McpServer(command=sys.executable, args=args, cwd=str(ROOT), **fields)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, within_s: float = 30.0) -> None:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        assert process.poll() is None, "the fake MCP server exited during start-up"
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"nothing listened on port {port} within {within_s:g} s")


@pytest.fixture
def serve():
    """Start the fake server over HTTP or SSE on a free loopback port; returns its URL."""
    processes = []

    def start(transport: str) -> str:
        port = free_port()
        command = [sys.executable, "-m", "tests.fakes.mcp_server", "--transport", transport]
        process = subprocess.Popen(
            [*command, "--port", str(port)],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        processes.append(process)
        wait_for_port(port, process)
        return f"http://127.0.0.1:{port}/{'sse' if transport == 'sse' else 'mcp'}"

    yield start
    for process in processes:
        process.terminate()
        process.wait(timeout=10)


class Session:
    """A manager, its router and what it reported, as the agent would hold them."""

    def __init__(self, servers: dict[str, McpServer], **options) -> None:
        self.reports: list[tuple[str, str]] = []
        self.router = ToolRouter()
        self.manager = McpManager(
            servers, on_status=lambda name, message: self.reports.append((name, message)), **options
        )
        self.ctx = ToolContext(settings=Settings(), cwd=Path.cwd())

    async def call(self, tool: str, args: dict | str | None = None):
        return await self.router.call(tool, args or {}, self.ctx)

    def status(self, name: str):
        return next(s for s in self.manager.status() if s.name == name)


def run(body):
    """Run an async test body, then check it left no task behind."""

    async def checked():
        await body()
        assert asyncio.all_tasks() == {asyncio.current_task()}

    asyncio.run(checked())


def test_stdio_tools_are_listed_named_and_called():
    async def body():
        s = Session({"fake": fake_stdio()})
        await s.manager.start(s.router)
        assert s.reports == [("fake", f"connected: {len(FAKE_TOOLS)} tools")]
        assert sorted(s.router.names) == [f"mcp__fake__{t}" for t in FAKE_TOOLS]
        status = s.status("fake")
        assert (status.state, sorted(status.tools)) == ("connected", sorted(s.router.names))

        add = s.router.get("mcp__fake__add")
        assert add.description == "Add two integers."
        assert add.parameters["type"] == "object"
        assert add.parameters["required"] == ["a", "b"]
        assert add.parameters["properties"]["a"]["type"] == "integer"

        assert (await s.call("mcp__fake__add", {"a": 2, "b": 40})).content == "42"
        echoed = await s.call("mcp__fake__echo", json.dumps({"text": "héllo\nworld"}))
        assert (echoed.content, echoed.is_error) == ("héllo\nworld", False)

        failed = await s.call("mcp__fake__fail", {"message": "the disk is on fire"})
        assert failed.is_error
        assert "the disk is on fire" in failed.content

        image = await s.call("mcp__fake__image")
        assert not image.is_error
        assert image.content == f"[image: image/png, {len(png(3, 2))} bytes, 3x2 px]"

        report = await s.call("mcp__fake__report")
        assert report.content.splitlines() == [
            "see the attachments",
            "[resource file:///notes.txt]",
            "line one",
            "[resource file:///weights.bin: application/octet-stream, 2.0 KB]",
            "[resource link: readme <https://example.org/readme>]",
        ]
        await s.manager.aclose()

    run(body)


@pytest.mark.parametrize("transport", ["http", "sse"])
def test_network_servers_call_time_out_and_carry_headers(serve, transport):
    url = serve(transport)

    async def body():
        kind = "sse" if transport == "sse" else None
        s = Session(
            {
                "web": McpServer(
                    url=url, transport=kind, timeout_s=2, headers={"Authorization": "Bearer tok-1"}
                ),
                # Claude Code's shape (`type`), and ${HF_TOKEN} unset: no empty credential sent.
                "anon": McpServer.model_validate(
                    {"type": transport, "url": url, "headers": {"Authorization": "Bearer "}}
                ),
            }
        )
        await s.manager.start(s.router)
        connected = f"connected: {len(FAKE_TOOLS)} tools"
        assert sorted(s.reports) == [("anon", connected), ("web", connected)]
        assert (await s.call("mcp__web__add", {"a": 1, "b": 2})).content == "3"
        assert (await s.call("mcp__web__auth")).content == "Bearer tok-1"
        assert (await s.call("mcp__anon__auth")).content == "(none)"
        assert (await s.call("mcp__web__fail", {"message": "nope"})).is_error

        slow = await s.call("mcp__web__slow", {"seconds": 60})
        assert slow.is_error
        assert "did not answer within 2 s" in slow.content
        # The session survives a timed-out call.
        assert (await s.call("mcp__web__echo", {"text": "still here"})).content == "still here"
        await s.manager.aclose()

    run(body)


def test_tools_of_a_server_that_connects_after_the_offer_was_narrowed_are_named_once():
    async def body():
        s = Session({"fake": fake_stdio()})
        s.router.keep_only(frozenset({"bash"}), "tool_set is lean")
        await s.manager.start(s.router)
        names = ", ".join(sorted(f"mcp__fake__{t}" for t in FAKE_TOOLS))
        left_out = f"{len(FAKE_TOOLS)} tools left out ({names}): tool_set is lean"
        assert s.reports == [("fake", f"connected, but {left_out}")]
        assert s.router.names == []
        assert s.status("fake").tools == []
        await s.manager.aclose()

    run(body)


def test_a_resource_of_a_server_that_cannot_be_reached_says_so():
    port = free_port()  # nothing listens there

    async def body():
        s = Session({"deaf": McpServer(url=f"http://127.0.0.1:{port}/mcp")})
        await s.manager.start(s.router)
        with pytest.raises(ToolError, match=r"'deaf' could not be reached \(127\.0\.0\.1:"):
            await s.manager.read_resource("deaf", "file:///notes.md")
        assert s.status("deaf").state == "failed"
        await s.manager.aclose()

    run(body)


def test_failing_servers_are_reported_once_and_do_not_hold_up_the_others():
    deaf_port = free_port()  # nothing listens there

    async def body():
        hang = [
            "-c",
            "import sys; print('hung server: waiting', file=sys.stderr); sys.stdin.read()",
        ]
        s = Session(
            {
                "missing": McpServer(command="/nonexistent/ml-intern-mcp-server"),
                "deaf": McpServer(url=f"http://127.0.0.1:{deaf_port}/mcp"),
                # Reads requests but never answers: only its timeout ends it.
                "mute": McpServer(command=sys.executable, args=hang, timeout_s=60),
                "fake": fake_stdio(),
                "off": fake_stdio(enabled=False),
            }
        )
        start = asyncio.create_task(s.manager.start(s.router))
        deadline = time.monotonic() + 30
        while s.status("fake").state != "connected":
            assert time.monotonic() < deadline, s.manager.status()
            await asyncio.sleep(0.05)
        assert s.status("mute").state == "connecting"
        assert "mcp__fake__add" in s.router.names
        assert (await s.call("mcp__fake__add", {"a": 1, "b": 1})).content == "2"

        reports = dict(s.reports)
        assert len(s.reports) == len(reports) == 3
        assert reports["missing"] == "failed: command not found: /nonexistent/ml-intern-mcp-server"
        assert reports["deaf"] == (
            f"failed: could not be reached (127.0.0.1:{deaf_port}: Connection refused)"
        )
        assert s.status("deaf").state == "failed"
        assert s.status("off").state == "disabled"
        assert not any(name.startswith(("mcp__off", "mcp__mute")) for name in s.router.names)

        # Shutting down while a server is still connecting ends the start-up promptly.
        await s.manager.aclose()
        await asyncio.wait_for(start, 30)  # a hang guard: aclose must end the start-up
        assert "mute" not in dict(s.reports)

    run(body)


def test_connect_timeout_is_reported():
    async def body():
        args = ["-c", "import sys; sys.stdin.read()"]  # reads requests, never answers
        mute = McpServer(command=sys.executable, args=args, timeout_s=1)
        s = Session({"mute": mute})
        await s.manager.start(s.router)
        assert s.reports == [("mute", "failed: no answer within 1 s")]
        await s.manager.aclose()

    run(body)


def test_crashed_server_is_started_again_on_the_next_call():
    async def body():
        s = Session({"fake": fake_stdio()})
        await s.manager.start(s.router)
        crashed = await s.call("mcp__fake__crash")
        assert crashed.is_error
        assert "lost" in crashed.content
        assert s.status("fake").state == "failed"
        assert (await s.call("mcp__fake__echo", {"text": "back"})).content == "back"
        assert s.status("fake").state == "connected"
        await s.manager.aclose()

    run(body)


def test_server_that_exited_while_idle_is_started_again_without_an_error():
    async def body():
        s = Session({"fake": fake_stdio()})
        await s.manager.start(s.router)
        assert (await s.call("mcp__fake__exit_soon")).content == "bye"
        deadline = time.monotonic() + 10
        while s.status("fake").state == "connected":
            assert time.monotonic() < deadline, "the exit went unnoticed"
            await asyncio.sleep(0.05)
        assert "started again on the next call" in s.status("fake").reason
        back = await s.call("mcp__fake__add", {"a": 3, "b": 4})
        assert (back.content, back.is_error) == ("7", False)
        await s.manager.aclose()

    run(body)


def test_a_server_that_cannot_start_again_is_restarted_only_once(tmp_path):
    launches = tmp_path / "launches"
    script = (
        f'echo launch >> "{launches}"; '
        f'if [ "$(wc -l < "{launches}")" -gt 1 ]; then echo "refusing to start twice" >&2; exit 3; fi; '
        f'exec "{sys.executable}" -m tests.fakes.mcp_server'
    )

    async def body():
        s = Session({"once": McpServer(command="sh", args=["-c", script], cwd=str(ROOT))})
        await s.manager.start(s.router)
        assert (await s.call("mcp__once__crash")).is_error
        retried = await s.call("mcp__once__echo", {"text": "x"})
        assert retried.is_error
        assert "starting it again failed" in retried.content
        again = await s.call("mcp__once__echo", {"text": "x"})
        assert again.is_error
        assert "not available" in again.content
        assert launches.read_text().splitlines() == ["launch", "launch"]  # no second restart
        assert s.status("once").state == "failed"
        await s.manager.aclose()

    run(body)


def test_reference_time_server_over_stdio():
    async def body():
        time_server = McpServer(
            command=sys.executable, args=["-m", "mcp_server_time", "--local-timezone", "UTC"]
        )
        s = Session({"time": time_server})
        await s.manager.start(s.router)
        assert sorted(s.router.names) == ["mcp__time__convert_time", "mcp__time__get_current_time"]
        result = await s.call("mcp__time__get_current_time", {"timezone": "Asia/Tokyo"})
        assert not result.is_error
        data = json.loads(result.content)
        assert data["timezone"] == "Asia/Tokyo"
        assert data["datetime"].endswith("+09:00")
        bad = await s.call("mcp__time__get_current_time", {"timezone": "Mars/Olympus_Mons"})
        assert bad.is_error
        await s.manager.aclose()

    run(body)


def test_server_stderr_goes_to_the_log_file_never_the_terminal(tmp_path, capfd):
    log_file = tmp_path / "logs" / "session.log"
    token = "ghp_" + "S3cr3tT0k3n" * 4
    noisy = [
        "-c",
        "import sys; print('noisy server: exploding with "
        + token
        + "', file=sys.stderr); sys.exit(2)",
    ]

    async def body():
        servers = {"fake": fake_stdio(), "noisy": McpServer(command=sys.executable, args=noisy)}
        s = Session(servers, stderr_path=log_file)
        await s.manager.start(s.router)
        assert (await s.call("mcp__fake__fail", {"message": "x"})).is_error
        assert dict(s.reports)["noisy"].startswith("failed: the server exited")
        await s.manager.aclose()
        quiet = Session({"fake": fake_stdio()})  # no log file: stderr is discarded
        await quiet.manager.start(quiet.router)
        await quiet.manager.aclose()

    run(body)
    logged = log_file.read_text()
    assert STARTUP_LINE in logged
    assert "noisy server: exploding with [REDACTED:github_token]" in logged
    assert token not in logged
    assert (log_file.stat().st_mode & 0o777) == 0o600
    out, err = capfd.readouterr()
    for text in (STARTUP_LINE, "noisy server", "Traceback"):
        assert text not in out
        assert text not in err


def test_exposed_names_are_what_providers_accept():
    assert exposed_name("hf-mcp-server", "hub_repo_search") == "mcp__hf-mcp-server__hub_repo_search"
    assert exposed_name("my server", "read.file/v2") == "mcp__my_server__read_file_v2"
    long = exposed_name("s", "x" * 100)
    assert len(long) == MAX_TOOL_NAME
    assert long != exposed_name("s", "x" * 99)  # cut names stay distinct
    assert long == exposed_name("s", "x" * 100)  # and stable
    taken = {"mcp__a__b_c"}
    clash = exposed_name("a", "b.c", taken)
    assert clash not in taken
    assert clash.startswith("mcp__a__b_c_")


def test_empty_credentials_are_dropped_from_headers():
    headers = {
        "Authorization": "Bearer ",
        "X-Api-Key": "",
        "Proxy-Authorization": "Basic",
        "X-Keep": "1",
    }
    assert clean_headers(headers) == {"X-Keep": "1"}
    assert clean_headers({"Authorization": "Bearer hf_x"}) == {"Authorization": "Bearer hf_x"}


@pytest.mark.parametrize("saved", [True, False])
def test_the_hf_mcp_server_gets_the_saved_login_token_or_no_header(
    serve, cli, fake_llm, saved, monkeypatch
):
    """`Bearer ${HF_TOKEN}` without HF_TOKEN: the token `hf auth login` saved fills it;
    with no token at all, no Authorization header is sent (never an empty `Bearer `)."""
    import json as _json

    from agent.config import user_config_path
    from agent.hf_token import saved_login_path
    from tests.fakes import llm_server as llm

    token = "hf_" + "SavedLogin1" * 3
    if saved:
        saved_login_path().parent.mkdir(parents=True, exist_ok=True)
        saved_login_path().write_text(token + "\n")
    hf = {"url": serve("http"), "headers": {"Authorization": "Bearer ${HF_TOKEN}"}}
    user_config_path().write_text(_json.dumps({"mcpServers": {"hf-mcp-server": hf}}))
    fake_llm.script(llm.tool_call("mcp__hf-mcp-server__auth", {}), llm.text("checked"))
    monkeypatch.setenv("ML_INTERN_MCP_WAIT_S", "60")  # its tool is in the first request
    result = cli("-o", "json", "which header?")
    assert result.exit_code == 0, result.stderr
    fake_llm.assert_done()
    (tool_message,) = [m for m in fake_llm.requests[-1]["messages"] if m["role"] == "tool"]
    assert tool_message["content"] == (f"Bearer {token}" if saved else "(none)")


def test_calls_ask_for_progress_and_the_client_introduces_itself():
    from importlib.metadata import version

    from agent.cli.chat.render import progress_text

    async def body():
        s = Session({"fake": fake_stdio()})
        events = []
        s.ctx = ToolContext(
            settings=Settings(), cwd=Path.cwd(), tool_call_id="c1", emit=events.append
        )
        await s.manager.start(s.router)
        result = await s.call("mcp__fake__steps", {"count": 3})
        assert result.content == "done 3 steps"
        progress = [e for e in events if e.type == "tool_progress"]
        assert [(e.progress, e.total, e.message) for e in progress] == [
            (1, 3, "step 1/3"),
            (2, 3, "step 2/3"),
            (3, 3, "step 3/3"),
        ]
        assert {(e.tool_call_id, e.name) for e in progress} == {("c1", "mcp__fake__steps")}
        last = progress[-1]
        assert progress_text(last.progress, last.total, last.message) == "100% · step 3/3"
        who = await s.call("mcp__fake__whoami")
        assert who.content == f"ml-intern {version('ml-intern')}"
        await s.manager.aclose()

    run(body)
