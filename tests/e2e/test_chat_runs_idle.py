"""While the chat waits at its prompt, an active run keeps its line (progress, ETA, the
loss and its sparkline) just above the input line; and during a /goal, a line the person
types is taken between two turns of the goal, not held until the goal ends."""

from __future__ import annotations

import sys
import time

import pyte
import pytest

from tests.e2e.test_interactive import FIRST_ANSWER_S, Terminal, user_texts
from tests.fakes import llm_server as llm

TRAIN = """\
import pathlib, time
for step in range(1, 41):
    print({"loss": round(4.0 - step * 0.08, 2), "epoch": step / 40}, flush=True)
print(" 40%|####      | 40/100 [00:20<00:30,  2.00it/s]", flush=True)
while not pathlib.Path("go").exists():
    time.sleep(0.02)
"""
WAIT = "until [ -e step2 ]; do sleep 0.05; done; echo loss=0.4"


def screen_lines(term: Terminal) -> list[str]:
    screen = pyte.Screen(100, 40)
    pyte.Stream(screen).feed(term.raw)
    return [line.rstrip() for line in screen.display]


def wait_for_screen(term: Terminal, holds, timeout: float = 20) -> list[str]:
    """The screen once `holds(lines)` is true of it (read as the terminal shows it)."""
    deadline = time.monotonic() + timeout
    while not holds(lines := screen_lines(term)):
        if time.monotonic() > deadline:
            raise AssertionError("\n".join(lines))
        try:
            term._read()
        except Exception:  # nothing new within the read's own timeout
            continue
    return lines


def run_line_over_prompt(lines: list[str]) -> bool:
    prompts = [i for i, line in enumerate(lines) if line.startswith("›")]
    return bool(prompts) and lines[prompts[-1] - 1].strip().startswith("bg1 ▸ 40/100")


@pytest.mark.timeout(240)
def test_run_lines_at_the_prompt_and_lines_typed_during_a_goal(terminal, fake_llm, isolated_env):
    (isolated_env / "train.py").write_text(TRAIN)
    job = {"command": f"{sys.executable} train.py", "run_in_background": True}
    fake_llm.script(
        llm.tool_call("bash", job),
        llm.text("Started; it runs in the background."),
        llm.text("The run ended."),  # the wake-up for its end
        llm.tool_call("bash", {"command": WAIT}),
        llm.text("Turn one done."),
        llm.text("Noted: the accuracy goes in the log too."),  # the line typed meanwhile
        llm.tool_call("goal_done", {"evidence": "loss=0.4"}),
        llm.text("The loss is 0.4."),
    )
    term = terminal("--yolo")
    term.expect("›")
    term.enter("train in the background")
    term.expect("Started; it runs in the background.", timeout=FIRST_ANSWER_S)

    # at the prompt, the run's line stays just above the input line
    lines = wait_for_screen(term, run_line_over_prompt)
    (line,) = [x for x in lines if x.strip().startswith("bg1 ▸")]
    assert line.strip().startswith("bg1 ▸ 40/100 · ETA 30s · loss 0.8 █")
    assert line.endswith("▁")
    (isolated_env / "go").touch()
    term.expect("⏰ woken: bg1 ended: exited 0")
    term.expect("The run ended.")
    wait_for_screen(term, lambda lines: not any("bg1 ▸" in x for x in lines))

    # a line typed while a goal's turn runs is the goal's next request
    term.enter("/goal the loss is below 0.5")
    term.expect("◎ goal: the loss is below 0.5 · turn 1/20")
    term.expect(WAIT)
    term.enter("also log the accuracy")
    # passed on to the engine (printed as sent), not merely shown as typed or queued
    wait_for_screen(term, lambda lines: any(x.strip() == "› also log the accuracy" for x in lines))
    (isolated_env / "step2").touch()
    term.expect("Turn one done.")
    term.expect("Noted: the accuracy goes in the log too.")
    term.expect("◎ goal met after 3 turns (the loss is below 0.5): loss=0.4")
    assert user_texts(fake_llm.requests[5])[-1] == "also log the accuracy"
    assert user_texts(fake_llm.requests[6])[-1].startswith("[ml-intern] Goal, turn 3 of 20")
    term.expect("›")
    term.type("\x04")
    assert term.exit_code() == 0
