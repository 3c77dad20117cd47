"""The agent's todo list for multi-step work (`plan_tool`).

The plan is tool state, not history: it lives in `ctx.state["plan"]`, every change
goes out as a `plan_update` event, a compaction summary carries it (`plan_note`), and
a resumed session gets it back from the calls recorded in its log (`restore_plan`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agent import events as ev
from agent.tools.router import read_arguments
from agent.tools.spec import ToolContext, ToolError, ToolResult, ToolSpec

if TYPE_CHECKING:
    from agent.context.resume import LoadedSession

PLAN_STATE = "plan"
TOOL_NAME = "plan_tool"
Status = Literal["pending", "in_progress", "completed"]
MARKS = {"completed": "[x]", "in_progress": "[>]", "pending": "[ ]"}

DESCRIPTION = """\
Keep a todo list for work with three or more steps, so you and the user can see where \
things stand. Each item has an id, a short imperative content and a status: pending, \
in_progress or completed. At most one item is in_progress at a time.

- Write the plan before starting multi-step work; skip it for simple one- or two-step \
requests.
- Mark an item in_progress when you start it and completed as soon as it is done (not in \
batches at the end); add items you discover along the way.
- By default `todos` replaces the whole list. With merge=true, items are matched by id: \
given fields update an existing item, new ids are appended, others stay as they are.
"""


class Todo(BaseModel):
    model_config = ConfigDict(coerce_numbers_to_str=True)  # models often send 1 for "1"

    id: str = Field(min_length=1)
    content: str | None = None
    status: Status | None = None


class PlanArgs(BaseModel):
    todos: list[Todo]
    merge: bool = False


# Written out rather than derived: the derived schema nests Todo under $defs/$ref,
# which some providers reject.
SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "todos": {
            "type": "array",
            "description": "the items of the plan, in order",
            "items": {
                "type": "object",
                "properties": {
                    "id": {"type": "string", "description": "stable id, e.g. '1', '2', 'eval'"},
                    "content": {
                        "type": "string",
                        "description": "what to do, imperative (may be left out when merging "
                        "into an existing id)",
                    },
                    "status": {"type": "string", "enum": ["pending", "in_progress", "completed"]},
                },
                "required": ["id"],
            },
        },
        "merge": {
            "type": "boolean",
            "description": "update items by id instead of replacing the whole list",
        },
    },
    "required": ["todos"],
}


def current_plan(state: dict[str, Any]) -> list[dict[str, str]]:
    """The plan as `{id, content, status}` dicts (empty when there is none)."""
    return list(state.get(PLAN_STATE) or [])


def format_plan(todos: Iterable[dict[str, Any]], marks: dict[str, str] = MARKS) -> str:
    """The plan as compact text lines: checked, current, open (`marks` by status)."""
    return "\n".join(
        f"{marks.get(t.get('status', ''), marks['pending'])} {t['id']}. {t.get('content', '')}"
        for t in todos
    )


def plan_note(state: dict[str, Any]) -> str:
    """The current plan to append to a compaction summary, or "" when there is none."""
    todos = current_plan(state)
    if not todos:
        return ""
    return f"\n\n## Current plan (kept up to date with {TOOL_NAME})\n{format_plan(todos)}"


def updated_plan(old: list[dict[str, str]], args: PlanArgs) -> list[dict[str, str]]:
    """The plan after one call; raises ToolError with what to fix."""
    ids = [t.id for t in args.todos]
    if len(set(ids)) != len(ids):
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        raise ToolError(f"ids must be unique; repeated: {', '.join(repeated)}")
    items = {t["id"]: dict(t) for t in old} if args.merge else {}
    for todo in args.todos:
        item = items.setdefault(todo.id, {"id": todo.id})
        if todo.content is not None:
            item["content"] = todo.content.strip()
        if todo.status is not None:
            item["status"] = todo.status
        if not item.get("content"):
            raise ToolError(f"item '{todo.id}' needs a content (what to do)")
        item.setdefault("status", "pending")
    plan = list(items.values())
    running = [t["id"] for t in plan if t["status"] == "in_progress"]
    if len(running) > 1:
        raise ToolError(
            f"at most one item may be in_progress, got {', '.join(running)}: "
            "mark the others completed or pending in the same call"
        )
    return plan


async def plan_tool(args: PlanArgs, ctx: ToolContext) -> ToolResult:
    plan = updated_plan(current_plan(ctx.state), args)
    ctx.state[PLAN_STATE] = plan
    ctx.emit(ev.PlanUpdate(todos=[dict(t) for t in plan]))
    if not plan:
        return ToolResult("Plan cleared.")
    done = sum(t["status"] == "completed" for t in plan)
    return ToolResult(f"Plan updated ({done}/{len(plan)} completed):\n{format_plan(plan)}")


def plan_tools() -> list[ToolSpec]:
    """plan_tool: changes no files, so it never asks for approval."""
    spec = ToolSpec(
        TOOL_NAME, DESCRIPTION, plan_tool, args_model=PlanArgs, read_only=True, timeout_s=10.0
    )
    spec.parameters = SCHEMA
    return [spec]


def restore_plan(state: dict[str, Any], loaded: LoadedSession) -> None:
    """Rebuild the plan of a resumed session by replaying its recorded `plan_tool` calls.

    The transcript keeps calls that a compaction summarised away, so the plan survives
    both. Calls that were refused when they ran are refused again and skipped.
    """
    plan: list[dict[str, str]] = []
    for entry in loaded.transcript:
        for arguments in _plan_calls(entry.message):
            try:
                plan = updated_plan(plan, PlanArgs.model_validate(arguments))
            except (ValidationError, ToolError):
                continue
    if plan:
        state[PLAN_STATE] = plan


def _plan_calls(message: dict[str, Any] | None) -> list[dict[str, Any]]:
    if not message or message.get("role") != "assistant":
        return []
    found = []
    for call in message.get("tool_calls") or []:
        function = call.get("function") or {}
        if function.get("name") != TOOL_NAME:
            continue
        raw = function.get("arguments")
        try:
            arguments = read_arguments(raw) if isinstance(raw, str) else raw
        except ValueError:
            continue
        if isinstance(arguments, dict):
            found.append(arguments)
    return found
