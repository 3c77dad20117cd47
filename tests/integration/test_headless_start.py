"""The first seconds of a headless run: nothing on the way to the first request
blocks it, and a signal is answered while the model library still loads."""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from tests.cli import spawn, start
from tests.fakes import llm_server as llm
from tests.slow_import import import_noted, litellm_never_loads

pytestmark = pytest.mark.timeout(120)


def wait_for(check, what: str, proc: subprocess.Popen[str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert proc.poll() is None, f"ml-intern exited before {what}: {proc.communicate()}"
        assert time.monotonic() < deadline, f"no {what} within {timeout} s"
        time.sleep(0.02)


def session_logs() -> list[Path]:
    return sorted((Path(os.environ["XDG_DATA_HOME"]) / "ml-intern" / "sessions").glob("*.jsonl"))


def logged(text: str) -> bool:
    return any(text in path.read_text() for path in session_logs())


def test_ctrl_c_is_answered_while_the_model_library_loads(fake_llm, monkeypatch, tmp_path):
    marker = litellm_never_loads(tmp_path, monkeypatch)

    proc = start("-o", "text", "train a tokenizer on my corpus")
    try:
        wait_for(marker.exists, "the model library's import", proc)
        wait_for(lambda: logged("train a tokenizer"), "the request in the session log", proc)
        proc.send_signal(signal.SIGINT)
        _, errors = proc.communicate(timeout=30)  # the import never ends: only a live loop exits
    finally:
        proc.kill()

    assert proc.returncode == 130, errors
    assert "Traceback" not in errors
    log = session_logs()[0].read_text()
    assert "train a tokenizer on my corpus" in log
    assert fake_llm.requests == []


class Unanswering:
    """An HTTP endpoint on loopback that accepts connections and reads, never answering:
    a network with no route to the server, as seen from a firewalled node."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}/mcp"
        self._held: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            self._held.append(conn)

    def close(self) -> None:
        self._listener.close()
        for conn in self._held:
            conn.close()


def test_an_mcp_server_that_never_answers_does_not_hold_the_first_request(cli, fake_llm, caplog):
    endpoint = Unanswering()
    config = Path(os.environ["XDG_CONFIG_HOME"]) / "ml-intern" / "cli_agent_config.json"
    servers = {"hf-mcp-server": {"enabled": False}, "silent": {"url": endpoint.url}}
    servers["silent"]["timeout_s"] = 600  # only the run's own deadline can end the wait
    config.write_text(json.dumps({"mcpServers": servers}))
    fake_llm.script(llm.text("Done without it."))
    caplog.set_level(logging.INFO, logger="agent.core.runtime")
    try:
        result = cli("-o", "json", "list my datasets")
    finally:
        endpoint.close()

    assert result.exit_code == 0, result.stderr
    assert result.result()["final_text"] == "Done without it."
    offered = [tool["function"]["name"] for tool in fake_llm.requests[0].get("tools", [])]
    assert "bash" in offered
    assert not [name for name in offered if name.startswith("mcp__silent")]
    # The first request went while the connect was still under way (never answered).
    assert "MCP servers still connecting: the first request goes without them" in caplog.text


def test_an_mcp_server_that_cannot_be_reached_costs_no_mcp_import(fake_llm, monkeypatch, tmp_path):
    """The shipped HF MCP server where nothing can be reached (refused here; no route on a
    cluster node): the run never imports the MCP SDK for it, and says why it went without."""
    with socket.create_server(("127.0.0.1", 0)) as closed:
        port = closed.getsockname()[1]  # nothing listens once it is closed
    config = Path(os.environ["XDG_CONFIG_HOME"]) / "ml-intern" / "cli_agent_config.json"
    url = f"http://127.0.0.1:{port}/mcp"
    config.write_text(json.dumps({"mcpServers": {"hf-mcp-server": {"url": url}}}))
    sdk_imported = import_noted("mcp", tmp_path, monkeypatch)
    fake_llm.script(llm.text("Done without it."))

    result = spawn("-o", "text", "list my datasets", timeout=110)

    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == "Done without it."
    assert (
        f"MCP server 'hf-mcp-server' failed: could not be reached (127.0.0.1:{port}: "
        "Connection refused)" in result.stderr
    )
    assert result.stderr.count("hf-mcp-server") == 1
    assert not sdk_imported.exists(), "the MCP SDK was imported for a server nobody can reach"
