"""Keys typed while a turn runs: a line being written, and lines waiting to be sent.

While the engine works, no prompt reads the terminal, so the chat reads it itself:
echo off, one key at a time, Ctrl-C still a signal. What is typed shows under the
live area; Enter queues the line, to be sent when the turn ends, and Up on an empty
line takes the last queued line back to edit. Terminal replies (cursor-position
reports and other escape sequences) are dropped, never shown.

From the chat's start to its end the terminal stays quiet (no echo) whenever no
prompt owns it, so nothing typed between a turn and the next prompt, and no late
terminal reply, is ever printed raw.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import select
import sys
import termios
from collections.abc import Callable, Iterator

from rich.text import Text

from agent.wording import counted, line_count

# CSI sequences (arrows, cursor-position reports `ESC [ 12 ; 1 R`), SS3 and lone ESC pairs.
_ESCAPE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1bO.|\x1b.?")
_UP = ("\x1b[A", "\x1bOA")
_ESC_KEY = ("\x1b", "\x1b\x1b")  # the Esc key (pressed once or twice), not the start of a sequence
_PASTE_START, _PASTE_END = "\x1b[200~", "\x1b[201~"
PASTE_LINES = 20
# Keys that follow an Enter this closely were not typed by a hand: a paste. The
# `paste_gap_s` setting widens it for a link that delivers a paste in slow pieces.
_paste_gap_s = 0.03


def set_paste_gap(seconds: float) -> None:
    """The chat's paste gap, from the settings, for every read of the terminal."""
    global _paste_gap_s
    _paste_gap_s = seconds


def more_input(fd: int, within: float | None = None) -> bool:
    """Whether more keys arrive on `fd` within `within` seconds (the paste gap)."""
    if within is None:
        within = _paste_gap_s
    try:
        return bool(select.select([fd], [], [], within)[0])
    except (OSError, ValueError):
        return False


def placeholder(text: str) -> str:
    return f"[pasted {counted(line_count(text), 'line')}]"


class Pastes:
    """Long pastes shown as `[pasted N lines]` and put back whole when the line is sent."""

    def __init__(self) -> None:
        self._held: list[tuple[str, str]] = []

    def hold(self, text: str) -> str:
        """What to show for `text`: itself, or a placeholder when it is long."""
        if line_count(text) <= PASTE_LINES:
            return text
        shown = placeholder(text)
        self._held.append((shown, text))
        return shown

    def expand(self, line: str) -> str:
        for shown, text in self._held:
            line = line.replace(shown, text, 1)
        self._held.clear()
        return line


class TypeAhead:
    """The line being typed during a turn and the lines queued behind it."""

    def __init__(
        self,
        on_change: Callable[[], None] = lambda: None,
        on_clear: Callable[[], None] = lambda: None,
        on_escape: Callable[[], None] = lambda: None,
    ) -> None:
        self.line = ""
        self.queued: list[str] = []
        self.pastes = Pastes()
        self._on_change = on_change
        self._on_clear = on_clear  # Ctrl-L: the screen is cleared, as at the prompt
        self._on_escape = on_escape  # Esc alone: stop the turn, as in Claude Code and Codex
        self._pasting: list[str] | None = None
        self.on_hangup: Callable[[], None] = lambda: None  # the terminal went away
        self.on_input: Callable[[], None] = lambda: None  # a key was pressed

    def feed(self, data: str) -> None:
        self.on_input()
        rest = data
        while rest:
            if self._pasting is not None:
                end = rest.find(_PASTE_END)
                self._pasting.append(rest if end < 0 else rest[:end])
                if end < 0:
                    break
                text = "".join(self._pasting).replace("\r\n", "\n").replace("\r", "\n")
                self._pasting = None
                self.line += self.pastes.hold(text)
                rest = rest[end + len(_PASTE_END) :]
                continue
            if rest.startswith(_PASTE_START):
                self._pasting, rest = [], rest[len(_PASTE_START) :]
                continue
            if match := _ESCAPE.match(rest):
                if match.group() in _UP:
                    self._recall()
                elif match.group() in _ESC_KEY:
                    self._on_escape()
                rest = rest[match.end() :]
                continue
            self._key(rest[0], more=len(rest) > 1)
            rest = rest[1:]
        self._on_change()

    def _key(self, key: str, more: bool) -> None:
        if key in "\r\n" and more:  # keys right behind it came in the same read: a paste
            self.line += "\n"
        elif key in "\r\n":
            if self.line.strip():
                self.queued.append(self.pastes.expand(self.line))
            self.line = ""
        elif key in "\x7f\x08":
            self.line = self.line[:-1]
        elif key == "\x15":  # Ctrl-U
            self.line = ""
        elif key == "\x17":  # Ctrl-W: the word before the cursor
            self.line = re.sub(r"\S*\s*$", "", self.line, count=1)
        elif key == "\x0c":
            self._on_clear()
        elif key.isprintable() or key == "\t":
            self.line += key

    def _recall(self) -> None:
        """Up on an empty line: the last queued line comes back to be edited."""
        if not self.line and self.queued:
            self.line = self.queued.pop()

    def take(self) -> list[str]:
        """The queued lines, oldest first; the queue is empty after."""
        queued, self.queued = self.queued, []
        return queued

    def unsent(self) -> str:
        """The line typed but not yet sent, long pastes put back."""
        line, self.line = self.line, ""
        return self.pastes.expand(line) if line else ""

    def view(self) -> list[Text]:
        lines = [Text.assemble(("queued: ", "cyan"), one_line(q)) for q in self.queued]
        if self.line:
            lines.append(Text.assemble(("› ", "bold"), one_line(self.line), ("▏", "dim")))
        elif lines:
            lines[-1].append("  (↑ to edit)", "dim")
        return lines


def one_line(text: str) -> str:
    return (
        text
        if "\n" not in text
        else f"{text.splitlines()[0]} … [{counted(line_count(text), 'line')}]"
    )


def _quiet(attrs: list) -> list:
    """Echo and line editing off, one key at a time; signals stay on."""
    quiet = list(attrs)
    quiet[3] &= ~(termios.ECHO | termios.ICANON)
    quiet[6] = list(quiet[6])
    quiet[6][termios.VMIN], quiet[6][termios.VTIME] = 1, 0
    return quiet


@contextlib.contextmanager
def quiet_terminal() -> Iterator[None]:
    """The chat's whole run: no echo whenever no prompt owns the terminal (a prompt sets
    its own mode and puts this one back); the terminal as it was, at the end."""
    try:
        fd = sys.stdin.fileno()
        saved = termios.tcgetattr(fd)
        termios.tcsetattr(fd, termios.TCSANOW, _quiet(saved))
    except (OSError, ValueError, termios.error):
        yield
        return
    try:
        yield
    finally:
        with contextlib.suppress(OSError, termios.error):
            termios.tcsetattr(fd, termios.TCSANOW, saved)


@contextlib.contextmanager
def reading(typeahead: TypeAhead) -> Iterator[None]:
    """Read the terminal into `typeahead` while the block runs (a turn, a command).

    An Enter that ends a read is held back a moment: keys right behind it make it a
    line break in a paste, not a send; so is an ESC, which alone is the Esc key. Not a
    terminal: nothing is read.
    """
    try:
        fd = sys.stdin.fileno()
        termios.tcsetattr(fd, termios.TCSANOW, _quiet(termios.tcgetattr(fd)))
        loop = asyncio.get_running_loop()
    except (OSError, ValueError, termios.error, RuntimeError):
        yield
        return

    def readable() -> None:
        try:
            data = os.read(fd, 65536)
            # an ESC that ends a read may start a key's sequence split across reads
            while data[-1:] in (b"\r", b"\n", b"\x1b") and more_input(fd):
                data += os.read(fd, 65536)
        except OSError:  # EIO: the terminal hung up (its window was closed)
            data = b""
        if not data:  # nothing will ever come again: stop watching, and say so
            loop.remove_reader(fd)
            typeahead.on_hangup()
            return
        typeahead.feed(data.decode("utf-8", errors="replace"))

    loop.add_reader(fd, readable)
    global _paused_reader
    _paused_reader = (fd, readable)
    try:
        yield
    finally:
        _paused_reader = None
        loop.remove_reader(fd)


_paused_reader: tuple[int, Callable[[], None]] | None = None


def take_pending(typeahead: TypeAhead) -> None:
    """Keys typed while nothing read the terminal (the chat was starting, a turn had
    just ended) go to `typeahead`, as if read during a turn: an Enter among them sends
    its line, instead of reaching the prompt in one piece that looks like a paste."""
    try:
        fd = sys.stdin.fileno()
        if not os.isatty(fd):
            return
        data = b""
        while more_input(fd, 0):
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            data += chunk
        while data[-1:] in (b"\r", b"\n") and more_input(fd):
            data += os.read(fd, 65536)
    except (OSError, ValueError):  # no terminal, or it hung up: the prompt will say so
        return
    if data:
        typeahead.feed(data.decode("utf-8", errors="replace"))


@contextlib.contextmanager
def paused() -> Iterator[None]:
    """Hand the terminal to a prompt for a moment (an approval, a pasted key)."""
    active = _paused_reader
    if active is None:
        yield
        return
    fd, readable = active
    loop = asyncio.get_running_loop()
    loop.remove_reader(fd)
    try:
        yield
    finally:
        loop.add_reader(fd, readable)
