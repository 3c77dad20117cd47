"""Bad input gets one clear line and the documented exit code, never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli import spawn
from tests.fakes import llm_server as llm


def test_unknown_flag_is_a_usage_error(cli):
    result = cli("--frobnicate", "x")
    assert result.exit_code == 2
    assert "No such option" in result.stderr


def test_unknown_output_format_is_a_usage_error(cli):
    result = cli("-o", "yaml", "x")
    assert result.exit_code == 2
    assert "yaml" in result.stderr


def test_non_integer_iterations_is_a_usage_error(cli):
    result = cli("--max-iterations", "many", "x")
    assert result.exit_code == 2
    assert "--max-iterations" in result.stderr


def test_malformed_config_file_names_the_file(cli, monkeypatch, tmp_path):
    bad = tmp_path / "broken.json"
    bad.write_text('{"model_name": "x",')
    monkeypatch.setenv("ML_INTERN_CLI_CONFIG", str(bad))
    result = cli("hello")
    assert result.exit_code == 3
    assert str(bad) in result.stderr and "invalid JSON" in result.stderr


def test_invalid_config_value_names_the_field(cli, trusted_work):
    config = Path("configs")
    config.mkdir()
    (config / "cli_agent_config.json").write_text(json.dumps({"max_iterations": "lots"}))
    result = cli("hello")
    assert result.exit_code == 3
    assert "max_iterations" in result.stderr and "cli_agent_config.json" in result.stderr


def test_missing_explicit_config_file(cli, monkeypatch, tmp_path):
    monkeypatch.setenv("ML_INTERN_CLI_CONFIG", str(tmp_path / "nope.json"))
    result = cli("hello")
    assert result.exit_code == 3
    assert "not found" in result.stderr


def test_help_does_not_import_heavy_libraries():
    code = (
        "import sys\n"
        "from agent.cli.app import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('litellm', 'huggingface_hub', 'mcp', 'prompt_toolkit') "
        "if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert "--max-iterations" in out
    assert "HEAVY []" in out


def test_version(cli):
    result = cli("--version")
    assert result.exit_code == 0
    assert result.stdout.startswith("ml-intern ")


def test_headless_cannot_ask(cli):
    result = cli("--approval-mode", "ask", "clean up")
    assert result.exit_code == 2
    assert "headless runs use auto" in result.stderr


def test_a_misspelled_setting_is_named_with_the_closest_one(cli, fake_llm, tmp_path, monkeypatch):
    config = tmp_path / "mine.json"
    config.write_text(json.dumps({"sand_box": "workspace-write", "approval": {"deny_tool": []}}))
    monkeypatch.setenv("ML_INTERN_CLI_CONFIG", str(config))
    fake_llm.script(llm.text("ok"))
    result = cli("hi")
    assert result.exit_code == 0, result.stderr
    assert f"unknown setting `sand_box` in {config}" in result.stderr
    assert "did you mean `sandbox`?" in result.stderr
    assert "did you mean `approval.deny_tools`?" in result.stderr
    fake_llm.assert_done()


@pytest.mark.parametrize(
    ("flag", "value"),
    [
        ("--max-budget-usd", "-1"),
        ("--max-budget-usd", "0"),
        ("--max-budget-usd", "nan"),
        ("--max-budget-usd", "inf"),
        ("--max-iterations", "-5"),
        ("--max-iterations", "0"),
        ("--model", ""),
        ("--model", "  "),
    ],
)
def test_out_of_range_flags_are_usage_errors(cli, flag, value):
    result = cli(flag, value, "hi")
    assert result.exit_code == 2, result.stderr
    assert f"invalid value for {flag}" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_flag_at_its_limit_is_accepted(cli, fake_llm):
    fake_llm.script(llm.text("ok"))
    assert cli("--max-iterations", "-1", "--max-budget-usd", "0.5", "hi").exit_code == 0
    fake_llm.assert_done()


@pytest.mark.parametrize(
    ("setting", "value"),
    [("max_budget_usd", -1), ("max_budget_usd", "nan"), ("max_iterations", -5)],
)
def test_out_of_range_settings_are_config_errors(cli, tmp_path, monkeypatch, setting, value):
    config = tmp_path / "mine.json"
    config.write_text(json.dumps({setting: value}))
    monkeypatch.setenv("ML_INTERN_CLI_CONFIG", str(config))
    result = cli("hi")
    assert result.exit_code == 3
    assert setting in result.stderr and str(config) in result.stderr


def test_a_deeply_nested_config_is_a_config_error(tmp_path, monkeypatch):
    for depth in (40, 100_000):  # one past the limit, and past Python's recursion limit
        config = tmp_path / f"deep{depth}.json"
        config.write_text('{"approval": ' + "[" * depth + "]" * depth + "}")
        result = spawn("hi", env={"ML_INTERN_CLI_CONFIG": str(config)})
        assert result.exit_code == 3, result.stderr
        assert "nested deeper than" in result.stderr and str(config) in result.stderr
        assert "Traceback" not in result.stderr


def test_an_unknown_session_is_named_with_or_without_a_prompt(cli):
    with_prompt = cli("--resume", "TYPO", "carry on")
    assert with_prompt.exit_code == 2
    assert "no saved session 'TYPO'" in with_prompt.stderr
    alone = spawn("--resume", "TYPO")  # the chat would start: the error comes first
    assert alone.exit_code == 2
    assert "no saved session 'TYPO'" in alone.stderr


@pytest.mark.parametrize("stdin", ["/dev/null", "an empty pipe"])
def test_no_terminal_and_no_prompt_is_a_usage_error(fake_llm, stdin):
    source = "true |" if stdin == "an empty pipe" else ""
    redirect = "< /dev/null" if stdin == "/dev/null" else ""
    done = subprocess.run(
        f"{source} {sys.executable} -m agent {redirect}",
        shell=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "no terminal to chat in and no prompt" in done.stderr
    assert "Traceback" not in done.stderr
    assert fake_llm.requests == []
