"""`ml-intern acp` running the model's commands in the editor's terminal (`terminal/*`),
driven through the official ACP SDK's client side, whose editor really runs them."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

import pytest
from acp import PROTOCOL_VERSION, spawn_agent_process, text_block
from acp.schema import ClientCapabilities

from agent.tools.local.terminal import QUIET
from tests.acp_client import Editor, agent_command, agent_env
from tests.bubblewrap import require_sandbox
from tests.cli import llm_env
from tests.fakes.llm_server import FakeLLM, text, tool_call

CLEAN = "rm -rf build && echo removed in $PWD; echo pager=$PAGER; echo key=$OPENAI_API_KEY; exit 3"


def _result(llm: FakeLLM, call_id: str) -> str:
    """What the model was given as the result of one call."""
    for request in llm.requests:
        for message in request["messages"]:
            if message.get("tool_call_id") == call_id:
                return str(message["content"])
    raise AssertionError(f"no result for {call_id}")


def _session(editor: Editor, work: Path, llm: FakeLLM) -> Any:
    env = agent_env(llm_env(llm.url))
    return spawn_agent_process(editor, *agent_command(), env=env, cwd=work)


@pytest.mark.timeout(120)  # the first prompt waits for litellm's import in the new process
def test_commands_run_in_the_editors_terminal_unless_sandboxed(isolated_env: Path) -> None:
    require_sandbox()
    work = isolated_env
    (work / "build").mkdir()
    config = Path(os.environ["XDG_CONFIG_HOME"]) / "ml-intern" / "cli_agent_config.json"
    llm = FakeLLM(
        tool_call("bash", {"command": CLEAN}, id="call_clean"),
        tool_call("bash", {"command": "echo bg", "run_in_background": True}, id="call_bg"),
        tool_call("bash", {"command": "sleep 30", "timeout": 1}, id="call_slow"),
        text("Cleaned."),
        tool_call("bash", {"command": "sleep 30"}, id="call_stopped"),
        tool_call("bash", {"command": "touch made && echo inside"}, id="call_touch"),
        text("Made."),
    ).start()
    editor = Editor(answers=["allow_once"])
    caps = ClientCapabilities(terminal=True)

    async def delegated() -> None:
        async with _session(editor, work, llm) as (conn, proc):
            await conn.initialize(protocol_version=PROTOCOL_VERSION, client_capabilities=caps)
            sid = (await conn.new_session(cwd=str(work), mcp_servers=[])).session_id
            done = await conn.prompt(session_id=sid, prompt=[text_block("clean the build")])
            assert done.stop_reason == "end_turn"

            # approved, then run by the editor, in the session's folder
            assert [call.title for call, _ in editor.permission_requests] == [CLEAN]
            assert not (work / "build").exists()
            first = editor.terminals["term-1"]
            assert (first.command, first.args) == ("bash", ["-c", CLEAN])
            assert first.env == QUIET  # our environment (the key) is not sent to the editor
            got = _result(llm, "call_clean")
            assert f"removed in {work}" in got and "pager=cat" in got
            assert "key=\n" in got and "exit code 3" in got
            cards = [u for u in editor.of("tool_call_update") if u.tool_call_id == "call_clean"]
            shown = [c.terminal_id for u in cards for c in u.content or [] if c.type == "terminal"]
            assert shown and set(shown) == {"term-1"}
            assert cards[-1].status == "failed" and cards[-1].content[0].terminal_id == "term-1"

            # a background job stays here; the timeout kills the editor's command
            assert "bg" not in [t.args[-1] for t in editor.terminals.values()]
            assert "background" in _result(llm, "call_bg").lower()
            assert "timed out after 1 s" in _result(llm, "call_slow")
            assert editor.terminal_calls == [
                ("create", "term-1"),
                ("wait_for_exit", "term-1"),
                ("output", "term-1"),
                ("release", "term-1"),
                ("create", "term-2"),
                ("wait_for_exit", "term-2"),
                ("kill", "term-2"),
                ("output", "term-2"),
                ("release", "term-2"),
            ]

            # cancelled while the editor runs it: killed and released, the turn cancelled
            running = asyncio.create_task(
                conn.prompt(session_id=sid, prompt=[text_block("wait a while")])
            )
            await editor.wait_for(lambda: ("create", "term-3") in editor.terminal_calls)
            await conn.cancel(session_id=sid)
            assert (await running).stop_reason == "cancelled"
            await editor.wait_for(lambda: ("release", "term-3") in editor.terminal_calls)
            assert ("kill", "term-3") in editor.terminal_calls
            assert editor.terminals["term-3"].proc.returncode is not None

            # with the sandbox on, commands run here, confined, never in the editor
            config.parent.mkdir(parents=True, exist_ok=True)
            config.write_text(json.dumps({"sandbox": "workspace-write"}))
            sandboxed = (await conn.new_session(cwd=str(work), mcp_servers=[])).session_id
            calls_before = list(editor.terminal_calls)
            done = await conn.prompt(session_id=sandboxed, prompt=[text_block("make a file")])
            assert done.stop_reason == "end_turn"
            assert editor.terminal_calls == calls_before
            assert "inside" in _result(llm, "call_touch") and (work / "made").exists()
            proc.stdin.close()
            assert await asyncio.wait_for(proc.wait(), 30) == 0

    try:
        asyncio.run(delegated())
    finally:
        llm.stop()
    llm.assert_done()


@pytest.mark.timeout(120)
def test_the_sandbox_flag_confines_every_sessions_commands_here(isolated_env: Path) -> None:
    require_sandbox()
    work = isolated_env
    probe = "touch .env.probe; echo rc=$?"
    llm = FakeLLM(tool_call("bash", {"command": probe}, id="call_probe"), text("Tried.")).start()
    editor = Editor(answers=["allow_once"])

    async def confined() -> None:
        env = agent_env(llm_env(llm.url))
        command = (*agent_command(), "--sandbox", "workspace-write")
        async with spawn_agent_process(editor, *command, env=env, cwd=work) as (conn, proc):
            caps = ClientCapabilities(terminal=True)
            await conn.initialize(protocol_version=PROTOCOL_VERSION, client_capabilities=caps)
            sid = (await conn.new_session(cwd=str(work), mcp_servers=[])).session_id
            done = await conn.prompt(session_id=sid, prompt=[text_block("make a probe")])
            assert done.stop_reason == "end_turn"
            proc.stdin.close()
            assert await asyncio.wait_for(proc.wait(), 30) == 0

    try:
        asyncio.run(confined())
    finally:
        llm.stop()
    llm.assert_done()
    # run here under bubblewrap, not in the editor, where a protected name cannot be made
    assert editor.terminal_calls == []
    assert "rc=1" in _result(llm, "call_probe")
    assert not (work / ".env.probe").exists()
