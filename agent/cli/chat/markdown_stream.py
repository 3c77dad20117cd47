"""Streamed Markdown cut into blocks: each block is rendered once, when it is complete.

A block ends with a blank line after a paragraph or list, a closing code fence or a
heading; only the open tail changes while chunks arrive, so the work per chunk stays
constant and rendering grows linearly with the answer.
"""

from __future__ import annotations

import re

_FENCE = re.compile(r"^\s*(`{3,}|~{3,})\s*([\w+#.-]*)")
_HEADING = re.compile(r"^ {0,3}#{1,6}(\s|$)")


class MarkdownStream:
    """Cuts streamed Markdown into finished blocks and one open tail.

    A blank line ends a block unless the next line is indented (a list item
    going on). Fenced code ends at its closing fence and never splits inside.
    """

    def __init__(self) -> None:
        self._lines: list[str] = []
        self._partial: list[str] = []
        self._fence = ""
        self._fence_at = 0
        self._language = ""
        self._blank_pending = False

    def feed(self, text: str) -> list[str]:
        """Take one chunk; return the blocks it completed."""
        if "\n" not in text:
            self._partial.append(text)
            return []
        head, *middle, rest = text.split("\n")
        self._partial.append(head)
        lines = ["".join(self._partial), *middle]
        self._partial = [rest] if rest else []
        blocks: list[str] = []
        for line in lines:
            blocks.extend(self._line(line))
        return blocks

    def flush(self) -> list[str]:
        """Whatever is left, as the last blocks of the answer (a last line without a
        newline may still start a block of its own)."""
        blocks: list[str] = []
        if self._partial:
            blocks = self._line("".join(self._partial))
            self._partial = []
        last = self._take()
        return [*blocks, last] if last else blocks

    def tail(self, max_lines: int) -> tuple[str, str | None]:
        """The open block's last lines, and the code language when inside a fence.

        Bounded, so redrawing the tail costs the same however long the block grows.
        """
        start = len(self._lines) - max_lines
        if self._fence:
            start = max(start, self._fence_at + 1)
        lines = self._lines[max(start, 0) :]
        if self._partial:
            gap = [""] if self._blank_pending else []  # a new paragraph is arriving
            lines = [*lines, *gap, "".join(self._partial)]
        return "\n".join(lines), (self._language or "text") if self._fence else None

    def _line(self, line: str) -> list[str]:
        if self._fence:
            self._lines.append(line)
            stripped = line.strip()
            if stripped.startswith(self._fence) and not stripped.strip(self._fence[0]):
                return [self._take()]
            return []
        if not line.strip():
            self._blank_pending = bool(self._lines)
            return []
        done: list[str] = []
        fence = _FENCE.match(line)
        starts_block = self._blank_pending or fence or _HEADING.match(line)
        if self._lines and starts_block and not line[:1].isspace():
            done.append(self._take())
        elif self._blank_pending:
            self._lines.append("")
        self._blank_pending = False
        if fence:
            self._fence, self._fence_at, self._language = fence[1], len(self._lines), fence[2]
        elif _HEADING.match(line) and not self._lines:
            return [*done, line]
        self._lines.append(line)
        return done

    def _take(self) -> str:
        block = "\n".join(self._lines).strip("\n")
        self._lines, self._fence, self._blank_pending = [], "", False
        return block
