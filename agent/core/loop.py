"""The submission loop and the agentic turn.

Front ends put operations on `Agent.ops`; the loop answers with events. A turn
asks the model, runs the tool calls it asked for, and repeats until the model
answers without tool calls. End states are exceptions from `agent.errors`,
caught once here and turned into events.
"""

from __future__ import annotations

import asyncio
import logging
import os
import traceback
from collections.abc import Callable, Coroutine
from typing import Any

from agent import events as ev
from agent.context.manager import AGENT_NOTE_PREFIX
from agent.core import goal as goals
from agent.core import hooks, llm
from agent.core import ops as op
from agent.core.budget import count_model_call, unenforced_budget_once
from agent.core.command_turn import command_turn
from agent.core.compact import compact
from agent.core.doom_loop import RepetitionGuard, corrective_message
from agent.core.local_server import fit_to_window, tool_less_hint
from agent.core.mentions import user_content, with_images
from agent.core.model_switch import switch_model
from agent.core.nudges import CONTINUE_NUDGE, ArgumentStreak, FollowUps
from agent.core.replies import without_reasoning
from agent.core.run_notes import ledger_brief, take_wake
from agent.core.session import Session
from agent.core.tool_calls import run_tool_calls
from agent.errors import AgentStop, ContextOverflow, DoomLoopStop, PromptBlocked, StaleReasoning
from agent.extensions.commands import requested
from agent.runs.registry import RUNS_STATE, RunRegistry, runs_pending
from agent.tools.local.checkpoints import forget_turn, restore_turn

log = logging.getLogger(__name__)
# Said for the model after a request it never answered (stopped, or cut by a crash), so the
# history never holds two requests in a row: some chat templates refuse that.
UNANSWERED_NOTE = f"{AGENT_NOTE_PREFIX} (stopped before answering this request)"


async def run_turn(
    session: Session,
    text: str,
    on_request: Callable[[], None] | None = None,
    images: list[dict[str, Any]] | None = None,
    typed: bool = True,
) -> str:
    """One user request (with `images`, image_url parts, if any), to the end. Returns the
    model's final answer. `on_request` is called once the request is in the history (and
    so in the session log). A request nobody typed (a wake-up quoting a run's output)
    fires no prompt hook, invokes no command and attaches nothing."""
    if not typed:
        return await _run_turn(session, text, on_request, images, typed)
    with command_turn(session, text):  # a custom command's model and allowed tools
        return await _run_turn(session, text, on_request, images, typed)


async def _run_turn(
    session: Session,
    text: str,
    on_request: Callable[[], None] | None,
    images: list[dict[str, Any]] | None,
    typed: bool,
) -> str:
    content: str | list[dict[str, Any]] = text
    if typed:
        submitted = await hooks.fire(session, "UserPromptSubmit", {"prompt": text})
        if submitted.blocked:
            raise PromptBlocked(f"The request was not sent: {submitted.reason()}")
        request = requested(session.skills, session.commands, text) or text
        request = hooks.with_context(request, [*session.hook_context, *submitted.context])
        content = await user_content(session, text, request)
        if images:
            content = await with_images(session, content, images)
        session.hook_context = []
    unanswered = session.context.messages[-1:]
    if unanswered and unanswered[0].get("role") == "user":  # a turn stopped before any answer
        session.context.add({"role": "assistant", "content": UNANSWERED_NOTE})
    if brief := ledger_brief(session.tool_state):
        text_part = {"type": "text", "text": brief}
        content = f"{brief}{content}" if isinstance(content, str) else [text_part, *content]
    session.context.add({"role": "user", "content": content})
    if on_request is not None:
        on_request()
    session.turns += 1
    await llm.load()  # the request is in the log; Ctrl-C works while litellm loads
    guard = RepetitionGuard(session.settings.doom_loop_extra_detections)
    follow_ups = FollowUps()
    arguments = ArgumentStreak()
    stop_blocks = 0
    session.turn_iterations = 0  # every model call counts, a summary's as well
    if problem := unenforced_budget_once(session):
        session.emit(ev.Notice(message=problem))
    await fit_to_window(session)
    while True:
        check_pending_stop(session)
        await compact(session)
        add_hook_context(session)
        count_model_call(session, session.context.tokens)
        session.emit(ev.Processing(iteration=session.turn_iterations))
        reply = await ask_model_within_context(session)
        if reply.tool_calls:
            await run_tool_calls(session, reply.tool_calls, arguments)
            check_repetition(session, guard)
            continue
        verdict = follow_ups.after_answer(reply)
        if verdict == "nudge" and runs_pending(session.tool_state):
            verdict = "done"  # ending the turn to wait for watched runs is legitimate
        match verdict:
            case "nudge":
                session.context.add({"role": "user", "content": CONTINUE_NUDGE})
            case "done":
                if await stop_blocked(session, stop_blocks):
                    stop_blocks += 1
                    continue
                if notice := incomplete_answer(reply) or tool_less_hint(session, text):
                    session.emit(ev.Notice(message=notice))
                return reply.content


async def stop_blocked(session: Session, blocks: int) -> bool:
    """Whether Stop hooks send the agent back to work, their reason its next instruction;
    after STOP_BLOCKS_MAX blocks in a row the turn ends all the same, and says so."""
    verdict = await hooks.fire(session, "Stop", {"stop_hook_active": blocks > 0})
    check_pending_stop(session)
    if not verdict.blocked:
        return False
    if blocks >= hooks.STOP_BLOCKS_MAX:
        session.emit(
            ev.Notice(
                message=f"Stop hooks blocked the end of this turn {blocks} times in a row: "
                "ending it anyway."
            )
        )
        return False
    session.context.add({"role": "user", "content": f"Stop hook feedback:\n{verdict.reason()}"})
    return True


def add_hook_context(session: Session) -> None:
    """Context a hook added during the turn (SessionStart after a compaction) goes to the
    model with its next request."""
    if session.hook_context:
        context, session.hook_context = session.hook_context, []
        session.context.add({"role": "user", "content": hooks.with_context("", context).strip()})


def incomplete_answer(reply: llm.LLMReply) -> str:
    """What is wrong with a final answer that looks finished but is not, if anything."""
    if not reply.content.strip():
        return "The model sent an empty answer, twice. Ask again, or rephrase."
    if reply.finish_reason == "length":
        return (
            "The answer stopped at the model's output limit: ask it to go on, or raise "
            "max_output_tokens in the config."
        )
    return ""


def answer_stopped_calls(session: Session) -> None:
    """Every call the stop left unanswered gets its result: what it printed so far, if
    anything, shown to the front ends as well, so the screen holds what the model got."""
    so_far = {
        k: "\n".join(line.lstrip("\r") for line in v) for k, v in session.output_so_far.items() if v
    }
    session.output_so_far = {}
    for answer in session.context.answer_dangling(so_far=so_far):
        if answer["tool_call_id"] in so_far:
            session.emit(
                ev.ToolOutput(
                    tool_call_id=answer["tool_call_id"],
                    name=answer["name"],
                    content=answer["content"],
                    is_error=True,
                )
            )


def check_pending_stop(session: Session) -> None:
    """A stop asked for from outside the turn (a sub-agent's token budget) ends it here."""
    stop, session.pending_stop = session.pending_stop, None
    if stop is not None:
        raise stop


def check_repetition(session: Session, guard: RepetitionGuard) -> None:
    """Warn the model the first time it repeats itself; end the turn if it keeps on."""
    verdict = guard.check(session.context.messages)
    if verdict is None:
        return
    action, description = verdict
    if action == "stop":
        message = f"{description} even after being asked to change approach: stopped the turn."
        session.emit(ev.DoomLoop(message=message, stopped=True))
        raise DoomLoopStop(message)
    session.emit(ev.DoomLoop(message=f"{description}: asked the model to change approach."))
    session.context.add({"role": "user", "content": corrective_message(description)})


async def ask_model_within_context(session: Session) -> llm.LLMReply:
    """Ask the model; on a context overflow, compact once and ask again."""
    try:
        return await ask_model_or_heal(session)
    except ContextOverflow as exc:
        session.emit(ev.Notice(message="The conversation outgrew the model's context: compacting."))
        if not await compact(session, force=True, overflowed=True):
            raise type(exc)(f"{exc.message}. Nothing could be compacted: {OUTGROWN}") from None
    try:
        return await ask_model_or_heal(session)
    except ContextOverflow as exc:
        raise type(exc)(
            f"{exc.message}. It still does not fit after compaction: {OUTGROWN}"
        ) from None


OUTGROWN = (
    "start a fresh conversation (in the chat: /new) or use a model with a larger context "
    "window (--model; a local server loaded with a larger context)"
)


async def ask_model_or_heal(session: Session) -> llm.LLMReply:
    """Ask the model; when the provider refuses the reasoning replayed from earlier answers
    (a stale signature), drop that reasoning from the history once and ask again."""
    try:
        return await ask_model(session)
    except StaleReasoning:
        stripped = without_reasoning(session.context.messages)
        if stripped is None:
            raise
        session.context.replace(stripped)
        session.emit(
            ev.Notice(
                message="The provider refused the reasoning saved from earlier answers: "
                "dropped it from the history and asked again."
            )
        )
    return await ask_model(session)


async def ask_model(session: Session) -> llm.LLMReply:
    """One model call, streamed into events; a partial answer survives an interrupt."""
    partial: list[str] = []

    def on_text(piece: str) -> None:
        partial.append(piece)
        session.emit(ev.AssistantChunk(content=piece))

    def on_discard() -> None:
        partial.clear()
        session.emit(ev.AssistantStreamEnd(discarded=True))
        session.emit(ev.Notice(message="The answer broke off before it was complete: discarded."))

    callbacks = llm.StreamCallbacks(
        on_text=on_text,
        on_thinking=lambda piece: session.emit(ev.ThinkingChunk(content=piece)),
        on_retry=lambda attempt, total, delay, why: session.emit(
            ev.Retrying(attempt=attempt, max_attempts=total, delay_s=delay, reason=why)
        ),
        on_discard=on_discard,
        on_notice=lambda message: session.emit(ev.Notice(message=message)),
    )
    try:
        reply = await llm.complete(
            session.context.messages, session.router.schemas(), session.settings, callbacks
        )
    except asyncio.CancelledError:
        if partial:
            session.context.add({"role": "assistant", "content": "".join(partial)})
            session.emit(ev.AssistantStreamEnd())
        raise
    session.usage.add(reply)
    session.context.calibrate(reply.usage.input_tokens)
    if reply.content or reply.tool_calls:
        session.context.add(reply.message())
    if partial:
        session.emit(ev.AssistantStreamEnd())
    session.emit(ev.AssistantMessage(content=reply.content, tool_calls=reply.tool_calls))
    session.emit(session.usage_event(reply))
    return reply


class Agent:
    """Reads operations one at a time; a running turn can be interrupted or approved into.

    While a goal is active, each turn that ends normally is followed by the next one
    toward it (`core/goal.py` says with what request, or that the goal ended); a request
    from the person goes first.
    """

    def __init__(self, session: Session) -> None:
        self.session = session
        self.ops: asyncio.Queue[op.Operation] = asyncio.Queue()
        self._turn: asyncio.Task[None] | None = None
        self._waiting_inputs: list[op.UserInput] = []
        self._goal_next: str | None = None  # the goal's next request, about to start
        self._closing = False

    def submit(self, operation: op.Operation) -> None:
        self.ops.put_nowait(operation)

    @property
    def busy(self) -> bool:
        """A turn runs, or one is about to start (a goal's next, a line sent meanwhile)."""
        return self._running or self._goal_next is not None or bool(self._waiting_inputs)

    @property
    def _running(self) -> bool:
        return self._turn is not None and not self._turn.done()

    async def run(self) -> None:
        """Serve operations until `shutdown`."""
        session = self.session
        session.announce()
        registry = session.tool_state.get(RUNS_STATE)
        if isinstance(registry, RunRegistry):
            registry.on_wake = self._woken
        ended: op.EndReason = "other"
        try:
            await hooks.session_start(session, session.start_source)
            while True:
                operation = await self.ops.get()
                if isinstance(operation, op.Shutdown):
                    ended = operation.reason
                    break
                await self._handle(operation)
        finally:
            self._waiting_inputs.clear()
            self._closing = True
            await self._cancel_turn()
            await hooks.session_end(session, ended)
            session.emit(ev.Shutdown())

    async def _handle(self, operation: op.Operation) -> None:
        session = self.session
        match operation:
            case op.UserInput():
                self._waiting_inputs.append(operation)
                self._start_next_turn()
            case op.Compact(instructions=instructions) if not self.busy:
                work = compact(session, force=True, instructions=instructions, asked=True)
                self._turn = asyncio.create_task(self._run(work), name="compact")
            case op.Interrupt():
                self._waiting_inputs.clear()
                await self._cancel_turn()
                if self._goal_next is not None:  # between two turns of a goal
                    self._goal_next = None
                    goals.interrupted(session)
            case op.SetGoal(condition=None):
                if not goals.stop_goal(session, "stopped with /goal stop"):
                    session.emit(ev.Notice(message="No goal is active."))
            case op.SetGoal(condition=condition, request=request) if not self.busy:
                started = goals.start_goal(session, condition or "", request)
                self._waiting_inputs.append(op.UserInput(text=started))
                self._start_next_turn()
            case op.Approval(tool_call_id=call_id, decision=decision, feedback=feedback):
                future = session.pending_approvals.get(call_id)
                if future and not future.done():
                    future.set_result((decision, feedback))
            case op.SetModel(model=model) if not self.busy:
                switch = switch_model(session, model)
                self._turn = asyncio.create_task(self._run(switch), name="set-model")
            case op.Undo(restore_files=restore_files) if not self.busy:
                removed = session.context.undo_last_turn()
                restored: list[str] = []
                if removed:
                    turn, session.turns = session.turns, max(session.turns - 1, 0)
                    if restore_files:
                        restored = restore_turn(session.tool_state, turn, session.notify)
                    else:
                        forget_turn(session.tool_state, turn)
                session.emit(ev.UndoComplete(removed_messages=removed, restored_files=restored))
            case op.NewSession() if not self.busy:
                await hooks.session_end(session, "clear")
                session.start_fresh()
                session.emit(ev.Notice(message=f"Started a fresh conversation ({session.id})."))
                await hooks.session_start(session, "clear")
            case _:
                session.emit(ev.Notice(message=f"Cannot {operation.type} while a turn is running."))

    def _start_next_turn(self) -> None:
        """The next request: what the person sent first, else what woke the agent, else
        the goal's next step."""
        if self._running or self._closing:
            return
        if self._waiting_inputs:
            asked, self._goal_next = self._waiting_inputs.pop(0), None
            work = self._turn_toward_goal(asked.text, continued=False, images=asked.images)
        elif woken := take_wake(self.session.tool_state):
            summary, text = woken
            self.session.emit(ev.RunWake(summary=summary))
            work = self._turn_toward_goal(text, continued=False, typed=False)
        elif self._goal_next is not None:
            text, self._goal_next = self._goal_next, None
            work = self._turn_toward_goal(text, continued=True)
        else:
            return
        self._turn = asyncio.create_task(self._run(work, turn=True), name="turn")

    def _woken(self) -> None:
        """A watched run needs a look: a goal waiting for runs checks again, and an idle
        agent starts a turn for it."""
        goals.wake(self.session)
        self._start_next_turn()

    async def _turn_toward_goal(
        self,
        text: str,
        continued: bool,
        images: list[dict[str, Any]] | None = None,
        typed: bool = True,
    ) -> str:
        """A turn; with an active goal, its time limit armed, and a continued one waits
        (calling no model) while background runs are pending, then carries what woke it."""
        session = self.session
        disarm = goals.deadline(session)
        try:
            if continued:
                await goals.wait_for_runs(session)
                if woken := take_wake(session.tool_state):
                    summary, wake_text = woken
                    session.emit(ev.RunWake(summary=summary))
                    text, typed = f"{wake_text}\n\n{text}", False
            announce = lambda: goals.announce(session)  # noqa: E731
            return await run_turn(session, text, on_request=announce, images=images, typed=typed)
        finally:
            disarm()

    async def _cancel_turn(self) -> None:
        if self._turn is not None and not self._turn.done():
            self._turn.cancel()
            await asyncio.gather(self._turn, return_exceptions=True)
            if self._turn.cancelled():  # stopped before it ran: nothing else will say so
                goals.interrupted(self.session)
                self.session.emit(ev.Interrupted())

    async def _run(self, work: Coroutine[Any, Any, Any], turn: bool = False) -> None:
        """Run a turn (or a compaction) and turn how it ended into events; a goal hears of
        a turn's end first, so its own ending comes before the turn's last event."""
        session = self.session
        try:
            final = await work
            if isinstance(final, str):
                session.emit(ev.TurnComplete(final_text=final, iterations=session.turn_iterations))
                if turn:
                    self._goal_next = goals.after_turn(session)
        except asyncio.CancelledError:
            answer_stopped_calls(session)
            if turn:
                goals.interrupted(session)
            session.emit(ev.Interrupted())
        except AgentStop as stop:
            session.context.answer_dangling(f"[not run: {stop.message}]")
            if turn:
                goals.turn_failed(session, stop)
            session.emit(ev.Error(code=stop.code, message=stop.message, exit_code=stop.exit_code))
        except Exception as exc:
            if os.environ.get("ML_INTERN_DEBUG"):
                traceback.print_exc()  # to stderr; the turn still ends with an error event
            log.exception("turn failed")
            session.context.answer_dangling("[not run: internal error]")
            session.emit(
                ev.Error(code="internal_error", message=f"{type(exc).__name__}: {exc}", exit_code=1)
            )
        finally:
            asyncio.get_running_loop().call_soon(self._start_next_turn)
