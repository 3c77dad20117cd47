"""`ml-intern mcp list|add|remove` edits the user config file and nothing else in it."""

from __future__ import annotations

import json

import pytest

from agent.cli.commands.user_config import add_server, describe_server, list_servers, remove_server
from agent.config import load_settings, user_config_path
from agent.errors import ConfigError


def test_add_creates_the_file_and_its_folders(tmp_path):
    path = tmp_path / "deep" / "er" / "config.json"
    add_server(path, "fs", command=["npx", "-y", "server-fs", "/tmp"], env={"DEBUG": "1"})
    assert json.loads(path.read_text()) == {
        "mcpServers": {
            "fs": {"command": "npx", "args": ["-y", "server-fs", "/tmp"], "env": {"DEBUG": "1"}}
        }
    }
    assert list_servers(path) == {
        "fs": {"command": "npx", "args": ["-y", "server-fs", "/tmp"], "env": {"DEBUG": "1"}}
    }


def test_add_keeps_other_keys_and_servers(tmp_path):
    path = tmp_path / "config.json"
    path.write_text(
        json.dumps({"model_name": "openai/gpt-5", "mcpServers": {"old": {"url": "http://a"}}})
    )
    add_server(path, "hf", url="https://hf.co/mcp", headers={"Authorization": "Bearer ${HF_TOKEN}"})
    data = json.loads(path.read_text())
    assert data["model_name"] == "openai/gpt-5"
    assert data["mcpServers"]["old"] == {"url": "http://a"}
    # ${VAR} is stored as written, not expanded into a secret.
    assert data["mcpServers"]["hf"] == {
        "url": "https://hf.co/mcp",
        "headers": {"Authorization": "Bearer ${HF_TOKEN}"},
    }


def test_add_same_name_replaces(tmp_path):
    path = tmp_path / "config.json"
    add_server(path, "s", command=["one"])
    add_server(path, "s", url="http://127.0.0.1:1/sse", transport="sse")
    assert list_servers(path) == {"s": {"url": "http://127.0.0.1:1/sse", "transport": "sse"}}


def test_remove(tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"stream": False, "mcpServers": {"a": {"command": "x"}}}))
    assert remove_server(path, "missing") is False
    assert remove_server(path, "a") is True
    assert json.loads(path.read_text()) == {"stream": False, "mcpServers": {}}
    assert remove_server(tmp_path / "absent.json", "a") is False
    assert not (tmp_path / "absent.json").exists()


def test_malformed_file_is_never_clobbered(tmp_path):
    path = tmp_path / "cfg" / "config.json"
    path.parent.mkdir()
    broken = '{"model_name": "x",\n  oops\n}'
    path.write_text(broken)
    with pytest.raises(ConfigError, match=str(path)):
        add_server(path, "s", command=["x"])
    with pytest.raises(ConfigError, match="line 2"):
        remove_server(path, "s")
    with pytest.raises(ConfigError):
        list_servers(path)
    assert path.read_text() == broken
    path.write_text('{"mcpServers": ["not", "a", "table"]}')
    with pytest.raises(ConfigError, match="mcpServers"):
        add_server(path, "s", command=["x"])
    assert [p.name for p in path.parent.iterdir()] == ["config.json"]  # no temp file left


def test_permissions_of_an_existing_file_are_kept(tmp_path):
    path = tmp_path / "config.json"
    path.write_text("{}")
    path.chmod(0o600)
    add_server(path, "s", command=["x"])
    assert path.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "either a command"),
        ({"command": ["x"], "url": "http://a"}, "not both"),
        ({"command": ["x"], "transport": "sse"}, "stdio"),
        ({"url": "http://a", "transport": "stdio"}, "stdio"),
        ({"url": "http://a", "transport": "carrier-pigeon"}, "unknown transport"),
        ({"command": ["x"], "headers": {"A": "b"}}, "headers"),
        ({"url": "http://a", "env": {"A": "b"}}, "env"),
    ],
)
def test_bad_arguments_are_refused_without_writing(tmp_path, kwargs, message):
    path = tmp_path / "config.json"
    with pytest.raises(ValueError, match=message):
        add_server(path, "s", **kwargs)
    with pytest.raises(ValueError, match="invalid server name"):
        add_server(path, "has space", command=["x"])
    assert not path.exists()


def test_written_servers_load_as_settings(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", "hf_secret")
    path = user_config_path()
    add_server(path, "time", command=["uvx", "mcp-server-time"])
    add_server(path, "hf", url="https://hf.co/mcp", headers={"Authorization": "Bearer ${HF_TOKEN}"})
    servers = load_settings(cwd=tmp_path).mcp_servers
    assert servers["time"].command == "uvx"
    assert servers["time"].args == ["mcp-server-time"]
    assert servers["hf"].headers == {"Authorization": "Bearer hf_secret"}
    assert "hf_secret" not in user_config_path().read_text()


def test_describe_never_shows_secret_values():
    line = describe_server(
        "hf", {"url": "https://hf.co/mcp", "headers": {"Authorization": "Bearer hf_abc"}}
    )
    assert line == "hf: https://hf.co/mcp  [headers: Authorization]"
    line = describe_server(
        "fs", {"command": "npx", "args": ["srv"], "env": {"KEY": "v"}, "enabled": False}
    )
    assert line == "fs: npx srv  [env: KEY]"


def test_set_setting_keeps_the_rest_of_the_file(tmp_path):
    from agent.cli.commands.user_config import set_setting

    path = tmp_path / "cli_agent_config.json"
    add_server(path, "time", command=["uvx", "mcp-server-time"])
    set_setting(path, "traces_private", False)
    data = json.loads(path.read_text())
    assert data["traces_private"] is False
    assert "time" in data["mcpServers"]


def test_making_traces_public_is_remembered_for_later_sessions():
    from pathlib import Path

    from agent.cli.slash.mcp_and_traces import remember_visibility
    from agent.config import Settings, load_settings

    settings = Settings()
    remember_visibility(settings, private=False)
    assert settings.traces_private is False
    assert load_settings(Path.cwd()).traces_private is False
