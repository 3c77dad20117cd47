"""Numbers in settings: NaN, infinity and values out of range stop the run with exit 3,
naming the file and the field, before anything starts."""

from __future__ import annotations

import pytest

SLEEPER = '{"mcpServers": {"x": {"command": "sleep", "args": ["100"], "timeout_s": %s}}}'


@pytest.mark.parametrize(
    ("config", "field", "problem"),
    [
        (SLEEPER % "Infinity", "mcpServers.x.timeout_s", "finite number"),
        (SLEEPER % "NaN", "mcpServers.x.timeout_s", "finite number"),
        (SLEEPER % "-1", "mcpServers.x.timeout_s", "greater than 0"),
        (SLEEPER % "0", "mcpServers.x.timeout_s", "greater than 0"),
        ('{"upload_grace_s": -5}', "upload_grace_s", "greater than or equal to 0"),
        ('{"upload_grace_s": NaN}', "upload_grace_s", "finite number"),
        ('{"upload_grace_s": Infinity}', "upload_grace_s", "finite number"),
    ],
)
def test_a_number_out_of_range_is_a_config_error(
    cli, tmp_path, monkeypatch, config, field, problem
):
    path = tmp_path / "mine.json"
    path.write_text(config)
    monkeypatch.setenv("ML_INTERN_CLI_CONFIG", str(path))
    result = cli("hi")
    assert result.exit_code == 3, result.stderr
    assert f"{path}: invalid value for '{field}'" in result.stderr
    assert problem in result.stderr
    assert "Traceback" not in result.stderr


def test_an_out_of_range_number_in_the_environment_is_a_config_error(cli, monkeypatch):
    monkeypatch.setenv("ML_INTERN_UPLOAD_GRACE_S", "nan")
    result = cli("hi")
    assert result.exit_code == 3, result.stderr
    assert "environment: invalid value for 'upload_grace_s'" in result.stderr
