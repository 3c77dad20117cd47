"""A command's output, drained as fast as it comes and kept in bounded memory.

A thread of its own reads the pipe, so a command never waits on the agent: not on
the front ends drawing its output, not on a slow reader of stream-json, not on a
busy event loop. The thread only counts and copies bytes. It keeps:

- the head and the tail of the output, for the model, with the number of lines and
  bytes between them;
- a live window that the event loop takes at most every `LIVE_EVERY_S` and sends to
  the front ends as one chunk of whole lines. A progress bar (redrawn with `\r`)
  shows its latest state once a second as a last line that starts with `\r`. The
  next chunk starts its first line with `\r` too when that line is the bar's later
  state (redrawn, or finished by a newline or the end of the command): it replaces
  the bar, never adds a second copy of it. When output comes faster than
  `LIVE_BYTES` per interval, the older part of the window is dropped and counted,
  so a flood costs the agent a few events a second, whatever its size.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import re
import selectors
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from agent.tools.spec import LogSink, send_log

READ_SIZE = 1 << 20
PIPE_SIZE = 1 << 20
LIVE_EVERY_S = 0.05
LIVE_BYTES = 64 * 1024
KEEP_BYTES = 64 * 1024
PROGRESS_EVERY_S = 1.0
MARKER_ROOM = 100

# Where the head and the tail of the output meet; the chat reads the count back.
OMITTED = "[... {lines:,} lines ({size:,} bytes) omitted ...]"
_OMITTED = re.compile(r"\[\.\.\. ([\d,]+) lines \([\d,]+ bytes\) omitted \.\.\.\]")
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)")


def omitted_lines(line: str) -> int | None:
    """The number of lines an `OMITTED` marker stands for; None for any other line."""
    match = _OMITTED.fullmatch(line)
    return int(match[1].replace(",", "")) if match else None


def clean_line(line: str) -> str:
    """A line as a terminal would finally show it: no colour codes, `\\r` redraws applied."""
    if "\x1b" not in line and "\r" not in line:
        return line
    line = _ANSI.sub("", line).rstrip("\r")
    return line.rsplit("\r", 1)[-1]


def clean_lines(text: str) -> str:
    """`clean_line` over many lines, without a Python call per line when there is no `\\r`."""
    text = _ANSI.sub("", text)
    if "\r" not in text:
        return text
    return "\n".join(line.rstrip("\r").rsplit("\r", 1)[-1] for line in text.split("\n"))


def widen_pipe(fd: int) -> None:
    """A larger pipe (Linux) means fewer wake-ups for the writer and the reader."""
    setter = getattr(fcntl, "F_SETPIPE_SZ", None)
    if setter is not None:
        with contextlib.suppress(OSError):
            fcntl.fcntl(fd, setter, PIPE_SIZE)


class _Recent:
    """The last `keep` bytes (or a little more) of a stream, as the chunks that came.

    Holding the chunks instead of copying them into one buffer keeps the reader's
    work per chunk constant, however fast the output comes.
    """

    def __init__(self, keep: int) -> None:
        self.keep = keep
        self.chunks: deque[bytes] = deque()
        self.size = 0
        self.dropped = False  # older bytes were let go

    def add(self, data: memoryview) -> None:
        """Copy in the part of `data` that may be kept (never more than `keep` bytes)."""
        if len(data) >= self.keep:
            self.dropped = self.dropped or self.size > 0 or len(data) > self.keep
            self.chunks.clear()
            self.chunks.append(bytes(data[-self.keep :]))
            self.size = self.keep
            return
        self.chunks.append(bytes(data))
        self.size += len(data)
        while self.size - len(self.chunks[0]) >= self.keep:
            self.size -= len(self.chunks.popleft())
            self.dropped = True

    def take(self) -> bytes:
        data = b"".join(self.chunks)
        self.chunks.clear()
        self.size = 0
        return data


class _Kept:
    """The first and the last `KEEP_BYTES` of the output, and how much there was."""

    def __init__(self) -> None:
        self.head = bytearray()
        self.tail = _Recent(KEEP_BYTES)
        self.total_bytes = 0
        self.newlines = 0

    def add(self, data: memoryview, newlines: int) -> None:
        self.total_bytes += len(data)
        self.newlines += newlines
        room = KEEP_BYTES - len(self.head)
        if room > 0:
            self.head += data[:room]
            data = data[room:]
        if data:
            self.tail.add(data)

    def summary(self, limit: int) -> str:
        """Head and tail within `limit` characters, with what lies between them counted.

        Lines cut by the edges of what was kept are shown in part (a progress line or
        a minified file may be one line of megabytes).
        """
        head_budget = limit * 2 // 3
        tail_budget = limit - head_budget - MARKER_ROOM
        tail_bytes = b"".join(self.tail.chunks)
        if len(self.head) + len(tail_bytes) == self.total_bytes:
            lines = _split(bytes(self.head) + tail_bytes)
            head = _take(lines, head_budget)
            tail = _take(reversed(lines[len(head) :]), tail_budget)[::-1]
            omitted_lines = len(lines) - len(head) - len(tail)
        else:
            head_lines, tail_lines = _split(bytes(self.head)), _split(tail_bytes)
            head = _take(head_lines, head_budget)
            tail = _take(reversed(tail_lines), tail_budget)[::-1]
            between = self.newlines - self.head.count(b"\n") - tail_bytes.count(b"\n")
            head_line_goes_on = between > 0 and not self.head.endswith(b"\n")
            omitted_lines = len(head_lines) - len(head) + len(tail_lines) - len(tail)
            omitted_lines += between - head_line_goes_on
        omitted_bytes = self.total_bytes - sum(size for size, _ in head + tail)
        shown = [text for _, text in head]
        if omitted_bytes:
            shown.append(OMITTED.format(lines=omitted_lines, size=omitted_bytes))
        return "\n".join(shown + [text for _, text in tail])


def _split(data: bytes) -> list[tuple[bytes, int]]:
    """The lines of `data` with their size in bytes, newline included where there is one."""
    parts = data.split(b"\n")
    last = parts.pop()
    lines = [(part, len(part) + 1) for part in parts]
    return [*lines, (last, len(last))] if last else lines


def _take(lines: Iterable[tuple[bytes, int]], budget: int) -> list[tuple[int, str]]:
    """(size in bytes, cleaned text) of lines from the front while the characters taken
    so far are under `budget`; only those lines are decoded."""
    taken: list[tuple[int, str]] = []
    used = 0
    for raw, size in lines:
        if used >= budget:
            break
        text = clean_line(raw.decode("utf-8", errors="replace"))
        taken.append((size, text))
        used += len(text) + 1
    return taken


@dataclass
class LiveChunk:
    text: str
    omitted_lines: int


class _LiveWindow:
    """What came since the front ends were last shown something, at most `LIVE_BYTES`."""

    def __init__(self) -> None:
        self.recent = _Recent(LIVE_BYTES)
        self.newlines = 0
        self.last_progress = 0.0
        self.bar_shown = False  # the last line sent was a bar's state, still being redrawn

    def add(self, data: memoryview, newlines: int) -> None:
        self.recent.add(data)
        self.newlines += newlines

    def take(self, final: bool) -> LiveChunk | None:
        """The whole lines of the window (and a progress bar's latest redraw now and then)."""
        ragged, self.recent.dropped = self.recent.dropped, False
        data = self.recent.take()
        if len(data) > LIVE_BYTES:
            data, ragged = data[-LIVE_BYTES:], True
        start = data.find(b"\n") + 1 if ragged else 0  # drop a line cut at its start
        end = data.rfind(b"\n") + 1
        if final or len(data) - end >= LIVE_BYTES:
            end = len(data)  # the last line, or one too long to wait for
        raw = data[start:end] if end > start else b""
        shown = raw.count(b"\n")
        omitted, self.newlines = max(0, self.newlines - shown), 0
        rest = data[max(start, end) :]
        if rest:
            self.recent.add(memoryview(rest))
        text = clean_lines(raw.decode("utf-8", errors="replace")).removesuffix("\n")
        if raw and self.bar_shown and not ragged:
            text = "\r" + text  # the bar's line goes on here: it replaces the bar
        if raw:
            self.bar_shown = False
        if progress := self._progress(rest):
            # "\r" first, as the command wrote it: the next redraw replaces this line
            text = f"{text}\n\r{progress}" if text else f"\r{progress}"
            self.bar_shown = True
        return LiveChunk(text, omitted) if text or omitted else None

    def _progress(self, rest: bytes) -> str:
        """Progress bars redraw with `\\r` and never end a line: show the latest, once a second."""
        cr = rest.rfind(b"\r", 0, len(rest) - 1)
        if cr < 0 or time.monotonic() - self.last_progress < PROGRESS_EVERY_S:
            return ""
        self.last_progress = time.monotonic()
        self.recent.take()
        self.recent.add(memoryview(rest)[cr:])
        return clean_line(rest.decode("utf-8", errors="replace"))


class OutputReader:
    """Drains a pipe on a thread; the event loop streams the live window and waits for the end."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._loop = asyncio.get_running_loop()
        self._lock = threading.Lock()
        self._kept = _Kept()
        self._live = _LiveWindow()
        self._news = asyncio.Event()
        self._announced = False
        self._finished = asyncio.Event()
        self._stopping = False
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(fd, False)
        self._thread = threading.Thread(target=self._drain, name="bash-output", daemon=True)
        self._thread.start()

    def summary(self, limit: int) -> str:
        """What the model gets: head, tail and a count of what lies between."""
        with self._lock:
            return self._kept.summary(limit)

    async def stream(self, log: LogSink) -> None:
        """Send the live window to `log` at most every `LIVE_EVERY_S`, until cancelled."""
        while True:
            await self._news.wait()
            self._news.clear()
            await asyncio.sleep(LIVE_EVERY_S)
            self.send_live(log, final=False)

    def send_live(self, log: LogSink, final: bool) -> None:
        with self._lock:
            chunk = self._live.take(final)
            self._announced = False
        if chunk is not None:
            send_log(log, chunk.text, chunk.omitted_lines)

    async def finished(self, within: float) -> bool:
        """Whether the pipe reached its end within `within` seconds; if not, stop reading:
        processes left running may hold it open forever."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._finished.wait(), within)
        if not self._finished.is_set():
            self._stopping = True
            os.write(self._wake_w, b"x")
        await asyncio.to_thread(self._thread.join)
        os.close(self._wake_r)
        os.close(self._wake_w)
        return not self._stopping

    def _drain(self) -> None:
        """Read until the end of the pipe (or a stop), into one buffer reused for every read."""
        buffer = bytearray(READ_SIZE)
        view = memoryview(buffer)
        selector = selectors.DefaultSelector()
        try:
            selector.register(self._fd, selectors.EVENT_READ)
            selector.register(self._wake_r, selectors.EVENT_READ)
            while not self._stopping:
                try:
                    size = os.readv(self._fd, [buffer])
                except BlockingIOError:
                    selector.select()
                    continue
                if not size:
                    break
                self._add(view[:size], buffer.count(b"\n", 0, size))
        finally:
            selector.close()
            os.close(self._fd)
            self._call_loop(self._finished.set)

    def _add(self, data: memoryview, newlines: int) -> None:
        with self._lock:
            self._kept.add(data, newlines)
            self._live.add(data, newlines)
            announce, self._announced = not self._announced, True
        if announce:
            self._call_loop(self._news.set)

    def _call_loop(self, callback: Callable[[], object]) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is gone: nobody is waiting
            self._loop.call_soon_threadsafe(callback)
