"""Input piped into a headless run joins the prompt, however long its writer takes;
a prompt with nothing in it is refused."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.cli import spawn
from tests.fakes import llm_server as llm

pytestmark = pytest.mark.timeout(180)


def run_piped(data: str, *args: str) -> subprocess.CompletedProcess[str]:
    """ml-intern reading a pipe that already holds all its input and is closed."""
    read_end, write_end = os.pipe()
    os.write(write_end, data.encode())
    os.close(write_end)
    try:
        command = [sys.executable, "-m", "agent", "-o", "text", *args]
        return subprocess.run(
            command, stdin=read_end, capture_output=True, text=True, timeout=120, check=False
        )
    finally:
        os.close(read_end)


def run_with_a_writer_that_waits_for_the_notice(data: str, *args: str) -> tuple[int, str, str]:
    """A pipe whose writer stays silent until ml-intern says it is waiting, then writes:
    what a slow producer looks like, whatever the machine's speed."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "agent", "-o", "text", *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        bufsize=0,  # unbuffered: what readline leaves is all still for communicate
    )
    assert proc.stderr is not None
    first = proc.stderr.readline()  # the notice, or nothing if ml-intern ended without it
    out, rest = proc.communicate(data.encode(), timeout=120)
    return proc.returncode, out.decode(), (first + rest).decode()


def last_user_text(fake: llm.FakeLLM) -> str:
    return [m for m in fake.requests[-1]["messages"] if m["role"] == "user"][-1]["content"]


def test_piped_input_joins_the_prompt(fake_llm, isolated_env):
    fake_llm.script(llm.text("A missing file."))
    done = run_piped("ERROR: data.csv not found\n", "why does this fail?")
    assert done.returncode == 0, done.stderr
    assert last_user_text(fake_llm) == "why does this fail?\n\nERROR: data.csv not found"
    assert "reading the piped input" not in done.stderr


def test_a_slow_writer_is_waited_for_and_said_so(fake_llm, isolated_env):
    fake_llm.script(llm.text("A segfault."), llm.text("It is the driver."))
    code, _, errors = run_with_a_writer_that_waits_for_the_notice(
        "Segmentation fault\n", "why does this fail?"
    )
    assert code == 0, errors
    assert errors.startswith("ml-intern: reading the piped input until it ends")
    assert last_user_text(fake_llm) == "why does this fail?\n\nSegmentation fault"

    # the input is the prompt
    code, out, errors = run_with_a_writer_that_waits_for_the_notice("explain: CUDA error 999\n")
    assert code == 0, errors
    assert last_user_text(fake_llm) == "explain: CUDA error 999"
    assert out.strip() == "It is the driver."
    fake_llm.assert_done()


@pytest.mark.parametrize("prompt", ["", "   "])
def test_an_empty_prompt_is_a_usage_error_not_a_request(cli, fake_llm, prompt):
    result = cli("-o", "text", prompt)
    assert result.exit_code == 2
    assert "the prompt is empty" in result.stderr
    assert "Traceback" not in result.stderr
    assert fake_llm.requests == []


@pytest.mark.parametrize("flag", ["-p", "--print"])
def test_print_flag_runs_the_prompt_headless(cli, fake_llm, flag):
    fake_llm.script(llm.text("Use a cosine schedule."))
    result = cli(flag, "which lr schedule?")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == "Use a cosine schedule."
    assert last_user_text(fake_llm) == "which lr schedule?"
    fake_llm.assert_done()


def test_print_flag_takes_piped_input_as_the_prompt(fake_llm, isolated_env):
    fake_llm.script(llm.text("A typo."))
    done = run_piped("explain: NameError: nme\n", "-p")
    assert done.returncode == 0, done.stderr
    assert last_user_text(fake_llm) == "explain: NameError: nme"
    fake_llm.assert_done()


def test_print_flag_without_a_prompt_is_a_usage_error(fake_llm, isolated_env):
    result = spawn("-p")
    assert result.exit_code == 2
    assert "-p needs a prompt" in result.stderr
    assert "Traceback" not in result.stderr
    assert fake_llm.requests == []
