"""The bounded views of coalesced tool output: headless text and the chat's live area."""

from __future__ import annotations

import io
import re

from agent import events as ev
from agent.cli.chat.render import LOG_TAIL_LINES, Renderer, make_console
from agent.cli.log_view import BURST_LINES, LINES_PER_S, SampledLog

COUNT = re.compile(r"^  … ([\d,]+) lines?$")


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def chunk(lines: list[str], omitted: int = 0, call: str = "c1") -> ev.ToolLog:
    return ev.ToolLog(tool_call_id=call, name="bash", line="\n".join(lines), omitted_lines=omitted)


def tally(printed: list[str]) -> tuple[int, list[str]]:
    """(lines counted, lines shown) of what the view printed."""
    counted = sum(int(m.group(1).replace(",", "")) for x in printed if (m := COUNT.match(x)))
    return counted, [x.removeprefix("  ") for x in printed if not COUNT.match(x)]


def test_a_slow_command_shows_every_line():
    clock = Clock()
    view = SampledLog(clock)
    printed: list[str] = []
    for i in range(200):
        clock.now += 0.5
        printed += view.chunk(chunk([f"step {i}"]))
    printed += view.end("c1")
    assert printed == [f"  step {i}" for i in range(200)]


def test_a_progress_redraw_prints_as_a_plain_line_in_text_mode():
    view = SampledLog(Clock())
    assert view.chunk(chunk(["epoch 1", "\r 40%|####"])) == ["  epoch 1", "   40%|####"]


def test_a_flood_is_sampled_and_every_line_is_accounted_for():
    clock = Clock()
    view = SampledLog(clock)
    printed: list[str] = []
    total = 0
    for i in range(200):  # 10 s of chunks every 50 ms, 5,000 lines each, some left out
        clock.now += 0.05
        lines = [f"line {i}.{j}" for j in range(1000)]
        printed += view.chunk(chunk(lines, omitted=4000))
        total += 5000
    printed += view.end("c1")
    counted, shown = tally(printed)
    assert counted + len(shown) == total
    assert len(printed) <= BURST_LINES + LINES_PER_S * 10 + 4
    assert shown[-1] == "line 199.999"  # the end is always seen
    assert view.end("c1") == []


def test_calls_are_viewed_separately():
    clock = Clock()
    view = SampledLog(clock)
    flood = view.chunk(chunk([f"a{i}" for i in range(500)], call="a"))
    quiet = view.chunk(chunk(["b"], call="b"))
    assert quiet == ["  b"]
    assert flood[0] == "  … 497 lines" and flood[1:] == ["  a497", "  a498", "  a499"]


def test_the_chat_keeps_the_newest_lines_of_a_coalesced_chunk():
    renderer = Renderer(make_console(io.StringIO(), width=80))
    renderer(chunk([f"line {i}" for i in range(10_000)]))
    assert list(renderer.live.log) == [f"line {i}" for i in range(10_000 - LOG_TAIL_LINES, 10_000)]
    renderer.pause()


def test_a_bar_finished_where_it_was_last_shown_is_printed_once():
    view = SampledLog(clock=Clock())
    printed = view.chunk(chunk(["loading", "\rstep 3/3"]))
    printed += view.chunk(chunk(["\rstep 3/3", "done"]))  # the bar's line ends unchanged
    printed += view.chunk(chunk(["\rstep 4/4"]))
    printed += view.chunk(chunk(["\rstep 5/5"]))  # redrawn: its new state is news
    assert printed == ["  loading", "  step 3/3", "  done", "  step 4/4", "  step 5/5"]


def test_a_failed_call_that_printed_nothing_live_shows_how_it_ended_and_its_last_lines():
    from agent.cli.headless import TextWriter

    err = io.StringIO()
    content = "\n".join(["Repository not found:", *(f"hint {i}" for i in range(9))])
    TextWriter(io.StringIO(), err)(
        ev.ToolOutput(tool_call_id="1", name="hf_repo_files", content=content, is_error=True)
    )
    assert err.getvalue().splitlines() == [
        "✗ hf_repo_files: Repository not found:",
        "  … 4 lines above",
        *(f"  hint {i}" for i in range(4, 9)),
    ]
