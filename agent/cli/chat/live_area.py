"""The bottom of the screen while a turn runs, drawn by the one writer on the event loop."""

from __future__ import annotations

import asyncio
import signal
import time
from collections import deque
from collections.abc import Callable

from rich.console import (
    Console,
    ConsoleOptions,
    ConsoleRenderable,
    Group,
    RenderableType,
    RenderHook,
    RenderResult,
)
from rich.control import Control, ControlType
from rich.segment import Segment
from rich.spinner import Spinner
from rich.text import Text

from agent.cli.chat.markdown_stream import MarkdownStream
from agent.cli.chat.markdown_view import code_block, markdown_block

LOG_TAIL_LINES = 4
REFRESH_PER_SECOND = 10


class LiveArea(RenderHook):
    """The bottom of the screen while a turn runs: open answer tail, tool log, spinner.

    One writer draws the terminal, on the event loop: the area is a render hook of
    the console, so anything printed while it shows goes above it (the area is erased
    first and drawn again after, in one write), and a ticker task on the loop redraws
    it for the spinner. No thread ever writes, so printed blocks never interleave.
    """

    def __init__(self, console: Console, stream: MarkdownStream) -> None:
        self.console = console
        self.stream = stream
        self.log: deque[str] = deque(maxlen=LOG_TAIL_LINES)
        # Text, not str: a str would load the markup parser on the start-up path
        self._spinner = Spinner("dots", text=Text(), style="cyan")
        self._label = ""
        self._progress = ""
        self._since = 0.0
        self._showing_tail = False
        self._render = LiveRows()
        self._active = False
        self._ticker: asyncio.Task[None] | None = None
        self.footer: Callable[[], list[Text]] = list  # what the person types meanwhile
        self.status_line = ""  # above the spinner: the goal being worked toward
        self.runs: list[str] = []  # one line per active background run

    def spin(self, label: str) -> None:
        if label != self._label:
            self._label, self._since, self._progress = label, time.monotonic(), ""
        self._start()

    def progress(self, text: str) -> None:
        """A short progress note after the spinner's label ("42% · step 3/8")."""
        self._progress = text
        self.refresh()

    def stop_spinner(self) -> None:
        self._label = ""
        self._progress = ""
        self.log.clear()

    def show_tail(self, on: bool) -> None:
        self._showing_tail = on
        if on:
            self._start()

    def refresh(self) -> None:
        """Draw the area again (a print with nothing above it)."""
        if self._active:
            self.console.print(Control())

    def touch(self) -> None:
        """Show the area now, with whatever it holds (typed keys at least)."""
        self._start()
        self.refresh()

    def clear_screen(self) -> None:
        """Ctrl-L during a turn: the screen is cleared and the area drawn again at its top."""
        if not self._active:
            return
        self._render = LiveRows()  # nothing left on screen to erase
        self.console.control(Control.clear(), Control.home())
        self.refresh()

    def pause(self) -> None:
        """Erase the live area so a prompt can take the screen."""
        if not self._active:
            return
        self._active = False
        if self._ticker is not None:
            self._ticker.cancel()
            self._ticker = None
        _watch_resize(None)
        self.console.pop_render_hook()
        self.console.control(self._render.erase(self.console.width))
        self._render = LiveRows()
        self.console.show_cursor(True)

    def process_renderables(self, renderables: list[ConsoleRenderable]) -> list[ConsoleRenderable]:
        """Erase the area, print what was asked, draw the area again: one write."""
        erase = self._render.erase(self.console.width)
        self._render.renderable = self._view()
        return [erase, *renderables, self._render]

    def _start(self) -> None:
        if self._active:
            return
        self._active = True
        self.console.show_cursor(False)
        self.console.push_render_hook(self)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # drawn by hand (tests, a synchronous caller)
            loop = None
        if loop is not None:
            self._ticker = loop.create_task(self._tick(), name="live-area")
            _watch_resize(self.refresh)
        self.refresh()

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(1 / REFRESH_PER_SECOND)
            self.refresh()

    def _view(self) -> RenderableType:
        parts: list[RenderableType] = []
        height = max(4, self.console.height - LOG_TAIL_LINES - 3)
        if self._showing_tail:
            tail, language = self.stream.tail(height)
            if language is not None:
                parts += [Text(), code_block(tail, language)]
            elif tail:
                parts += [Text(), markdown_block(tail)]  # the blank line the printed block gets
        parts.extend(
            Text(line.lstrip("\r"), style="dim", no_wrap=True, overflow="ellipsis")
            for line in list(self.log)
        )
        if self.status_line:
            parts.append(Text(self.status_line, style="cyan", no_wrap=True, overflow="ellipsis"))
        if self._label:
            elapsed = time.monotonic() - self._since
            progress = f" · {self._progress}" if self._progress else ""
            label = f"{self._label}{progress} ({elapsed:.0f}s · Ctrl-C to stop)"
            self._spinner.update(text=Text(label))
            parts.append(self._spinner)
        parts.extend(
            Text(f"  {line}", style="cyan", no_wrap=True, overflow="ellipsis") for line in self.runs
        )
        parts.extend(self.footer())
        return Group(*parts) if parts else Text()


class LiveRows:
    """The live area as drawn: its renderable, and the width of every row written.

    Terminals that re-wrap lines when the window narrows (tmux, VTE, iTerm2, kitty,
    xterm.js) turn a row of w cells into ceil(w / width) rows, written trailing spaces
    included, so the erase counts rows at the width the window has now. A terminal
    that cuts rows instead loses as many rows above the area; it cut them already.
    """

    def __init__(self) -> None:
        self.renderable: RenderableType = Text()
        self._widths: list[int] = []

    def erase(self, width: int) -> Control:
        """Back to the area's first row, erasing every row on the way."""
        rows = sum(max(1, -(-cells // max(1, width))) for cells in self._widths)
        if not rows:
            return Control()
        up = ((ControlType.CURSOR_UP, 1), (ControlType.ERASE_IN_LINE, 2)) * (rows - 1)
        return Control(ControlType.CARRIAGE_RETURN, (ControlType.ERASE_IN_LINE, 2), *up)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        lines = console.render_lines(self.renderable, options, pad=False)
        lines = lines[-options.size.height :]  # taller than the window: the newest rows
        self._widths = [Segment.get_line_length(line) for line in lines]
        for i, line in enumerate(lines):
            if i:
                yield Segment.line()
            yield from line


def _watch_resize(redraw: Callable[[], None] | None) -> None:
    """A resized window gets the live area erased and drawn again at once, at its new width."""
    try:
        loop = asyncio.get_running_loop()
        if redraw is None:
            loop.remove_signal_handler(signal.SIGWINCH)
        else:
            loop.add_signal_handler(signal.SIGWINCH, redraw)
    except (RuntimeError, ValueError, NotImplementedError):
        pass  # no loop, or not the main thread: redrawn on the next tick instead
