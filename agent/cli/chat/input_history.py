"""The chat's input history on disk (up-arrow across launches)."""

from __future__ import annotations

import os
from pathlib import Path

from prompt_toolkit.history import FileHistory

from agent.context.redact import redact


class PrivateHistory(FileHistory):
    """Readable only by its owner, and scrubbed of secrets pasted into a request."""

    def __init__(self, path: Path) -> None:
        self.path = path
        super().__init__(str(path))

    def store_string(self, string: str) -> None:
        if not self.path.exists():
            os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600))
        super().store_string(redact(string))
