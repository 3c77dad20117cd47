"""A session log that cannot be written is said once, in the run's result too, and the
run goes on. The disk fills up for real: a file-size limit on the process (RLIMIT_FSIZE)
makes the log's writes past it fail with EFBIG, as a full disk fails them with ENOSPC."""

from __future__ import annotations

import json
import resource
import signal
import subprocess
import sys

from tests.fakes import llm_server as llm

LIMIT = 1500  # bytes: the log's first line fits, the system prompt does not


def small_disk() -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a failed write, not a killed process
    resource.setrlimit(resource.RLIMIT_FSIZE, (LIMIT, LIMIT))


def test_a_log_that_cannot_be_written_is_said_once_and_the_run_goes_on(fake_llm):
    fake_llm.script(llm.tool_call("bash", {"command": "echo still-working"}), llm.text("Done."))
    run = subprocess.run(
        [sys.executable, "-m", "agent", "-o", "stream-json", "go"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=small_disk,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    events = [json.loads(line) for line in run.stdout.splitlines()]
    said = [e["message"] for e in events if e["type"] == "notice" and "session log" in e["message"]]
    assert len(said) == 1
    assert "cannot be written (File too large)" in said[0]
    assert "no longer saved" in said[0]
    outputs = [e["content"] for e in events if e["type"] == "tool_output"]
    assert outputs and "still-working" in outputs[0]
    result = events[-1]
    assert result["type"] == "result"
    assert result["final_text"] == "Done."
    assert result["session_log_error"] == said[0]
    assert run.stderr.count("cannot be written") == 1
    assert "Traceback" not in run.stderr
