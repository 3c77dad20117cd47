"""Running ml-intern as a user does: in-process for speed, as a subprocess where the
process boundary matters (exit codes, signals)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

import pytest

FIRST_REQUEST_S = 90
"""How long a spawned ml-intern may take to send its first request: it imports litellm
first, seconds of CPU that stretch on a loaded machine. A hang guard, not a timing."""


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str

    def lines(self) -> list[dict[str, Any]]:
        """stdout as JSON lines (stream-json)."""
        return [json.loads(line) for line in self.stdout.splitlines() if line.strip()]

    def result(self) -> dict[str, Any]:
        return self.lines()[-1]


def llm_env(url: str, model: str = "openai/test-model") -> dict[str, str]:
    """Point ml-intern at a fake OpenAI-compatible server."""
    return {
        "OPENAI_API_KEY": "sk-test-key",
        "ML_INTERN_API_BASE": url,
        "ML_INTERN_MODEL": model,
        "ML_INTERN_RETRY_BASE_DELAY_S": "0.01",
        "ML_INTERN_LLM_TIMEOUT_S": "20",
    }


def run_in_process(capsys: pytest.CaptureFixture[str], *args: str) -> CliResult:
    """`ml-intern ARGS` in this process (litellm is imported once per test run)."""
    from agent.cli.app import main

    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    out, err = capsys.readouterr()
    return CliResult(code, out, err)


def spawn(*args: str, env: dict[str, str] | None = None, timeout: float = 60) -> CliResult:
    """`ml-intern ARGS` as a real subprocess in the current directory."""
    proc = subprocess.run(
        [sys.executable, "-m", "agent", *args],
        env={**os.environ, **(env or {})},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return CliResult(proc.returncode, proc.stdout, proc.stderr)


def start(*args: str, stderr: Any = subprocess.PIPE) -> subprocess.Popen[str]:
    """`ml-intern ARGS` running in the background (stdout piped, as text; stderr piped
    unless given, e.g. a file for a test that never reads it)."""
    return subprocess.Popen(
        [sys.executable, "-m", "agent", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
    )
