"""Background job logs are kept like session logs: readable by the user only, scrubbed of
secrets, removed with the session once their job has ended, and pruned when old."""

from __future__ import annotations

import asyncio
import gc
import os
import signal
import stat
import time
from pathlib import Path

from agent.config import Settings, data_home
from agent.tools.local.tools import local_tools
from agent.tools.router import ToolRouter
from agent.tools.spec import ToolContext, ToolResult
from tests import secret_corpus as corpus
from tests.fakes import llm_server as llm

ROUTER = ToolRouter(local_tools())
OLD = time.time() - 8 * 86400


def call(ctx: ToolContext, name: str, **args: object) -> ToolResult:
    return asyncio.run(ROUTER.call(name, args, ctx))


def wait_for_output(ctx: ToolContext, job_id: str, wanted: str) -> str:
    seen, deadline = "", time.monotonic() + 20
    while wanted not in seen:
        assert time.monotonic() < deadline, seen
        seen += call(ctx, "bash_output", job_id=job_id).content
        if wanted not in seen:
            time.sleep(0.02)  # polling the log, with the deadline above
    return seen


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_job_log_is_private_scrubbed_and_goes_when_the_session_ends(isolated_env):
    (isolated_env / "corpus.txt").write_text(corpus.TEXT + "\n")
    ctx = ToolContext(settings=Settings(), cwd=isolated_env, session_id="s1")
    ended = call(ctx, "bash", command="cat corpus.txt", run_in_background=True).data
    running = call(
        ctx, "bash", command="cat corpus.txt; echo printed; sleep 60", run_in_background=True
    ).data
    try:
        wait_for_output(ctx, ended["job_id"], "exited 0")
        seen = wait_for_output(ctx, running["job_id"], "printed")
        assert corpus.leaked(seen) == [] and "[REDACTED:" in seen
        logs = [Path(job["log_path"]) for job in (ended, running)]
        for log in logs:
            text = log.read_text()
            assert corpus.leaked(text) == [], log
            assert "@db.internal:5432/app" in text  # scrubbed, not dropped
            assert mode(log) == 0o600
        assert mode(logs[0].parent) == mode(logs[0].parent.parent) == 0o700

        ctx.state.clear()  # the session ends
        gc.collect()
        assert not logs[0].exists()  # its job had ended
        assert logs[1].exists()  # its job still runs
    finally:
        os.killpg(running["pid"], signal.SIGKILL)


def test_old_job_logs_are_pruned_when_a_session_starts(cli, fake_llm):
    root = data_home() / "bg"
    old, recent = root / "old-session" / "bg1.log", root / "recent-session" / "bg1.log"
    for log in (old, recent):
        log.parent.mkdir(parents=True)
        log.write_text("output\n")
    os.utime(old, (OLD, OLD))
    root.chmod(0o755)
    fake_llm.script(llm.text("fine"))
    assert cli("hi").exit_code == 0
    assert not old.exists() and not old.parent.exists()
    assert recent.exists()
    assert mode(root) == 0o700


def test_after_a_run_only_the_log_of_a_running_job_is_left(cli, fake_llm):
    outliving = "echo first; while [ ! -e go ]; do sleep 0.02; done; echo second"
    fake_llm.script(
        llm.tool_call(
            "bash", {"command": "echo quick; touch quick.done", "run_in_background": True}
        ),
        llm.tool_call("bash", {"command": outliving, "run_in_background": True}),
        llm.tool_call(
            "bash", {"command": "timeout 20 sh -c 'until [ -e quick.done ]; do :; done'"}
        ),
        llm.tool_call("bash_output", {"job_id": "bg1"}),
        llm.text("started"),
    )
    result = cli("-o", "json", "start them")
    assert result.exit_code == 0, result.stderr
    assert "exited 0" in str(fake_llm.requests[-1]["messages"][-1])
    folder = data_home() / "bg" / result.result()["session_id"]
    assert sorted(p.name for p in folder.iterdir()) == ["bg2.log"]  # bg1 had ended
    Path("go").touch()  # the job goes on after the session ended, and so does its log
    deadline = time.monotonic() + 20
    while "second" not in (folder / "bg2.log").read_text():
        assert time.monotonic() < deadline, (folder / "bg2.log").read_text()
        time.sleep(0.02)
    assert (folder / "bg2.log").read_text() == "first\nsecond\n"


def test_a_progress_bar_shows_while_the_job_runs(isolated_env):
    ctx = ToolContext(settings=Settings(), cwd=isolated_env, session_id="s1")
    command = "printf 'step 1/9\\r'; while [ ! -e go ]; do sleep 0.02; done"
    job = call(ctx, "bash", command=command, run_in_background=True).data
    try:
        assert "step 1/9" in wait_for_output(ctx, job["job_id"], "step 1/9")
    finally:
        os.killpg(job["pid"], signal.SIGKILL)
