"""A settings file that is there but cannot be read stops the run with exit 3 and one
line naming it, never a traceback and never silently skipped."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.paths import user_config_path, user_dotenv_path


def stopped_naming(result, path: Path, *words: str) -> None:
    """Exit 3 with one line that names `path` and says each of `words`."""
    assert result.exit_code == 3, result.stderr
    assert "Traceback" not in result.stderr
    [line] = [line for line in result.stderr.splitlines() if str(path) in line]
    assert all(word in line for word in words), line


def test_a_non_utf8_user_dotenv_is_a_config_error(cli):
    dotenv = user_dotenv_path()
    dotenv.write_bytes(b"A=1\n\xff\n")
    stopped_naming(cli("hi"), dotenv, "cannot read .env file", "utf-8")


def test_a_non_utf8_project_dotenv_is_a_config_error(cli, trusted_work):
    dotenv = trusted_work / ".env"
    dotenv.write_bytes(b"A=1\n\xff\n")
    stopped_naming(cli("hi"), dotenv, "cannot read .env file", "utf-8")


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
    stopped_naming(cli("hi"), no_user_config, "expected a config file, found a directory")


def test_a_broken_symlink_in_place_of_the_user_config_is_named(cli, no_user_config, tmp_path):
    no_user_config.symlink_to(tmp_path / "moved-away.json")
    stopped_naming(cli("hi"), no_user_config, "expected a config file, found a broken symlink")


def test_a_directory_in_place_of_the_user_dotenv_is_named(cli):
    dotenv = user_dotenv_path()
    dotenv.mkdir()
    stopped_naming(cli("hi"), dotenv, "expected a .env file, found a directory")


def test_an_unreadable_dotenv_of_an_untrusted_checkout_does_not_stop_the_run(cli, repo, fake_llm):
    from tests.fakes import llm_server as llm

    (repo / ".env").write_bytes(b"A=1\n\xff\n")
    fake_llm.script(llm.text("Hello."))
    result = cli("hi")
    assert "Traceback" not in result.stderr
    assert (result.exit_code, result.stdout) == (0, "Hello.\n")
