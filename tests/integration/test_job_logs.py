"""Background job logs are kept like session logs: readable by the user only, scrubbed of
secrets, removed with the session once their job has ended, and pruned when old."""

from __future__ import annotations

import contextlib
import gc
import json
import os
import signal
import stat
import time
from pathlib import Path

import pytest

from agent.config import Settings, data_home
from agent.tools.spec import ToolContext
from tests import secret_corpus as corpus
from tests.cli import spawn
from tests.fakes import llm_server as llm
from tests.integration.test_local_tools import call, poll_output

OLD = time.time() - 8 * 86400  # older than the week a job log is kept


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
        poll_output(ctx, ended["job_id"], "exited 0", deadline_s=20)
        seen = poll_output(ctx, running["job_id"], "printed", deadline_s=20)
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
    try:
        result = cli("-o", "json", "--no-wait", "start them")
        assert result.exit_code == 0, result.stderr
        assert "exited 0" in str(fake_llm.requests[-1]["messages"][-1])
        folder = data_home() / "bg" / result.result()["session_id"]
        # bg1 had ended; bg2 runs on, recorded for a continued session to find it
        assert sorted(p.name for p in folder.iterdir()) == ["bg2.log", "jobs.json"]
    finally:
        Path("go").touch()  # the job goes on after the session ended, and so does its log
    deadline = time.monotonic() + 20
    while "second" not in (folder / "bg2.log").read_text():
        assert time.monotonic() < deadline, (folder / "bg2.log").read_text()
        time.sleep(0.02)
    assert (folder / "bg2.log").read_text() == "first\nsecond\n"


def test_a_job_left_running_is_named_at_exit_with_where_its_output_goes(cli, fake_llm):
    fake_llm.script(
        llm.tool_call("bash", {"command": "sleep 60", "run_in_background": True}),
        llm.text("started"),
    )
    result = cli("--no-wait", "start it")
    assert result.exit_code == 0, result.stderr
    job = fake_llm.requests[1]["messages"][-1]["content"]
    pid = int(job.split("(pid ")[1].split(")")[0])
    try:
        session = next(p.name for p in (data_home() / "bg").iterdir())
        log = data_home() / "bg" / session / "bg1.log"
        assert (
            f"· Still running background job bg1 (sleep 60, pid {pid}, output in {log}): left "
            f"running after ml-intern. `ml-intern --resume {session}` follows it again; "
            "`kill -- -PID` stops one."
        ) in result.stderr.splitlines()
    finally:
        os.killpg(pid, signal.SIGKILL)


@pytest.mark.timeout(180)  # spawns ml-intern: a litellm import, slow on a busy machine
def test_a_continued_session_follows_and_stops_the_job_it_left_running(cli, fake_llm):
    """Two launches: the second one reads and stops the job that the first one, a process
    gone since, started."""
    command = "echo hello from the job; while [ ! -e go ]; do sleep 0.02; done; echo done"
    fake_llm.script(
        llm.tool_call("bash", {"command": command, "run_in_background": True}),
        llm.text("started"),
    )
    first = spawn("-o", "json", "--no-wait", "start the job", timeout=150)
    assert first.exit_code == 0, first.stderr
    started = fake_llm.requests[1]["messages"][-1]["content"]
    pid = int(started.split("(pid ")[1].split(")")[0])
    folder = data_home() / "bg" / first.result()["session_id"]
    try:
        (record,) = json.loads((folder / "jobs.json").read_text())["jobs"]
        assert record["pid"] == pid
        fake_llm.script(
            llm.tool_call("bash_output", {"job_id": "bg1"}),
            llm.tool_call("kill_background", {"job_id": "bg1"}),
            llm.text("stopped"),
        )
        second = cli("--continue", "-o", "stream-json", "stop it")
        assert second.exit_code == 0, second.stderr
        notices = [e["message"] for e in second.lines() if e["type"] == "notice"]
        assert "Background jobs still running from before: bg1 `" + command + "`." in notices
        looked = fake_llm.requests[3]["messages"][-1]["content"]
        assert looked.startswith(f"Job bg1: running (pid {pid}, ")
        assert "hello from the job" in looked
        stopped = fake_llm.requests[4]["messages"][-1]["content"]
        assert stopped.startswith("Stopped job bg1 (ended")
        assert not (folder / "jobs.json").exists() and not folder.exists()
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)


def test_a_progress_bar_shows_while_the_job_runs(isolated_env):
    ctx = ToolContext(settings=Settings(), cwd=isolated_env, session_id="s1")
    command = "printf 'step 1/9\\r'; while [ ! -e go ]; do sleep 0.02; done"
    job = call(ctx, "bash", command=command, run_in_background=True).data
    try:
        assert "step 1/9" in poll_output(ctx, job["job_id"], "step 1/9", deadline_s=20)
    finally:
        os.killpg(job["pid"], signal.SIGKILL)


def test_status_lists_the_background_jobs(isolated_env):
    from types import SimpleNamespace

    from agent.usage import UsageLedger
    from tests.unit.test_slash_commands import FakeChat

    chat = FakeChat()
    session = chat.session
    session.usage, session.turns, session.context = UsageLedger(), 0, SimpleNamespace(tokens=0)
    session.standing_approvals = dict
    assert "background no jobs" in " ".join(chat.run("/status").split())
    ctx = ToolContext(settings=Settings(), cwd=isolated_env, session_id=session.id)
    ctx.state = session.tool_state
    running = call(ctx, "bash", command="sleep 60", run_in_background=True).data
    try:
        call(ctx, "bash", command="true", run_in_background=True)
        poll_output(ctx, "bg2", "exited 0", deadline_s=20)
        out = " ".join(chat.run("/status").split())
        assert f"background bg1 running (pid {running['pid']}, " in out
        assert "s): sleep 60; bg2 exited 0: true" in out
    finally:
        os.killpg(running["pid"], signal.SIGKILL)
