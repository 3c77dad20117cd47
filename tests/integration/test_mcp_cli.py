"""MCP servers through the real CLI: tools offered, called, failures reported once."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from agent.config import user_config_path
from agent.trust import add_trusted
from tests.fakes import llm_server as llm

REPO = Path(__file__).resolve().parents[2]


def project_config(servers: dict) -> None:
    """MCP servers in the project's own config, in a folder the user trusted; their
    tools are in the first request (the run waits for them, however slow the machine)."""
    add_trusted(Path.cwd())
    Path("configs").mkdir(exist_ok=True)
    config = {"mcpServers": servers, "mcp_wait_s": 60}
    Path("configs/cli_agent_config.json").write_text(json.dumps(config))


def fake_server() -> dict:
    return {
        "command": sys.executable,
        "args": ["-m", "tests.fakes.mcp_server", "--transport", "stdio"],
        "cwd": str(REPO),
    }


def test_model_calls_an_mcp_tool_and_sees_the_result(cli, fake_llm):
    project_config({"fake": fake_server(), "broken": {"command": "no-such-mcp-server-binary"}})
    fake_llm.script(llm.tool_call("mcp__fake__add", {"a": 20, "b": 22}), llm.text("It is 42."))
    result = cli("-o", "stream-json", "add 20 and 22")
    assert result.exit_code == 0, result.stderr
    events = result.lines()
    ready = events[0]
    assert "mcp__fake__add" in ready["tools"]
    assert not any(name.startswith("mcp__broken") for name in ready["tools"])
    notices = [e["message"] for e in events if e["type"] == "notice"]
    assert len([n for n in notices if "broken" in n]) == 1
    offered = {t["function"]["name"] for t in fake_llm.requests[0]["tools"]}
    assert "mcp__fake__add" in offered
    tool_result = fake_llm.requests[1]["messages"][-1]
    assert tool_result["role"] == "tool"
    assert tool_result["content"].strip() == "42"


def test_mcp_add_list_remove_edit_the_user_config(cli):
    added = cli("mcp", "add", "local", "--", "python3", "-m", "my_server", "--flag")
    assert added.exit_code == 0, added.stderr
    http = cli("mcp", "add", "remote", "--url", "https://example.com/mcp", "-H", "X-Key=abc")
    assert http.exit_code == 0, http.stderr
    listing = cli("mcp", "list")
    assert "local" in listing.stdout
    assert "remote" in listing.stdout
    assert "abc" not in listing.stdout
    config = json.loads(user_config_path().read_text())
    assert config["mcpServers"]["local"]["command"] == "python3"
    assert config["mcpServers"]["local"]["args"] == ["-m", "my_server", "--flag"]
    assert config["mcpServers"]["remote"]["headers"] == {"X-Key": "abc"}
    assert cli("mcp", "remove", "local").exit_code == 0
    assert cli("mcp", "remove", "local").exit_code == 2
    assert "local" not in cli("mcp", "list").stdout


def test_mcp_help_names_the_user_config_where_xdg_puts_it(cli, monkeypatch, tmp_path):
    """The test's XDG_CONFIG_HOME is ~/config, not ~/.config; then a folder outside home."""
    shown = cli("mcp", "--help")
    assert shown.exit_code == 0, shown.stderr
    assert "~/config/ml-intern/cli_agent_config.json" in " ".join(shown.stdout.split())
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "elsewhere"))
    shown = cli("mcp", "--help")
    assert f"{tmp_path}/elsewhere/ml-intern/cli_agent_config.json" in "".join(shown.stdout.split())
    assert ".config" not in shown.stdout


def test_mcp_tools_the_lean_tool_set_leaves_out_are_named(cli, fake_llm):
    project_config({"fake": fake_server()})
    config = json.loads(Path("configs/cli_agent_config.json").read_text())
    Path("configs/cli_agent_config.json").write_text(json.dumps({**config, "tool_set": "lean"}))
    fake_llm.script(llm.text("Only the basics here."))
    result = cli("-o", "text", "add 20 and 22")
    assert result.exit_code == 0, result.stderr
    offered = sorted(t["function"]["name"] for t in fake_llm.requests[0]["tools"])
    assert offered == ["bash", "edit", "read", "write"]
    notices = [line for line in result.stderr.splitlines() if "mcp__fake__add" in line]
    assert len(notices) == 1, result.stderr
    assert "MCP tools left out (mcp__fake__add, " in notices[0]
    assert notices[0].endswith("tool_set is lean (only bash, edit, read, write are offered).")


def test_a_crashed_server_is_restarted_on_the_next_call(cli, fake_llm):
    project_config({"fake": fake_server()})
    fake_llm.script(
        llm.tool_call("mcp__fake__crash", {}),
        llm.tool_call("mcp__fake__add", {"a": 1, "b": 2}),
        llm.text("Back: 3."),
    )
    result = cli("-o", "json", "crash it, then add")
    assert result.exit_code == 0, result.stderr
    crashed = fake_llm.requests[1]["messages"][-1]
    assert crashed["role"] == "tool"
    after_restart = fake_llm.requests[2]["messages"][-1]
    assert after_restart["content"].strip() == "3"


def test_mcp_list_spells_out_control_characters(cli):
    """A command whose argument returns to the line's start and erases it stays readable."""
    added = cli("mcp", "add", "odd", "--", "python3", "-c", "\r\x1b[2Kfine\u2066", "x\ny")
    assert added.exit_code == 0, added.stderr
    listing = cli("mcp", "list").stdout
    assert "\x1b" not in listing and "\u2066" not in listing
    line = "odd: python3 -c ^M^[[2Kfine\\u2066 x^Jy"
    assert any(shown.startswith(line + "  (user ") for shown in listing.splitlines())


def test_mcp_list_shows_the_servers_a_launch_uses_and_where_they_come_from(cli, tmp_path):
    """The shipped Hugging Face server is listed, and what overrides or ignores it says so."""
    shipped = "hf-mcp-server: https://huggingface.co/mcp  [headers: Authorization]"
    user_config_path().unlink()  # the test setup turns the shipped server off
    listing = cli("mcp", "list")
    assert listing.exit_code == 0, listing.stderr
    assert f"{shipped}  (shipped, enabled)" in listing.stdout.splitlines()

    Path("configs").mkdir()
    Path("configs/cli_agent_config.json").write_text(
        json.dumps({"mcpServers": {"repo-tool": {"command": "repo-mcp"}}})
    )
    lines = cli("mcp", "list").stdout.splitlines()
    ignored = [line for line in lines if line.startswith("repo-tool: repo-mcp  (project ")]
    assert len(ignored) == 1 and "ignored: folder not trusted" in ignored[0]
    assert f"ml-intern trust {Path.cwd().resolve()}" in ignored[0]

    add_trusted(Path.cwd())
    user = {"url": "https://huggingface.co/mcp", "enabled": False}
    user_config_path().parent.mkdir(parents=True, exist_ok=True)
    user_config_path().write_text(json.dumps({"mcpServers": {"hf-mcp-server": user}}))
    lines = cli("mcp", "list").stdout.splitlines()
    assert (
        f"hf-mcp-server: https://huggingface.co/mcp  (user {user_config_path()}, disabled)" in lines
    )
    assert f"repo-tool: repo-mcp  (project {Path.cwd().resolve()}, trusted, enabled)" in lines
