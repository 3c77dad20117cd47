"""Saved "always" answers never run more than they name, with approvals set to deny.

A trusted project keeps `approval.always_allow` scopes; a model scripting commands that
spell a way out of them (`..`, braces, `$IFS`, globs, symlinks) gets "Not run" and the
folder outside the workspace is still there, while what the scopes do name still runs.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.trust import add_trusted
from tests.fakes import llm_server as llm


@pytest.fixture
def project(isolated_env, monkeypatch):
    """outer/{x, run1, proj}: proj is trusted, keeps scopes, and is where the run starts."""
    outer = isolated_env / "outer"
    proj = outer / "proj"
    for folder in (outer / "x", outer / "run1", proj / "build", proj / "build2", proj / "src"):
        folder.mkdir(parents=True)
    (proj / "gen").symlink_to(outer / "x")
    (proj / "configs").mkdir()
    scopes = [
        "bash: rm -rf ./build*",
        "bash: rm -rf .*",
        f"bash: rm -rf {outer / 'run1'}*",
        "edits in src/",
        "edits in gen/",
    ]
    approval = {"edits_in_cwd_ask": True, "always_allow": scopes}
    (proj / "configs" / "cli_agent_config.json").write_text(json.dumps({"approval": approval}))
    add_trusted(proj)
    monkeypatch.chdir(proj)
    return proj


def outside(project: Path) -> Path:
    return project.parent / "x"


def tool_results(request: dict) -> list[str]:
    return [m["content"] for m in request["messages"] if m["role"] == "tool"]


@pytest.mark.parametrize(
    "attack",
    [
        "rm -rf ./build/../../x",
        "rm -rf ./build{/../../x,}",
        "rm -rf ./build${IFS}../x",
        "rm -rf ./build*/../../x",
        "rm -rf ../x",
        "rm -rf ../..",
        "rm -rf {run1}/../x",
        "cd build && rm -rf ../../x",
    ],
)
def test_a_saved_scope_does_not_reach_outside_the_workspace(cli, fake_llm, project, attack):
    attack = attack.replace("{run1}", str(project.parent / "run1"))
    fake_llm.script(
        llm.tool_call("bash", {"command": attack}),
        llm.tool_call("bash", {"command": "rm -rf ./build2"}),
        llm.text("Cleaned."),
    )
    result = cli("--approval-mode", "deny", "clean up")
    assert result.exit_code == 0, result.stderr
    refused, ran = tool_results(fake_llm.requests[2])
    assert refused.startswith("Not run: this call needs approval")
    assert outside(project).is_dir()
    assert (project / "build").is_dir()
    assert not (project / "build2").exists()  # what the scope names still runs
    assert "Not run" not in ran


@pytest.mark.parametrize("path", ["gen/a.txt", "src/../a.txt", "src/../../x/a.txt"])
def test_a_saved_folder_scope_does_not_reach_outside_its_folder(cli, fake_llm, project, path):
    fake_llm.script(
        llm.tool_call("write", {"path": path, "content": "x\n"}),
        llm.tool_call("write", {"path": "src/b.txt", "content": "y\n"}),
        llm.text("Written."),
    )
    result = cli("--approval-mode", "deny", "write them")
    assert result.exit_code == 0, result.stderr
    refused, ran = tool_results(fake_llm.requests[2])
    assert refused.startswith("Not run: this call needs approval")
    assert not (outside(project) / "a.txt").exists()
    assert not (project / "a.txt").exists()
    assert (project / "src" / "b.txt").read_text() == "y\n"
    assert "Not run" not in ran
