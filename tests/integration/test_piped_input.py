"""Input piped into a headless run joins the prompt, however long its writer takes;
a prompt with nothing in it is refused."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.fakes import llm_server as llm

pytestmark = pytest.mark.timeout(180)


def run_piped(producer: str, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "agent", "-o", "text", *args]
    shell = f"{producer} | {' '.join(repr(part) for part in command)}"
    return subprocess.run(shell, shell=True, capture_output=True, text=True, timeout=120)


def last_user_text(fake: llm.FakeLLM) -> str:
    return [m for m in fake.requests[-1]["messages"] if m["role"] == "user"][-1]["content"]


def test_piped_input_joins_the_prompt(fake_llm, isolated_env):
    fake_llm.script(llm.text("A missing file."))
    done = run_piped("echo 'ERROR: data.csv not found'", "why does this fail?")
    assert done.returncode == 0, done.stderr
    assert last_user_text(fake_llm) == "why does this fail?\n\nERROR: data.csv not found"
    assert "reading the piped input" not in done.stderr


def test_a_slow_writer_is_waited_for_and_said_so(fake_llm, isolated_env):
    fake_llm.script(llm.text("A segfault."), llm.text("It is the driver."))
    done = run_piped("(sleep 2; echo 'Segmentation fault')", "why does this fail?")
    assert done.returncode == 0, done.stderr
    assert last_user_text(fake_llm) == "why does this fail?\n\nSegmentation fault"
    assert "reading the piped input until it ends" in done.stderr

    alone = run_piped("(sleep 2; echo 'explain: CUDA error 999')")  # the input is the prompt
    assert alone.returncode == 0, alone.stderr
    assert last_user_text(fake_llm) == "explain: CUDA error 999"
    assert alone.stdout.strip() == "It is the driver."
    fake_llm.assert_done()


@pytest.mark.parametrize("prompt", ["", "   "])
def test_an_empty_prompt_is_a_usage_error_not_a_request(cli, fake_llm, prompt):
    result = cli("-o", "text", prompt)
    assert result.exit_code == 2
    assert "the prompt is empty" in result.stderr
    assert "Traceback" not in result.stderr
    assert fake_llm.requests == []
