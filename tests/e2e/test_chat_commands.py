"""/resume, /mcp, /share-traces and a cloud job left behind by Ctrl-C, in a real terminal.

One chat process walks through all of it (importing litellm costs seconds); the saved
sessions it resumes come from headless runs in this process beforehand.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest

from tests.e2e.test_interactive import FIRST_ANSWER_S, Terminal
from tests.fakes import llm_server as llm
from tests.fakes.hub_jobs import JobScript, JobsHub

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def hub():
    with JobsHub() as fake:
        yield fake


def headless_session(cli, *args: str) -> str:
    result = cli("-o", "json", *args)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)["session_id"]


def mcp_config(work: Path) -> None:
    fake = {
        "command": sys.executable,
        "args": ["-m", "tests.fakes.mcp_server", "--transport", "stdio"],
        "cwd": str(REPO),
    }
    servers = {"fake": fake, "broken": {"command": "no-such-mcp-server-binary"}}
    (work / "configs").mkdir()
    (work / "configs" / "cli_agent_config.json").write_text(json.dumps({"mcpServers": servers}))


def until_shown(term: Terminal, line: str, wanted: str, timeout: float) -> None:
    """Enter `line` again until its answer shows `wanted` (state that settles in the background)."""
    deadline = time.monotonic() + timeout
    while True:
        term.enter(line)
        try:
            term.expect(wanted, timeout=2)
            return
        except AssertionError:
            if time.monotonic() > deadline:
                raise


def roles_and_texts(request: dict) -> list[tuple[str, str]]:
    return [(m["role"], m.get("content") or "") for m in request["messages"][1:]]


@pytest.mark.timeout(300)
def test_resume_mcp_share_traces_and_a_job_left_running(
    cli, fake_llm, hub, isolated_env, monkeypatch, trusted_work
):
    elsewhere = isolated_env.parent / "elsewhere"
    elsewhere.mkdir()
    fake_llm.script(llm.text("Noted: pelican."), llm.text("Hello."))
    monkeypatch.chdir(elsewhere)
    old_id = headless_session(cli, "-m", "openai/old-model", "remember the word pelican")
    monkeypatch.chdir(isolated_env)
    here_id = headless_session(cli, "say hello")

    mcp_config(isolated_env)
    monkeypatch.setenv("HF_ENDPOINT", hub.url)
    monkeypatch.setenv("HF_TOKEN", "hf_test")
    monkeypatch.setenv("ML_INTERN_SHARE_TRACES", "false")
    hub.scripts.append(JobScript(lines=["epoch 1"], final=None))
    launch = {"operation": "run", "command": ["python", "train.py"], "wait": True}
    fake_llm.script(
        llm.text("The word was pelican."),
        llm.text("You said hello."),
        llm.tool_call("hf_jobs", launch),
    )
    term = Terminal(isolated_env)
    try:
        walk_through(term, fake_llm, hub, old_id, here_id)
    finally:
        term.stop()
    fake_llm.assert_done()


def walk_through(term: Terminal, fake_llm, hub: JobsHub, old_id: str, here_id: str) -> None:
    term.expect("›")
    term.enter("/resume")
    for shown in ("This directory", here_id, "/elsewhere", old_id, "remember the word pelican"):
        term.expect(shown)
    term.expect("Resume which?")
    term.enter("2")
    term.expect(f"resumed {old_id} (1 turn) · openai/old-model")
    term.expect("› remember the word pelican")
    term.enter("what was the word")
    term.expect("The word was pelican.", timeout=FIRST_ANSWER_S)
    resumed = fake_llm.requests[2]
    assert resumed["model"] == "old-model"
    assert roles_and_texts(resumed) == [
        ("user", "remember the word pelican"),
        ("assistant", "Noted: pelican."),
        ("user", "what was the word"),
    ]

    term.type(f"/resume {here_id[:-1]}")
    term.expect(here_id)  # offered while typing
    term.type("\t\r")
    term.expect(f"resumed {here_id} (1 turn) · openai/test-model")
    term.enter("what did I say")
    term.expect("You said hello.")
    assert fake_llm.requests[3]["model"] == "test-model"
    assert roles_and_texts(fake_llm.requests[3])[0] == ("user", "say hello")

    until_shown(term, "/mcp", "connected · ", timeout=30)  # only `fake` can connect
    term.expect("add, echo")
    term.expect("broken")
    term.expect("failed: command not found")

    term.enter("/share-traces")
    term.expect("off (share_traces is false")
    term.expect("testuser/ml-intern-sessions")
    term.expect("not created yet")

    term.enter("/help")
    for usage in ("/undo [files]", "/mcp", "/share-traces [public|private]", "/resume [id]"):
        term.expect(usage)

    term.enter("train it on a GPU")
    term.expect("Approve hf_jobs?")
    term.type("y")
    term.expect("epoch 1")
    job = hub.only_job()
    term.type("\x03")
    term.expect("Interrupted")
    term.expect(f"Cancel job {job.id} too? [y/N]")
    term.enter("y")
    term.expect(f"cancelled job {job.id}")
    assert job.stage == "CANCELED"

    term.enter("/quit")
    assert term.exit_code() == 0
    assert term.text.count("MCP server 'broken'") == 1  # said once, not again on each /resume
