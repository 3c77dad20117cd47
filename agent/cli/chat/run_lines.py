"""The active background runs above the prompt while the chat waits for the person.

During a turn each run has its line under the spinner; at the prompt the same lines sit
just above the input line (part of the prompt's message, so every terminal shows them),
redrawn when the engine sends where the runs stand: at most twice a second, and at once
when one ends. A line that was sent leaves them out: the scrollback keeps only what
was typed.
"""

from __future__ import annotations

from typing import Any

from prompt_toolkit import PromptSession
from prompt_toolkit.application.current import get_app
from prompt_toolkit.formatted_text import FormattedText

from agent.cli.run_views import live_line


class RunLines:
    """Keeps the run lines, and the prompt's message showing them."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self._prompt: PromptSession[str] | None = None
        self._message: Any = ""

    def attach(self, prompt: PromptSession[str]) -> None:
        self._prompt = prompt
        self._message = prompt.message
        prompt.message = self.message

    def update(self, runs: list[dict[str, Any]]) -> None:
        """Where the active runs stand now (none: the lines go)."""
        self.lines = [live_line(run) for run in runs]
        prompt = self._prompt
        if prompt is not None and prompt.app.is_running:
            prompt.app.invalidate()

    def message(self) -> FormattedText:
        """The prompt's own message, with the run lines above it while it is open."""
        fragments = [("", self._message)] if isinstance(self._message, str) else self._message
        if not self.lines or get_app().is_done:
            return FormattedText(fragments)
        above = "".join(f"  {line}\n" for line in self.lines)
        return FormattedText([("ansicyan", above), *fragments])
