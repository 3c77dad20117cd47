"""One page of a text file, at a cost that does not grow with the file.

ML data files run to gigabytes, often as one huge line (JSON) or millions of
short ones (CSV, JSONL). A page holds at most `limit` lines and `PAGE_CHARS`
characters, each line cut after `MAX_LINE_CHARS`; only a bounded window of a
line is ever held in memory, and the end of a shown line is looked for in
`COUNT_BYTES` at most. Lines before the page are skipped by counting newlines in
large chunks, and lines after it are counted up to `COUNT_BYTES` only: past
that the page says there are more, and how large the file is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO

MAX_LINE_CHARS = 2000
PAGE_CHARS = 100_000
CHUNK = 1 << 20
LINE_BYTES = MAX_LINE_CHARS * 4  # enough bytes for MAX_LINE_CHARS characters of UTF-8
COUNT_BYTES = 8 * CHUNK  # counting this many bytes past a page takes a few milliseconds


@dataclass
class Page:
    """Numbered lines from `offset` up to `last`, and what is known of the rest."""

    shown: list[str]
    last: int
    total: int  # every line when `exact`, else the lines seen so far
    exact: bool


def _skip(file: BinaryIO, count: int) -> tuple[int, bool]:
    """Move past `count` lines; returns how many were passed and whether the end came first."""
    passed, last = 0, b"\n"
    while passed < count:
        start = file.tell()
        chunk = file.read(CHUNK)
        if not chunk:
            return passed + (last != b"\n"), True  # a last line without a newline counts
        newlines = chunk.count(b"\n")
        if passed + newlines >= count:
            pos = -1
            for _ in range(count - passed):
                pos = chunk.index(b"\n", pos + 1)
            file.seek(start + pos + 1)
            return count, False
        passed += newlines
        last = chunk[-1:]
    return passed, False


def _count_rest(file: BinaryIO) -> tuple[int, bool]:
    """Lines left, counted up to COUNT_BYTES; whether the end was reached."""
    lines, read, last = 0, 0, b"\n"
    while read < COUNT_BYTES:
        chunk = file.read(CHUNK)
        if not chunk:
            return lines + (last != b"\n"), True
        lines += chunk.count(b"\n")
        read += len(chunk)
        last = chunk[-1:]
    at_end = not file.read(1)
    return lines + (at_end and last != b"\n"), at_end


def _next_line(file: BinaryIO) -> tuple[bytes, int, bool] | None:
    """The next line's first LINE_BYTES bytes, without its end; how many bytes of it were
    skipped past those; whether its end was found (looked for in COUNT_BYTES at most).
    None at the end of the file."""
    head = file.readline(LINE_BYTES)
    if not head:
        return None
    if head.endswith(b"\n"):
        return head[:-1], 0, True
    skipped = 0
    while len(head) == LINE_BYTES and skipped < COUNT_BYTES:
        rest = file.readline(CHUNK)
        if not rest:
            break
        if rest.endswith(b"\n"):
            return head, skipped + len(rest) - 1, True
        skipped += len(rest)
    return head, skipped, skipped < COUNT_BYTES


def _shown(number: int, line: str, skipped: int = 0, ended: bool = True) -> str:
    """A numbered line, cut after MAX_LINE_CHARS with a note of what was left out."""
    line = line.removesuffix("\r")
    if number == 1:
        line = line.removeprefix("\ufeff")
    if len(line) > MAX_LINE_CHARS or skipped:
        cut = line[MAX_LINE_CHARS:]
        more = (
            f"{len(cut)} more characters"
            if not skipped
            else f"{'more than ' if not ended else ''}"
            f"{len(cut.encode('utf-8', 'replace')) + skipped} more bytes"
        )
        line = f"{line[:MAX_LINE_CHARS]} [... {more} on this line]"
    return f"{number:>6}\t{line}"


def read_page(file: BinaryIO, offset: int, limit: int) -> Page:
    """Lines `offset` (1-based) onwards, within `limit` lines and PAGE_CHARS characters."""
    passed, ended = _skip(file, offset - 1)
    if ended:
        return Page([], passed, passed, True)
    shown: list[str] = []
    chars, number = 0, offset - 1
    while len(shown) < limit and chars < PAGE_CHARS:
        item = _next_line(file)
        if item is None:
            return Page(shown, number, number, True)
        number += 1
        raw, skipped, ended = item
        shown.append(_shown(number, raw.decode("utf-8", errors="replace"), skipped, ended))
        chars += len(shown[-1]) + 1
        if not ended:
            return Page(shown, number, number, False)
    rest, exact = _count_rest(file)
    return Page(shown, number, number + rest, exact)


def page_of_lines(lines: list[str], offset: int, limit: int) -> Page:
    """The same page over lines already in memory (a rendered notebook)."""
    shown: list[str] = []
    chars, last = 0, offset - 1
    for number in range(offset, len(lines) + 1):
        if len(shown) >= limit or chars >= PAGE_CHARS:
            break
        shown.append(_shown(number, lines[number - 1]))
        chars += len(shown[-1]) + 1
        last = number
    return Page(shown, last, len(lines), True)
