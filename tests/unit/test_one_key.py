"""One-key answers (approvals, the trust question) with the clock driven by the test:
a word typed, or a paste, answers nothing until typing pauses, whatever the machine's load."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from prompt_toolkit import PromptSession
from prompt_toolkit.input import PipeInput, create_pipe_input
from prompt_toolkit.output import DummyOutput

from agent.cli.chat.input_prompts import ANSWER_WAIT_S, TYPING_PAUSE_S, Clock, choice_keys

TYPING = "(typing? press one key)"


class Timer:
    def __init__(self, due: float, callback: Callable[[], None]) -> None:
        self.due, self.callback, self.cancelled = due, callback, False

    def cancel(self) -> None:
        self.cancelled = True


class DrivenClock(Clock):
    """Time moves only when the test says so; timers fire as it passes them."""

    def __init__(self) -> None:
        self.time = 0.0
        self.timers: list[Timer] = []
        self.changed = asyncio.Event()  # set on a new timer; the test's prompt sets it too

    def now(self) -> float:
        return self.time

    def call_later(self, delay: float, callback: Callable[[], None]) -> Timer:  # type: ignore[override]
        timer = Timer(self.time + delay, callback)
        self.timers.append(timer)
        self.changed.set()
        return timer

    def advance(self, seconds: float) -> None:
        self.time += seconds
        due = [t for t in self.timers if not t.cancelled and t.due <= self.time]
        self.timers = [t for t in self.timers if t not in due and not t.cancelled]
        for timer in due:
            timer.callback()

    async def until(self, condition: Callable[[], bool]) -> None:
        """Let the prompt read its keys until `condition` holds (a deadline fails the test)."""
        async with asyncio.timeout(10):
            while True:
                self.changed.clear()
                if condition():
                    return
                await self.changed.wait()


def answer_prompt(clock: DrivenClock, keys: PipeInput) -> PromptSession[str]:
    prompt: PromptSession[str] = PromptSession(
        key_bindings=choice_keys(always=True, savable=False, clock=clock),
        input=keys,
        output=DummyOutput(),
    )
    prompt.default_buffer.on_text_changed += lambda _: clock.changed.set()
    return prompt


def test_a_word_or_a_paste_answers_nothing_until_typing_pauses():
    async def scenario() -> None:
        clock = DrivenClock()
        with create_pipe_input() as keys:
            prompt = answer_prompt(clock, keys)
            asked = asyncio.create_task(prompt.prompt_async("[y]es [n]o [a]lways › "))
            shown = lambda: prompt.default_buffer.text  # noqa: E731

            keys.send_text("what")  # "a" inside a word is not "always"
            await clock.until(lambda: shown() == TYPING)
            clock.advance(ANSWER_WAIT_S * 2)
            assert clock.timers == [] and not asked.done()

            prompt.default_buffer.text = ""
            keys.send_text("\x1b[200~I am not sure\x1b[201~y")  # a paste is typing too
            await clock.until(lambda: shown() == TYPING)
            clock.advance(TYPING_PAUSE_S / 2)
            assert clock.timers == [] and not asked.done()

            clock.advance(TYPING_PAUSE_S)  # a pause: the next key answers again
            keys.send_text("n")
            await clock.until(lambda: clock.timers != [])
            assert not asked.done()
            clock.advance(ANSWER_WAIT_S)
            assert await asked == "n"
            assert shown() == "no"

    asyncio.run(scenario())


def test_two_answer_keys_in_a_row_are_typing_and_enter_confirms_at_once():
    async def scenario() -> None:
        clock = DrivenClock()
        with create_pipe_input() as keys:
            prompt = answer_prompt(clock, keys)
            asked = asyncio.create_task(prompt.prompt_async("› "))
            keys.send_text("yn")  # "yn" is a word, not a yes
            await clock.until(lambda: prompt.default_buffer.text == TYPING)
            clock.advance(TYPING_PAUSE_S * 2)
            assert not asked.done()

            keys.send_text("y\r")  # Enter right behind the key: no wait at all
            assert await asyncio.wait_for(asked, 10) == "y"

    asyncio.run(scenario())
