"""The first seconds of a headless run: nothing on the way to the first request
blocks it, and a signal is answered while the model library still loads."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.cli import start

pytestmark = pytest.mark.timeout(120)

# Stands in for litellm: says that its import started, then never finishes it.
NEVER_LOADS = """
import os, threading
open(os.environ["ML_INTERN_TEST_IMPORT_MARKER"], "w").close()
threading.Event().wait()
"""


def wait_for(check, what: str, proc: subprocess.Popen[str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert proc.poll() is None, f"ml-intern exited before {what}: {proc.communicate()}"
        assert time.monotonic() < deadline, f"no {what} within {timeout} s"
        time.sleep(0.02)


def session_logs() -> list[Path]:
    return sorted((Path(os.environ["XDG_DATA_HOME"]) / "ml-intern" / "sessions").glob("*.jsonl"))


def logged(text: str) -> bool:
    return any(text in path.read_text() for path in session_logs())


def test_ctrl_c_is_answered_while_the_model_library_loads(fake_llm, monkeypatch, tmp_path):
    stand_in = tmp_path / "stand-in" / "litellm"
    stand_in.mkdir(parents=True)
    (stand_in / "__init__.py").write_text(NEVER_LOADS)
    marker = tmp_path / "import-started"
    monkeypatch.setenv("ML_INTERN_TEST_IMPORT_MARKER", str(marker))
    monkeypatch.setenv("PYTHONPATH", str(stand_in.parent))

    proc = start("-o", "text", "train a tokenizer on my corpus")
    try:
        wait_for(marker.exists, "the model library's import", proc)
        wait_for(lambda: logged("train a tokenizer"), "the request in the session log", proc)
        proc.send_signal(signal.SIGINT)
        _, errors = proc.communicate(timeout=30)  # the import never ends: only a live loop exits
    finally:
        proc.kill()

    assert proc.returncode == 130, errors
    assert "Traceback" not in errors
    log = session_logs()[0].read_text()
    assert "train a tokenizer on my corpus" in log
    assert fake_llm.requests == []
