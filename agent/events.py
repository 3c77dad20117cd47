"""Events: everything the engine tells the front ends, one pydantic model per type.

The renderer, the headless writers and the session log all consume this one
stream. `Event` is the discriminated union; `parse_event` reads one back from JSON.
"""

from __future__ import annotations

import time
from functools import cache
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter


class _Event(BaseModel):
    # validators are built on first use, off the start-up path
    model_config = ConfigDict(defer_build=True)

    session_id: str = ""
    ts: float = Field(default_factory=time.time)


class Ready(_Event):
    type: Literal["ready"] = "ready"
    model: str
    tools: list[str]
    cwd: str = ""


class Processing(_Event):
    type: Literal["processing"] = "processing"
    iteration: int = 0


class AssistantChunk(_Event):
    type: Literal["assistant_chunk"] = "assistant_chunk"
    content: str


class ThinkingChunk(_Event):
    type: Literal["thinking_chunk"] = "thinking_chunk"
    content: str


class AssistantStreamEnd(_Event):
    """The streamed answer is over; `discarded` when it broke off and does not count."""

    type: Literal["assistant_stream_end"] = "assistant_stream_end"
    discarded: bool = False


class AssistantMessage(_Event):
    type: Literal["assistant_message"] = "assistant_message"
    content: str
    tool_calls: list[dict[str, Any]] = []


class ToolCall(_Event):
    type: Literal["tool_call"] = "tool_call"
    tool_call_id: str
    name: str
    arguments: dict[str, Any] | str


class ToolOutput(_Event):
    type: Literal["tool_output"] = "tool_output"
    tool_call_id: str
    name: str
    content: str
    is_error: bool = False
    data: dict[str, Any] | None = None


class ToolProgress(_Event):
    """How far a running call has got, as its tool reports it (MCP progress notifications)."""

    type: Literal["tool_progress"] = "tool_progress"
    tool_call_id: str
    name: str
    progress: float
    total: float | None = None
    message: str = ""


class ToolLog(_Event):
    """Output of a running tool, coalesced: `line` holds one or more whole lines.

    `omitted_lines` counts lines that came just before them and are not carried
    (a flood of output is sampled, never queued); the model still gets the head
    and the tail of the whole output in `tool_output`.
    """

    type: Literal["tool_log"] = "tool_log"
    tool_call_id: str
    name: str
    line: str
    omitted_lines: int = 0


class ToolStateChange(_Event):
    type: Literal["tool_state_change"] = "tool_state_change"
    tool_call_id: str
    name: str
    state: Literal["running", "waiting_approval", "approved", "denied", "done", "cancelled"]
    detail: str = ""


class ApprovalRequired(_Event):
    type: Literal["approval_required"] = "approval_required"
    tool_call_id: str
    name: str
    arguments: dict[str, Any]
    reason: str = ""
    always_scope: str = ""  # what an "always" answer allows: `bash: rm -rf ./build*`


class Usage(_Event):
    type: Literal["usage"] = "usage"
    input_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int = 0
    cost_usd: float | None = None
    total_cost_usd: float | None = None
    total_input_tokens: int = 0
    total_output_tokens: int = 0


class Retrying(_Event):
    type: Literal["retrying"] = "retrying"
    attempt: int
    max_attempts: int
    delay_s: float
    reason: str


class Compacted(_Event):
    type: Literal["compacted"] = "compacted"
    tokens_before: int
    tokens_after: int


class DoomLoop(_Event):
    type: Literal["doom_loop"] = "doom_loop"
    message: str
    stopped: bool = False


class PlanUpdate(_Event):
    type: Literal["plan_update"] = "plan_update"
    todos: list[dict[str, Any]]


class GoalUpdate(_Event):
    """Where a goal stands: set or carried on (`active`, after each turn too), or ended
    (`met`, `stopped`, `limit`) with why (`code` for programs, `reason` for people) and
    the headless exit code of that ending. What is left of the limits goes with it."""

    type: Literal["goal"] = "goal"
    condition: str
    status: Literal["active", "met", "stopped", "limit"]
    code: str = ""
    reason: str = ""
    evidence: str = ""
    turns: int = 0
    max_turns: int = 0
    spent_usd: float | None = None
    budget_usd: float | None = None
    seconds_left: float | None = None
    exit_code: int = 0


class TurnComplete(_Event):
    type: Literal["turn_complete"] = "turn_complete"
    final_text: str = ""
    iterations: int = 0


class Interrupted(_Event):
    type: Literal["interrupted"] = "interrupted"


class UndoComplete(_Event):
    type: Literal["undo_complete"] = "undo_complete"
    removed_messages: int = 0
    restored_files: list[str] = []


class HistoryChanged(_Event):
    """The history sent to the model changed: a message was appended (`append`), the
    whole list rewritten (`replace`: compaction, undo, a fresh start) or the system
    prompt renewed (`system`: a model switch, a resume). The session log is built
    from these."""

    type: Literal["history"] = "history"
    change: Literal["append", "replace", "system"]
    messages: list[dict[str, Any]]


class HookRun(_Event):
    """One hook command run for a lifecycle event (agent/core/hooks.py): what it decided
    (block, deny, ask, allow, stop, error or nothing) and why, its output scrubbed."""

    type: Literal["hook"] = "hook"
    event: str
    command: str
    source: str = ""
    exit_code: int | None = None  # None: timed out or could not start
    decision: str = ""
    reason: str = ""
    duration_ms: int = 0


class JobSubmitted(_Event):
    """A cloud or cluster job was started: what runs where, and its worst-case cost."""

    type: Literal["job_submitted"] = "job_submitted"
    job_id: str
    backend: str  # hf_jobs
    hardware: str = ""
    cost_estimate_usd: float | None = None
    links: list[str] = []


class JobFinished(_Event):
    """A job's final status, when a tool observed it."""

    type: Literal["job_finished"] = "job_finished"
    job_id: str
    backend: str
    status: str
    hardware: str = ""
    cost_usd: float | None = None
    links: list[str] = []


class Notice(_Event):
    """Something the person should know that is neither an error nor model output."""

    type: Literal["notice"] = "notice"
    message: str


class Error(_Event):
    type: Literal["error"] = "error"
    code: str
    message: str
    exit_code: int = 1


class RunsUpdate(_Event):
    """Where the active background runs stand (at most twice a second; an empty list once
    the last one ended). Each run: id, command, elapsed_s, step, total, eta_s, metric,
    value, points (the main metric's recent values)."""

    type: Literal["runs_update"] = "runs_update"
    runs: list[dict[str, Any]]


class RunWake(_Event):
    """A watched run (or a check-in) woke the agent: a turn starts for it now."""

    type: Literal["run_wake"] = "run_wake"
    summary: str


class Shutdown(_Event):
    type: Literal["shutdown"] = "shutdown"


Event = Annotated[
    Ready
    | Processing
    | AssistantChunk
    | ThinkingChunk
    | AssistantStreamEnd
    | AssistantMessage
    | ToolCall
    | ToolOutput
    | ToolLog
    | ToolProgress
    | ToolStateChange
    | ApprovalRequired
    | Usage
    | Retrying
    | Compacted
    | DoomLoop
    | PlanUpdate
    | GoalUpdate
    | TurnComplete
    | Interrupted
    | UndoComplete
    | HistoryChanged
    | HookRun
    | JobSubmitted
    | JobFinished
    | Notice
    | Error
    | RunsUpdate
    | RunWake
    | Shutdown,
    Field(discriminator="type"),
]


@cache
def _adapter() -> TypeAdapter[Event]:
    """Built on first use: building the union's validator costs start-up time the prompt waits for."""
    return TypeAdapter(Event)


def parse_event(data: str | bytes | dict[str, Any]) -> Event:
    """Read one event back from its JSON form (a line of stream-json or the session log)."""
    if isinstance(data, dict):
        return _adapter().validate_python(data)
    return _adapter().validate_json(data)
