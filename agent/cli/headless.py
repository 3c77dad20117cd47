"""The one-shot runner: one prompt, one turn, an exit code.

Output formats: `text` streams the answer to stdout and a line per tool call to
stderr, with a bounded view of what the tool prints; `json` prints one result
object at the end; `stream-json` prints every event as a JSON line, then the
result object.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import time
from dataclasses import dataclass, field
from typing import Any, TextIO

from agent.cli.log_view import SampledLog
from agent.cli.summary import first_line, summarize_call
from agent.config import Settings
from agent.core import events as ev
from agent.core import ops as op
from agent.core.loop import Agent
from agent.core.runtime import open_session
from agent.core.session import Session


@dataclass
class Outcome:
    """How the turn ended, watched from the event stream."""

    done: asyncio.Event = field(default_factory=asyncio.Event)
    final_text: str = ""
    exit_code: int = 0
    exit_reason: str = "completed"
    error: str = ""

    def observe(self, event: ev.Event) -> None:
        match event:
            case ev.AssistantMessage(content=content) if content:
                self.final_text = content
            case ev.TurnComplete():
                self.done.set()
            case ev.Error(code=code, message=message, exit_code=exit_code):
                self.exit_code, self.exit_reason, self.error = exit_code, code, message
                self.done.set()
            case ev.Interrupted():
                self.exit_code, self.exit_reason = 130, "interrupted"
                self.done.set()


class TextWriter:
    """The answer on stdout, tool activity and problems on stderr."""

    def __init__(self, out: TextIO, err: TextIO) -> None:
        self.out, self.err = out, err
        self._streamed = False
        self._tool_log = SampledLog()

    def __call__(self, event: ev.Event) -> None:
        match event:
            case ev.AssistantChunk(content=content):
                self._streamed = True
                self.out.write(content)
                self.out.flush()
            case ev.AssistantStreamEnd(discarded=True):
                self.out.write("\n")
                self.out.flush()
                self._streamed = False
            case ev.AssistantMessage(content=content):
                if content and not self._streamed:
                    self.out.write(content)
                if content:
                    self.out.write("\n")
                    self.out.flush()
                self._streamed = False
            case ev.ToolCall(name=name, arguments=arguments):
                self._note(f"→ {summarize_call(name, arguments)}")
            case ev.ToolLog():
                self._notes(self._tool_log.chunk(event))
            case ev.ToolOutput(tool_call_id=call_id, name=name, content=content, is_error=failed):
                self._notes(self._tool_log.end(call_id))
                if failed:
                    self._note(f"✗ {name}: {first_line(content)}")
            case ev.Retrying(attempt=n, max_attempts=total, delay_s=delay, reason=why):
                self._note(f"… retry {n}/{total - 1} in {delay:.1f}s: {first_line(why)}")
            case ev.Notice(message=message) | ev.DoomLoop(message=message):
                self._note(f"· {message}")
            case ev.Compacted(tokens_before=before, tokens_after=after):
                self._note(f"· compacted the conversation: {before} → {after} tokens")
            case ev.Error(message=message):
                self._note(f"error: {message}")
            case ev.Interrupted():
                self._note("interrupted")

    def _note(self, line: str) -> None:
        self.err.write(line + "\n")
        self.err.flush()

    def _notes(self, lines: list[str]) -> None:
        if lines:
            self._note("\n".join(lines))


class StreamJsonWriter:
    """Every event, one JSON object per line."""

    def __init__(self, out: TextIO) -> None:
        self.out = out

    def __call__(self, event: ev.Event) -> None:
        self.out.write(event.model_dump_json() + "\n")
        self.out.flush()


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
    }


async def run_headless(
    settings: Settings, prompt: str, output_format: str, resume: str | None = None
) -> int:
    """Run one prompt to the end and return the exit code."""
    started = time.monotonic()
    session = await open_session(settings, resume=resume, wait_for_mcp=True)
    outcome = Outcome()
    if output_format == "text":
        session.subscribe(TextWriter(sys.stdout, sys.stderr))
    elif output_format == "stream-json":
        session.subscribe(StreamJsonWriter(sys.stdout))
    session.subscribe(outcome.observe)
    agent = Agent(session)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, agent.submit, op.Interrupt())
    runner = asyncio.create_task(agent.run(), name="agent")
    agent.submit(op.UserInput(text=prompt))
    waiter = asyncio.create_task(outcome.done.wait())
    await asyncio.wait({runner, waiter}, return_when=asyncio.FIRST_COMPLETED)
    if runner.done():
        waiter.cancel()
        runner.result()  # a crashed loop surfaces here instead of hanging
    agent.submit(op.Shutdown())
    await runner
    await session.aclose()
    if output_format in ("json", "stream-json"):
        sys.stdout.write(json.dumps(result_object(session, outcome, started)) + "\n")
        sys.stdout.flush()
    return outcome.exit_code
