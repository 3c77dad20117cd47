"""Lifecycle hooks in a session: the payload each event sends, the transcript hooks read,
and each run reported as a `hook` event.

Which hooks exist and which match is `agent/extensions/hooks/catalog.py`; running them is
`runner.py`; reading their answers is `verdict.py`. With no hook matching an event, `fire`
returns at once: nothing is spawned and nothing is written.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agent import events as ev
from agent.atomic import write_file
from agent.context.redact import redact
from agent.core.session import Session
from agent.errors import HookStop
from agent.extensions.hooks import tool_names
from agent.extensions.hooks.runner import run_all
from agent.extensions.hooks.verdict import Verdict, judge
from agent.paths import data_home
from agent.tools.spec import SubagentStopCheck, ToolResult
from agent.trust import project_root

log = logging.getLogger(__name__)
STOP_BLOCKS_MAX = 3  # Stop hooks may send the agent back to work this many times in a row
SUBAGENT_TOOLS = frozenset({"research"})  # its sub-agent ends with SubagentStop


async def fire(session: Session, event: str, fields: dict[str, Any], *names: str) -> Verdict:
    """Run the hooks of `event` that match any of `names` and fold their answers.

    A hook's `continue: false` ends the turn before its next step (HookStop)."""
    hooks = session.hooks.matching(event, *names) if session.hooks else []
    if not hooks:
        return Verdict()
    try:
        transcript = str(await write_transcript(session))
    except OSError as exc:  # a full disk: the hooks still run, without the transcript
        log.warning("cannot write the transcript for hooks: %s", exc)
        transcript = ""
    payload = {
        "session_id": session.id,
        "transcript_path": transcript,
        "cwd": str(session.cwd),
        "hook_event_name": event,
        "permission_mode": permission_mode(session),
        **fields,
    }
    data = json.dumps(payload, default=str).encode()
    runs = await run_all(hooks, data, hook_env(session.cwd), session.cwd)
    verdict = judge(event, runs, redact)
    for judged in verdict.judged:
        run = judged.run
        session.emit(
            ev.HookRun(
                event=event,
                command=run.hook.command,
                source=run.hook.source,
                exit_code=run.exit_code,
                decision=judged.decision,
                reason=judged.reason,
                duration_ms=run.duration_ms,
            )
        )
    for message in verdict.messages:
        session.emit(ev.Notice(message=message))
    if verdict.stop_reason is not None:
        session.stop_before_next_step(HookStop(f"Stopped by a hook: {verdict.stop_reason}"))
    return verdict


def in_background(session: Session, event: str, fields: dict[str, Any], *names: str) -> None:
    """Fire an event nobody waits for (a notification, a job's news); the session's close
    waits for the hooks still running, each within its own timeout."""
    if not (session.hooks and session.hooks.matching(event, *names)):
        return
    pending: set[asyncio.Task[Verdict]] = session.tool_state.setdefault("hook_tasks", set())
    if not pending:
        session.resources.push_async_callback(_finish_background, pending)
    task = asyncio.get_running_loop().create_task(fire(session, event, fields, *names))
    pending.add(task)
    task.add_done_callback(pending.discard)


async def _finish_background(pending: set[asyncio.Task[Verdict]]) -> None:
    if pending:
        await asyncio.gather(*pending, return_exceptions=True)


def hook_env(cwd: Path) -> dict[str, str]:
    """The user's environment, plus the project folder under Claude Code's name and ours."""
    root = str(project_root(cwd))
    return {**os.environ, "CLAUDE_PROJECT_DIR": root, "ML_INTERN_PROJECT_DIR": root}


def permission_mode(session: Session) -> str:
    """Claude Code's name for how tool calls are approved."""
    settings = session.settings
    if settings.yolo or settings.approval_mode == "auto":
        return "bypassPermissions"
    return "dontAsk" if settings.approval_mode == "deny" else "default"


async def write_transcript(session: Session) -> Path:
    """The session so far in Claude Code's JSONL (as `sessions export` writes it),
    redacted; empty before the first request is saved. Written off the event loop (a long
    session's log is read whole), each line redacted once per session (GrowingExport);
    removed when the session closes."""
    from agent.context.traces import GrowingExport

    path = data_home() / "transcripts" / f"{session.id}.jsonl"
    if not path.exists():
        session.resources.callback(path.unlink, missing_ok=True)
    export = session.tool_state.setdefault("hook_transcript", GrowingExport())
    await asyncio.to_thread(_write_transcript, session.id, path, export)
    return path


def _write_transcript(session_id: str, path: Path, export: Callable[[Any], bytes]) -> None:
    from agent.context.resume import load_session
    from agent.context.store import SessionNotFound

    try:
        data = export(load_session(session_id))
    except (SessionNotFound, OSError, ValueError):
        data = b""
    write_file(path, data)


def with_context(text: str, context: list[str]) -> str:
    """A request with what hooks added for the model, marked as theirs."""
    if not context:
        return text
    added = "\n\n".join(context)
    return f"{text}\n\n<hook-context>\n{added}\n</hook-context>"


async def session_start(session: Session, source: str) -> None:
    """SessionStart (`source`: startup, resume, clear or compact); the context hooks add
    goes with the next request to the model."""
    verdict = await fire(
        session, "SessionStart", {"source": source, "model": session.settings.model_name}, source
    )
    session.hook_context += verdict.context


async def session_end(session: Session, reason: str) -> None:
    await fire(session, "SessionEnd", {"reason": reason}, reason)


async def before_tool(
    session: Session, call_id: str, name: str, args: dict[str, Any]
) -> tuple[dict[str, Any], Verdict]:
    """PreToolUse: the arguments to run with (a hook's `updatedInput` applied) and what the
    hooks decided (deny, ask, allow)."""
    if not session.hooks.matching("PreToolUse", *tool_names.names(name)):
        return args, Verdict()
    fields = {
        "tool_name": tool_names.names(name)[0],
        "tool_input": tool_names.claude_input(name, args, session.cwd),
        "tool_use_id": call_id,
    }
    verdict = await fire(session, "PreToolUse", fields, *tool_names.names(name))
    if verdict.updated_input and not verdict.blocked:
        args = {**args, **tool_names.our_input(name, verdict.updated_input)}
    return args, verdict


async def after_tool(
    session: Session, call_id: str, name: str, args: dict[str, Any], result: ToolResult
) -> ToolResult:
    """PostToolUse (or PostToolUseFailure for an error result): what the hooks say back
    (a block's reason, added context) goes to the model with the result."""
    event = "PostToolUseFailure" if result.is_error else "PostToolUse"
    names = tool_names.names(name)
    if not session.hooks.matching(event, *names):
        return result
    fields: dict[str, Any] = {
        "tool_name": tool_names.names(name)[0],
        "tool_input": tool_names.claude_input(name, args, session.cwd),
        "tool_use_id": call_id,
    }
    if result.is_error:
        fields.update(error=result.content, is_interrupt=False)
    else:
        fields["tool_response"] = tool_names.claude_response(
            name, args, result.content, result.is_error
        )
    verdict = await fire(session, event, fields, *names)
    notes = [f"{event} hook feedback: {verdict.reason()}"] if verdict.blocked else []
    notes += verdict.context
    if not notes:
        return result
    return dataclasses.replace(result, content="\n\n".join([result.content, *notes]))


def subagent_stop_check(session: Session, call_id: str, name: str) -> SubagentStopCheck | None:
    """What a sub-agent started by the call `call_id` asks before it ends with its report
    (None when no SubagentStop hook matches it): the reason of a hook that sends it back
    to work, which becomes its next instruction."""
    if name not in SUBAGENT_TOOLS or not session.hooks.matching("SubagentStop", name):
        return None

    async def check(agent_type: str, active: bool, last_answer: str) -> str | None:
        fields = {
            "stop_hook_active": active,
            "agent_type": agent_type,
            "agent_id": call_id,
            "last_assistant_message": last_answer,
        }
        verdict = await fire(session, "SubagentStop", fields, agent_type)
        return verdict.reason() if verdict.blocked else None

    return check


async def permission_request(
    session: Session, call_id: str, name: str, args: dict[str, Any], reason: str
) -> Verdict:
    """PermissionRequest, before the person is asked (a hook may answer for them), and a
    Notification that a permission prompt is waiting."""
    if not session.hooks:
        return Verdict()
    fields = {
        "tool_name": tool_names.names(name)[0],
        "tool_input": tool_names.claude_input(name, args, session.cwd),
        "tool_use_id": call_id,
        "permission_suggestions": [],
    }
    verdict = await fire(session, "PermissionRequest", fields, *tool_names.names(name))
    if not verdict.permission:
        message = f"ml-intern needs your permission to use {fields['tool_name']}: {reason}"
        note = {"message": message, "notification_type": "permission_prompt"}
        in_background(session, "Notification", note, "permission_prompt")
    return verdict


def notify_when_idle(session: Session) -> asyncio.Task[None] | None:
    """A Notification (`idle_prompt`) once the person has left the prompt waiting
    `notifications.idle_seconds` after a turn; the caller cancels the task when a line
    comes. None (no timer at all) when no Notification hook would hear it."""
    if not (session.hooks and session.hooks.matching("Notification", "idle_prompt")):
        return None

    async def later() -> None:
        await asyncio.sleep(session.settings.notifications.idle_seconds)
        note = {
            "message": "ml-intern is waiting for your input",
            "notification_type": "idle_prompt",
        }
        in_background(session, "Notification", note, "idle_prompt")

    return asyncio.get_running_loop().create_task(later(), name="idle-notice")


JOB_EVENTS = {ev.JobSubmitted: "JobSubmitted", ev.JobFinished: "JobFinished"}


def watch_jobs(session: Session) -> None:
    """JobSubmitted/JobFinished hooks run on the job events tools emit (matched by backend
    or hardware), without holding up the tool; nothing is watched when none is set."""
    if not any(session.hooks.by_event.get(name) for name in JOB_EVENTS.values()):
        return

    def on_event(event: ev.Event) -> None:
        name = JOB_EVENTS.get(type(event))
        if name is not None:
            fields = event.model_dump(exclude={"type", "session_id", "ts"})
            in_background(session, name, fields, fields["backend"], fields["hardware"])

    session.subscribe(on_event)
