"""Text from a model, a tool, a server or a project's files, made safe to put on a terminal.

An answer or a command's output may hold escape codes: clearing the screen, moving the
cursor over what is shown, retitling the window, switching to the alternate screen.
Shown as caret notation (`^[` for ESC) they can do none of that, and the person sees
that something odd was there. Bidirectional controls (U+202A-202E, U+2066-2069) would
show text in another order than it runs, so they are spelled out too (`\\u202e`).

`visible` keeps newlines and tabs, for text that has lines of its own. `quoted` is for a
single thing quoted from a project (a command, a name, a path, a variable name): there a
newline could forge a line of our own and an invisible character could make two names
look alike, so everything Python does not count as printable is spelled out.
"""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def visible(text: str) -> str:
    """`text` with every control character but newline and tab spelled out (`text`
    itself when it has none)."""
    if not _CONTROL.search(text):
        return text
    return _CONTROL.sub(_spelled, text)


def quoted(text: str, keep: str = "") -> str:
    """`text` with every character that is not printable (controls, newline and tab
    included unless in `keep`; format characters such as zero-width and bidirectional
    ones; line and paragraph separators; spaces other than the plain one) spelled out."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() or c in keep else _spell(c) for c in text)


def _spelled(match: re.Match[str]) -> str:
    return _spell(match[0])


def _spell(char: str) -> str:
    code = ord(char)
    if code < 0x20:
        return "^" + chr(code + 0x40)
    if code == 0x7F:
        return "^?"
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"
