"""Tab completion of `@path` in the chat: the files and folders of the folder typed so far."""

from __future__ import annotations

import os
import re
from pathlib import Path

_TYPED = re.compile(r"(?:^|\s)@([^\s@:]*)$")
MAX_CHOICES = 50  # a folder of thousands offers the first ones; typing more narrows it


def mention_completions(cwd: Path, before_cursor: str) -> list[tuple[str, int, str]]:
    """(text, start offset, description) for an `@path` being typed; folders end in `/`
    so Tab goes on into them. Hidden names are offered once a `.` is typed."""
    match = _TYPED.search(before_cursor)
    if match is None:
        return []
    typed = match.group(1)
    head, slash, prefix = typed.rpartition("/")
    head += slash
    folder = cwd / Path(head).expanduser() if head else cwd
    choices = []
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                name = entry.name
                if not name.startswith(prefix) or (name.startswith(".") and not prefix):
                    continue
                is_dir = entry.is_dir()
                choices.append((f"@{head}{name}{'/' if is_dir else ''}", is_dir))
    except OSError:
        return []
    choices.sort()
    return [
        (text, -len(typed) - 1, "folder" if is_dir else "file")
        for text, is_dir in choices[:MAX_CHOICES]
    ]
