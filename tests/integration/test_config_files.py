"""A settings file that is there but cannot be read stops the run with exit 3 and one
line naming it, never a traceback and never silently skipped."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.paths import user_config_path, user_dotenv_path


def error_lines(stderr: str, path: Path) -> list[str]:
    assert "Traceback" not in stderr
    return [line for line in stderr.splitlines() if str(path) in line]


def test_a_non_utf8_user_dotenv_is_a_config_error(cli):
    dotenv = user_dotenv_path()
    dotenv.write_bytes(b"A=1\n\xff\n")
    result = cli("hi")
    assert result.exit_code == 3, result.stderr
    [line] = error_lines(result.stderr, dotenv)
    assert "cannot read .env file" in line and "utf-8" in line


def test_a_non_utf8_project_dotenv_is_a_config_error(cli, trusted_work):
    dotenv = trusted_work / ".env"
    dotenv.write_bytes(b"A=1\n\xff\n")
    result = cli("hi")
    assert result.exit_code == 3, result.stderr
    [line] = error_lines(result.stderr, dotenv)
    assert "cannot read .env file" in line and "utf-8" in line


@pytest.fixture
def no_user_config(tmp_path, monkeypatch) -> Path:
    """The user file is free to break: the settings every test needs (no HF MCP server,
    so no network) come from an explicit file instead."""
    explicit = tmp_path / "explicit.json"
    explicit.write_text(json.dumps({"mcpServers": {"hf-mcp-server": {"enabled": False}}}))
    monkeypatch.setenv("ML_INTERN_CLI_CONFIG", str(explicit))
    user_config_path().unlink()
    return user_config_path()


def test_a_directory_in_place_of_the_user_config_is_named(cli, no_user_config):
    no_user_config.mkdir()
    result = cli("hi")
    assert result.exit_code == 3, result.stderr
    [line] = error_lines(result.stderr, no_user_config)
    assert "expected a config file, found a directory" in line


def test_a_broken_symlink_in_place_of_the_user_config_is_named(cli, no_user_config, tmp_path):
    no_user_config.symlink_to(tmp_path / "moved-away.json")
    result = cli("hi")
    assert result.exit_code == 3, result.stderr
    [line] = error_lines(result.stderr, no_user_config)
    assert "expected a config file, found a broken symlink" in line


def test_a_directory_in_place_of_the_user_dotenv_is_named(cli):
    dotenv = user_dotenv_path()
    dotenv.mkdir()
    result = cli("hi")
    assert result.exit_code == 3, result.stderr
    [line] = error_lines(result.stderr, dotenv)
    assert "expected a .env file, found a directory" in line


def test_an_unreadable_dotenv_of_an_untrusted_checkout_does_not_stop_the_run(cli, repo, fake_llm):
    from tests.fakes import llm_server as llm

    (repo / ".env").write_bytes(b"A=1\n\xff\n")
    fake_llm.script(llm.text("Hello."))
    result = cli("hi")
    assert "Traceback" not in result.stderr
    assert (result.exit_code, result.stdout) == (0, "Hello.\n")
