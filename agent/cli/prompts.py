"""The chat's prompts: the main input line, one-key answers, and quiet keys between them."""

from __future__ import annotations

import contextlib
import sys
import termios
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from prompt_toolkit import PromptSession
from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent
from prompt_toolkit.patch_stdout import patch_stdout

from agent.cli.history import PrivateHistory
from agent.config import data_home

# text before the cursor -> (completion, start position, description)
Completions = Callable[[str], Iterable[tuple[str, int, str]]]


async def ask_once(prompt: PromptSession[str], message: str, **kwargs: Any) -> str | None:
    """One answer; None when the person presses Ctrl-C or Ctrl-D instead."""
    try:
        with patch_stdout(raw=True):
            return await prompt.prompt_async(message, handle_sigint=False, **kwargs)
    except (KeyboardInterrupt, EOFError):
        return None


@contextlib.contextmanager
def keys_silenced() -> Iterator[None]:
    """Between prompts, typed keys wait for the next prompt instead of garbling the output.

    Only echo is turned off: Ctrl-C still arrives as SIGINT.
    """
    try:
        fd = sys.stdin.fileno()
        saved = termios.tcgetattr(fd)
    except (OSError, ValueError, termios.error):
        yield
        return
    quiet = list(saved)
    quiet[3] &= ~termios.ECHO
    termios.tcsetattr(fd, termios.TCSANOW, quiet)
    try:
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSANOW, saved)


class _SlashCompleter(Completer):
    def __init__(self, complete: Completions) -> None:
        self.complete = complete

    def get_completions(self, document: Document, complete_event: CompleteEvent) -> Any:
        for text, start, meta in self.complete(document.text_before_cursor):
            yield Completion(text, start_position=start, display_meta=meta)


def main_prompt(complete: Completions) -> PromptSession[str]:
    """Enter sends; Alt-Enter / Esc-Enter adds a line; Ctrl-C clears a line, or quits."""
    bindings = KeyBindings()

    @bindings.add("escape", "enter")
    def _newline(event: KeyPressEvent) -> None:
        event.current_buffer.insert_text("\n")

    @bindings.add("c-c")
    def _ctrl_c(event: KeyPressEvent) -> None:
        if event.current_buffer.text:
            event.current_buffer.reset()
        else:
            event.app.exit(exception=KeyboardInterrupt())

    history = data_home() / "history"
    history.parent.mkdir(parents=True, exist_ok=True)
    return PromptSession(
        "› ",
        history=PrivateHistory(history),
        completer=_SlashCompleter(complete),
        complete_while_typing=True,
        reserve_space_for_menu=4,
        key_bindings=bindings,
        prompt_continuation="  ",
    )


def choice_keys() -> KeyBindings:
    """One key answers an approval; the answer stays on screen as a word."""
    return one_key({"y": "yes", "n": "no", "a": "always", "f": "feedback"})


def one_key(words: dict[str, str]) -> KeyBindings:
    """Each key (either case) answers at once with itself, shown as its word; other keys
    are not answers."""
    bindings = KeyBindings()
    for key, word in words.items():
        for pressed in (key, key.upper()):

            @bindings.add(pressed)
            def _answer(event: KeyPressEvent, key: str = key, word: str = word) -> None:
                event.current_buffer.text = word
                event.app.exit(result=key)

    @bindings.add("enter")
    @bindings.add("<any>")
    def _ignore(event: KeyPressEvent) -> None:
        """Anything else is not an answer."""

    return bindings
