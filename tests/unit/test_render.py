"""The chat's renderer: Markdown cut into blocks as it streams, tools, colours, narrow terminals."""

from __future__ import annotations

import io
import os
import re
import typing

import pytest
from rich.console import Console

from agent import events as ev
from agent.cli.chat import render
from agent.cli.chat.markdown_stream import MarkdownStream
from agent.cli.chat.render import Renderer, make_console

ANSWER = """# Training plan

First we load the data
and look at it.

- one item
- two items

  still the second item

```python
def train(x):

    return x * 2
```
Then we **train** it.
"""
_SGR = re.compile(r"\x1b\[([0-9;]*)m")
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def feed_in_pieces(text: str, size: int) -> list[str]:
    stream = MarkdownStream()
    blocks = []
    for i in range(0, len(text), size):
        blocks += stream.feed(text[i : i + size])
    return [*blocks, *stream.flush()]


@pytest.mark.parametrize("size", [1, 3, 16, 1000])
def test_blocks_are_the_same_however_the_answer_is_chunked(size):
    assert feed_in_pieces(ANSWER, size) == [
        "# Training plan",
        "First we load the data\nand look at it.",
        "- one item\n- two items\n\n  still the second item",
        "```python\ndef train(x):\n\n    return x * 2\n```",
        "Then we **train** it.",
    ]


def test_a_block_is_released_as_soon_as_it_is_complete():
    stream = MarkdownStream()
    assert stream.feed("A paragraph\n") == []
    assert stream.tail(10) == ("A paragraph", None)
    assert stream.feed("\n```py\nx = 1\n") == ["A paragraph"]
    assert stream.tail(10) == ("x = 1", "py")
    assert stream.feed("```\n") == ["```py\nx = 1\n```"]


@pytest.mark.parametrize("last", ["Second paragraph", "## Heading", "- an item"])
def test_a_last_line_without_a_newline_still_starts_its_own_block(last):
    assert feed_in_pieces(f"First paragraph.\n\n{last}", 5) == ["First paragraph.", last]


def test_the_live_tail_keeps_the_blank_line_before_a_paragraph_still_arriving():
    stream = MarkdownStream()
    assert stream.feed("First paragraph.\n\nSecond para") == []
    assert stream.tail(10) == ("First paragraph.\n\nSecond para", None)


def test_the_live_tail_stays_bounded_in_a_long_code_block():
    stream = MarkdownStream()
    stream.feed("```\n" + "".join(f"line {i}\n" for i in range(5000)))
    tail, language = stream.tail(30)
    assert language == "text"
    assert tail.splitlines() == [f"line {i}" for i in range(4970, 5000)]


def sgr_codes(output: str) -> set[str]:
    return {code for match in _SGR.findall(output) for code in match.split(";") if code}


def colour_console(width: int = 100) -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    console = Console(
        file=out, width=width, force_terminal=True, color_system="truecolor", no_color=False
    )
    return console, out


def stream_answer(renderer: Renderer, text: str, size: int = 16) -> None:
    renderer(ev.Processing(iteration=1))
    for i in range(0, len(text), size):
        renderer(ev.AssistantChunk(content=text[i : i + size]))
    renderer(ev.AssistantStreamEnd())
    renderer(ev.AssistantMessage(content=text))
    renderer(ev.TurnComplete(final_text=text))


def test_a_streamed_answer_is_printed_once_with_code_highlighted():
    console, out = colour_console()
    stream_answer(Renderer(console), ANSWER)
    text = _ANSI.sub("", out.getvalue())
    assert text.count("First we load the data and look at it.") == 1
    assert text.count("return x * 2") == 1
    code_line = next(
        line for line in out.getvalue().splitlines() if "train" in line and "def" in line
    )
    assert "38;2;" in code_line  # pygments colours in the code block


def test_no_color_keeps_every_colour_out(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    out = io.StringIO()
    renderer = Renderer(make_console(file=out, width=100))
    stream_answer(renderer, ANSWER)
    renderer(ev.ToolOutput(tool_call_id="1", name="bash", content="boom", is_error=True))
    colours = {c for c in sgr_codes(out.getvalue()) if len(c) >= 2 and c[0] in "349"}
    assert colours == set()


def test_a_narrow_terminal_gets_no_line_wider_than_it():
    console, out = colour_console(width=60)
    renderer = Renderer(console)
    renderer(ev.ToolCall(tool_call_id="1", name="bash", arguments={"command": "echo " + "x" * 200}))
    renderer(ev.ToolOutput(tool_call_id="1", name="bash", content="y" * 300))
    stream_answer(renderer, ANSWER + "A long line " * 40 + "\n\n```\n" + "z" * 150 + "\n```\n")
    renderer(ev.Notice(message="a notice that is much longer than sixty columns " * 3))
    lines = _ANSI.sub("", out.getvalue()).splitlines()
    assert lines
    assert max(len(line) for line in lines) <= 60


def test_a_progress_bar_keeps_one_line_in_the_live_log():
    console, out = colour_console()
    renderer = Renderer(console)
    chunks = ("epoch 1", "\r 10%|#", "\r 20%|##", "100%|####\nepoch 2\n\r 5%|", "\r 40%|##")
    for chunk in chunks:  # the line after a redraw finishes the bar's own line
        renderer(ev.ToolLog(tool_call_id="1", name="bash", line=chunk))
    assert list(renderer.live.log) == ["epoch 1", "100%|####", "epoch 2", "\r 40%|##"]
    renderer.live.touch()
    assert "epoch 1\n100%|####\nepoch 2\n 40%|##" in _ANSI.sub("", out.getvalue())


def test_tool_output_keeps_head_and_tail_with_the_exit_code():
    console, out = colour_console()
    renderer = Renderer(console)
    renderer(ev.ToolCall(tool_call_id="1", name="bash", arguments={"command": "./check.sh"}))
    lines = [f"ok {i}" for i in range(60)]
    lines += ["Traceback (most recent call last):", '  File "t.py", line 3', "ValueError: bad row"]
    content = "\n".join(lines) + "\n\nexit code 2"
    renderer(
        ev.ToolOutput(
            tool_call_id="1", name="bash", content=content, is_error=True, data={"exit_code": 2}
        )
    )
    text = [line.rstrip() for line in _ANSI.sub("", out.getvalue()).splitlines()]
    assert text[2:] == [
        "  ⎿ ok 0",
        "    ok 1",
        "    ok 2",
        "    … 57 lines hidden (Ctrl-O shows the newest whole; again: older)",
        "    Traceback (most recent call last):",
        '      File "t.py", line 3',
        "    ValueError: bad row",
        "",
        "    exit code 2",
    ]
    error_line = next(line for line in out.getvalue().splitlines() if "ValueError" in line)
    assert "31" in sgr_codes(error_line)
    assert "ok 30" not in out.getvalue()

    console.height = 80  # a window it fits in: shown in place (a shorter one pages it)
    renderer.expand_output()
    shown = _ANSI.sub("", out.getvalue())
    assert "ok 30" in shown
    assert shown.count("ValueError: bad row") == 2


def test_the_hidden_count_includes_the_lines_a_flood_left_out():
    from agent.cli.chat.tool_output import output_lines

    kept = [f"line {i}" for i in range(20)]
    content = "\n".join(
        [*kept[:10], "[... 2,000,000 lines (30,000,000 bytes) omitted ...]", *kept[10:]]
    )
    shown = [line.plain for line in output_lines(content, False, {"exit_code": 0})]
    assert (
        shown[3]
        == "… 2,000,012 lines hidden (Ctrl-O shows the 12 kept of the newest; again: older)"
    )
    assert shown[-1] == "line 19"


def test_a_failure_without_the_exit_code_in_its_text_still_shows_it():
    console, out = colour_console()
    Renderer(console)(
        ev.ToolOutput(
            tool_call_id="1", name="bash", content="boom", is_error=True, data={"exit_code": 3}
        )
    )
    assert _ANSI.sub("", out.getvalue()).splitlines()[-1].strip() == "exit code 3"


def test_a_long_error_message_wraps_instead_of_being_cut():
    console, out = colour_console(width=40)
    message = "Invalid arguments for edit: " + "the old text was not found in the file " * 3
    Renderer(console)(ev.ToolOutput(tool_call_id="1", name="edit", content=message, is_error=True))
    shown = " ".join(line.strip() for line in _ANSI.sub("", out.getvalue()).splitlines())
    assert "not found in the file the old text was not found in the file" in shown
    assert "…" not in shown


def test_an_edit_shows_its_changed_lines_in_colour():
    console, out = colour_console()
    diff = "--- a/t.py\n+++ b/t.py\n@@ -1,3 +1,3 @@\n x = 1\n-y = 2\n+y = 3\n z = 4\n"
    Renderer(console)(
        ev.ToolOutput(
            tool_call_id="1",
            name="edit",
            content="Edited t.py: 1 replacement\n" + diff,
            data={"path": "t.py", "diff": diff},
        )
    )
    raw = out.getvalue().splitlines()
    text = [_ANSI.sub("", line) for line in raw]
    assert text == [
        "  ⎿ Edited t.py: 1 replacement",
        "    @@ -1,3 +1,3 @@",
        "     x = 1",
        "    -y = 2",
        "    +y = 3",
        "     z = 4",
    ]
    assert "31" in sgr_codes(raw[3])
    assert "32" in sgr_codes(raw[4])


@pytest.mark.parametrize(("preset", "seen"), [(None, "R"), ("-X", "-X")])
def test_less_is_told_to_show_colours_unless_less_is_set(monkeypatch, preset, seen):
    from agent.cli.chat.render import ColourPager

    if preset is None:
        monkeypatch.delenv("LESS", raising=False)
    else:
        monkeypatch.setenv("LESS", preset)
    settings: list[str | None] = []
    monkeypatch.setattr("pydoc.pager", lambda text: settings.append(os.environ.get("LESS")))
    ColourPager().show("\x1b[36mcoloured\x1b[0m")
    assert settings == [seen]
    assert os.environ.get("LESS") == preset  # as it was


def test_a_long_diff_is_collapsed_and_expands_into_the_pager(monkeypatch):
    paged: list[str] = []
    monkeypatch.setattr("pydoc.pager", paged.append)
    console, out = colour_console()
    console.height = 40
    diff = "@@ -1,40 +1,40 @@\n" + "".join(f"-old {i}\n+new {i}\n" for i in range(40))
    renderer = Renderer(console)
    renderer(
        ev.ToolOutput(
            tool_call_id="1", name="write", content="Wrote 40 lines to a.txt", data={"diff": diff}
        )
    )
    text = _ANSI.sub("", out.getvalue())
    assert "… 57 more diff lines (Ctrl-O shows the newest whole; again: older)" in text
    assert "new 39" not in text
    shown = out.getvalue()
    renderer.expand_output()  # taller than the window: the pager gets it, not the screen
    assert out.getvalue() == shown
    assert "new 39" in _ANSI.sub("", paged[0])
    assert "\x1b[32m+new 39" in paged[0]


def test_streaming_does_not_re_render_the_whole_answer(monkeypatch):
    rendered: list[int] = []
    original = render.markdown_block

    def counting(text: str):
        rendered.append(len(text))
        return original(text)

    monkeypatch.setattr(render, "markdown_block", counting)
    answer = "".join(f"Paragraph {i} says something useful.\n\n" for i in range(400))
    console, _ = colour_console()
    stream_answer(Renderer(console), answer)
    assert max(rendered) < 200
    assert sum(rendered) < 3 * len(answer)


def test_every_event_type_has_a_renderer_or_is_meant_to_be_silent():
    types = {cls.model_fields["type"].default for cls in typing.get_args(ev.Event.__origin__)}
    handled = set(Renderer(colour_console()[0])._handlers)
    # A job's start and end are in its tool's own output already; they are for hooks.
    assert types - handled == {"ready", "shutdown", "history", "job_submitted", "job_finished"}
