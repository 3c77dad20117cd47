"""`ml-intern acp` driven as an editor drives it: the official ACP SDK's client side
over the process's stdin and stdout, against the fake model server."""

from __future__ import annotations

import asyncio
import base64
import os
from pathlib import Path

import pytest
from acp import PROTOCOL_VERSION, RequestError, image_block, spawn_agent_process, text_block
from acp.schema import ClientCapabilities, FileSystemCapabilities

from tests.acp_client import Editor, agent_command, agent_env
from tests.cli import llm_env
from tests.fakes.llm_server import FakeLLM, text, tool_call

PLAN = {"todos": [{"id": "1", "content": "Clean the build", "status": "in_progress"}]}
RM = {"command": "rm -rf build && echo removed"}
RM_CACHE = {"command": "rm -rf cache"}
PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 16).decode()


@pytest.mark.timeout(120)  # the first prompt waits for litellm's import in the new process
def test_a_conversation_with_permissions_plan_modes_and_cancel(isolated_env: Path) -> None:
    work = isolated_env
    (work / "build").mkdir()
    (work / "notes.txt").write_text("old line\n")
    commands = Path(os.environ["XDG_CONFIG_HOME"]) / "ml-intern" / "commands"
    commands.mkdir(parents=True)
    untrusted = work / ".agents" / "commands"  # the folder is not trusted: not offered
    untrusted.mkdir(parents=True)
    (untrusted / "deploy.md").write_text("Deploy $ARGUMENTS")
    (commands / "sweep.md").write_text(
        "---\ndescription: Sweep the learning rate\n---\nSweep $ARGUMENTS"
    )
    llm = FakeLLM(
        tool_call("plan_tool", PLAN, reasoning="Let me plan."),
        tool_call("bash", RM),
        tool_call("bash", RM),
        tool_call("bash", RM_CACHE),
        tool_call("bash", RM_CACHE),
        tool_call("read", {"path": "notes.txt"}),
        tool_call("edit", {"path": "notes.txt", "old_str": "old line", "new_str": "new line"}),
        text("Removed the build folder.", reasoning="It worked."),
        tool_call("bash", {"command": "rm -rf data"}, id="call_held"),
        text("ok"),  # the new model is asked before it is switched to
        text("A long answer " * 10, chunk_size=4, delay_s=0.05),
        text("Still here."),
    ).start()
    editor = Editor(answers=["reject_once", "allow_once", "reject_always", "hold"])
    notes = str(work / "notes.txt")
    editor.buffers[notes] = "old line\nunsaved line\n"  # the editor's buffer, not saved
    fs = FileSystemCapabilities(read_text_file=True, write_text_file=True)

    async def converse() -> None:
        env = agent_env(llm_env(llm.url))
        async with spawn_agent_process(editor, *agent_command(), env=env, cwd=work) as (conn, proc):
            hello = await conn.initialize(
                protocol_version=PROTOCOL_VERSION, client_capabilities=ClientCapabilities(fs=fs)
            )
            assert hello.protocol_version == PROTOCOL_VERSION
            assert hello.agent_info.name == "ml-intern"
            assert hello.agent_capabilities.load_session is True
            assert hello.agent_capabilities.prompt_capabilities.embedded_context is True
            assert hello.auth_methods == []  # the key is in the environment
            await conn.authenticate(method_id="env")

            new = await conn.new_session(cwd=str(work), mcp_servers=[])
            sid = new.session_id
            assert new.modes.current_mode_id == "ask"
            assert {o.id for o in new.config_options} == {"mode", "model", "effort"}
            (offered,) = await editor.wait_for(lambda: editor.of("available_commands_update"))
            names = [c.name for c in offered.available_commands]
            assert names[-1] == "sweep" and "deploy" not in names
            assert {"status", "compact", "effort", "runs"} <= set(names)

            done = await conn.prompt(session_id=sid, prompt=[text_block("clean the build")])
            assert done.stop_reason == "end_turn"
            assert done.usage.total_tokens > 0
            notice, answer = editor.text().rsplit("\n\n", 1)
            assert answer == "Removed the build folder."
            assert "this folder is not trusted: ignored the project commands" in notice
            assert "Let me plan." in editor.text("agent_thought_chunk")
            (plan,) = editor.of("plan")
            assert [(e.content, e.status) for e in plan.entries] == [
                ("Clean the build", "in_progress")
            ]
            asked = [call.title for call, _ in editor.permission_requests]
            # the second `rm -rf cache` is refused without asking: rejected always
            assert asked == ["rm -rf build && echo removed"] * 2 + ["rm -rf cache"]
            why = editor.permission_requests[0][0].content[0].content.text  # as the chat says it
            assert why == "⚠ `rm -rf` deletes whole directories"
            kinds = {o.kind for o in editor.permission_requests[0][1]}
            assert kinds == {"allow_once", "allow_always", "reject_once", "reject_always"}
            starts = editor.of("tool_call")
            assert [(s.kind, s.title) for s in starts] == [
                ("think", "Update the plan"),
                ("execute", "rm -rf build && echo removed"),
                ("execute", "rm -rf build && echo removed"),
                ("execute", "rm -rf cache"),
                ("execute", "rm -rf cache"),
                ("read", "Read notes.txt"),
                ("edit", "Edit notes.txt"),
            ]
            edit = starts[6]
            assert edit.locations[0].path == str(work / "notes.txt")
            diff = edit.content[0]
            assert (diff.type, diff.path, diff.new_text[:9]) == ("diff", notes, "new line\n")
            ends = {
                u.tool_call_id: u.status
                for u in editor.of("tool_call_update")
                if u.status in ("completed", "failed")
            }
            statuses = [ends[s.tool_call_id] for s in starts]
            assert (
                statuses
                == ["completed", "failed", "completed", "failed", "failed"] + ["completed"] * 2
            )
            ran = [
                u for u in editor.of("tool_call_update") if u.tool_call_id == starts[2].tool_call_id
            ]
            assert any("removed" in c.content.text for u in ran for c in u.content or [])
            assert not (work / "build").exists()
            # fs delegation: the model read the buffer and its edit went to the editor
            assert editor.reads == [notes, notes]
            read_result = llm.requests[6]["messages"][-1]["content"]
            assert "unsaved line" in read_result
            assert editor.written == {notes: "new line\nunsaved line\n"}
            assert (work / "notes.txt").read_text() == "old line\n"
            assert editor.of("usage_update")

            # cancelled while the editor still asks: the call is closed, the turn cancelled
            held = asyncio.create_task(
                conn.prompt(session_id=sid, prompt=[text_block("and the data")])
            )
            await editor.wait_for(lambda: len(editor.permission_requests) == 4)
            await conn.cancel(session_id=sid)
            assert (await held).stop_reason == "cancelled"
            editor.released.set()
            closed = [
                u.status for u in editor.of("tool_call_update") if u.tool_call_id == "call_held"
            ]
            assert closed[-1] == "failed"

            await conn.set_session_mode(session_id=sid, mode_id="yolo")
            await editor.wait_for(lambda: editor.of("current_mode_update"))
            assert editor.of("current_mode_update")[-1].current_mode_id == "yolo"
            options = await conn.set_config_option(config_id="effort", session_id=sid, value="high")
            effort = next(o for o in options.config_options if o.id == "effort")
            assert effort.current_value == "high"
            picture = image_block(PNG, "image/png")
            with pytest.raises(RequestError) as no_vision:  # test-model takes no images
                await conn.prompt(session_id=sid, prompt=[text_block("look"), picture])
            assert "does not take images" in str(no_vision.value.data)
            switched = await conn.set_config_option(
                config_id="model", session_id=sid, value="openai/gpt-4o"
            )
            model = next(o for o in switched.config_options if o.id == "model")
            assert model.current_value == "openai/gpt-4o"
            with pytest.raises(RequestError):  # refused: the session keeps its model
                await conn.set_config_option(config_id="model", session_id=sid, value="nonsense")

            running = asyncio.create_task(
                conn.prompt(session_id=sid, prompt=[text_block("explain at length")])
            )
            await editor.wait_for(lambda: "A long answer A long" in editor.text())
            await conn.cancel(session_id=sid)
            assert (await running).stop_reason == "cancelled"

            again = await conn.prompt(session_id=sid, prompt=[text_block("still there?"), picture])
            assert again.stop_reason == "end_turn"
            assert llm.requests[-1]["model"] == "gpt-4o"
            answered = [
                m for m in llm.requests[-1]["messages"] if m.get("tool_call_id") == "call_held"
            ]
            assert len(answered) == 1  # the call stopped while asking got its answer
            sent = llm.requests[-1]["messages"][-1]["content"]
            assert sent[-1] == {
                "type": "image_url",
                "image_url": {"url": f"data:image/png;base64,{PNG}"},
            }
            assert editor.text().endswith("Still here.")
            last_request = llm.requests[-1]["messages"]
            partial = [
                m
                for m in last_request
                if m["role"] == "assistant" and "A long answer" in str(m.get("content"))
            ]
            assert partial, "the cancelled turn's partial answer is kept in the history"

            listed = await conn.list_sessions(cwd=str(work))
            assert [s.session_id for s in listed.sessions] == [sid]
            proc.stdin.close()
            assert await asyncio.wait_for(proc.wait(), 30) == 0
        return sid

    try:
        asyncio.run(converse())
    finally:
        llm.stop()
    llm.assert_done()
