"""The one-shot runner: one prompt, one turn, an exit code.

Output formats: `text` streams the answer to stdout and a line per tool call to
stderr, with a bounded view of what the tool prints; `json` prints one result
object at the end; `stream-json` prints every event as a JSON line, then the
result object. How a run ends on a signal or a closed output is in `stopping.py`;
the exit codes are listed in the README.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TextIO

from agent import events as ev
from agent.cli.chat.tool_output import failure_summary
from agent.cli.goal_line import goal_line
from agent.cli.log_view import INDENT, SampledLog
from agent.cli.slash.mcp_prompts import headless_request
from agent.cli.stopping import (
    CLOSED_OUTPUT_EXIT,
    StopSignals,
    is_closed_output,
    run_to_end,
    say,
    silence_stdout,
)
from agent.cli.summary import first_line, hook_line, summarize_call
from agent.cli.visible import visible
from agent.config import Settings
from agent.core import ops as op
from agent.core.loop import Agent
from agent.core.runtime import open_session
from agent.core.session import Session
from agent.errors import AgentStop
from agent.runs.registry import runs_of, runs_pending
from agent.tools.goal import active_goal
from agent.usage import UsageLedger

log = logging.getLogger(__name__)


@dataclass
class Outcome:
    """How the run ended: watched from the event stream, or set from outside the turn
    (a signal, a closed output, a loop that died)."""

    done: asyncio.Event = field(default_factory=asyncio.Event)
    final_text: str = ""
    exit_code: int = 0
    exit_reason: str = "completed"
    error: str = ""
    interrupt_code: int = 130  # 128 + the signal that interrupted the turn
    output_closed: bool = False
    goal_active: Callable[[], bool] = lambda: False  # a goal's next turn follows this one
    goal: dict[str, Any] | None = None  # where the goal stood last, for the result
    waits: Callable[[], bool] = lambda: False  # a turn ended, but watched runs may wake it
    waiting: bool = False  # for watched runs, between turns

    def observe(self, event: ev.Event) -> None:
        if self.done.is_set():
            return
        if isinstance(event, ev.GoalUpdate):
            self.goal = {
                "condition": event.condition,
                "status": event.status,
                "code": event.code or None,
                "reason": event.reason or None,
                "evidence": event.evidence or None,
                "turns": event.turns,
            }
        match event:
            case ev.AssistantMessage(content=content) if content:
                self.final_text = content
            case ev.TurnComplete() if not self.goal_active():
                self.waiting = self.waits()
                if not self.waiting:
                    self.done.set()
            case ev.RunWake():
                self.waiting = False  # a turn runs for it; its end decides
            case ev.RunsUpdate() if self.waiting and not self.waits():
                self.done.set()  # the last run ended with nothing to wake the agent for
            case ev.GoalUpdate(status=status) if status != "active":
                error = "" if event.exit_code == 0 else event.reason
                if event.code == "interrupted":
                    self.end(self.interrupt_code, "interrupted")
                else:
                    self.end(event.exit_code, event.code, error)
            case ev.Error(code=code, message=message, exit_code=exit_code):
                self.end(exit_code, code, message)
            case ev.Interrupted():
                self.end(self.interrupt_code, "interrupted")

    def end(self, exit_code: int, reason: str, error: str = "") -> None:
        """The first end wins; later ones (the shutdown's own events) change nothing."""
        if not self.done.is_set():
            self.exit_code, self.exit_reason, self.error = exit_code, reason, error
            self.done.set()

    def output_failed(self, exc: Exception) -> None:
        """The front end could not write: a closed pipe ends the run with 141, quietly;
        any other failure of the writer ends it with 1 and one line on stderr."""
        if not is_closed_output(exc):
            self.end(1, "output_error", f"writing the output failed: {type(exc).__name__}: {exc}")
            return
        if not self.output_closed:
            self.output_closed = True
            silence_stdout()
        self.exit_code, self.exit_reason = CLOSED_OUTPUT_EXIT, "output_closed"
        self.done.set()


class TextWriter:
    """The answer on stdout, tool activity and problems on stderr."""

    def __init__(self, out: TextIO, err: TextIO) -> None:
        self.out, self.err = out, err
        self._streamed = False
        self._tool_log = SampledLog()
        self._logged: set[str] = set()  # calls whose output was shown as it came
        # A terminal sees the answer as it streams, its control characters spelled out; a
        # pipe gets each answer whole and exact, once it is final (a stream that broke
        # off and was asked again never reaches it).
        self._terminal = _is_terminal(out)
        self._shown: Callable[[str], str] = visible if self._terminal else str

    def __call__(self, event: ev.Event) -> None:
        match event:
            case ev.AssistantChunk(content=content) if self._terminal:
                self._streamed = True
                self.out.write(self._shown(content))
                self.out.flush()
            case ev.AssistantStreamEnd(discarded=True):
                if self._streamed:  # the broken part stays on the terminal, on its own line
                    self.out.write("\n")
                    self.out.flush()
                self._streamed = False
            case ev.AssistantMessage(content=content):
                if content and not self._streamed:
                    self.out.write(self._shown(content))
                if content:
                    self.out.write("\n")
                    self.out.flush()
                self._streamed = False
            case ev.ToolCall(name=name, arguments=arguments):
                self._note(f"→ {summarize_call(name, arguments)}")
            case ev.ToolLog():
                self._logged.add(event.tool_call_id)
                self._notes(self._tool_log.chunk(event))
            case ev.ToolOutput(tool_call_id=call_id, name=name, is_error=failed):
                self._notes(self._tool_log.end(call_id))
                if failed:
                    status, tail = failure_summary(event.content, event.data)
                    if call_id in self._logged:
                        tail = []  # the live view just above ends with its last lines
                    self._notes([f"✗ {name}: {first_line(status)}", *(INDENT + t for t in tail)])
                self._logged.discard(call_id)
            case ev.Retrying(attempt=n, max_attempts=total, delay_s=delay, reason=why):
                self._note(f"… retry {n}/{total - 1} in {delay:.1f}s: {first_line(why)}")
            case ev.Notice(message=message) | ev.DoomLoop(message=message):
                self._note(f"· {message}")
            case ev.HookRun() if line := hook_line(event):
                self._note(line)
            case ev.GoalUpdate():
                self._note(goal_line(event))
            case ev.RunWake(summary=summary):
                self._note(f"· woken: {summary}")
            case ev.Compacted(tokens_before=before, tokens_after=after):
                self._note(f"· compacted the conversation: {before} → {after} tokens")
            case ev.Error(message=message):
                self._note(f"error: {message}")
            case ev.Interrupted():
                self._note("interrupted")

    def _note(self, line: str) -> None:
        self.err.write(visible(line) + "\n")
        self.err.flush()

    def _notes(self, lines: list[str]) -> None:
        if lines:
            self._note("\n".join(lines))


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class StreamJsonWriter:
    """Every event, one JSON object per line."""

    def __init__(self, out: TextIO) -> None:
        self.out = out

    def __call__(self, event: ev.Event) -> None:
        self.out.write(event.model_dump_json() + "\n")
        self.out.flush()


def say_notices(event: ev.Event) -> None:
    """With `json`, stdout holds the result alone: what the person must know at once (a
    budget that cannot be enforced, a log that cannot be written) goes to stderr."""
    if isinstance(event, ev.Notice):
        say(visible(event.message))
    elif isinstance(event, ev.HookRun) and (line := hook_line(event)):
        say(visible(line))


def result_object(session: Session, outcome: Outcome, started: float) -> dict[str, Any]:
    """The final summary of a run, shared by `json` and `stream-json`."""
    return {
        "type": "result",
        "session_id": session.id,
        "is_error": outcome.exit_code != 0,
        "exit_reason": outcome.exit_reason,
        "error": outcome.error or None,
        "num_turns": session.turns,
        "usage": session.usage.as_dict(),
        "total_cost_usd": session.usage.total_cost_usd,
        "duration_ms": int((time.monotonic() - started) * 1000),
        "final_text": outcome.final_text,
        "session_log_error": session.log_failure or None,
        "goal": outcome.goal,
    }


def write_early_result(stop: AgentStop, started: float) -> None:
    """The result object of a run stopped before its session began (a bad id, a missing
    key, a broken config): a program reading json or stream-json gets one all the same."""
    result = {
        "type": "result",
        "session_id": None,
        "is_error": True,
        "exit_reason": stop.code,
        "error": stop.message,
        "num_turns": 0,
        "usage": UsageLedger().as_dict(),
        "total_cost_usd": None,
        "duration_ms": int((time.monotonic() - started) * 1000),
        "final_text": "",
        "session_log_error": None,
    }
    try:
        sys.stdout.write(json.dumps(result) + "\n")
        sys.stdout.flush()
    except OSError as exc:
        if not is_closed_output(exc):
            raise


def run_headless_blocking(
    settings: Settings,
    prompt: str,
    output_format: str,
    resume: str | None = None,
    goal: str | None = None,
) -> int:
    """Run one prompt to its end; a worker thread still busy then does not hold the exit."""
    return run_to_end(run_headless(settings, prompt, output_format, resume, goal))


async def run_headless(
    settings: Settings,
    prompt: str,
    output_format: str,
    resume: str | None = None,
    goal: str | None = None,
) -> int:
    """Run one prompt to the end and return the exit code; with a `goal` (or one carried
    on from the resumed session), until the goal ends."""
    started = time.monotonic()
    loop = asyncio.get_running_loop()
    signals = StopSignals()
    signals.install(loop)
    session = await open_session(settings, resume=resume, mcp_wait_s=settings.mcp_wait_s)
    outcome = Outcome(goal_active=lambda: active_goal(session.tool_state) is not None)
    attach_output(session, output_format, outcome)
    session.subscribe(outcome.observe)
    wait_for_runs(session, outcome)
    agent = Agent(session)

    def interrupt(code: int) -> None:
        outcome.interrupt_code = code
        agent.submit(op.Interrupt())

    signals.watch(interrupt, outcome.done.is_set)
    try:
        request = await headless_request(session, prompt)
        first: op.Operation = op.UserInput(text=request)
        if goal is not None:
            first = op.SetGoal(condition=goal, request=request)
        await drive(agent, outcome, first)
    finally:
        await session.aclose()
    signals.uninstall(loop)
    return finish(session, outcome, output_format, started)


def wait_for_runs(session: Session, outcome: Outcome) -> None:
    """A turn that ends while watched runs are pending does not end the run: they wake
    the agent (a turn each time) until none is left, or for at most `wait_limit_s`."""
    settings = session.settings
    if not settings.wait_for_runs:
        return
    timer: list[asyncio.Handle] = []

    def give_up() -> None:
        names = ", ".join(run.id for run in runs_of(session.tool_state).active())
        session.emit(
            ev.Notice(message=f"Stopped waiting after --wait-limit; still running: {names}.")
        )
        outcome.end(0, "wait_limit")

    def waits() -> bool:
        if not runs_pending(session.tool_state):
            return False
        if not timer:
            names = ", ".join(run.id for run in runs_of(session.tool_state).active()) or "check-in"
            session.emit(
                ev.Notice(
                    message=f"Waiting for background runs ({names}): they wake the agent when "
                    "they end or go wrong. --no-wait leaves at once."
                )
            )
            loop = asyncio.get_running_loop()
            limit = settings.wait_limit_s
            timer.append(loop.call_later(limit, give_up) if limit else loop.call_soon(lambda: None))
        return True

    outcome.waits = waits


def attach_output(session: Session, output_format: str, outcome: Outcome) -> None:
    """The front end's writer; once its output is gone it writes nothing more."""
    writer: Callable[[ev.Event], None]
    if output_format == "text":
        writer = TextWriter(sys.stdout, sys.stderr)
    elif output_format == "stream-json":
        writer = StreamJsonWriter(sys.stdout)
    else:
        writer = say_notices

    def write(event: ev.Event) -> None:
        if not outcome.output_closed:
            writer(event)

    session.subscribe(write, on_failure=outcome.output_failed)


async def drive(agent: Agent, outcome: Outcome, first: op.Operation) -> None:
    """Run the turn, watching both its end and the loop: a loop that dies surfaces
    as the run's error instead of leaving the run waiting for an end that never comes."""
    runner = asyncio.create_task(agent.run(), name="agent")
    agent.submit(first)
    waiter = asyncio.create_task(outcome.done.wait(), name="outcome")
    await asyncio.wait({runner, waiter}, return_when=asyncio.FIRST_COMPLETED)
    waiter.cancel()
    if not runner.done():
        agent.submit(op.Shutdown())  # cancels the turn if it still runs (a closed output)
    await asyncio.wait({runner})
    failure = None if runner.cancelled() else runner.exception()
    if failure is not None:
        log.error("the agent loop failed", exc_info=failure)
        reason = f"the agent loop failed: {type(failure).__name__}: {failure}"
        outcome.end(1, "internal_error", reason)
    # A no-op when the turn ended as it should; otherwise the loop left without it.
    outcome.end(1, "internal_error", "the agent loop stopped before the turn ended")


def finish(session: Session, outcome: Outcome, output_format: str, started: float) -> int:
    """The result object (json, stream-json) and the exit code."""
    if outcome.exit_reason in ("internal_error", "output_error"):
        say(outcome.error)
    if session.log_failure and output_format == "stream-json":  # the others said it there
        say(session.log_failure)
    if output_format in ("json", "stream-json") and not outcome.output_closed:
        try:
            sys.stdout.write(json.dumps(result_object(session, outcome, started)) + "\n")
            sys.stdout.flush()
        except OSError as exc:
            if not is_closed_output(exc):
                raise
            outcome.output_failed(exc)
    return outcome.exit_code
