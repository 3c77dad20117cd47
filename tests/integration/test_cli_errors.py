"""Bad input gets one clear line and the documented exit code, never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


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
