"""The tool contract: what a tool is, what it gets, and what it gives back.

Every tool, built-in or from an MCP server, is a `ToolSpec`. Handlers share one
signature, `async (args, ctx) -> ToolResult`, and never reach into the agent loop:
everything they need arrives through `ToolContext`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import BaseModel

from agent.usage import UsageLedger

if TYPE_CHECKING:
    from agent.config import Settings


class ToolError(Exception):
    """A problem the model caused or can fix; the router turns it into an error result."""


@dataclass
class ToolResult:
    """What a tool call produced: text for the model, plus optional data for the renderer."""

    content: str
    is_error: bool = False
    data: dict[str, Any] | None = None


class LogSink(Protocol):
    """Where a running tool streams its progress or output, shown live by the front ends.

    `text` is one or more whole lines (newline-separated, no trailing newline);
    `omitted_lines` counts lines the tool produced just before them but left out,
    because they came faster than anyone can be shown them (see `send_log`).
    """

    def __call__(self, text: str, omitted_lines: int = 0) -> None: ...


class FileAccess(Protocol):
    """Where `read`, `write` and `edit` get and put a file's text when a front end owns
    the files (an editor over ACP: its unsaved buffers are what the model sees, its own
    diff view shows the change). The path checks, approvals and checkpoints still run
    here first; only the bytes go through the front end."""

    async def read_text(self, path: Path) -> str: ...

    async def write_text(self, path: Path, content: str) -> None: ...


@dataclass
class TerminalRun:
    """How a command run in a front end's terminal ended: its output (only the last part
    when `truncated`), and its exit code, the signal that killed it, or a timeout."""

    output: str
    truncated: bool = False
    exit_code: int | None = None
    signal: str | None = None
    timed_out: bool = False


class CommandTerminal(Protocol):
    """Where foreground `bash` commands run when a front end offers its own terminal (an
    editor over ACP shows the command running live). The approval has been given; the
    terminal runs `argv` in `cwd` with `env` added, stops it after `timeout_s`, keeps at
    most `output_bytes` of its output, and always lets go of the terminal before
    returning, also when cancelled."""

    async def run(
        self,
        tool_call_id: str,
        argv: list[str],
        cwd: Path,
        env: dict[str, str],
        timeout_s: float,
        output_bytes: int,
    ) -> TerminalRun: ...


def no_log(text: str, omitted_lines: int = 0) -> None:
    """The sink of a context nobody watches: progress goes nowhere."""


def send_log(log: LogSink, text: str, omitted_lines: int = 0) -> None:
    """Send to `log`, naming `omitted_lines` only when there are some, so that a plain
    one-argument callable serves as a sink for ordinary output."""
    if omitted_lines:
        log(text, omitted_lines=omitted_lines)
    else:
        log(text)


# (agent type, whether a hook already sent it back, its last answer) -> the instruction to
# go on with, or None when it may stop.
SubagentStopCheck = Callable[[str, bool, str], Awaitable["str | None"]]


@dataclass
class ToolContext:
    """Everything a handler may use. Nothing global: tests build one by hand.

    `state` is a per-session scratch dict shared by all tools (e.g. which files the
    model has read), keyed by the tool family that owns the entry.
    `log` streams lines of progress to the front ends as one `tool_log` event;
    `emit` sends any other event (e.g. `plan_update`) into the session's stream.
    `turn` is the number of the user turn the call belongs to (for checkpoints).
    `usage` is the session's ledger: tools that spend money check the budget against it and
    record what they spend there.
    `files`, when set, carries file reads and writes to the front end (see FileAccess).
    `terminal`, when set, runs foreground commands in the front end's terminal (see
    CommandTerminal).
    `subagent_stop`, when set, asks the session's SubagentStop hooks whether a sub-agent
    may end with its report (see SubagentStopCheck).
    """

    settings: Settings
    cwd: Path
    session_id: str = ""
    tool_call_id: str = ""
    state: dict[str, Any] = field(default_factory=dict)
    log: LogSink = no_log
    emit: Callable[[Any], None] = lambda event: None
    turn: int = 0
    usage: UsageLedger = field(default_factory=UsageLedger)
    files: FileAccess | None = None
    terminal: CommandTerminal | None = None
    subagent_stop: SubagentStopCheck | None = None


Handler = Callable[[Any, ToolContext], Awaitable["ToolResult | str"]]
ApprovalHook = Callable[[dict[str, Any], "Settings"], bool]
# For tools that spend money: (what the person approves, worst-case USD), or None.
SpendHook = Callable[[dict[str, Any], "Settings"], Awaitable[tuple[str, float] | None]]
# Runs on the validated arguments before anyone is asked; a ToolError refuses the call.
# It may be async when it must ask a server first (e.g. a model's size, to see if it fits).
CheckHook = Callable[[Any, ToolContext], Awaitable[None] | None]


@dataclass
class ToolSpec:
    """A tool offered to the model.

    `parameters` is the JSON schema the model sees. When `args_model` is set, the
    schema is derived from it and the handler receives a validated instance of it;
    otherwise the handler receives the argument dict. `check` catches a call that must not
    run as it is (e.g. a paid training job that would lose its results) before the person is
    asked and before anything is spent.
    """

    name: str
    description: str
    handler: Handler
    parameters: dict[str, Any] = field(default_factory=lambda: {"type": "object", "properties": {}})
    args_model: type[BaseModel] | None = None
    read_only: bool = False
    needs_approval: ApprovalHook | None = None
    estimate_spend: SpendHook | None = None
    check: CheckHook | None = None
    timeout_s: float = 120.0
    max_output_chars: int = 30_000

    def __post_init__(self) -> None:
        if self.args_model is not None:
            self.parameters = schema_from_model(self.args_model)

    def schema(self) -> dict[str, Any]:
        """The OpenAI function-calling entry for this tool."""
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": self.parameters,
            },
        }


def schema_from_model(model: type[BaseModel]) -> dict[str, Any]:
    """A compact JSON schema for a pydantic model, without titles the model does not need."""
    schema = model.model_json_schema()
    schema.pop("title", None)
    for prop in schema.get("properties", {}).values():
        prop.pop("title", None)
        # `X | None = None` renders as anyOf[X, null]; providers prefer the plain type.
        any_of = prop.get("anyOf")
        if any_of and len(any_of) == 2 and {"type": "null"} in any_of:
            prop.update(next(s for s in any_of if s != {"type": "null"}))
            del prop["anyOf"]
    return schema
