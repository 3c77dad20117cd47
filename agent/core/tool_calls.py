"""Running the tool calls of one assistant message: approval, dispatch, results.

Every call ends as exactly one `tool` message in the history, whatever happens:
broken arguments, a refusal, an error or a timeout all become results the model
can read. Consecutive read-only calls run concurrently; the rest run in order.
"""

from __future__ import annotations

import asyncio
import math
from typing import Any

from agent import events as ev
from agent.core import hooks
from agent.core.approval.policy import approval_reason, denial
from agent.core.approval.scopes import allowed_always, always_scope
from agent.core.budget import spend_covered
from agent.core.nudges import ArgumentStreak, broken_arguments_note
from agent.core.session import Session
from agent.extensions.hooks import tool_names
from agent.tools.router import ArgumentError, parse_arguments
from agent.tools.spec import ToolResult


async def run_tool_calls(
    session: Session, calls: list[dict[str, Any]], streak: ArgumentStreak | None = None
) -> None:
    """Run every call of one assistant message and record its result.

    `streak` follows broken arguments across the turn: the same tool called twice in
    a row with arguments it cannot take earns the model one explicit instruction.
    """
    problems = {call["id"]: _argument_problem(session, call) for call in calls}
    for batch in _batches(session, calls):
        results = await asyncio.gather(
            *(_run_one(session, call, problems[call["id"]]) for call in batch)
        )
        for call, result in zip(batch, results, strict=True):
            _record(session, call, result)
    if streak is not None:
        _instruct_on_broken_arguments(session, streak, calls, problems)


def _argument_problem(session: Session, call: dict[str, Any]) -> str | None:
    """What is wrong with a call's arguments: not JSON, or not what the tool's schema asks."""
    name = call["function"]["name"]
    try:
        args = parse_arguments(call["function"]["arguments"])
    except ArgumentError as exc:
        return str(exc)
    return session.router.argument_problem(name, args)


def _instruct_on_broken_arguments(
    session: Session,
    streak: ArgumentStreak,
    calls: list[dict[str, Any]],
    problems: dict[str, str | None],
) -> None:
    """After all results are recorded: one instruction when a streak of broken calls is due."""
    for call in calls:
        name, raw = call["function"]["name"], call["function"]["arguments"]
        problem = problems[call["id"]]
        if not streak.observe(name, broken=problem is not None) or problem is None:
            continue
        spec = session.router.get(name)
        required = spec.parameters.get("required", []) if spec else []
        note = broken_arguments_note(name, problem, required, len(raw or ""))
        session.context.add({"role": "user", "content": note})
        session.emit(
            ev.Notice(
                message=f"The model's arguments for {name} were unusable twice in a row: "
                "told it what the tool needs."
            )
        )


def _batches(session: Session, calls: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    batches: list[list[dict[str, Any]]] = []
    previous_read_only = False
    for call in calls:
        spec = session.router.get(call["function"]["name"])
        read_only = spec is not None and spec.read_only
        if read_only and previous_read_only:
            batches[-1].append(call)
        else:
            batches.append([call])
        previous_read_only = read_only
    return batches


async def _run_one(session: Session, call: dict[str, Any], problem: str | None) -> ToolResult:
    call_id = call["id"]
    name = call["function"]["name"]
    raw = call["function"]["arguments"]
    if problem is not None:
        session.emit(ev.ToolCall(tool_call_id=call_id, name=name, arguments=raw or ""))
        return ToolResult(f"Invalid arguments for {name}: {problem}", is_error=True)
    args, pre = await hooks.before_tool(session, call_id, name, parse_arguments(raw))
    session.emit(ev.ToolCall(tool_call_id=call_id, name=name, arguments=args))
    if pre.blocked:
        session.emit(ev.ToolStateChange(tool_call_id=call_id, name=name, state="denied"))
        return ToolResult(f"Blocked by a PreToolUse hook: {pre.reason()}", is_error=True)
    if pre.updated_input and (problem := session.router.argument_problem(name, args)):
        return ToolResult(f"Invalid arguments for {name} after a hook: {problem}", is_error=True)
    ctx = session.tool_context(call_id, name)
    ctx.subagent_stop = hooks.subagent_stop_check(session, call_id, name)
    refusal = await session.router.refusal(name, args, ctx) or await _approve(
        session, call_id, name, args, pre.permission, pre.permission_reason
    )
    if refusal is not None:
        session.output_so_far.pop(call_id, None)
        return refusal
    session.emit(ev.ToolStateChange(tool_call_id=call_id, name=name, state="running"))
    try:
        result = await session.router.call(name, args, ctx)
        session.output_so_far.pop(call_id, None)
        return await hooks.after_tool(session, call_id, name, args, result)
    except asyncio.CancelledError:
        session.emit(ev.ToolStateChange(tool_call_id=call_id, name=name, state="cancelled"))
        raise


async def _approve(
    session: Session,
    call_id: str,
    name: str,
    args: dict[str, Any],
    hook: str = "",
    hook_reason: str = "",
) -> ToolResult | None:
    """None when the call may run; otherwise the refusal to hand the model.

    A call that spends money (a cloud job, a sandbox) is asked about even in yolo or
    auto mode unless the spend budget covers its worst case. A PreToolUse hook's
    `allow` stands for the person's yes, its `ask` asks even where nothing else would
    (in yolo or auto mode too, when a person is there to answer; refused otherwise);
    neither overrides a configured denial or the budget.
    """
    spec = session.router.get(name)
    settings = session.settings
    if forbidden := denial(name, args, settings):
        session.emit(ev.ToolStateChange(tool_call_id=call_id, name=name, state="denied"))
        return ToolResult(
            f"Not run: the user's configuration forbids it ({forbidden}). Do not retry it; "
            "find another way or tell the user.",
            is_error=True,
        )
    try:
        reason = approval_reason(name, args, settings, session.cwd, spec)
    except (OSError, RuntimeError, ValueError) as exc:  # e.g. a path that cannot resolve
        return ToolResult(f"Invalid arguments for {name}: {exc}", is_error=True)
    spend = await spec.estimate_spend(args, settings) if spec and spec.estimate_spend else None
    if spend is not None:
        reason = spend[0]
    if hook == "ask":
        asked = f"a PreToolUse hook asks first: {hook_reason or 'no reason given'}"
        reason = f"{reason}; {asked}" if reason else asked
    if reason is None:
        return None
    spent = session.usage.spent_usd
    covered = spend is None or spend_covered(spend[1], spent, settings.max_budget_usd)
    every_part = settings.approval.bash_always_ask
    always = allowed_always(name, args, session.standing_approvals(), session.cwd, every_part)
    if not always and session.turn_rules is not None:  # a custom command's allowed-tools
        always = session.turn_rules.allows(name, args, session.cwd, every_part)
    trusted = settings.yolo or always or settings.approval_mode == "auto" or hook == "allow"
    if trusted and covered and hook != "ask":
        return None
    hook_asks = hook == "ask" and settings.approval_mode == "auto" and session.person_present
    if settings.approval_mode != "ask" and not hook_asks:
        session.emit(ev.ToolStateChange(tool_call_id=call_id, name=name, state="denied"))
        why = "approvals are set to deny"
        if spend is not None and not covered:
            unbounded = math.isinf(spend[1])
            why = "no budget can cover it" if unbounded else "--max-budget-usd does not cover it"
        elif hook == "ask" and settings.approval_mode == "auto":
            why = "nobody is here to answer"
        return ToolResult(
            f"Not run: this call needs approval ({reason}) and {why}. Find another way "
            "that does not need it, or tell the user what you wanted to run.",
            is_error=True,
        )
    return await _ask(session, call_id, name, args, reason)


async def _ask(
    session: Session, call_id: str, name: str, args: dict[str, Any], reason: str
) -> ToolResult | None:
    """Wait for the person's decision, delivered as an `approval` operation, unless a
    PermissionRequest hook answers for them; a hook's `allow` may carry `updatedInput`,
    which changes `args` in place: the call runs with it."""
    answered = await hooks.permission_request(session, call_id, name, args, reason)
    if answered.permission == "allow":
        if answered.updated_input:
            changed = {**args, **tool_names.our_input(name, answered.updated_input)}
            if problem := session.router.argument_problem(name, changed):
                return ToolResult(
                    f"Invalid arguments for {name} after a PermissionRequest hook: {problem}",
                    is_error=True,
                )
            args.update(changed)
        session.emit(ev.ToolStateChange(tool_call_id=call_id, name=name, state="approved"))
        return None
    if answered.permission == "deny":
        session.emit(ev.ToolStateChange(tool_call_id=call_id, name=name, state="denied"))
        return ToolResult(f"Denied by a PermissionRequest hook: {answered.reason()}", is_error=True)
    future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    session.pending_approvals[call_id] = future
    session.emit(ev.ToolStateChange(tool_call_id=call_id, name=name, state="waiting_approval"))
    scope = always_scope(name, args, session.cwd)
    session.emit(
        ev.ApprovalRequired(
            tool_call_id=call_id, name=name, arguments=args, reason=reason, always_scope=scope
        )
    )
    try:
        decision, feedback = await future
    finally:
        session.pending_approvals.pop(call_id, None)
    if decision == "always" and scope:  # "" when no scope was offered: a plain yes
        session.always_allowed.add(scope)
    if decision in ("approve", "always"):
        session.emit(ev.ToolStateChange(tool_call_id=call_id, name=name, state="approved"))
        return None
    session.emit(ev.ToolStateChange(tool_call_id=call_id, name=name, state="denied"))
    text = "The user refused this tool call."
    if feedback:
        text += f" Their feedback: {feedback}"
    return ToolResult(text, is_error=True)


def _record(session: Session, call: dict[str, Any], result: ToolResult) -> None:
    name = call["function"]["name"]
    session.emit(
        ev.ToolOutput(
            tool_call_id=call["id"],
            name=name,
            content=result.content,
            is_error=result.is_error,
            data=result.data,
        )
    )
    session.context.add(
        {"role": "tool", "tool_call_id": call["id"], "name": name, "content": result.content}
    )
