"""The interactive chat: a prompt, streamed answers, approvals, slash commands, Ctrl-C.

The chat drives the engine only through operations and observes it only through
events. Events arrive from the engine's task: the renderer draws them at once and
never blocks; the ones the chat must act on (an approval request, the end of a
turn, the answer to a command) go through a queue to the one coroutine that talks
to the person. That coroutine also watches the engine's task, so a crash surfaces
instead of hanging.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from prompt_toolkit import PromptSession
from prompt_toolkit.patch_stdout import patch_stdout
from rich.console import Console
from rich.text import Text

from agent import events as ev
from agent.cli.chat import key_setup as keys
from agent.cli.chat.approval_question import ask_approval
from agent.cli.chat.desktop_notice import call_back
from agent.cli.chat.input_prompts import ask_once, main_prompt
from agent.cli.chat.mention_complete import mention_completions
from agent.cli.chat.render import Renderer, make_console
from agent.cli.chat.replay import replay
from agent.cli.chat.run_lines import RunLines
from agent.cli.chat.shell_mode import is_shell, run_shell
from agent.cli.chat.typeahead import TypeAhead, quiet_terminal, reading, set_paste_gap, take_pending
from agent.cli.commands.sessions import PICK
from agent.cli.slash import commands as slash
from agent.cli.slash.mcp_and_traces import offer_job_cancel
from agent.cli.slash.settings import offer_budget_raise
from agent.cli.stopping import exit_now, run_to_end, signal_exit_code, terminal_gone
from agent.config import Settings
from agent.core import hooks, llm
from agent.core import ops as op
from agent.core.loop import Agent
from agent.core.runtime import open_session
from agent.core.session import Session
from agent.tools.goal import active_goal
from agent.wording import counted

DOUBLE_PRESS_S = 1.0
POLL_S = 0.25
CONTROL_EVENTS = frozenset(
    {"approval_required", "turn_complete", "interrupted", "error"}
    | {"notice", "undo_complete", "compacted", "goal"}
)
TURN_END = frozenset({"turn_complete", "interrupted", "error"})
WOKEN = "\x00woken"  # what the prompt returns when a watched run started a turn
NO_PICKER = (
    "List saved sessions with `ml-intern sessions list`, then resume one with "
    "`ml-intern --resume ID`."
)


def run_interactive(settings: Settings, resume: str | None = None) -> int:
    """The chat, until the person leaves; returns the exit code.

    `resume` is a saved session's id, or `PICK` to choose one with `/resume` first.
    Leaving never waits for a worker thread (an upload past its grace, a Hub call
    that was interrupted): they end with the process.
    """
    set_paste_gap(settings.paste_gap_s)
    with quiet_terminal():  # from the banner on, keys typed wait unseen for the prompt
        return run_to_end(_chat(settings, resume))


async def _chat(settings: Settings, resume: str | None) -> int:
    console = make_console()
    _banner(console, settings)
    slash.load_extensions()
    pick = resume == PICK
    session = await open_session(settings, resume=None if pick else resume)
    if resume and not pick:
        console.print(Text(f"· resumed {session.id} ({counted(session.turns, 'turn')})", "dim"))
        replay(console, session.context.messages)
    picker = pick and "resume" in slash.COMMANDS
    if pick and not picker:
        console.print(Text(NO_PICKER, "yellow"))
    return await Chat(session, console).run("/resume" if picker else "")


def _banner(console: Console, settings: Settings) -> None:
    cwd = str(Path.cwd())
    home = str(Path.home())
    if cwd == home or cwd.startswith(home + "/"):
        cwd = "~" + cwd[len(home) :]
    line = Text.assemble(
        ("ml-intern", "bold"),
        f" · {settings.model_name} · {cwd} · {settings.tool_runtime} tools · ",
        ("/help for commands", "dim"),
    )
    console.print(line, no_wrap=True, overflow="ellipsis")


class Chat:
    """One person, one session: reads the prompt and follows each turn to its end."""

    _runner: asyncio.Task[None]

    def __init__(self, session: Session, console: Console) -> None:
        self.console = console
        self.renderer = Renderer(console)
        self.inbox: asyncio.Queue[ev.Event] = asyncio.Queue()
        self._stop = asyncio.Event()
        self._quitting = False
        self.exit_code = 0
        self._last_ctrl_c = float("-inf")
        self._key_checked_for = ""
        self.unsent = ""  # a request that could not be sent, offered again at the prompt
        self._stopped_by_person = False  # Ctrl-C ended the last request: hold what is queued
        self._prompt: PromptSession[str] | None = None
        self._asking: PromptSession[str] | None = None
        self._start_notices: set[str] = set()
        self._hf_token_offered = False
        self._terminal_fds = [fd for fd in (1, 2) if os.isatty(fd)]  # while it is there
        self._shell_notes: list[str] = []  # `!cmd` runs, told to the model with the next request
        self._woken = False  # a watched run started a turn the chat has not followed yet
        self._passed_on = False  # lines typed during a goal went to the engine at once
        self.run_lines = RunLines()
        self.typeahead = TypeAhead(
            self.renderer.live.touch, self.renderer.live.clear_screen, self._on_escape
        )
        self.renderer.live.footer = self.typeahead.view
        self.typeahead.on_hangup = lambda: self._on_stop_signal(signal.SIGHUP)
        self.typeahead.on_input = self._key_pressed
        self._attach(session)

    def _attach(self, session: Session) -> None:
        self.session = session
        session.last_key_at = time.monotonic()  # the person is here: they just asked for it
        session.person_present = True
        self._starting = True  # until the first request: start-up notices are said once
        self.agent = Agent(session)
        session.subscribe(self._on_event)
        self._runner = asyncio.create_task(self.agent.run(), name="agent")

    async def _detach(self, reason: op.EndReason = "other") -> None:
        if not self._runner.done():
            self.agent.submit(op.Shutdown(reason=reason))
        await self._runner  # a crashed loop raises here
        await self.session.aclose()

    async def switch_session(self, resume: str | None) -> None:
        """Leave this conversation for a saved one (an id), or a fresh one (None)."""
        fresh = await open_session(self.session.settings, resume=resume)  # may fail: keep ours
        await self._detach("resume")
        self._attach(fresh)

    def _on_event(self, event: ev.Event) -> None:
        if isinstance(event, ev.Notice):
            if self._starting and event.message in self._start_notices:
                return  # a resumed session's start-up says what the chat already said
            self._start_notices.add(event.message)
        if isinstance(event, ev.RunsUpdate):
            self.run_lines.update(event.runs)
        if isinstance(event, ev.RunWake):
            if self.session.person_away():  # the bell, and a desktop notification
                desktop = self.session.settings.notify_desktop
                call_back(self.console, event.summary, os.environ, desktop)
            self._wake_up()
        if event.type in CONTROL_EVENTS:  # first: a drawing error must not leave a turn waiting
            self.inbox.put_nowait(event)
        self.renderer(event)

    async def run(self, first: str = "") -> int:
        """Read and act on lines until the person leaves; `first` acts as if typed.

        SIGTERM and SIGHUP end the chat as Ctrl-C twice does (the turn stops, the
        session is closed, the terminal put back), with 128 + the signal number.
        """
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGINT, self._on_sigint)
        for signum in (signal.SIGTERM, signal.SIGHUP):
            loop.add_signal_handler(signum, self._on_stop_signal, signum)
        self._prompt = main_prompt(
            lambda text: (
                slash.completions(self, text) or mention_completions(self.session.cwd, text)
            ),
            self.renderer.expand_output,
            self.typeahead.pastes,
        )

        # litellm loads while the person types: from the first drawing of the prompt on,
        # so that its import does not compete with showing the prompt.
        def preload() -> None:
            loop.call_soon(llm.preload_in_background)

        self._prompt.app.pre_run_callables.append(preload)
        self._prompt.app.key_processor.before_key_press += lambda _: self._key_pressed()
        self.run_lines.attach(self._prompt)
        left: op.EndReason = "other"
        try:
            await self._converse(self._prompt, first)
            if not self.exit_code:  # the person left (/quit, Ctrl-D, Ctrl-C twice): no signal
                left = "prompt_input_exit"
        finally:
            for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
                loop.remove_signal_handler(signum)
            self.renderer.pause()
            await self._detach(left)
            self._resume_hint()
        return self.exit_code

    async def _converse(self, prompt: PromptSession[str], first: str) -> None:
        line: str | None = first
        while line is not None and not self._quitting:
            with reading(self.typeahead):
                if line == WOKEN or self._woken:
                    await self.follow_turn()
                    if line != WOKEN:
                        continue  # the line typed meanwhile is sent after the turn
                elif slash.is_command(line):
                    await slash.dispatch(self, line)
                elif is_shell(line):
                    await self._shell(line[1:].strip())
                elif line.strip():
                    await self.request(self.typeahead.pastes.expand(line))
            self.renderer.pause()  # keys typed at the very end may have drawn it again
            if not self._quitting:
                line = await self._next_line(prompt)

    def _resume_hint(self) -> None:
        """How to come back to this conversation, when there is one to come back to."""
        if self.session.turns:
            self.console.print(
                Text(
                    f"resume with: ml-intern --continue (or ml-intern --resume {self.session.id})",
                    "dim",
                )
            )

    async def _next_line(self, prompt: PromptSession[str]) -> str | None:
        """A line queued while the last turn ran, else the prompt (with any unsent text)."""
        if self._woken:
            return WOKEN
        take_pending(self.typeahead)
        if self._stopped_by_person:  # Ctrl-C: nothing waiting is sent; it all comes back
            self._stopped_by_person = False
            waiting = [self.unsent, *self.typeahead.take(), self.typeahead.unsent()]
            self.unsent = ""
            return await self._read_line(prompt, "\n".join(text for text in waiting if text))
        if self.typeahead.queued:
            line = self.typeahead.queued.pop(0)
            self.console.print(Text.assemble(("› ", "bold"), line))
            prompt.history.append_string(line)  # Up finds it like any line typed at the prompt
            return line
        unsent, self.unsent = self.unsent or self.typeahead.unsent(), ""
        return await self._read_line(prompt, unsent)

    def _key_pressed(self) -> None:
        """The person is at the keys: a run's wake-up is not worth calling them for."""
        self.session.last_key_at = time.monotonic()

    def quit(self) -> None:
        self._quitting = True

    def _wake_up(self) -> None:
        """A watched run started a turn: the prompt gives way (what was typed comes back
        after the turn) and the chat follows the turn as it follows a request."""
        self._woken = True
        prompt = self._prompt
        if prompt is not None and prompt.app.is_running:
            self.unsent = prompt.default_buffer.text
            prompt.app.exit(result=WOKEN)

    # -- the prompt and Ctrl-C -------------------------------------------------------------

    async def _read_line(self, prompt: PromptSession[str], default: str = "") -> str | None:
        """The next line, or None when the person leaves (Ctrl-D, or Ctrl-C twice).

        The prompt reads Ctrl-C as a key; SIGINT stays with the chat's own handler
        (prompt_toolkit would otherwise remove it from the loop when the prompt ends).
        Whatever is printed meanwhile (a late notice) goes above the prompt. After a turn,
        Notification hooks hear when the prompt has waited a while (`idle_prompt`).
        """
        idle = hooks.notify_when_idle(self.session) if self.session.turns else None
        try:
            with patch_stdout(raw=True):
                return await prompt.prompt_async(
                    handle_sigint=False, default=default, pre_run=_complete_command(prompt)
                )
        except EOFError:
            return None
        except KeyboardInterrupt:
            if self._second_press():
                return None
            self.console.print(Text("Press Ctrl-C again to quit (or Ctrl-D).", "dim"))
            return ""
        finally:
            if idle is not None:
                idle.cancel()

    def _second_press(self) -> bool:
        now = time.monotonic()
        second = now - self._last_ctrl_c < DOUBLE_PRESS_S
        self._last_ctrl_c = now
        return second

    def _on_sigint(self) -> None:
        """Ctrl-C outside a prompt: stop whatever runs; twice within a second, leave."""
        if self._second_press():
            self._leave()
        self.renderer.esc_stopped = False
        self.agent.submit(op.Interrupt())
        self._stop.set()

    def _on_escape(self) -> None:
        """Esc while a turn runs: stop it as Ctrl-C does, but never a step towards quitting."""
        self.renderer.esc_stopped = True
        self.agent.submit(op.Interrupt())
        self._stop.set()

    def _on_stop_signal(self, signum: int) -> None:
        """SIGTERM or SIGHUP: stop the turn and leave; a second one leaves at once.

        After a hang-up nobody sees the screen, and writing to it fails (EIO): what is
        still said on the way out goes nowhere, so nothing stops the leaving.
        """
        if signum == signal.SIGHUP:
            terminal_gone(self._terminal_fds)
            if self.exit_code == signal_exit_code(signum):
                return  # the same hang-up seen twice: the signal, and EIO from the terminal
        if self.exit_code:
            exit_now(self.exit_code)
        self.exit_code = signal_exit_code(signum)
        self._leave()
        self.agent.submit(op.Interrupt())
        self._stop.set()

    def _leave(self) -> None:
        self._quitting = True
        self.renderer.leaving = True
        for prompt in (self._prompt, self._asking):
            if prompt is not None and prompt.app.is_running:
                prompt.app.exit(exception=EOFError())

    # -- requests and turns ---------------------------------------------------------------

    async def _shell(self, command: str) -> None:
        """`!cmd`: run it now, without the model; the next request carries it along."""
        self._stop.clear()
        note = await run_shell(self.session, command, self._stop)
        self.renderer.pause()
        if note:
            self._shell_notes.append(note)

    async def request(self, text: str, goal: str | None = None) -> None:
        """Send one request and follow the turn to its end, answering approvals on the way;
        while a goal is active (set here with `goal`, or carried on), every turn toward it."""
        if not await self._key_ready():
            self.unsent = text  # back in the input line, not lost
            self._stopped_by_person = True
            return
        self._starting = False
        self._clear_inbox()
        text, self._shell_notes = "\n\n".join([*self._shell_notes, text]), []
        if goal is None:
            self.agent.submit(op.UserInput(text=text))
        else:
            self.agent.submit(op.SetGoal(condition=goal, request=text))
        await self.follow_turn()

    async def follow_turn(self) -> None:
        """Follow the running turn to its end, answering approvals on the way."""
        self._woken = self._passed_on = False
        while (event := await self._next_event(idle_ends=True)) is not None:
            if isinstance(event, ev.ApprovalRequired):
                await self._approve(event)
            elif event.type == "turn_complete" and (
                self._passed_on or active_goal(self.session.tool_state)
            ):
                continue  # the goal's next turn (or the person's line) follows at once
            elif event.type in TURN_END:
                break
        self.renderer.pause()
        interrupted = event is not None and event.type == "interrupted"
        self._stopped_by_person = interrupted
        if self._quitting:
            return
        await offer_job_cancel(self, interrupted=interrupted)
        await offer_budget_raise(self, event)
        if event is not None and event.type == "turn_complete":
            await self._offer_hf_token()

    async def perform(
        self, operation: op.Operation, until: tuple[str, ...], busy: str = ""
    ) -> bool:
        """Submit an operation and wait for the engine's answer (Ctrl-C stops waiting)."""
        switching_to = operation.model if isinstance(operation, op.SetModel) else None
        if busy and not await self._key_ready(switching_to):
            return False
        self._clear_inbox()
        self.agent.submit(operation)
        if busy:
            self.renderer.status(busy)
        while (event := await self._next_event(idle_ends=False)) is not None:
            if event.type in until:
                break
        self.renderer.pause()
        return True

    async def _next_event(self, idle_ends: bool) -> ev.Event | None:
        """The next control event; None once the engine is idle or Ctrl-C stopped the wait."""
        while True:
            getter = asyncio.ensure_future(self.inbox.get())
            done, _ = await asyncio.wait(
                {getter, self._runner}, timeout=POLL_S, return_when=asyncio.FIRST_COMPLETED
            )
            if idle_ends:
                self._pass_on_typed_lines()
            if getter in done:
                return getter.result()
            getter.cancel()
            if self._runner.done():
                self._runner.result()
                raise RuntimeError("the agent loop stopped unexpectedly")
            idle = not self.agent.busy and self.agent.ops.empty()
            if (idle_ends and idle) or (not idle_ends and self._stop.is_set()):
                return None

    def _pass_on_typed_lines(self) -> None:
        """While a goal goes on turn after turn, a line the person types goes to the engine
        at once: it is taken between two turns of the goal, not held until the goal ends.
        A command (`/...`, `!...`) and what follows it wait for the prompt as usual."""
        if active_goal(self.session.tool_state) is None:
            return
        queued = self.typeahead.queued
        while (
            queued
            and queued[0].strip()
            and not (slash.is_command(queued[0]) or is_shell(queued[0]))
        ):
            line = queued.pop(0)
            self.renderer.line(Text.assemble(("› ", "bold"), line))
            if self._prompt is not None:
                self._prompt.history.append_string(line)
            self.agent.submit(op.UserInput(text=line))
            self._passed_on = True
            self.renderer.live.touch()  # the line leaves the typed-ahead view

    def _clear_inbox(self) -> None:
        self._stop.clear()
        while not self.inbox.empty():
            self.inbox.get_nowait()

    async def _key_ready(self, model: str | None = None) -> bool:
        """Before the first request to a model (the session's, or one being switched to):
        its key is there, or the person pastes it."""
        settings = self.session.settings
        model = model or settings.model_name
        if self._key_checked_for == model:
            return True
        self._stop.clear()
        self.renderer.status("Loading the model library")
        loaded = await _unless_stopped(asyncio.to_thread(llm.litellm), self._stop)
        self.renderer.pause()
        if not loaded or not await keys.ensure_key(model, settings, self.console, self._ask_secret):
            return False
        self._key_checked_for = model
        return True

    async def _offer_hf_token(self) -> None:
        """After the first answer, never between a request and its answer. Keys typed
        before the question shows stay typed-ahead text, never a hidden answer."""
        if not self._hf_token_offered:
            self._hf_token_offered = True
            take_pending(self.typeahead)
            await keys.offer_hf_token_to(self.session, self.console, self._ask_secret)

    # -- approvals --------------------------------------------------------------------------

    async def _approve(self, event: ev.ApprovalRequired) -> None:
        self.renderer.pause()
        decision = await ask_approval(self.console, self.session, event, self._ask)
        if decision is None:  # Ctrl-C: stop the turn
            self._on_sigint()
            return
        self.agent.submit(decision)

    async def _ask_secret(self, message: str) -> str | None:
        return await self._ask(PromptSession(), message, is_password=True)

    async def ask(self, message: str) -> str | None:
        return await self._ask(PromptSession(), message)

    async def _ask(self, prompt: PromptSession[str], message: str, **kwargs: Any) -> str | None:
        """One answer, from a prompt that leaving the chat closes too."""
        self._asking = prompt
        try:
            return await ask_once(prompt, message, **kwargs)
        finally:
            self._asking = None


def _complete_command(prompt: PromptSession[str]) -> Callable[[], None]:
    """A command typed ahead during a turn gets its completions offered, as if typed now."""

    def start() -> None:
        if prompt.default_buffer.text.startswith("/"):
            prompt.default_buffer.start_completion(select_first=False)

    return start


async def _unless_stopped(work: Awaitable[Any], stop: asyncio.Event) -> bool:
    """Wait for `work`; False when Ctrl-C came first (the work is left to finish unseen)."""
    task = asyncio.ensure_future(work)
    stopper = asyncio.ensure_future(stop.wait())
    done, _ = await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
    stopper.cancel()
    return task in done
