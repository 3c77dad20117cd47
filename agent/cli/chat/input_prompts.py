"""The chat's prompts: the main input line and one-key answers."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from typing import Any

from prompt_toolkit import PromptSession
from prompt_toolkit.application import Application, run_in_terminal
from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document
from prompt_toolkit.key_binding import KeyBindings, KeyPress, KeyPressEvent
from prompt_toolkit.keys import Keys
from prompt_toolkit.patch_stdout import patch_stdout

from agent.cli.chat import typeahead
from agent.cli.chat.input_history import PrivateHistory
from agent.config import data_home

# text before the cursor -> (completion, start position, description)
Completions = Callable[[str], Iterable[tuple[str, int, str]]]


async def ask_once(prompt: PromptSession[str], message: str, **kwargs: Any) -> str | None:
    """One answer; None when the person presses Ctrl-C or Ctrl-D instead."""
    try:
        with typeahead.paused(), patch_stdout(raw=True):
            return await prompt.prompt_async(message, handle_sigint=False, **kwargs)
    except (KeyboardInterrupt, EOFError):
        return None


class _SlashCompleter(Completer):
    def __init__(self, complete: Completions) -> None:
        self.complete = complete

    def get_completions(self, document: Document, complete_event: CompleteEvent) -> Any:
        for text, start, meta in self.complete(document.text_before_cursor):
            yield Completion(text, start_position=start, display_meta=meta)


def main_prompt(
    complete: Completions, expand: Callable[[bool], object], pastes: typeahead.Pastes
) -> PromptSession[str]:
    """Enter sends; Alt-Enter / Esc-Enter adds a line; Ctrl-C clears a line, or quits;
    Ctrl-O prints the last tool output in full above the prompt, pressed again the one
    before; Esc-Esc clears the
    line, or on an empty one takes the last request back (`/undo`), as in Codex.

    A paste is one piece of text even where the terminal does not mark it: an Enter
    with more keys right behind it (in the same read, or within a few milliseconds)
    is a new line, not a send. A long paste shows as `[pasted N lines]`;
    `pastes.expand` puts it back.
    """
    bindings = KeyBindings()

    @bindings.add("enter")
    def _enter(event: KeyPressEvent) -> None:
        if _keys_follow(event):
            event.current_buffer.insert_text("\n")
        else:
            event.current_buffer.validate_and_handle()

    @bindings.add(Keys.BracketedPaste)
    def _paste(event: KeyPressEvent) -> None:
        text = event.data.replace("\r\n", "\n").replace("\r", "\n")
        event.current_buffer.insert_text(pastes.hold(text))

    @bindings.add("c-o")
    def _expand(event: KeyPressEvent) -> None:
        again = event.is_repeat  # pressed right after itself: step back one output
        run_in_terminal(lambda: expand(again))

    @bindings.add("escape", "enter")
    def _newline(event: KeyPressEvent) -> None:
        event.current_buffer.insert_text("\n")

    @bindings.add("escape", "escape")
    def _take_back(event: KeyPressEvent) -> None:
        if event.current_buffer.text:
            event.current_buffer.reset()
        else:
            event.app.exit(result="/undo")

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


def _keys_follow(event: KeyPressEvent) -> bool:
    """Whether keys follow this Enter within the paste gap. A terminal's reply (a
    cursor-position report) is not a key: it may land right behind an Enter typed as
    the prompt draws, and that Enter still sends."""
    processor = event.app.key_processor
    while not _any_key(processor.input_queue) and _more_keys(event):
        processor.feed_multiple(event.app.input.read_keys())
    return _any_key(processor.input_queue)


def _any_key(presses: Iterable[KeyPress]) -> bool:
    return any(press.key not in (Keys.CPRResponse, Keys.Ignore) for press in presses)


def _more_keys(event: KeyPressEvent) -> bool:
    try:
        fd = event.app.input.fileno()
    except (NotImplementedError, OSError, ValueError):
        return False
    return typeahead.more_input(fd)


def choice_keys(always: bool, savable: bool, clock: Clock | None = None) -> KeyBindings:
    """One key answers an approval; the answer stays on screen as a word. `always`:
    the call can be allowed from now on; `savable`: that can be kept in the project's
    config too."""
    words = {"y": "yes", "n": "no"}
    if always:
        words["a"] = "always"
    if always and savable:
        words["s"] = "always, saved"
    return one_key({**words, "f": "feedback"}, clock)


ANSWER_WAIT_S = 0.25  # a key this soon after an answer key means a word is being typed
TYPING_PAUSE_S = 0.8  # after a key that answers nothing, keys count again once typing pauses


class Clock:
    """The time the one-key answers go by: the real one here; a test passes one it
    drives, so the typing gaps are decided by the test, not by the machine's load."""

    def now(self) -> float:
        return time.monotonic()

    def call_later(self, delay: float, callback: Callable[[], None]) -> asyncio.TimerHandle:
        return asyncio.get_running_loop().call_later(delay, callback)


def one_key(words: dict[str, str], clock: Clock | None = None) -> KeyBindings:
    """Each key (either case) answers with itself, shown as its word, unless it is part
    of something typed: a key follows within ANSWER_WAIT_S (Enter confirms instead), or
    a key or a paste that answers nothing came just before. So "what" or "yes I think"
    typed at an approval answers nothing; the keys are shown, and the prompt waits."""
    answer = _OneKeyAnswer(words, clock or Clock())
    bindings = KeyBindings()
    for key in words:
        for pressed in (key, key.upper()):

            @bindings.add(pressed)
            def _answer(event: KeyPressEvent, key: str = key) -> None:
                answer.key(event, key)

    @bindings.add("enter")
    def _enter(event: KeyPressEvent) -> None:
        answer.enter(event)

    @bindings.add(Keys.BracketedPaste)
    @bindings.add("<any>")
    def _other(event: KeyPressEvent) -> None:
        answer.typing(event)

    return bindings


class _OneKeyAnswer:
    def __init__(self, words: dict[str, str], clock: Clock) -> None:
        self.words = words
        self.clock = clock
        self._pending: tuple[str, asyncio.TimerHandle] | None = None
        self._typing_until = 0.0

    def key(self, event: KeyPressEvent, key: str) -> None:
        if self._pending is not None or self.clock.now() < self._typing_until:
            self.typing(event)
            return
        app = event.app
        timer = self.clock.call_later(ANSWER_WAIT_S, lambda: self._settle(app))
        self._pending = (key, timer)

    def enter(self, event: KeyPressEvent) -> None:
        if self._pending is not None:
            self._pending[1].cancel()
            self._settle(event.app)

    def typing(self, event: KeyPressEvent) -> None:
        if self._pending is not None:
            self._pending[1].cancel()
            self._pending = None
        self._typing_until = self.clock.now() + TYPING_PAUSE_S
        event.current_buffer.text = "(typing? press one key)"

    def _settle(self, app: Application[Any]) -> None:
        if self._pending is None:
            return
        key, self._pending = self._pending[0], None
        app.current_buffer.text = self.words[key]
        app.exit(result=key)
