"""`ml-intern acp` over raw JSON-RPC lines: bad input gets errors and no crash, saved
sessions are listed and loaded with their history replayed, closing stdin ends it."""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from acp.schema import (
    Error,
    InitializeResponse,
    ListSessionsResponse,
    LoadSessionResponse,
    PromptResponse,
    SessionNotification,
)

from agent.context.store import SessionLog
from tests.cli import llm_env
from tests.fakes.llm_server import FakeLLM, held, text

DEADLINE_S = 30
SAVED = "20260101-120000-abcdef"
RESPONSES = {
    3: InitializeResponse,
    6: ListSessionsResponse,
    7: LoadSessionResponse,
    8: PromptResponse,
    23: PromptResponse,
}


class Wire:
    """The agent process and its stdout, line by line, with a deadline on every read."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        import os

        self.proc = subprocess.Popen(
            [sys.executable, "-m", "agent", "acp"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env={**os.environ, **env},
            cwd=cwd,
        )
        self.lines: queue.Queue[bytes] = queue.Queue()
        self.seen: list[dict[str, Any]] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(b"")

    def send(self, raw: str | dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        line = raw if isinstance(raw, str) else json.dumps({"jsonrpc": "2.0", **raw})
        self.proc.stdin.write(line.encode() + b"\n")
        self.proc.stdin.flush()

    def next(self) -> dict[str, Any]:
        line = self.lines.get(timeout=DEADLINE_S)
        assert line, "the agent closed its stdout"
        message = json.loads(line)  # stdout carries nothing but protocol messages
        self.seen.append(message)
        return message

    def response(self, request_id: int | None) -> dict[str, Any]:
        """The response to `request_id`; notifications before it are kept in `seen`."""
        while True:
            message = self.next()
            if "method" not in message and message.get("id") == request_id:
                return message


def _seed_saved_session(work: Path) -> None:
    log = SessionLog.create(SAVED, work, "openai/test-model")
    log.append_message({"role": "system", "content": "You are ml-intern."})
    log.append_message({"role": "user", "content": "what is 2+2?"})
    log.append_message({"role": "assistant", "content": "4."})
    log.close()


@pytest.mark.timeout(120)  # the first prompt waits for litellm's import in the new process
def test_bad_input_sessions_and_stdin_closing(isolated_env: Path) -> None:
    work = isolated_env
    _seed_saved_session(work)
    release = threading.Event()
    llm = FakeLLM(held(text("Slow answer."), release), text("ok")).start()
    wire = Wire(llm_env(llm.url), work)
    try:
        wire.send("this is not json")
        assert wire.response(None)["error"]["code"] == -32700
        wire.send("[1, 2]")
        assert wire.response(None)["error"]["code"] == -32600
        wire.send({"id": 1, "method": "no/such/method", "params": {}})
        assert wire.response(1)["error"]["code"] == -32601
        wire.send({"id": 2, "method": "initialize", "params": {"clientInfo": 7}})
        assert wire.response(2)["error"]["code"] == -32602
        wire.send({"id": 3, "method": "initialize", "params": {"protocolVersion": 99}})
        hello = wire.response(3)["result"]
        assert hello["protocolVersion"] == 1  # ours, the newest we speak
        assert hello["agentInfo"]["name"] == "ml-intern"
        assert hello["agentCapabilities"]["mcpCapabilities"] == {"http": True, "sse": True}

        prompt = {"sessionId": "nope", "prompt": [{"type": "text", "text": "hi"}]}
        wire.send({"id": 4, "method": "session/prompt", "params": prompt})
        assert wire.response(4)["error"]["code"] == -32602
        wire.send(
            {"id": 5, "method": "session/new", "params": {"cwd": "relative/dir", "mcpServers": []}}
        )
        assert wire.response(5)["error"]["code"] == -32602

        wire.send({"id": 6, "method": "session/list", "params": {"cwd": str(work)}})
        listed = wire.response(6)["result"]["sessions"]
        assert [(s["sessionId"], s["title"]) for s in listed] == [(SAVED, "what is 2+2?")]
        load = {"sessionId": SAVED, "cwd": str(work), "mcpServers": []}
        wire.send({"id": 7, "method": "session/load", "params": load})
        loaded = wire.response(7)["result"]
        assert loaded["models"] == {
            "availableModels": [{"modelId": "openai/test-model", "name": "openai/test-model"}],
            "currentModelId": "openai/test-model",
        }
        replayed = [
            (m["params"]["update"]["sessionUpdate"], m["params"]["update"]["content"]["text"])
            for m in wire.seen
            if m.get("method") == "session/update" and "content" in m["params"]["update"]
        ]
        assert replayed == [("user_message_chunk", "what is 2+2?"), ("agent_message_chunk", "4.")]

        prompt = {"sessionId": SAVED, "prompt": [{"type": "text", "text": "and 3+3?"}]}
        wire.send({"id": 8, "method": "session/prompt", "params": prompt})
        llm.wait_for_requests(1, timeout=90)
        wire.send({"id": 9, "method": "session/prompt", "params": prompt})
        assert wire.response(9)["error"]["code"] == -32600  # one prompt at a time
        release.set()
        assert wire.response(8)["result"]["stopReason"] == "end_turn"

        # the unstable model picker: a model without its key is refused, naming the variable
        no_key = {"sessionId": SAVED, "modelId": "anthropic/claude-sonnet-4-5"}
        wire.send({"id": 20, "method": "session/set_model", "params": no_key})
        refused = wire.response(20)["error"]
        assert refused["code"] == -32602 and "ANTHROPIC_API_KEY" in json.dumps(refused)
        switch = {"sessionId": SAVED, "modelId": "openai/gpt-4o"}
        wire.send({"id": 21, "method": "session/set_model", "params": switch})
        switched = wire.response(21)
        assert switched.get("result") == {}, switched
        options = [
            m["params"]["update"]["configOptions"]
            for m in wire.seen
            if m.get("method") == "session/update"
            and m["params"]["update"]["sessionUpdate"] == "config_option_update"
        ]
        model = next(o for o in options[-1] if o["id"] == "model")
        assert model["currentValue"] == "openai/gpt-4o"
        wire.send({"id": 22, "method": "session/set_model", "params": {"sessionId": SAVED}})
        assert wire.response(22)["error"]["code"] == -32602

        # the chat's commands that make sense here, offered and run from a prompt
        (offered,) = [
            m["params"]["update"]["availableCommands"]
            for m in wire.seen
            if m.get("method") == "session/update"
            and m["params"]["update"]["sessionUpdate"] == "available_commands_update"
        ]
        names = [c["name"] for c in offered]
        assert {"status", "cost", "context", "compact", "effort", "goal"} <= set(names)
        assert not {"model", "undo", "quit", "new"} & set(names)
        seen_before = len(wire.seen)
        status = {"sessionId": SAVED, "prompt": [{"type": "text", "text": "/status"}]}
        wire.send({"id": 23, "method": "session/prompt", "params": status})
        assert wire.response(23)["result"]["stopReason"] == "end_turn"
        effort = {"sessionId": SAVED, "prompt": [{"type": "text", "text": "/effort high"}]}
        wire.send({"id": 24, "method": "session/prompt", "params": effort})
        assert wire.response(24)["result"]["stopReason"] == "end_turn"
        updates = [
            m["params"]["update"]
            for m in wire.seen[seen_before:]
            if m.get("method") == "session/update"
        ]
        said = "".join(
            u["content"]["text"] for u in updates if u["sessionUpdate"] == "agent_message_chunk"
        )
        assert "openai/gpt-4o" in said and SAVED in said and "approvals" in said
        assert "reasoning effort high" in said
        (options,) = [
            u["configOptions"] for u in updates if u["sessionUpdate"] == "config_option_update"
        ]
        assert next(o for o in options if o["id"] == "effort")["currentValue"] == "high"
        assert len(llm.requests) == 2  # no model call for either

        assert wire.proc.stdin is not None
        wire.proc.stdin.close()
        assert wire.proc.wait(timeout=DEADLINE_S) == 0
        assert wire.lines.get(timeout=DEADLINE_S) == b""  # nothing but messages came before
        for message in wire.seen:  # every update is valid against the protocol's schema
            if message.get("method") == "session/update":
                SessionNotification.model_validate(message["params"])
        answers = {m["id"]: m for m in wire.seen if "method" not in m and m.get("id")}
        for request_id, schema in RESPONSES.items():  # and so is every answer
            schema.model_validate(answers[request_id]["result"])
        for request_id in (1, 2, 4, 5, 9, 20, 22):
            Error.model_validate(answers[request_id]["error"])
    finally:
        release.set()
        if wire.proc.poll() is None:
            wire.proc.kill()
        llm.stop()
    llm.assert_done()
