"""A terminal that re-wraps its lines when the window narrows, as tmux, VTE, iTerm2 and
xterm.js do (pyte cuts them instead).

Only as much of a terminal as the chat's output needs: text, CR, LF (a tty sends CR LF),
relative cursor moves, erase in line and below; colour codes and modes are read and
ignored. A row written
to its last column and continued on the next is a soft wrap; a resize joins soft-wrapped
rows into their line and wraps the line again at the new width. Written spaces are
content, as they are in those terminals; erased cells are not.
"""

from __future__ import annotations

import re

_ESCAPE = re.compile(r"\x1b\[([0-9;?]*)([@-~])|\x1b[^\[]")


class ReflowTerminal:
    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.rows: list[list[str]] = [[]]
        self.wrapped: list[bool] = [False]  # the row goes on in the next one
        self.y = self.x = 0

    def feed(self, text: str) -> None:
        at = 0
        while at < len(text):
            if match := _ESCAPE.match(text, at):
                self._escape(match[1] or "", match[2] or "")
                at = match.end()
                continue
            char = text[at]
            if char == "\r":
                self.x = 0
            elif char == "\n":
                self._next_row()
            elif char.isprintable():
                self._put(char)
            at += 1

    def resize(self, width: int) -> None:
        """Join soft-wrapped rows into lines and wrap them again; the cursor stays on
        the character it was on."""
        lines: list[list[str]] = []
        current: list[str] = []
        cursor = (0, 0)
        for y, row in enumerate(self.rows):
            if y == self.y:
                cursor = (len(lines), len(current) + self.x)
            current += row
            if not self.wrapped[y] or y == len(self.rows) - 1:
                lines.append(current)
                current = []
        self.width, self.rows, self.wrapped = width, [], []
        for number, line in enumerate(lines):
            pieces = [line[at : at + width] for at in range(0, len(line), width)] or [[]]
            if number == cursor[0]:
                index = min(cursor[1] // width, len(pieces) - 1)
                self.y, self.x = len(self.rows) + index, cursor[1] - index * width
            self.rows += pieces
            self.wrapped += [True] * (len(pieces) - 1) + [False]

    def lines(self) -> list[str]:
        """Every row, scroll-back included, without the empty rows at the end."""
        rows = ["".join(row).rstrip() for row in self.rows]
        while rows and not rows[-1]:
            rows.pop()
        return rows

    def _put(self, char: str) -> None:
        if self.x >= self.width:  # the last column was written: wrap first
            self.wrapped[self.y] = True
            self._next_row()
        row = self.rows[self.y]
        row.extend(" " * (self.x - len(row)))
        row[self.x : self.x + 1] = [char]
        self.x += 1

    def _next_row(self) -> None:
        self.y, self.x = self.y + 1, 0
        if self.y == len(self.rows):
            self.rows.append([])
            self.wrapped.append(False)

    def _escape(self, params: str, final: str) -> None:
        count = int(params) if params.isdigit() else 1
        top = max(len(self.rows) - self.height, 0)
        if final == "A":  # cursor up, not past the top of the window
            self.y = max(top, self.y - count)
        elif final == "B":  # down, not past its bottom
            x = self.x
            for _ in range(min(count, top + self.height - 1 - self.y)):
                self._next_row()
            self.x = x
        elif final in "CD":
            self.x = max(0, min(self.width - 1, self.x + (count if final == "C" else -count)))
        elif final == "K" and params == "2":
            self.rows[self.y], self.wrapped[self.y] = [], False
        elif final in "JK" and params in ("", "0"):  # to the end of the line (J: and below)
            del self.rows[self.y][self.x :]
            self.wrapped[self.y] = False
            if final == "J":
                del self.rows[self.y + 1 :], self.wrapped[self.y + 1 :]
