"""A background run in the chat: its live line under the spinner, on a virtual screen."""

from __future__ import annotations

import sys
from pathlib import Path

import pyte
import pytest

from tests.e2e.test_interactive import FIRST_ANSWER_S
from tests.fakes import llm_server as llm

TRAIN = """\
import pathlib, time
for step in range(1, 41):
    print({"loss": round(4.0 - step * 0.08, 2), "epoch": step / 40}, flush=True)
print(" 40%|####      | 40/100 [00:20<00:30,  2.00it/s]", flush=True)
while not pathlib.Path("go").exists():
    time.sleep(0.02)
"""


@pytest.mark.timeout(180)
def test_an_active_run_has_a_line_with_its_progress_and_sparkline(terminal, fake_llm, isolated_env):
    (isolated_env / "train.py").write_text(TRAIN)
    job = {"command": f"{sys.executable} train.py", "run_in_background": True}
    fake_llm.script(
        llm.tool_call("bash", job),
        llm.tool_call("bash", {"command": "until [ -e go ]; do sleep 0.05; done"}),
        llm.text("Both done."),
        llm.text("The run ended."),  # the wake-up for its end
    )
    term = terminal("--yolo")
    term.expect("›")
    term.enter("train and watch")
    term.expect("bg1 ▸ 40/100 · ETA 30s · loss 0.8", timeout=FIRST_ANSWER_S)
    screen = pyte.Screen(100, 40)
    pyte.Stream(screen).feed(term.raw)
    shown = [line.rstrip() for line in screen.display]
    (line,) = [x for x in shown if "bg1 ▸" in x]
    assert line.strip().startswith("bg1 ▸ 40/100 · ETA 30s · loss 0.8 █")
    assert line.rstrip().endswith("▁")  # the falling loss, drawn with blocks
    Path(isolated_env / "go").touch()
    term.expect("⏰ woken: bg1 ended: exited 0")  # a turn of its own, started by the run
    term.expect("The run ended.")
    term.expect("›")  # keys typed before the prompt is back may be swallowed
    term.type("\x04")
    assert term.exit_code() == 0
