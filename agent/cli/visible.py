"""Text from a model, a tool or a server, made safe to put on a terminal.

An answer or a command's output may hold escape codes: clearing the screen, moving the
cursor over what is shown, retitling the window, switching to the alternate screen.
Shown as caret notation (`^[` for ESC) they can do none of that, and the person sees
that something odd was there. Newlines and tabs stay.
"""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def visible(text: str) -> str:
    """`text` with every control character but newline and tab spelled out (`text`
    itself when it has none)."""
    if not _CONTROL.search(text):
        return text
    return _CONTROL.sub(_spelled, text)


def _spelled(match: re.Match[str]) -> str:
    code = ord(match[0])
    if code < 0x20:
        return "^" + chr(code + 0x40)
    return "^?" if code == 0x7F else f"\\x{code:02x}"
