"""`ml-intern mcp serve` as another agent uses it: the `mcp` SDK's client lists and calls our
tools over stdio and streamable HTTP, against the loopback Hub and GitHub. Job launches are
asked about through elicitation, refused when nobody can be asked, and held to a spend cap."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from agent.mcp_server.served import served_tools
from tests.fakes.github_fake import GitHubFake
from tests.fakes.hub_jobs import JobScript, JobsHub

HF_TOKEN = "hf_ServedSecretToken0123456789abcdefXYZ"
LAUNCH = {"operation": "run", "command": ["nvidia-smi"], "flavor": "a10g-large", "timeout": "2h"}
LAUNCH_COST = "$3.60"  # a10g-large at $1.80/h for 2h


@pytest.fixture
def hub():
    with JobsHub(tokens={HF_TOKEN: "testuser"}) as fake:
        fake.add_repo("acme/notes", files={"notes.txt": f"login with HF_TOKEN={HF_TOKEN}\n"})
        yield fake


@pytest.fixture
def github():
    with GitHubFake() as fake:
        yield fake


@pytest.fixture
def served_env(hub, github) -> dict[str, str]:
    return {
        **os.environ,
        "HF_ENDPOINT": hub.url,
        "HF_TOKEN": HF_TOKEN,
        "GITHUB_API_URL": github.url,
    }


class Answers:
    """An elicitation callback that gives scripted answers and remembers the questions."""

    def __init__(self, *actions: str) -> None:
        self.actions = list(actions)
        self.messages: list[str] = []

    async def __call__(self, context: Any, params: Any) -> Any:
        from mcp.types import ElicitResult, ErrorData

        self.messages.append(params.message)
        action = self.actions.pop(0)
        if action == "fail":
            return ErrorData(code=-32603, message="the form could not be shown")
        return ElicitResult(action=action, content={} if action == "accept" else None)


@asynccontextmanager
async def stdio_session(
    env: dict[str, str], *flags: str, answers: Answers | None = None
) -> AsyncIterator[Any]:
    from mcp import ClientSession, StdioServerParameters, stdio_client

    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "agent", "mcp", "serve", *flags],
        env=env,
        cwd=Path.cwd(),
    )
    # The SDK's default errlog is whatever sys.stderr was when it was first imported:
    # under another test's captured output, a stream without a file descriptor.
    with tempfile.TemporaryFile("w+") as errlog:
        async with (
            stdio_client(params, errlog=errlog) as (read, write),
            ClientSession(read, write, elicitation_callback=answers) as session,
        ):
            await session.initialize()
            yield session


def text(result: Any) -> str:
    return "\n".join(block.text for block in result.content)


def test_stdio_lists_our_tools_and_calls_them(served_env, hub, github):
    config = Path(os.environ["XDG_CONFIG_HOME"]) / "ml-intern" / "cli_agent_config.json"
    config.write_text(json.dumps({"approval": {"deny_tools": ["fetch_url"]}}))

    async def scenario() -> None:
        async with stdio_session(served_env) as session:
            listed = {tool.name: tool for tool in (await session.list_tools()).tools}
            for spec in served_tools():
                if spec.name == "fetch_url":  # denied in the user's config
                    assert spec.name not in listed
                    continue
                assert listed[spec.name].description == spec.description
                assert listed[spec.name].input_schema == spec.parameters
            assert {"hf_search", "hf_inspect_dataset", "hf_papers", "github_read_file"} <= set(
                listed
            )
            assert {"bash", "read", "write", "edit", "plan_tool", "research"}.isdisjoint(listed)
            assert listed["hf_search"].annotations.read_only_hint is True
            assert listed["hf_jobs"].annotations.destructive_hint is True

            repos = await session.call_tool("github_list_repos", {"owner": "huggingface"})
            assert not repos.is_error and "huggingface/transformers" in text(repos)

            notes = await session.call_tool(
                "hf_repo_files", {"repo_id": "acme/notes", "operation": "read", "path": "notes.txt"}
            )
            assert not notes.is_error and "login with HF_TOKEN=" in text(notes)
            assert HF_TOKEN not in text(notes)

            bad = await session.call_tool("hf_jobs", {"operation": "fly"})
            assert bad.is_error and "Invalid arguments for hf_jobs" in text(bad)
            local = await session.call_tool("bash", {"command": "echo hi"})
            assert local.is_error and "Unknown tool 'bash'" in text(local)

            refused = await session.call_tool("hf_jobs", LAUNCH)
            assert refused.is_error
            assert "cannot ask its user" in text(refused) and "--max-budget-usd" in text(refused)

    asyncio.run(scenario())
    assert hub.jobs == {}
    assert github.requests_to("/search/repositories")


def test_stdio_launch_asks_through_elicitation(served_env, hub):
    answers = Answers("decline", "fail", "accept")
    hub.scripts.append(JobScript(lines=["step 1 loss 0.91", f"pushing with {HF_TOKEN}"]))
    progress: list[tuple[float, str | None]] = []

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        progress.append((done, message))

    async def scenario() -> None:
        async with stdio_session(served_env, answers=answers) as session:
            declined = await session.call_tool("hf_jobs", LAUNCH)
            assert declined.is_error and "declined" in text(declined)
            unanswered = await session.call_tool("hf_jobs", LAUNCH)
            assert unanswered.is_error and "declined" in text(unanswered)
            assert hub.jobs == {}
            followed = {**LAUNCH, "wait": True}
            accepted = await session.call_tool("hf_jobs", followed, progress_callback=on_progress)
            assert not accepted.is_error, text(accepted)
            assert "COMPLETED" in text(accepted) and HF_TOKEN not in text(accepted)

    asyncio.run(scenario())
    assert len(hub.jobs) == 1
    lines = "\n".join(message or "" for _, message in progress)
    assert "step 1 loss 0.91" in lines and "pushing with" in lines
    assert HF_TOKEN not in lines
    assert [done for done, _ in progress] == sorted(done for done, _ in progress)
    assert answers.messages[0] == answers.messages[1] == answers.messages[2]
    assert "a10g-large" in answers.messages[0] and LAUNCH_COST in answers.messages[0]


@pytest.fixture
def http_server(served_env):
    proc = subprocess.Popen(
        [sys.executable, "-m", "agent", "mcp", "serve", "--http", "0", "--max-budget-usd", "8"],
        env=served_env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stderr.readline()
        assert "ml-intern MCP server on http://127.0.0.1:" in line, line
        yield line.split(" on ", 1)[1].strip()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert proc.stdout.read() == ""


def test_http_asks_or_holds_launches_to_the_cap_across_clients(http_server, hub):
    """With a cap of $8, a client that can ask launches after its user's yes; one that
    cannot launches within what is left of the cap, also when it sends two at once."""
    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client

    assert http_server.endswith("/mcp")
    answers = Answers("accept")

    async def session(answers: Answers | None, launches: int) -> tuple[list[str], list[Any]]:
        async with (
            streamable_http_client(http_server) as (read, write),
            ClientSession(read, write, elicitation_callback=answers) as client,
        ):
            await client.initialize()
            names = [tool.name for tool in (await client.list_tools()).tools]
            calls = [client.call_tool("hf_jobs", LAUNCH) for _ in range(launches)]
            return names, list(await asyncio.gather(*calls))

    names, (asked,) = asyncio.run(session(answers, 1))
    assert "hf_jobs" in names and "hf_search" in names and "bash" not in names
    assert not asked.is_error, text(asked)
    assert len(hub.jobs) == 1 and LAUNCH_COST in answers.messages[0]

    _, results = asyncio.run(session(None, 2))
    over = [result for result in results if result.is_error]
    assert len(over) == 1, [text(result) for result in results]
    assert "$7.20 already spent" in text(over[0]) and "$8.00" in text(over[0])
    assert len(hub.jobs) == 2


def test_http_port_in_use_is_a_usage_error(cli):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = cli("mcp", "serve", "--http", str(port))
    assert result.exit_code == 2
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr


def test_stdio_asks_a_client_on_the_2026_revision_through_its_retry(served_env, hub):
    """On 2026-07-28 a call cannot send its own request: the question comes back as an
    input-required result, and the client's retry carries its user's answer."""
    from mcp import StdioServerParameters, stdio_client
    from mcp.client import Client
    from mcp.types import ElicitResult, InputRequiredResult

    answers = Answers("decline", "accept")
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "agent", "mcp", "serve"], env=served_env
    )

    async def scenario() -> None:
        with tempfile.TemporaryFile("w+") as errlog:
            transport = stdio_client(params, errlog=errlog)
            async with Client(transport, elicitation_callback=answers) as client:
                assert client.session.protocol_version == "2026-07-28"
                declined = await client.call_tool("hf_jobs", LAUNCH)
                assert declined.is_error and "declined" in text(declined)
                assert hub.jobs == {}
                accepted = await client.call_tool("hf_jobs", LAUNCH)
                assert not accepted.is_error, text(accepted)
                assert len(hub.jobs) == 1

                # a yes counts only for the call it was given for
                asked = await client.session.call_tool("hf_jobs", LAUNCH, allow_input_required=True)
                assert isinstance(asked, InputRequiredResult)
                bigger = {**LAUNCH, "flavor": "h100x8"}
                yes = {"approve_spend": ElicitResult(action="accept", content={})}
                again = await client.session.call_tool(
                    "hf_jobs",
                    bigger,
                    input_responses=yes,
                    request_state=asked.request_state,
                    allow_input_required=True,
                )
                assert isinstance(again, InputRequiredResult)
                assert "h100x8" in again.input_requests["approve_spend"].params.message
                assert len(hub.jobs) == 1

    asyncio.run(scenario())
    assert len(answers.messages) == 2 and LAUNCH_COST in answers.messages[0]
