"""Floods of output: a command printing millions of short lines neither times out nor
loses its end, and the front ends get a bounded, coalesced view of it."""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path

from agent.config import Settings
from agent.tools.local.local_tools import local_tools
from agent.tools.router import ToolRouter
from agent.tools.spec import ToolContext
from tests.fakes import llm_server as llm

FLOOD_BYTES = 50_000_000
FLOOD = f"yes | head -c {FLOOD_BYTES}; echo END"
FLOOD_LINES = FLOOD_BYTES // 2 + 1  # "y\n" lines, then END
COUNT = re.compile(r"^  … ([\d,]+) lines?$")


def tool_messages(request: dict) -> list[dict]:
    return [m for m in request["messages"] if m["role"] == "tool"]


def test_a_flood_keeps_its_end_and_streams_few_events(cli, fake_llm):
    fake_llm.script(llm.tool_call("bash", {"command": FLOOD}), llm.text("It printed END."))
    result = cli("-o", "stream-json", "flood the terminal")

    assert result.exit_code == 0, result.stderr
    seen = tool_messages(fake_llm.requests[1])[-1]["content"]
    assert seen.startswith("y\ny\n")
    assert seen.endswith("\ny\nEND")
    assert "timed out" not in seen
    marker = re.search(r"\[\.\.\. ([\d,]+) lines \(([\d,]+) bytes\) omitted \.\.\.\]", seen)
    assert marker, seen[:200]
    shown = seen.replace(marker.group(0) + "\n", "").split("\n")
    assert int(marker.group(1).replace(",", "")) + len(shown) == FLOOD_LINES
    events = result.lines()
    (output,) = [e for e in events if e["type"] == "tool_output"]
    assert output["data"] == {"exit_code": 0} and not output["is_error"]
    logs = [e for e in events if e["type"] == "tool_log"]
    assert 0 < len(logs) < 1000
    carried = sum(len(e["line"].split("\n")) if e["line"] else 0 for e in logs)
    assert carried + sum(e["omitted_lines"] for e in logs) == FLOOD_LINES
    assert logs[-1]["line"].split("\n")[-1] == "END"
    fake_llm.assert_done()


def test_text_output_shows_a_bounded_view_with_counts(cli, fake_llm):
    fake_llm.script(llm.tool_call("bash", {"command": FLOOD}), llm.text("done"))
    result = cli("flood the terminal")

    assert result.exit_code == 0, result.stderr
    tool_lines = [x for x in result.stderr.splitlines() if x.startswith("  ")]
    counts = [int(m.group(1).replace(",", "")) for x in tool_lines if (m := COUNT.match(x))]
    printed = [x for x in tool_lines if not COUNT.match(x)]
    assert counts and len(tool_lines) < 1000
    assert sum(counts) + len(printed) == FLOOD_LINES
    assert printed[-1] == "  END"
    fake_llm.assert_done()


def test_a_flooding_background_job_keeps_its_tail(cli, fake_llm):
    wait = "for i in $(seq 600); do [ -e flood.done ] && break; sleep 0.05; done; ls flood.done"
    fake_llm.script(
        llm.tool_call("bash", {"command": f"{FLOOD}; touch flood.done", "run_in_background": True}),
        llm.tool_call("bash", {"command": wait}),
        llm.tool_call("bash_output", {"job_id": "bg1", "tail_lines": 3}),
        llm.text("The job ended with END."),
    )
    result = cli("-o", "stream-json", "flood in the background")

    assert result.exit_code == 0, result.stderr
    assert tool_messages(fake_llm.requests[2])[-1]["content"].strip() == "flood.done"
    looked = tool_messages(fake_llm.requests[3])[-1]["content"]
    assert looked.endswith("\ny\ny\nEND")
    skipped = re.search(r"\[\.\.\. ([\d,]+) bytes of earlier new output not shown", looked)
    assert skipped, looked
    assert int(skipped.group(1).replace(",", "")) == FLOOD_BYTES + len("END\n") - len("y\ny\nEND\n")
    fake_llm.assert_done()


def test_a_stalled_front_end_does_not_make_the_command_wait(isolated_env: Path):
    """The first chunk's consumer blocks the event loop until the command has written all
    its output and finished: that only ends if the pipe is drained without the loop."""
    finished = isolated_env / "finished"
    saw_it: list[bool] = []

    def stalled_front_end(text: str, omitted_lines: int = 0) -> None:
        if saw_it:
            return
        deadline = time.monotonic() + 60
        while not finished.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        saw_it.append(finished.exists())

    ctx = ToolContext(settings=Settings(), cwd=isolated_env, log=stalled_front_end)
    command = "echo start; yes | head -c 20000000; echo END; touch finished"
    result = asyncio.run(ToolRouter(local_tools()).call("bash", {"command": command}, ctx))
    assert saw_it == [True]
    assert not result.is_error, result.content[-300:]
    assert result.content.startswith("start\ny\n")
    assert result.content.endswith("\ny\nEND")


def test_output_without_newlines_is_kept_and_cut(isolated_env: Path):
    """A single endless line: the model still gets its start and its end."""
    lines: list[str] = []
    ctx = ToolContext(
        settings=Settings(), cwd=isolated_env, log=lambda text, **_: lines.append(text)
    )
    command = "yes | tr -d '\\n' | head -c 3000000; echo; echo END"
    result = asyncio.run(ToolRouter(local_tools()).call("bash", {"command": command}, ctx))
    assert not result.is_error
    assert result.content.startswith("yyyy")
    assert result.content.endswith("yyyy\nEND")
    assert len(result.content) <= 31_000
    assert "\n".join(lines).endswith("END")
