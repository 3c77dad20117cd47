"""The `research` tool: a child agent with its own context and a read-only toolset.

The main agent hands it a focused brief; the child runs the ordinary agent turn
with documentation, paper, GitHub, Hub and web tools plus `read`, under its own
iteration cap and token budget, and hands back a concise report with sources. Its
tool calls show up as `tool_log` lines of the parent call. Its model calls go into
the session's usage ledger (`ctx.usage`), so they count against
the spend budget as they happen. Ctrl-C cancels it like any other tool call.
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

import yaml
from pydantic import BaseModel, Field

from agent import events as ev
from agent.core.budget import stop_if_next_call_over_budget
from agent.core.hooks import STOP_BLOCKS_MAX
from agent.core.loop import ask_model, run_turn
from agent.core.session import Session
from agent.errors import (
    AgentStop,
    BudgetExceeded,
    DoomLoopStop,
    IterationLimit,
    LLMError,
    TokenBudgetUsed,
)
from agent.tools.router import ToolRouter
from agent.tools.spec import ToolContext, ToolResult, ToolSpec

if TYPE_CHECKING:
    from agent.config import Settings

LOCAL_TOOLS = ("read",)
REPORT_LIMIT = 20_000

DESCRIPTION = """\
Hand a focused research question to a sub-agent with its own context window and read-only \
tools (Hugging Face docs, papers, GitHub code, Hub search and dataset inspection, web search, \
reading local files). It returns a concise report with sources, so the raw pages it reads do \
not fill your context.

- Use it for questions that need several look-ups: current API usage of a library, a \
paper's recipe and hyperparameters, working example code, whether a dataset fits a method.
- Give a specific, self-contained task: it does not see this conversation. Put what it \
needs to know (the user's goal, constraints, what was tried) in `context`.
- Independent questions can go to several research calls in the same message: they run at \
the same time.
"""

WRAP_UP = (
    "Stop researching now ({reason}). Do not call any more tools: write your report from "
    "what you found so far, and say what you could not check."
)


class ResearchArgs(BaseModel):
    task: str = Field(
        min_length=1,
        description="what to find out, specific and self-contained (libraries, models, "
        "datasets, papers or repositories to look at)",
    )
    context: str = Field(
        "",
        description="what the sub-agent needs to know from this conversation: the user's "
        "goal, constraints, what was already tried",
    )


@dataclass
class Limits:
    max_iterations: int
    max_tokens: int

    @classmethod
    def of(cls, settings: Settings) -> Limits:
        return cls(settings.research_max_iterations, settings.research_max_tokens)


class ResearchSession(Session):
    """A child session: the research prompt instead of the main one."""

    def system_prompt(self) -> str:
        return research_prompt(str(self.cwd), self.router.names)


@cache
def _template() -> str:
    text = resources.files("agent.prompts").joinpath("research.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)["research"]


def research_prompt(cwd: str, tool_names: list[str]) -> str:
    today = datetime.date.today().isoformat()
    return _template().format(date=today, cwd=cwd, tools=", ".join(tool_names) or "none")


def research_toolset() -> list[ToolSpec]:
    """The read-only tools of the research, Hub and local families."""
    from agent.tools.hub.hub_tools import hub_tools
    from agent.tools.local.local_tools import local_tools
    from agent.tools.sources.research_tools import research_tools

    remote = [spec for spec in (*research_tools(), *hub_tools()) if spec.read_only]
    return [*remote, *(spec for spec in local_tools() if spec.name in LOCAL_TOOLS)]


class Progress:
    """Watches the child's events: progress lines for the parent call, the token budget."""

    def __init__(self, child: Session, ctx: ToolContext, limits: Limits) -> None:
        self.child, self.ctx, self.limits = child, ctx, limits
        self.iteration = 0
        self.tool_calls = 0
        self.tokens = 0  # this child's own: the shared ledger also counts its siblings
        self.cost_usd = 0.0

    def __call__(self, event: ev.Event) -> None:
        match event:
            case ev.Processing(iteration=iteration):
                self.iteration = iteration
            case ev.ToolCall(name=name, arguments=arguments):
                self.tool_calls += 1
                self.ctx.log(f"↳ {name}: {_call_summary(arguments)}")
            case ev.ToolOutput(name=name, content=content, is_error=True):
                self.ctx.log(f"↳ ✗ {name}: {_first_line(content)}")
            case ev.Retrying(attempt=attempt, max_attempts=total, reason=reason):
                self.ctx.log(f"↳ retrying the model ({attempt}/{total - 1}): {reason}")
            case ev.Usage(input_tokens=spent_in, output_tokens=spent_out, cost_usd=cost):
                self.tokens += spent_in + spent_out
                self.cost_usd += cost or 0.0
                if self.tokens >= self.limits.max_tokens:
                    # The tools of this step still run; the next step is never started.
                    spent = f"its budget of {self.limits.max_tokens:,} tokens is used up"
                    self.child.stop_before_next_step(TokenBudgetUsed(spent))

    def summary(self) -> str:
        spent = f", ${self.cost_usd:.4f}" if self.cost_usd else ""
        return (
            f"{self.iteration} steps, {self.tool_calls} tool calls, {self.tokens:,} tokens{spent}"
        )


def child_settings(settings: Settings, limits: Limits) -> Settings:
    """The parent's settings with the child's cap; nothing may wait for a person's yes."""
    update: dict[str, Any] = {
        "max_iterations": limits.max_iterations,
        "approval_mode": "deny",
        "yolo": False,
    }
    if model := settings.research_model:
        update["model_name"] = model
    return settings.model_copy(update=update)


async def research(args: ResearchArgs, ctx: ToolContext) -> ToolResult:
    limits = Limits.of(ctx.settings)
    child = ResearchSession(
        child_settings(ctx.settings, limits),
        ToolRouter(research_toolset()),
        cwd=ctx.cwd,
        session_id=f"{ctx.session_id or 'session'}.research",
    )
    child.usage = ctx.usage  # the child's calls count on the session's bill and budget
    progress = Progress(child, ctx, limits)
    child.subscribe(progress)
    ctx.log(f"↳ researching with {len(child.router.names)} read-only tools")
    try:
        report, stop = await _investigate(child, task_message(args), ctx)
    finally:
        await child.aclose()
    ctx.log(f"↳ done: {progress.summary()}")
    data = {
        "steps": progress.iteration,
        "tool_calls": progress.tool_calls,
        "tokens": progress.tokens,
        "stopped_by": stop.code if stop else None,
    }
    return ToolResult(report, is_error=isinstance(stop, BudgetExceeded | LLMError), data=data)


async def _investigate(child: Session, task: str, ctx: ToolContext) -> tuple[str, AgentStop | None]:
    """The report and what stopped the child early, if anything; a child stopped by its
    own limits is still asked for the report of what it found."""
    ended: AgentStop
    try:
        return await _until_let_go(child, await run_turn(child, task), ctx), None
    except IterationLimit as stop:
        ended, reason = stop, f"it used all {child.settings.max_iterations} steps"
    except TokenBudgetUsed as stop:
        ended, reason = stop, stop.message
    except DoomLoopStop as stop:
        ended, reason = stop, "it kept repeating the same calls"
    except BudgetExceeded as stop:
        return _partial(child, f"Research stopped: {stop.message}"), stop
    except LLMError as exc:
        return _partial(child, f"Research failed: {exc.message}"), exc
    return await _wrap_up(child, reason), ended


async def _until_let_go(child: Session, report: str, ctx: ToolContext) -> str:
    """The report once SubagentStop hooks let the child end: a hook that blocks sends it
    back to work with its reason as the next instruction, STOP_BLOCKS_MAX times in a row
    at most (as Stop hooks do for the main agent)."""
    if ctx.subagent_stop is None:
        return report
    blocks = 0
    while (reason := await ctx.subagent_stop("research", blocks > 0, report)) is not None:
        if blocks >= STOP_BLOCKS_MAX:
            ctx.log(f"↳ SubagentStop hooks sent it back {blocks} times in a row: ending it anyway")
            break
        blocks += 1
        ctx.log(f"↳ a SubagentStop hook sent it back: {_first_line(reason)}")
        feedback = f"SubagentStop hook feedback:\n{reason}"
        report = await run_turn(child, feedback, typed=False)
    return report


async def _wrap_up(child: Session, reason: str) -> str:
    """One last model call, asked for the report; the notes so far if even that fails."""
    child.context.answer_dangling(f"[not run: {reason}]")
    child.context.add({"role": "user", "content": WRAP_UP.format(reason=reason)})
    note = f"(Research stopped early: {reason}.)"
    try:
        stop_if_next_call_over_budget(child)
        reply = await ask_model(child)
    except (BudgetExceeded, LLMError) as exc:
        return _partial(child, f"{note} {exc.message}")
    return f"{reply.content.strip()}\n\n{note}" if reply.content.strip() else _partial(child, note)


def _partial(child: Session, note: str) -> str:
    """What the child wrote before it stopped, under a note saying why it stopped."""
    notes = [
        m["content"].strip()
        for m in child.context.messages
        if m["role"] == "assistant" and isinstance(m.get("content"), str) and m["content"].strip()
    ]
    found = "\n\n".join(notes) if notes else "No findings were written before it stopped."
    return f"{note}\n\nFindings so far:\n{found}"


def task_message(args: ResearchArgs) -> str:
    text = f"Research task: {args.task.strip()}"
    if args.context.strip():
        text += f"\n\nContext from the main agent: {args.context.strip()}"
    return text


def _call_summary(arguments: dict[str, Any] | str, width: int = 100) -> str:
    if isinstance(arguments, dict):
        values = [v if isinstance(v, str) else json.dumps(v) for v in arguments.values()]
        arguments = ", ".join(values)
    line = _first_line(arguments)
    return line if len(line) <= width else line[: width - 1] + "…"


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""


def research_tool() -> ToolSpec:
    """research: read-only, so several calls in one message run at the same time."""
    return ToolSpec(
        "research",
        DESCRIPTION,
        research,
        args_model=ResearchArgs,
        read_only=True,
        timeout_s=1800.0,
        max_output_chars=REPORT_LIMIT,
    )
