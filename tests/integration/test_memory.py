"""Memory through the real CLI: the user's AGENTS.md, a trusted project's from its git
root down to the working directory, and the files they import with `@path`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.paths import config_home
from tests.fakes import llm_server as llm


def system_prompt(fake_llm, index: int = 0) -> str:
    return fake_llm.requests[index]["messages"][0]["content"]


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.fixture
def memory_tree(repo, isolated_env, monkeypatch):
    """The user's file with an import; in the project, AGENTS.md files at the root and
    below, the root's importing a chain six deep that also closes a cycle, a file outside
    the project and a link out of it. The run starts in repo/src/pkg."""
    write(config_home() / "AGENTS.md", "USER-RULE: answer in English.\nSee @prefs.md\n")
    write(config_home() / "prefs.md", "USER-PREF: metric units.\n")
    write(isolated_env / "outside.md", "OUTSIDE-SECRET\n")
    write(
        repo / "AGENTS.md",
        "ROOT-RULE: pin seeds. Read @docs/a.md first.\n"
        "Questions go to ops@example.com; never @../outside.md or @docs/link.md.\n"
        "```python\n@docs/in_code.md\n```\n",
    )
    write(repo / "docs" / "in_code.md", "IN-CODE-BLOCK\n")
    (repo / "docs" / "link.md").symlink_to(isolated_env / "outside.md")
    chain = "abcdef"
    for depth, name in enumerate(chain):
        following = f" Then @{chain[depth + 1]}.md" if depth + 1 < len(chain) else ""
        cycle = " And @a.md again." if name == "c" else ""
        write(repo / "docs" / f"{name}.md", f"CHAIN-{name.upper()}.{following}{cycle}\n")
    write(repo / "src" / "AGENTS.md", "SRC-RULE: use src layout.\n")
    write(repo / "src" / "pkg" / "ML_INTERN.md", "PKG-RULE: bf16 only.\n")
    monkeypatch.chdir(repo / "src" / "pkg")
    return repo


def test_memory_from_the_user_and_a_trusted_project_with_its_imports(cli, fake_llm, memory_tree):
    repo = memory_tree
    fake_llm.script(llm.text("ok"), llm.text("ok"), llm.text("ok"))

    untrusted = cli("hi")
    assert untrusted.exit_code == 0, untrusted.stderr
    prompt = system_prompt(fake_llm, 0)
    assert prompt.index("USER-RULE") < prompt.index("USER-PREF")
    assert "ROOT-RULE" not in prompt and "SRC-RULE" not in prompt and "PKG-RULE" not in prompt
    (notice,) = [line for line in untrusted.stderr.splitlines() if "not trusted" in line]
    shown = [str(repo / "AGENTS.md"), str(repo / "src" / "AGENTS.md"), "ML_INTERN.md"]
    assert f"ignored the project settings in {', '.join(shown)}:" in notice

    assert cli("trust", str(repo)).exit_code == 0
    trusted = cli("hi")
    assert trusted.exit_code == 0, trusted.stderr
    prompt = system_prompt(fake_llm, 1)
    order = ["USER-RULE", "USER-PREF", "ROOT-RULE", "CHAIN-A", "CHAIN-B", "CHAIN-C"]
    order += ["CHAIN-D", "CHAIN-E", "SRC-RULE", "PKG-RULE"]
    assert [prompt.index(marker) for marker in order] == sorted(
        prompt.index(marker) for marker in order
    )
    assert prompt.count("CHAIN-A") == 1  # c.md imports a.md back: read once
    assert "CHAIN-F" not in prompt  # a sixth level of imports
    assert "OUTSIDE-SECRET" not in prompt  # neither by path nor through a link
    assert "IN-CODE-BLOCK" not in prompt
    assert f"# Project instructions ({repo / 'docs' / 'b.md'}, imported by" in prompt

    safe = cli("--safe-mode", "hi")
    assert safe.exit_code == 0, safe.stderr
    prompt = system_prompt(fake_llm, 2)
    assert "USER-RULE" not in prompt and "ROOT-RULE" not in prompt


def test_memory_past_max_bytes_is_left_out_said_once_and_shown(cli, fake_llm):
    from agent.cli.slash import commands as slash
    from agent.config import Settings
    from agent.extensions.memory import load_memory
    from tests.unit.test_slash_commands import FakeChat

    user = write(
        config_home() / "AGENTS.md", "USER-RULE " + "u" * 300 + "\nSee @big.md, @small.md\n"
    )
    big = write(config_home() / "big.md", "BIG-RULE " + "b" * 800 + "\n")
    small = write(config_home() / "small.md", "SMALL-RULE\n")
    config = config_home() / "cli_agent_config.json"
    config.write_text(json.dumps({**json.loads(config.read_text()), "memory": {"max_bytes": 1000}}))
    fake_llm.script(llm.text("ok"))

    result = cli("hi")

    assert result.exit_code == 0, result.stderr
    prompt = system_prompt(fake_llm)
    assert "USER-RULE" in prompt and "BIG-RULE" not in prompt and "SMALL-RULE" not in prompt
    (notice,) = [line for line in result.stderr.splitlines() if "memory.max_bytes" in line]
    assert f"left out: {big}, {small}" in notice
    slash.load_extensions()  # the chat's commands, /memory among them
    chat = FakeChat(Settings(memory={"max_bytes": 1000}))
    chat.session.memory = load_memory(Path.cwd(), max_bytes=1000)
    shown = chat.run("/memory")
    assert "loaded   ~/config/ml-intern/AGENTS.md (user)" in shown
    assert "skipped  ~/config/ml-intern/big.md: past memory.max_bytes (1.0 kB for all" in shown
    assert "skipped  ~/config/ml-intern/small.md: past memory.max_bytes" in shown
    assert user.is_file()


def _planting_run(cli, fake_llm, names: list[str]) -> None:
    """A confined bash that tries to change each of `names`; each keeps its text."""
    from tests.bubblewrap import require_sandbox

    require_sandbox()
    for name in names:
        write(Path(name), "mine\n")
    command = "; ".join(f"echo planted >> {name}" for name in names)
    fake_llm.script(llm.tool_call("bash", {"command": command}), llm.text("tried"))
    result = cli("--sandbox", "workspace-write", "--yolo", "change the instructions")
    assert result.exit_code == 0, result.stderr
    assert {name: Path(name).read_text() for name in names} == dict.fromkeys(names, "mine\n")


def test_memory_and_extension_folders_are_read_only_in_the_sandbox(cli, fake_llm):
    names = ["AGENTS.md", "sub/AGENTS.md", ".agents/skills/x/SKILL.md", ".claude/commands/c.md"]
    _planting_run(cli, fake_llm, names)


def test_ml_intern_md_is_read_only_in_the_sandbox(cli, fake_llm):
    _planting_run(cli, fake_llm, ["ML_INTERN.md"])


def test_files_memory_imports_are_read_only_in_the_sandbox(cli, fake_llm, repo):
    """The run starts in repo/src: the root's AGENTS.md (outside the workspace) and one
    in a subfolder import files inside it, one of which imports another, and one is
    missing: it cannot be created, and the folder holding them cannot be moved away."""
    from tests.bubblewrap import require_sandbox

    require_sandbox()
    write(repo / "AGENTS.md", "Follow @src/docs/style.md\n")
    write(Path("pkg/AGENTS.md"), "See @../docs/other.md and @../docs/missing.md\n")
    for name in ("deep", "other", "free"):
        write(Path(f"docs/{name}.md"), "mine\n")
    write(Path("docs/style.md"), "mine\nAlso @deep.md\n")
    names = ("style", "deep", "other", "free")
    appends = "; ".join(f"echo planted >> docs/{name}.md" for name in names)
    plant = "echo planted > docs/missing.md; mv docs moved; mkdir staged; "
    plant += "echo planted > staged/missing.md; mv staged/missing.md docs/"
    fake_llm.script(
        llm.tool_calls(
            [
                ("bash", {"command": f"{appends}; rm -f docs/deep.md; {plant}"}),
                ("write", {"path": "docs/style.md", "content": "planted\n"}),
            ]
        ),
        llm.text("tried"),
    )

    result = cli("--sandbox", "workspace-write", "--yolo", "change the style guide")

    assert result.exit_code == 0, result.stderr
    assert Path("docs/style.md").read_text() == "mine\nAlso @deep.md\n"
    assert Path("docs/deep.md").read_text() == "mine\n"
    assert Path("docs/other.md").read_text() == "mine\n"
    assert Path("docs/free.md").read_text() == "mine\nplanted\n"  # imported by nobody
    assert not Path("docs/missing.md").exists()  # not created, nor brought by a move
    assert not Path("moved").exists() and Path("staged/missing.md").is_file()
    refused = [m["content"] for m in fake_llm.requests[1]["messages"] if m["role"] == "tool"][1]
    assert refused.startswith(f"Refused: {Path('docs/style.md').resolve()} is imported by")
