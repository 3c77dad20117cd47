"""What the sandbox leaves behind when ml-intern ends: nothing, however it ends."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from agent.trust import add_trusted
from tests.bubblewrap import require_sandbox
from tests.cli import start
from tests.fakes import llm_server as llm

pytestmark = pytest.mark.timeout(180)  # a real process, and litellm imported twice


@pytest.fixture
def project(isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A trusted checkout whose `.env` holds the model key; the run starts in `src/`."""
    root = isolated_env / "project"
    (root / ".git").mkdir(parents=True)
    (root / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (root / ".env").write_text(f"OPENAI_API_KEY={os.environ['OPENAI_API_KEY']}\n")
    monkeypatch.delenv("OPENAI_API_KEY")
    add_trusted(root)
    (root / "src").mkdir()
    monkeypatch.chdir(root / "src")
    return root


def test_an_empty_git_folder_is_not_taken_for_the_project_root(cli, fake_llm, project):
    (project / "src" / ".git").mkdir()
    fake_llm.script(llm.text("hello"))
    result = cli("hi")
    assert result.exit_code == 0, result.stderr  # the key came from the project's .env


def test_kill_9_with_a_confined_background_job_leaves_nothing_behind(cli, fake_llm, project):
    require_sandbox()
    src = project / "src"
    fake_llm.script(
        llm.tool_call("bash", {"command": "sleep 300", "run_in_background": True}),
        llm.tool_call("bash", {"command": "echo started $$; sleep 300"}),
    )
    proc = start("--sandbox", "workspace-write", "--yolo", "-o", "stream-json", "train")
    try:
        for line in proc.stdout or ():
            event = json.loads(line)
            if event["type"] == "tool_log" and event["line"].startswith("started"):
                break
        assert not any(src.iterdir())  # the sandbox needs nothing made on disk
    finally:
        proc.kill()
        proc.communicate(timeout=30)

    assert not any(src.iterdir())
    fake_llm.script(llm.text("hello"))
    result = cli("hi")
    assert result.exit_code == 0, result.stderr  # the project's root and .env were found


def test_background_jobs_still_running_at_exit_are_named(cli, fake_llm, isolated_env):
    """Confined jobs end with the session, and it says so; unconfined ones are left running,
    and it says that."""
    require_sandbox()
    job = {"command": "sleep 300", "run_in_background": True}
    for sandbox, said in [("workspace-write", "Stopped"), ("off", "Still running")]:
        fake_llm.script(llm.tool_call("bash", job), llm.text("started"))
        result = cli("--sandbox", sandbox, "--yolo", "--no-wait", "train in the background")
        pid = fake_llm.requests[-1]["messages"][-1]["content"].split("(pid ")[1].split(")")[0]
        alive = (
            Path(f"/proc/{pid}").exists()
            and "Z" not in Path(f"/proc/{pid}/stat").read_text().split()[2]
        )
        if alive:
            os.killpg(int(pid), 9)
        assert result.exit_code == 0, result.stderr
        line = next((x for x in result.stderr.splitlines() if "background job bg1" in x), "")
        assert f"{said} background job bg1 (sleep 300" in line, result.stderr
        assert alive == (sandbox == "off")
