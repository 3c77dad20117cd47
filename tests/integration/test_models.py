"""Model ids, keys and provider refusals, as a person meets them on the command line.

A bad id or a missing key stops the run before anything starts; a provider that is
out of credits ends it with one line saying what to do; the local servers read the
variables the original named.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests.cli import spawn
from tests.fakes import llm_server as llm
from tests.fakes.llm_server import FakeLLM


def shadowed_litellm(root: Path, marker: Path) -> Path:
    """A `litellm` that records being imported, first on the path, so a run shows whether
    it got that far without paying for the real import."""
    package = root / "litellm"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(
        f"open({str(marker)!r}, 'w').close()\nraise ImportError('shadowed litellm')\n"
    )
    return root


def marker_mcp_server(marker: Path) -> None:
    """The user's config gets one MCP server whose only act is to leave a file behind."""
    from agent.config import user_config_path

    config = user_config_path()
    server = {"command": sys.executable, "args": ["-c", f"open({str(marker)!r}, 'w').close()"]}
    config.write_text(json.dumps({"mcpServers": {"marker": server}}))


def test_a_missing_key_stops_the_run_before_mcp_servers_or_litellm(tmp_path):
    imported, started = tmp_path / "litellm-imported", tmp_path / "mcp-started"
    marker_mcp_server(started)
    env = {
        "PYTHONPATH": str(shadowed_litellm(tmp_path / "shadow", imported)),
        "ML_INTERN_MODEL": "anthropic/claude-sonnet-4-5",
    }

    result = spawn("create hello.py", env=env)

    assert result.exit_code == 3, result.stderr
    assert "ANTHROPIC_API_KEY" in result.stderr and ".env" in result.stderr
    assert "Traceback" not in result.stderr
    assert not started.exists(), "an MCP server was started before the key was checked"
    assert not imported.exists(), "litellm was imported before the key was checked"

    # The same run with a key gets past the check: both markers appear, so they can.
    again = spawn("create hello.py", env={**env, "ANTHROPIC_API_KEY": "sk-ant-test"})
    assert again.exit_code != 3, again.stderr
    assert started.exists() and imported.exists()


@pytest.mark.parametrize(
    ("args", "env_model", "wanted"),
    [
        (["-m", "ollama/"], None, "--model 'ollama/': 'ollama/' names a provider but no model"),
        (["-m", "vllm/"], None, "names a provider but no model"),
        ([], "ollama/llama 3.1", "ML_INTERN_MODEL 'ollama/llama 3.1': a model id has no spaces"),
        (["-m", "openai-compat/x"], None, "unknown provider 'openai-compat/'"),
        ([], "openai-compat/x", "ML_INTERN_MODEL 'openai-compat/x': unknown provider"),
    ],
)
def test_ids_that_cannot_work_exit_2_before_any_request(
    cli, fake_llm, monkeypatch, args, env_model, wanted
):
    if env_model is not None:
        monkeypatch.setenv("ML_INTERN_MODEL", env_model)
    result = cli(*args, "hello")
    assert result.exit_code == 2, result.stderr
    assert wanted in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert fake_llm.requests == []


def test_an_id_no_provider_serves_exits_2_before_any_request(cli, fake_llm):
    result = cli("-m", "llama3-unheard-of", "hello")
    assert result.exit_code == 2, result.stderr
    assert "no provider for this id" in result.stderr
    assert "ollama/llama3-unheard-of" in result.stderr
    assert fake_llm.requests == []


def test_lm_studio_takes_the_original_variable_names_over_the_generic_ones(cli, monkeypatch):
    with FakeLLM(llm.text("Served by LM Studio.")) as fake:
        monkeypatch.setenv("LMSTUDIO_BASE_URL", fake.url.removesuffix("/v1"))
        monkeypatch.setenv("LMSTUDIO_API_KEY", "lm-studio-secret")
        monkeypatch.setenv("LOCAL_LLM_BASE_URL", "http://127.0.0.1:9/v1")  # nothing listens
        monkeypatch.setenv("LOCAL_LLM_API_KEY", "generic-secret")
        result = cli("-m", "lm_studio/qwen2.5-7b", "hello")

        assert result.exit_code == 0, result.stderr
        assert result.stdout.strip() == "Served by LM Studio."
        fake.assert_done()
        assert fake.requests[0]["model"] == "qwen2.5-7b"
        assert fake.headers[0]["authorization"] == "Bearer lm-studio-secret"


OUT_OF_CREDITS = {
    "402": llm.error(402, "You have exceeded your monthly included credits.", err_type="payment"),
    "insufficient_quota": llm.error(
        429,
        "You exceeded your current quota, please check your plan and billing details.",
        code="insufficient_quota",
        err_type="insufficient_quota",
    ),
    "credit_balance": llm.error(
        400, "Your credit balance is too low to access the API. Please purchase credits."
    ),
}


@pytest.mark.parametrize("refusal", list(OUT_OF_CREDITS))
def test_out_of_credits_is_not_retried_and_says_what_to_do(cli, fake_llm, refusal):
    fake_llm.script(OUT_OF_CREDITS[refusal])
    result = cli("-o", "stream-json", "hello")

    assert result.exit_code == 3, result.stderr
    fake_llm.assert_done()  # one request: no retry
    assert len(fake_llm.requests) == 1
    assert not [e for e in result.lines() if e["type"] == "retrying"]
    outcome = result.result()
    assert outcome["exit_reason"] == "out_of_credits"
    message = outcome["error"]
    assert message.startswith("openai (127.0.0.1:")
    assert "out of credits" in message and "Add credits" in message
    assert "--model" in message and "/model" in message
    assert "APIError" not in message and "Exception" not in message
    assert "\n" not in message


def test_an_unexpected_status_names_it_without_class_names(cli, fake_llm):
    fake_llm.script(llm.error(418, "I'm a teapot, not a model."))
    result = cli("hello")
    assert result.exit_code == 1
    assert "the model provider failed (HTTP 418): I'm a teapot, not a model." in result.stderr
    assert "APIError" not in result.stderr


def test_effort_on_a_model_without_reasoning_names_the_model_as_written(cli, monkeypatch):
    with FakeLLM(llm.text("No reasoning here.")) as fake:
        monkeypatch.setenv("LM_STUDIO_BASE_URL", fake.url)
        result = cli("--effort", "high", "-m", "lm_studio/plain-model", "hello")
        assert result.exit_code == 0, result.stderr
        fake.assert_done()
    notice = "The reasoning effort is ignored: lm_studio/plain-model has no reasoning setting."
    assert notice in result.stderr
    assert "openai/plain-model" not in result.stderr
    assert "reasoning_effort" not in fake.requests[0]
