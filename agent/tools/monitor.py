"""The model's tools for background runs: `monitor` (conditions that wake it) and `runs`
(the experiment ledger: read it, write a run's one-line note).

Every run is already watched for its end, a traceback, running out of memory and a NaN
loss; `monitor` adds what only the model knows to look for.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from agent.runs import ledger
from agent.runs.registry import RunRegistry, runs_of
from agent.runs.watch import (
    Condition,
    metric_condition,
    regex_condition,
    silence_condition,
    timer_condition,
)
from agent.tools.spec import ToolContext, ToolError, ToolResult, ToolSpec

MONITOR_DESCRIPTION = """\
Add, list or remove conditions that wake you about background runs (local background \
jobs and HF jobs). Every run is already watched: you are woken when it ends, prints a \
traceback, runs out of GPU memory, prints `Killed`, or its loss becomes NaN/inf. Waiting \
costs nothing: end your turn and you get a message when a condition fires.

action=add takes one of: `regex` (a line of output matches), `metric` (a rule on a metric \
read from the output: `loss > 5`, `eval_accuracy >= 0.9`, `eval_loss not improving for 3`), \
`silent_minutes` (no new output for that long), `in_minutes` (a check-in after that long). \
Give `run_id` to tie it to one run (default: any run). A condition fires once. \
action=list shows them with their ids; action=remove takes `id`.
"""

RUNS_DESCRIPTION = """\
The experiment ledger: every background run of this session (and earlier ones of it) \
with status, hyperparameters, final and best metrics, cost, links and your note. Without \
`run_id`: one line per run. With `run_id`: that run in full (metrics, output tail). With \
`run_id` and `note`: record a one-line conclusion for it (what it showed), kept in the ledger.
"""


class MonitorArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: Literal["add", "list", "remove"] = "add"
    run_id: str | None = Field(None, description="The run to watch (default: any run).")
    regex: str | None = Field(None, description="Wake when a line of output matches.")
    metric: str | None = Field(
        None, description="`loss > 5`, `accuracy >= 0.9` or `eval_loss not improving for 3`."
    )
    silent_minutes: float | None = Field(None, gt=0, description="Wake after no output for N min.")
    in_minutes: float | None = Field(None, gt=0, description="Check in after N minutes.")
    id: str | None = Field(None, description="With action=remove: the condition's id.")


class RunsArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    run_id: str | None = Field(None, description="Show this run in full.")
    note: str | None = Field(None, description="With run_id: a one-line note for the ledger.")


def _registry(ctx: ToolContext) -> RunRegistry:
    return runs_of(ctx.state, ctx.session_id, ctx.cwd)


def _condition(args: MonitorArgs) -> Condition:
    given = [
        name
        for name in ("regex", "metric", "silent_minutes", "in_minutes")
        if getattr(args, name) is not None
    ]
    if len(given) != 1:
        raise ToolError(
            "action=add takes exactly one of regex, metric, silent_minutes, in_minutes "
            f"(got {', '.join(given) or 'none'})"
        )
    try:
        if args.regex is not None:
            return regex_condition(args.regex, args.run_id)
        if args.metric is not None:
            return metric_condition(args.metric, args.run_id)
        if args.silent_minutes is not None:
            return silence_condition(args.silent_minutes, args.run_id)
        assert args.in_minutes is not None
        return timer_condition(args.in_minutes, args.run_id)
    except ValueError as exc:
        raise ToolError(str(exc)) from None


def condition_lines(registry: RunRegistry) -> list[str]:
    """One line per condition, for the model and for /monitors."""
    return [
        f"{c.id}: {c.description} ({'run ' + c.run_id if c.run_id else 'any run'})"
        for c in registry.conditions
    ]


async def monitor(args: MonitorArgs, ctx: ToolContext) -> ToolResult:
    registry = _registry(ctx)
    if args.action == "list":
        lines = condition_lines(registry)
        return ToolResult("\n".join(lines) if lines else "No conditions added.")
    if args.action == "remove":
        if not args.id or not registry.remove_condition(args.id):
            known = ", ".join(c.id for c in registry.conditions) or "none"
            raise ToolError(f"No condition '{args.id}'. Known: {known}")
        return ToolResult(f"Removed condition {args.id}.")
    if args.run_id is not None and registry.get(args.run_id) is None:
        known = ", ".join(registry.runs) or "none"
        raise ToolError(f"No run '{args.run_id}'. Known runs: {known}")
    condition = _condition(args)
    registry.add_condition(condition)
    return ToolResult(
        f"Added condition {condition.id}: {condition.description}. End your turn to wait; "
        "you are woken when it fires."
    )


async def runs(args: RunsArgs, ctx: ToolContext) -> ToolResult:
    registry = _registry(ctx)
    if args.note is not None:
        if not args.run_id:
            raise ToolError("a note needs the run_id it is about")
        if not registry.set_note(args.run_id, " ".join(args.note.split())):
            raise ToolError(f"No run '{args.run_id}'. Known runs: {', '.join(registry.runs)}")
        return ToolResult(f"Noted for {args.run_id}.")
    entries = registry.entries()
    if not entries:
        return ToolResult("No runs yet in this session.")
    if args.run_id is None:
        return ToolResult(ledger.compact_text(entries))
    match = [e for e in entries if e["id"] == args.run_id]
    if not match:
        raise ToolError(
            f"No run '{args.run_id}'. Known runs: {', '.join(e['id'] for e in entries)}"
        )
    entry = match[-1]
    tail = "\n".join(entry.get("tail", []))
    return ToolResult(f"{ledger.compact_text([entry])}\nOutput tail:\n{tail}", data=entry)


def run_tools() -> list[ToolSpec]:
    return [
        ToolSpec("monitor", MONITOR_DESCRIPTION, monitor, args_model=MonitorArgs, read_only=True),
        ToolSpec("runs", RUNS_DESCRIPTION, runs, args_model=RunsArgs, read_only=True),
    ]
