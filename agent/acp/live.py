"""One ACP session: an engine session and its loop, its events turned into `session/update`s.

Events arrive synchronously from the engine; a pump sends them to the editor in
order, so a prompt's response (sent once the pump has passed the turn's end) always
comes after every update of that turn. Approvals become `session/request_permission`
requests, each in its own task so a cancel is never stuck behind one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from acp import RequestError
from acp.interfaces import Client
from acp.schema import (
    AgentMessageChunk,
    AgentPlanUpdate,
    AgentThoughtChunk,
    AllowedOutcome,
    Cost,
    PermissionOption,
    PlanEntry,
    TerminalToolCallContent,
    TextContentBlock,
    ToolCallProgress,
    ToolCallStart,
    ToolCallUpdate,
    UsageUpdate,
)

from agent import events as ev
from agent.acp import tool_calls as tc
from agent.core import ops as op
from agent.core.loop import Agent
from agent.core.session import Session
from agent.tools.goal import active_goal

log = logging.getLogger(__name__)
LOG_LINES = 200  # the tail of a running call's output shown on its card
STOP_REASONS = {4: "max_turn_requests"}
REFUSED = {
    "attachment_refused",
    "usage_error",
}  # errors of the request, not of the agent  # exit codes that end a turn without an error


@dataclass
class Shown:
    """An update of our own, sent in order with those of the engine's events."""

    update: Any
    sent: asyncio.Future[None] | None = None


@dataclass
class TurnEnd:
    """How a prompt ended: a stop reason, or an error for the JSON-RPC response."""

    stop_reason: str = "end_turn"
    error: str = ""
    refused: bool = False  # the request itself cannot be done (an image for a text-only model)


@dataclass
class LiveSession:
    session: Session
    client: Client
    agent: Agent = field(init=False)
    mode: str = "ask"
    rejected_always: set[str] = field(default_factory=set)
    commanding: bool = False  # a slash command runs (see slash.py)
    _queue: asyncio.Queue[ev.Event | Shown] = field(default_factory=asyncio.Queue)
    _turn_end: asyncio.Future[TurnEnd] | None = None
    _streamed: bool = False
    _logs: dict[str, deque[str]] = field(default_factory=dict)
    _diffs: dict[str, Any] = field(default_factory=dict)
    _terminals: dict[str, str] = field(default_factory=dict)  # call id -> editor terminal id
    _tasks: set[asyncio.Task[Any]] = field(default_factory=set)
    _runner: asyncio.Task[None] | None = None
    _pump: asyncio.Task[None] | None = None
    _switch: asyncio.Future[str] | None = None
    _open_calls: set[str] = field(default_factory=set)  # shown, not yet finished
    _waiters: list[tuple[tuple[str, ...], asyncio.Future[None]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.agent = Agent(self.session)
        self.session.subscribe(self._receive)

    def _receive(self, event: ev.Event) -> None:
        """Queued for the pump; a file change's diff is taken now, before the call runs."""
        if isinstance(event, ev.ToolCall) and event.name in ("write", "edit"):
            args, cwd = event.arguments, self.session.cwd
            if isinstance(args, dict):
                diff = tc.proposed_change(event.name, args, cwd, _current_text(args, cwd))
                if diff is not None:
                    self._diffs[event.tool_call_id] = diff
        for waiter in [w for w in self._waiters if event.type in w[0]]:
            self._waiters.remove(waiter)
            if not waiter[1].done():
                waiter[1].set_result(None)
        if isinstance(event, ev.Notice) and self._switch and not self._switch.done():
            self._switch.set_result(event.message)  # a switch ends with one notice, either way
        self._queue.put_nowait(event)

    @property
    def id(self) -> str:
        return self.session.id

    def start(self) -> None:
        self._runner = asyncio.create_task(self.agent.run(), name=f"acp-loop-{self.id}")
        self._pump = asyncio.create_task(self._pump_events(), name=f"acp-pump-{self.id}")

    @property
    def busy(self) -> bool:
        turn = self._turn_end is not None and not self._turn_end.done()
        return turn or self.commanding

    async def prompt(self, text: str, images: list[dict[str, Any]]) -> TurnEnd:
        """Run one turn to its end; its updates are all sent before this returns."""
        return await self.run_turn(op.UserInput(text=text, images=images))

    async def run_turn(self, operation: op.Operation) -> TurnEnd:
        """Submit what starts a turn and wait for its end (with a goal, for the last turn
        toward it, as the chat follows them)."""
        self.claim()
        self._turn_end = asyncio.get_running_loop().create_future()
        self.agent.submit(operation)
        return await self._turn_end

    def claim(self) -> None:
        """One prompt at a time: a second one while a turn or a command runs is refused."""
        if self.busy:
            raise RequestError.invalid_request({"message": "a prompt is already running"})

    async def perform(self, operation: op.Operation, until: tuple[str, ...]) -> None:
        """Submit an operation and wait for the first event of a type in `until`."""
        answered: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append((until, answered))
        self.agent.submit(operation)
        await answered

    async def switch_model(self, model: str) -> None:
        """Switch as the chat's /model does (the model is asked first); a model that cannot
        be used leaves the session as it was, and the editor is told why."""
        if self.busy:
            raise RequestError.invalid_request({"message": "cannot switch models during a turn"})
        self._switch = asyncio.get_running_loop().create_future()
        self.agent.submit(op.SetModel(model=model))
        said = await self._switch
        if self.session.settings.model_name != model:
            raise RequestError.invalid_params({"message": said})

    def cancel(self) -> None:
        """As Ctrl-C: the turn stops, its partial answer kept and its calls answered."""
        if self.busy:
            self.agent.submit(op.Interrupt())

    async def close(self) -> None:
        self.agent.submit(op.Shutdown())
        if self._runner is not None:
            await asyncio.gather(self._runner, return_exceptions=True)
        await self.session.aclose()
        await self._queue.join()
        for task in [self._pump, *self._tasks]:
            if task is not None:
                task.cancel()

    async def _pump_events(self) -> None:
        while True:
            event = await self._queue.get()
            try:
                await self._forward(event)
            except Exception:
                log.exception("could not send the %s update", getattr(event, "type", "own"))
            finally:
                self._queue.task_done()

    async def _forward(self, event: ev.Event | Shown) -> None:
        match event:
            case Shown(update=update, sent=sent):
                try:
                    await self.client.session_update(session_id=self.id, update=update)
                finally:
                    if sent is not None and not sent.done():
                        sent.set_result(None)
            case ev.TurnComplete() | ev.Interrupted() | ev.Error():
                for call_id in self._open_calls:  # stopped before they ran, or while
                    update = _progress(call_id, status="failed")
                    await self.client.session_update(session_id=self.id, update=update)
                self._open_calls.clear()
                self._end_turn(event)
            case ev.ApprovalRequired():
                self.spawn(self._ask_permission(event))
            case _:
                for update in self.updates(event):
                    await self.client.session_update(session_id=self.id, update=update)

    def spawn(self, work: Any) -> asyncio.Task[Any]:
        """Run `work` beside the pump, kept until it ends."""
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def say(self, text: str) -> None:
        """A message of our own, after every update already queued; returns once sent."""
        sent: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(Shown(_message(text), sent))
        await sent

    def show_terminal(self, call_id: str, terminal_id: str) -> None:
        """Put the editor's terminal on a call's card, after the updates already queued
        (the card itself among them)."""
        self._terminals[call_id] = terminal_id
        self._queue.put_nowait(Shown(_progress(call_id, content=[_terminal(terminal_id)])))

    def _end_turn(self, event: ev.Event) -> None:
        self._streamed = False
        if self._turn_end is None or self._turn_end.done():
            return
        match event:
            case ev.TurnComplete() if active_goal(self.session.tool_state):
                return  # the goal's next turn follows at once
            case ev.Interrupted():
                self._turn_end.set_result(TurnEnd("cancelled"))
            case ev.Error(exit_code=code, message=message) if code in STOP_REASONS:
                self._turn_end.set_result(TurnEnd(STOP_REASONS[code], message))
            case ev.Error(code=code, message=message):
                self._turn_end.set_result(TurnEnd("end_turn", message, refused=code in REFUSED))
            case _:
                self._turn_end.set_result(TurnEnd())

    def updates(self, event: ev.Event) -> list[Any]:
        """The `session/update`s that show one engine event (none for most bookkeeping)."""
        match event:
            case ev.AssistantChunk(content=text):
                self._streamed = True
                return [_message(text)]
            case ev.ThinkingChunk(content=text):
                return [
                    AgentThoughtChunk(session_update="agent_thought_chunk", content=_text(text))
                ]
            case ev.AssistantMessage(content=text):
                streamed, self._streamed = self._streamed, False
                return [_message(text)] if text and not streamed else []
            case ev.AssistantStreamEnd(discarded=True):
                self._streamed = False
                return [_message("\n\n")]
            case ev.ToolCall():
                return [self._tool_start(event)]
            case ev.ToolStateChange(tool_call_id=call_id, state=state):
                status = {"running": "in_progress", "denied": "failed", "cancelled": "failed"}
                if state in status:
                    return [_progress(call_id, status=status[state])]
                return []
            case ev.ToolLog(tool_call_id=call_id, line=line):
                lines = self._logs.setdefault(call_id, deque(maxlen=LOG_LINES))
                lines.extend(line.split("\n"))
                return [_progress(call_id, content=[tc.text_content(tc.fenced("\n".join(lines)))])]
            case ev.ToolOutput():
                return [self._tool_end(event)]
            case ev.PlanUpdate(todos=todos):
                return [_plan(todos)]
            case ev.Usage(total_cost_usd=cost):
                window = _window(self.session)
                used = self.session.context.tokens
                spent = Cost(amount=cost, currency="USD") if cost is not None else None
                return [
                    UsageUpdate(
                        session_update="usage_update", used=used, size=window or used, cost=spent
                    )
                ]
            case ev.Notice(message=message) | ev.DoomLoop(message=message):
                return [_message(f"\n\n> {message}\n\n")]
        return []

    def _tool_start(self, event: ev.ToolCall) -> ToolCallStart:
        self._open_calls.add(event.tool_call_id)
        name, args, cwd = event.name, event.arguments, self.session.cwd
        diff = self._diffs.get(event.tool_call_id)
        content: list[Any] | None = [diff] if diff is not None else None
        return ToolCallStart(
            session_update="tool_call",
            tool_call_id=event.tool_call_id,
            title=tc.title_of(name, args),
            kind=tc.kind_of(name),  # type: ignore[arg-type]
            status="pending",
            locations=tc.locations_of(args, cwd),
            raw_input=args,
            content=content,
        )

    def _tool_end(self, event: ev.ToolOutput) -> ToolCallProgress:
        self._open_calls.discard(event.tool_call_id)
        self._logs.pop(event.tool_call_id, None)
        content: list[Any] = []
        if (diff := self._diffs.pop(event.tool_call_id, None)) and not event.is_error:
            content.append(diff)
        if terminal_id := self._terminals.pop(event.tool_call_id, None):
            content.append(_terminal(terminal_id))  # the editor keeps showing it, released
        elif event.content:
            content.append(tc.text_content(tc.fenced(event.content)))
        return _progress(
            event.tool_call_id,
            status="failed" if event.is_error else "completed",
            content=content,
            raw_output=event.content,
        )

    async def _ask_permission(self, event: ev.ApprovalRequired) -> None:
        """The editor's answer to one approval, handed to the loop as the chat's key would be."""
        scope = event.always_scope
        if scope and scope in self.rejected_always:
            self._decide(event.tool_call_id, "deny")
            return
        options = [PermissionOption(option_id="allow_once", name="Allow", kind="allow_once")]
        if scope:
            shown = scope.removeprefix("tool: ")
            options.append(
                PermissionOption(
                    option_id="allow_always", name=f"Always allow {shown}", kind="allow_always"
                )
            )
        options.append(PermissionOption(option_id="reject_once", name="Reject", kind="reject_once"))
        if scope:
            options.append(
                PermissionOption(
                    option_id="reject_always", name=f"Always reject {shown}", kind="reject_always"
                )
            )
        call = ToolCallUpdate(
            tool_call_id=event.tool_call_id,
            title=tc.title_of(event.name, event.arguments),
            kind=tc.kind_of(event.name),  # type: ignore[arg-type]
            status="pending",
            raw_input=event.arguments,
            # why it is asked (a risky command, a hook's `ask`), as the chat shows it
            content=[tc.text_content(f"⚠ {event.reason}")] if event.reason else None,
        )
        choice = "reject_once"
        try:
            answer = await self.client.request_permission(
                session_id=self.id, tool_call=call, options=options
            )
            if isinstance(answer.outcome, AllowedOutcome):
                choice = answer.outcome.option_id
        except Exception:
            log.exception("the permission request failed: the call is refused")
        if choice == "reject_always" and scope:
            self.rejected_always.add(scope)
        decision = {"allow_once": "approve", "allow_always": "always"}.get(choice, "deny")
        self._decide(event.tool_call_id, decision)

    def _decide(self, call_id: str, decision: str) -> None:
        self.agent.submit(op.Approval(tool_call_id=call_id, decision=decision))  # type: ignore[arg-type]


def _text(text: str) -> TextContentBlock:
    return TextContentBlock(type="text", text=text)


def _message(text: str) -> AgentMessageChunk:
    return AgentMessageChunk(session_update="agent_message_chunk", content=_text(text))


def _progress(call_id: str, **fields: Any) -> ToolCallProgress:
    return ToolCallProgress(session_update="tool_call_update", tool_call_id=call_id, **fields)


def _terminal(terminal_id: str) -> TerminalToolCallContent:
    return TerminalToolCallContent(type="terminal", terminal_id=terminal_id)


def _plan(todos: list[dict[str, Any]]) -> AgentPlanUpdate:
    entries = [
        PlanEntry(
            content=str(todo.get("content", "")),
            status=todo.get("status", "pending")
            if todo.get("status") in ("pending", "in_progress", "completed")
            else "pending",
            priority="medium",
        )
        for todo in todos
    ]
    return AgentPlanUpdate(session_update="plan", entries=entries)


def _window(session: Session) -> int | None:
    from agent.core.window import window_for

    with contextlib.suppress(Exception):
        return window_for(session.settings.model_name, session.settings)
    return None


def _current_text(args: dict[str, Any], cwd: Any) -> str | None:
    path = tc.absolute(str(args.get("path", "")), cwd)
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
