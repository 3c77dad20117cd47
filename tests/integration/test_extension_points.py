"""The two documented extension points work as the README shows them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from agent.config import load_settings
from tests.fakes import llm_server as llm

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_tool_example() -> str:
    section = README.read_text().split("## Adding built-in tools", 1)[1]
    return re.findall(r"```python\n(.*?)```", section, re.S)[0]


def test_a_tool_added_as_the_readme_shows_is_offered_and_called(cli, fake_llm, monkeypatch):
    namespace: dict = {}
    exec(readme_tool_example(), namespace)
    import agent.core.builtin_tools as builtin

    original = builtin.create_builtin_tools
    monkeypatch.setattr(
        builtin, "create_builtin_tools", lambda: [*original(), namespace["WORD_COUNT"]]
    )
    fake_llm.script(
        llm.tool_call("word_count", {"text": "one two three"}), llm.text("Three words.")
    )
    result = cli("-o", "stream-json", "count the words")
    assert result.exit_code == 0, result.stderr
    assert "word_count" in result.lines()[0]["tools"]
    offered = {t["function"]["name"]: t["function"] for t in fake_llm.requests[0]["tools"]}
    assert offered["word_count"]["parameters"]["required"] == ["text"]
    assert fake_llm.requests[1]["messages"][-1]["content"] == "3 words"


def test_main_agent_config_in_a_trusted_project_is_honoured(monkeypatch, trusted_work):
    Path(".env").write_text("YOUR_TOKEN=from-dotenv\n")
    Path("configs").mkdir()
    Path("configs/main_agent_config.json").write_text(
        json.dumps(
            {
                "model_name": "anthropic/claude-sonnet-4-5-20250929",
                "mcpServers": {
                    "name": {
                        "transport": "http",
                        "url": "https://example.com/mcp",
                        "headers": {"Authorization": "Bearer ${YOUR_TOKEN}"},
                    }
                },
            }
        )
    )
    monkeypatch.delenv("YOUR_TOKEN", raising=False)
    settings = load_settings(Path.cwd())
    assert settings.model_name == "anthropic/claude-sonnet-4-5-20250929"
    server = settings.mcp_servers["name"]
    assert server.url == "https://example.com/mcp"
    assert server.headers["Authorization"] == "Bearer from-dotenv"


def test_cli_agent_config_wins_over_main_agent_config_at_the_same_level(trusted_work):
    Path("configs").mkdir()
    Path("configs/main_agent_config.json").write_text(json.dumps({"model_name": "a/main"}))
    Path("configs/cli_agent_config.json").write_text(json.dumps({"model_name": "b/cli"}))
    assert load_settings(Path.cwd()).model_name == "b/cli"


@pytest.mark.parametrize(
    ("env", "expected"), [({}, "b/cli"), ({"ML_INTERN_MODEL": "c/env"}, "c/env")]
)
def test_environment_and_flags_win_over_files(monkeypatch, env, expected, trusted_work):
    Path("configs").mkdir()
    Path("configs/cli_agent_config.json").write_text(json.dumps({"model_name": "b/cli"}))
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert load_settings(Path.cwd()).model_name == expected
    assert load_settings(Path.cwd(), {"model_name": "d/flag"}).model_name == "d/flag"
