"""Claude Code plugins through the real CLI: installing from a marketplace in a git
repository, what an install shows, a broken manifest, and what a plugin brings to a run:
skills, commands, MCP servers (tools and prompts), hooks for the hook runner."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import pytest

from agent.extensions.plugins import plugin_hook_files
from tests.fakes import llm_server as llm
from tests.integration.test_commands import sent, write_command
from tests.integration.test_skills import system_prompt, write_skill
from tests.integration.test_skills_cli import git

REPO = Path(__file__).resolve().parents[2]
SERVE = f"""\
import sys
sys.path.insert(0, {str(REPO)!r})
from tests.fakes.mcp_server import main
main(["--transport", "stdio"])
"""


def installed() -> Path:
    return Path.home() / "config" / "ml-intern" / "plugins"


def write_plugin(root: Path, name: str, manifest: dict | None = None) -> Path:
    """A plugin with a command, a skill (named by its folder only), hooks, a sub-agent and
    an MCP server whose command line uses ${CLAUDE_PLUGIN_ROOT}."""
    (root / ".claude-plugin").mkdir(parents=True)
    data = {
        "name": name,
        "version": "1.2.0",
        "description": "Training helpers.",
        **(manifest or {}),
    }
    (root / ".claude-plugin" / "plugin.json").write_text(json.dumps(data))
    write_command(root / "commands", "sweep", "---\ndescription: Sweep.\n---\nSweep $1 for $2.\n")
    skill = write_skill(root / "skills", "card", "Write a model card.", "CARD-BODY")
    (skill / "SKILL.md").write_text("---\ndescription: Write a model card.\n---\nCARD-BODY\n")
    (root / "hooks").mkdir()
    (root / "hooks" / "hooks.json").write_text('{"hooks": {}}\n')
    (root / "agents").mkdir()
    (root / "agents" / "reviewer.md").write_text("---\nname: reviewer\n---\nReview.\n")
    (root / "serve.py").write_text(SERVE)
    server = {"command": sys.executable, "args": ["${CLAUDE_PLUGIN_ROOT}/serve.py"]}
    (root / ".mcp.json").write_text(json.dumps({"mcpServers": {"fake": server}}))
    return root


def bare_marketplace(base: Path) -> Path:
    """A bare repository holding a marketplace of two plugins, one without a plugin.json."""
    bare, work = base / "market.git", base / "market"
    git("init", "--bare", "--quiet", str(bare), cwd=base)
    work.mkdir()
    git("init", "--quiet", "-b", "main", cwd=work)
    write_plugin(work / "plugins" / "trainer", "trainer")
    write_command(work / "plugins" / "plain" / "commands", "hello", "Say hello.\n")
    catalog = {
        "name": "team",
        "owner": {"name": "Team"},
        "plugins": [
            {"name": "trainer", "source": "./plugins/trainer", "description": "Train."},
            {"name": "plain", "source": "./plugins/plain", "description": "No manifest."},
        ],
    }
    (work / ".claude-plugin").mkdir()
    (work / ".claude-plugin" / "marketplace.json").write_text(json.dumps(catalog))
    git("add", ".", cwd=work)
    git("commit", "--quiet", "-m", "plugins", cwd=work)
    git("push", "--quiet", str(bare), "main", cwd=work)
    git("symbolic-ref", "HEAD", "refs/heads/main", cwd=bare)
    return bare


def test_a_marketplace_from_git_is_listed_then_one_plugin_installed(cli, isolated_env):
    url = bare_marketplace(isolated_env.parent).as_uri()

    offered = cli("plugins", "add", url)
    assert offered.exit_code == 0, offered.stderr
    assert "a marketplace of 2 plugin(s)" in offered.stdout
    assert "trainer: Train." in offered.stdout and "plain: No manifest." in offered.stdout
    assert not installed().exists()

    unasked = cli("plugins", "add", url, "trainer")
    assert unasked.exit_code == 2
    assert "add --yes" in unasked.stderr
    assert not (installed() / "trainer").exists()

    added = cli("plugins", "add", url, "trainer", "--yes")
    assert added.exit_code == 0, added.stderr
    root = installed() / "trainer"
    shown = added.stdout
    assert f"It would be installed into {root}" in shown
    assert "/trainer:sweep" in shown and "/trainer:card" in shown
    assert f"fake: starts `{sys.executable} {root}/serve.py`" in shown
    assert "sub-agents (not supported yet: skipped)" in shown and "reviewer" in shown
    assert (root / "commands" / "sweep.md").is_file() and not (root / ".git").exists()
    assert plugin_hook_files() == [("trainer", root / "hooks" / "hooks.json", root)]

    plain = cli("plugins", "add", url, "plain", "--yes")
    assert plain.exit_code == 0, plain.stderr
    assert "/plain:hello" in plain.stdout
    listed = {row["name"]: row for row in json.loads(cli("plugins", "list", "--json").stdout)}
    assert set(listed) == {"plain", "trainer"}
    assert listed["trainer"]["commands"] == ["/trainer:sweep"]
    assert listed["trainer"]["version"] == "1.2.0"

    again = cli("plugins", "add", url, "trainer", "--yes")
    assert again.exit_code == 2 and "already installed" in again.stderr
    removed = cli("plugins", "remove", "plain")
    assert removed.exit_code == 0, removed.stderr
    assert not (installed() / "plain").exists()
    gone = cli("plugins", "remove", "plain")
    assert gone.exit_code == 2 and "no plugin named 'plain'" in gone.stderr


def test_a_malformed_plugin_json_is_refused_and_an_installed_one_skipped(
    cli, fake_llm, isolated_env
):
    source = isolated_env.parent / "broken"
    (source / ".claude-plugin").mkdir(parents=True)
    (source / ".claude-plugin" / "plugin.json").write_text('{"name": "broken",}')

    refused = cli("plugins", "add", str(source), "--yes")

    assert refused.exit_code == 2
    assert "plugin.json: invalid JSON at line 1" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert not installed().exists()

    bad_name = isolated_env.parent / "bad-name"
    write_plugin(bad_name, "Bad Name")
    named = cli("plugins", "add", str(bad_name), "--yes")
    assert named.exit_code == 2 and "name 'Bad Name': use lowercase letters" in named.stderr
    escaping = isolated_env.parent / "escaping"
    write_plugin(escaping, "escaping", {"commands": "../../.ssh"})
    out = cli("plugins", "add", str(escaping), "--yes")
    assert out.exit_code == 2 and "commands: '../../.ssh' leads outside the plugin" in out.stderr

    (installed() / "broken" / ".claude-plugin").mkdir(parents=True)
    (installed() / "broken" / ".claude-plugin" / "plugin.json").write_text("[1]")
    fake_llm.script(llm.text("ok"))
    run = cli("hi")
    assert run.exit_code == 0, run.stderr
    assert "skipped the plugin in" in run.stderr and "expected a JSON object" in run.stderr


def test_an_installed_plugins_commands_skills_and_mcp_server_work(
    cli, fake_llm, isolated_env, monkeypatch
):
    write_plugin(isolated_env.parent / "trainer", "trainer")
    assert cli("plugins", "add", str(isolated_env.parent / "trainer"), "--yes").exit_code == 0
    monkeypatch.setenv("ML_INTERN_MCP_WAIT_S", "60")
    fake_llm.script(
        llm.tool_call("mcp__fake__add", {"a": 20, "b": 22}), llm.text("42."), llm.text("ok")
    )

    prompt = cli("/mcp__fake__review_run run=r7 metric=accuracy")

    assert prompt.exit_code == 0, prompt.stderr
    assert sent(fake_llm) == "Review the training run r7, watching its accuracy."
    assert "- trainer:card: Write a model card." in system_prompt(fake_llm)
    assert fake_llm.requests[1]["messages"][-1]["content"].strip() == "42"
    assert "sub-agents of your own are not supported yet" in prompt.stderr

    skills = {(r["name"], r["source"]) for r in json.loads(cli("skills", "list", "--json").stdout)}
    assert skills == {("trainer:card", "plugin trainer")}

    command = cli("/trainer:sweep lr cifar10")
    assert command.exit_code == 0, command.stderr
    (text,) = [m["content"] for m in fake_llm.requests[2]["messages"] if m["role"] == "user"]
    assert text == "Sweep lr for cifar10."


def test_a_prompt_no_server_offers_is_a_usage_error(cli, fake_llm, isolated_env, monkeypatch):
    root = write_plugin(isolated_env.parent / "trainer", "trainer")
    missing = {"mcpServers": {"fake": {"command": "no-such-mcp-server-binary"}}}
    (root / ".mcp.json").write_text(json.dumps(missing))
    assert cli("plugins", "add", str(isolated_env.parent / "trainer"), "--yes").exit_code == 0

    result = cli("/mcp__fake__nothing_here x=1")

    assert result.exit_code == 2
    assert "no connected MCP server offers that prompt" in result.stderr
    assert not fake_llm.requests


@pytest.mark.parametrize("flag", ["--safe-mode"])
def test_safe_mode_loads_no_plugin(cli, fake_llm, isolated_env, flag):
    write_plugin(isolated_env.parent / "trainer", "trainer")
    assert cli("plugins", "add", str(isolated_env.parent / "trainer"), "--yes").exit_code == 0
    fake_llm.script(llm.text("ok"))

    result = cli(flag, "-o", "stream-json", "/trainer:sweep a b")

    assert result.exit_code == 0, result.stderr
    assert sent(fake_llm) == "/trainer:sweep a b"
    assert not any(name.startswith("mcp__fake") for name in result.lines()[0]["tools"])


def test_the_chat_lists_plugins_and_sends_a_typed_mcp_prompt(isolated_env):
    from agent.cli.slash import commands as slash
    from agent.extensions.loaded import Extensions
    from agent.extensions.plugins import read_plugin
    from agent.tools.mcp.manager import McpManager
    from agent.tools.router import ToolRouter
    from tests.integration.test_mcp import fake_stdio
    from tests.unit.test_slash_commands import FakeChat

    slash.load_extensions()
    chat = FakeChat()
    chat.session.extensions = Extensions(
        plugins=[read_plugin(write_plugin(isolated_env / "p", "trainer"))]
    )
    sent: list[str] = []

    async def request(text: str) -> None:
        sent.append(text)

    chat.request = request  # type: ignore[method-assign]

    async def scenario() -> list[tuple[str, int, str]]:
        manager = McpManager({"fake": fake_stdio()})
        chat.session.mcp = manager
        await manager.start(ToolRouter([]))
        try:
            offered = slash.completions(chat, "/mcp__fake__rev")
            await slash.dispatch(chat, "/mcp__fake__review_run run=r9")
            await slash.dispatch(chat, "/mcp__fake__review_run r9")
            await slash.dispatch(chat, "/plugins")
        finally:
            await manager.aclose()
        return offered

    offered = asyncio.run(scenario())

    assert offered == [("/mcp__fake__review_run", -15, "Ask for a review of a training run.")]
    assert sent == ["Review the training run r9, watching its loss."]
    out = chat.out.getvalue()
    assert "'r9': give the prompt's arguments as name=value" in out
    assert "trainer" in out and "Training helpers." in out
    assert "slash commands: /trainer:sweep" in out
