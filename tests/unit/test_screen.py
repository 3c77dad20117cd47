"""What the terminal shows: the chat's output bytes fed into a virtual screen (pyte).

The screen after a streamed answer must equal the screen after printing the whole
answer's blocks once, however the answer was chunked, however fast it came, and
across a window resize, on a terminal that re-wraps its lines when the window
narrows (most do) as on one that only grows.
"""

from __future__ import annotations

import asyncio
import io
import os
import random
import signal

import pyte
import pytest
from rich.console import Console, Group
from rich.text import Text

from agent import events as ev
from agent.cli.chat import live_area
from agent.cli.chat.markdown_stream import MarkdownStream
from agent.cli.chat.markdown_view import markdown_block
from agent.cli.chat.render import Renderer, Trimmed
from tests.reflow_terminal import ReflowTerminal

ANSWER = """# Results

The run finished. Here is what it found, and what to do next.

| model | loss | accuracy |
|---|---|---|
| small | 0.41 | 0.87 |
| base | 0.33 | 0.91 |

```python
def evaluate(model, data):
    scores = []
    for batch in data:
        scores.append(model(batch))
    return sum(scores) / len(scores)
```

- data
  - 10k rows, deduplicated
  - split 90/10
- training
  1. three epochs
  2. cosine schedule

## Next steps

Push the **base** model to the Hub, then run the long evaluation overnight.
The second line of this paragraph is long enough to wrap on a narrow window, on purpose.
"""
WIDTH, HEIGHT = 100, 40


class Screen:
    """A virtual terminal reading everything written so far, scroll-back included."""

    def __init__(self, width: int = WIDTH, height: int = HEIGHT) -> None:
        self.screen = pyte.HistoryScreen(width, height, history=10_000)
        self.screen.set_mode(pyte.modes.LNM)  # a tty turns each newline into CR LF
        self.stream = pyte.Stream(self.screen)
        self.out = io.StringIO()
        self._fed = 0

    def console(self) -> Console:
        return Console(
            file=self.out,
            width=self.screen.columns,
            height=self.screen.lines,
            force_terminal=True,
            force_interactive=True,
            color_system="standard",
            highlight=False,
        )

    def sync(self) -> None:
        text = self.out.getvalue()
        self.stream.feed(text[self._fed :])
        self._fed = len(text)

    def resize(self, console: Console, width: int) -> None:
        self.sync()
        self.screen.resize(self.screen.lines, width)
        console.width = width

    def lines(self) -> list[str]:
        self.sync()
        columns = self.screen.columns
        old = [
            "".join(line[x].data for x in range(columns)).rstrip()
            for line in self.screen.history.top
        ]
        rows = [*old, *(row.rstrip() for row in self.screen.display)]
        while rows and not rows[-1]:
            rows.pop()
        return rows


class ReflowScreen(Screen):
    """The same, on a terminal that re-wraps its lines when the window narrows."""

    def __init__(self, width: int = WIDTH, height: int = HEIGHT) -> None:
        self.terminal = ReflowTerminal(width, height)
        self.stream = self.terminal  # what `sync` feeds
        self.screen = pyte.Screen(width, height)  # only its size is read
        self.out = io.StringIO()
        self._fed = 0

    def resize(self, console: Console, width: int) -> None:
        self.sync()
        self.terminal.resize(width)
        self.screen.resize(self.screen.lines, width)
        console.width = width

    def lines(self) -> list[str]:
        self.sync()
        return self.terminal.lines()


def test_the_rewrapping_terminal_counts_written_spaces_as_tmux_does():
    terminal = ReflowTerminal(100, 20)
    terminal.feed("abc" + " " * 97 + "\r\nNEXT\r\n" + "x" * 100 + "\x1b[2K\r\nLAST")
    terminal.resize(60)
    assert terminal.lines() == ["abc", "", "NEXT", "", "LAST"]
    assert (terminal.y, terminal.x) == (4, 4)


def reference(
    before: list[str], after: list[str], resize_to: int | None, kind: type[Screen] = Screen
) -> list[str]:
    """Every finished block printed once, in order, with no live area at all."""
    screen = kind()
    console = screen.console()
    for block in before:
        console.print(Group(Text(), Trimmed(markdown_block(block))))
    if resize_to:
        screen.resize(console, resize_to)
    for block in after:
        console.print(Group(Text(), Trimmed(markdown_block(block))))
    return screen.lines()


def chunkings() -> list[tuple[str, list[int]]]:
    cases = [("whole", [len(ANSWER)]), ("1-char", [1] * len(ANSWER))]
    for seed in range(4):
        rng = random.Random(seed)
        sizes, total = [], 0
        while total < len(ANSWER):
            sizes.append(rng.randint(1, 40))
            total += sizes[-1]
        cases.append((f"random-{seed}", sizes))
    return cases


def pieces(sizes: list[int]) -> list[str]:
    out, at = [], 0
    for size in sizes:
        out.append(ANSWER[at : at + size])
        at += size
    return [p for p in out if p]


async def stream(renderer: Renderer, chunks: list[str], slow: bool, on_half: object = None) -> None:
    renderer(ev.Processing(iteration=1))
    for i, chunk in enumerate(chunks):
        if i == len(chunks) // 2 and callable(on_half):
            await on_half()
        renderer(ev.AssistantChunk(content=chunk))
        if slow:
            await asyncio.sleep(0.0005)  # lets the live area's ticker draw between chunks
    renderer(ev.AssistantStreamEnd())
    renderer(ev.AssistantMessage(content=ANSWER))
    renderer.pause()


@pytest.fixture(autouse=True)
def fast_ticker(monkeypatch):
    monkeypatch.setattr(live_area, "REFRESH_PER_SECOND", 2000)


@pytest.mark.parametrize("speed", ["fast", "slow"])
@pytest.mark.parametrize(("name", "sizes"), chunkings(), ids=[c[0] for c in chunkings()])
def test_the_screen_shows_every_block_once_in_order(name, sizes, speed):
    screen = Screen()
    renderer = Renderer(screen.console())
    asyncio.run(stream(renderer, pieces(sizes), slow=speed == "slow"))
    whole = MarkdownStream()
    blocks = [*whole.feed(ANSWER), *whole.flush()]
    assert screen.lines() == reference(blocks, [], None)


@pytest.mark.parametrize(
    ("kind", "new_width"),
    [(ReflowScreen, 70), (ReflowScreen, 130), (Screen, 130)],
    ids=["rewrapping-narrower", "rewrapping-wider", "cutting-wider"],
)
@pytest.mark.parametrize(("name", "sizes"), chunkings()[1:4], ids=[c[0] for c in chunkings()[1:4]])
def test_a_resize_mid_stream_leaves_no_stale_live_lines(name, sizes, kind, new_width):
    """A terminal that cuts rows when the window narrows (pyte, xterm) has cut the
    screen already; only growing is exact there."""
    screen = kind()
    console = screen.console()
    renderer = Renderer(console)
    chunks = pieces(sizes)
    sent = "".join(chunks[: len(chunks) // 2])

    async def resize() -> None:
        renderer.live.refresh()  # the live area is on screen at the old width
        screen.resize(console, new_width)
        before = len(screen.out.getvalue())
        os.kill(os.getpid(), signal.SIGWINCH)  # as the terminal does
        for _ in range(1000):
            if len(screen.out.getvalue()) > before:
                return
            await asyncio.sleep(0)
        raise AssertionError("the resize did not redraw the live area")

    asyncio.run(stream(renderer, chunks, slow=True, on_half=resize))
    split = MarkdownStream()
    before = split.feed(sent)
    rest = MarkdownStream()
    everything = [*rest.feed(ANSWER), *rest.flush()]
    assert screen.lines() == reference(before, everything[len(before) :], new_width, kind)


def test_the_live_area_survives_concurrent_appends_and_prints():
    screen = Screen(80, 24)
    renderer = Renderer(screen.console())

    async def logger(n: int) -> None:
        for i in range(200):
            renderer(ev.ToolLog(tool_call_id=str(n), name="bash", line=f"log {n}.{i}"))
            await asyncio.sleep(0)

    async def noter() -> None:
        for i in range(50):
            renderer(ev.Notice(message=f"note {i}"))
            await asyncio.sleep(0)

    async def main() -> None:
        renderer(ev.ToolStateChange(tool_call_id="1", name="bash", state="running"))
        await asyncio.gather(*(logger(n) for n in range(8)), noter())
        renderer.pause()

    asyncio.run(main())
    lines = screen.lines()
    assert lines == [f"· note {i}" for i in range(50)]
