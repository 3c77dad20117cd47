"""Slash commands: one table of rows (name, help, argument completer, async handler).

Commands act on the engine only through operations (`ctx.perform`), except
`/yolo`, which flips `session.settings.yolo`: the Settings object is shared with
the engine and read at every tool call, so it is the channel for a runtime toggle.

More commands join the table with `register(Command(...))` from their own
module; a module that does so is listed in `EXTENSIONS` and imported when the
chat starts.
"""

from __future__ import annotations

import difflib
import importlib
import re
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from agent.cli.visible import quoted
from agent.core import ops as op

if TYPE_CHECKING:
    from rich.console import Console

    from agent.core.session import Session

# Modules that register more commands when imported.
EXTENSIONS: tuple[str, ...] = (
    "agent.cli.slash.resume",
    "agent.cli.slash.mcp_and_traces",
    "agent.cli.slash.settings",
    "agent.cli.slash.skills",
    "agent.cli.slash.plugins",
    "agent.cli.slash.hooks",
    "agent.cli.slash.cost",
    "agent.cli.slash.clipboard",
    "agent.cli.slash.memory",
    "agent.cli.slash.goal",
    "agent.cli.slash.runs",
)

MODEL_SUGGESTIONS = (
    "anthropic/claude-sonnet-4-5",
    "anthropic/claude-opus-4-1",
    "openai/gpt-5",
    "openai/gpt-5-mini",
    "gemini/gemini-2.5-pro",
    "huggingface/moonshotai/Kimi-K2-Instruct",
)


class ChatContext(Protocol):
    """What a command may use: the session to read, and operations to drive the engine."""

    session: Session
    console: Console
    unsent: str  # offered in the input line at the next prompt

    async def perform(
        self, operation: op.Operation, until: tuple[str, ...], busy: str = ""
    ) -> bool:
        """Submit an operation and wait for the first event of a type in `until`;
        False when it was not submitted (the key is missing).

        `busy` names work that calls the model: the key is checked first (for a
        model switch, the new model's key) and a spinner with this label runs
        while waiting; Ctrl-C interrupts it.
        """

    def quit(self) -> None:
        """Leave the chat once the command returns."""

    async def switch_session(self, resume: str | None) -> None:
        """Continue a saved session (by id), or start a fresh one (None)."""

    async def ask(self, message: str) -> str | None:
        """One line from the person; None when they press Ctrl-C or Ctrl-D instead."""

    async def request(self, text: str, goal: str | None = None) -> None:
        """Send `text` to the model as the person's request and follow the turn; with a
        `goal`, set it first and follow every turn toward it."""


Handler = Callable[[ChatContext, str], Awaitable[None]]
Completer = Callable[[ChatContext], Iterable[str]]


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    handler: Handler
    usage: str = ""
    complete: Completer | None = None
    aliases: tuple[str, ...] = ()


COMMANDS: dict[str, Command] = {}


def register(command: Command) -> Command:
    """Add a command (and its aliases) to the table; later rows replace earlier ones."""
    for name in (command.name, *command.aliases):
        COMMANDS[name] = command
    return command


def load_extensions() -> None:
    for module in EXTENSIONS:
        importlib.import_module(module)


def is_command(line: str) -> bool:
    """`/model x` is a command; `/usr/bin/env explain this` is a request about a path."""
    word = line.strip().split(maxsplit=1)[0] if line.strip() else ""
    return word.startswith("/") and "/" not in word[1:]


def closest(name: str) -> str | None:
    """A command one slip away (`/mdoel`), not any with a letter in common (`/foo`)."""
    match = difflib.get_close_matches(name, list(COMMANDS), n=1, cutoff=0.75)
    return match[0] if match else None


async def dispatch(ctx: ChatContext, line: str) -> None:
    """Run the command a line names, or say it does not exist and suggest the nearest."""
    word, _, arg = line.strip().partition(" ")
    command = COMMANDS.get(word[1:].lower())
    if command is not None:
        await command.handler(ctx, arg.strip())
        return
    name = word[1:]
    if ctx.session.skills.get(name) or ctx.session.commands.get(name):  # goes to the model
        from agent.core.command_turn import refusal

        if problem := refusal(ctx.session, line):
            ctx.console.print(Text(quoted(problem.message), "yellow"))
            return
        await ctx.request(line.strip())
        return
    if name.startswith("mcp__"):
        from agent.cli.slash.mcp_prompts import send_prompt

        await send_prompt(ctx, name, arg.strip())
        return
    guess = closest(word[1:].lower())
    hint = f" Did you mean /{guess}?" if guess else ""
    ctx.console.print(Text(f"Unknown command {word}.{hint} Type /help for the list.", "yellow"))


def completions(ctx: ChatContext, before_cursor: str) -> list[tuple[str, int, str]]:
    """(text, start offset, description) for the word being typed; empty when not a command."""
    if not before_cursor.startswith("/") or "\n" in before_cursor:
        return []
    word, space, arg = before_cursor.partition(" ")
    if not space:
        names = sorted({c.name for c in COMMANDS.values()} | set(COMMANDS))
        offered = [(name, COMMANDS[name].help) for name in names]
        offered += sorted((n, s.description) for n, s in ctx.session.skills.skills.items())
        offered += sorted((n, c.description) for n, c in ctx.session.commands.commands.items())
        offered += prompt_names(ctx)
        typed = word[1:]
        taken: set[str] = set()
        choices = []
        for name, about in offered:  # the first of a name is the one it runs
            if name not in taken and name.lower().startswith(typed.lower()):
                taken.add(name)
                choices.append((f"/{name}", -len(word), about))
        return choices
    command = COMMANDS.get(word[1:].lower())
    if command is None or command.complete is None:
        return []
    return [(choice, -len(arg), "") for choice in command.complete(ctx) if choice.startswith(arg)]


def prompt_names(ctx: ChatContext) -> list[tuple[str, str]]:
    """The prompts of the connected MCP servers, as `/mcp__<server>__<prompt>`."""
    manager = ctx.session.mcp
    return manager.prompt_names() if manager is not None else []


def first_sentence(text: str) -> str:
    """Up to the first full stop that ends a sentence ("e.g. x" does not)."""
    line = text.strip().splitlines()[0] if text.strip() else ""
    return re.split(r"(?<=[.!?])\s+(?=[A-Z])", line, maxsplit=1)[0]


def print_rows(ctx: ChatContext, rows: Iterable[tuple[str, str]], wrap: bool = True) -> None:
    """Two columns; the second wraps under itself on narrow terminals, or is cut short.
    Cells may quote a project or a server (a model id, a saved scope, a tool's name), so
    whatever is not printable in them is spelled out and no cell can start a line."""
    rows = list(rows)
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True, min_width=max(len(k) for k, _ in rows))
    grid.add_column()
    for key, value in rows:
        cell = Text(quoted(value), no_wrap=not wrap, overflow="ellipsis")
        grid.add_row(Text(quoted(key)), cell)
    ctx.console.print(Padding(grid, (0, 0, 0, 2)))


# -- the built-in commands ---------------------------------------------------------------


async def _help(ctx: ChatContext, arg: str) -> None:
    seen: list[Command] = []
    for command in COMMANDS.values():
        if command not in seen:
            seen.append(command)
    rows = [
        (", ".join(f"/{n}" for n in (c.name, *c.aliases)) + f" {c.usage}".rstrip(), c.help)
        for c in seen
    ]
    rows += [
        (f"/{c.name} {c.argument_hint}".rstrip(), f"{c.description} [{c.source}]")
        for c in ctx.session.commands.commands.values()
    ]
    print_rows(ctx, rows)
    if ctx.session.skills.skills:
        ctx.console.print(Text("  /skills lists the skills; /<skill> [text] loads one", "dim"))
    ctx.console.print(
        Text(
            "  Enter sends · Alt-Enter or Esc-Enter: new line · Ctrl-C stops a turn · "
            "Ctrl-C twice or Ctrl-D quits",
            "dim",
        )
    )


def _model_choices(ctx: ChatContext) -> list[str]:
    from agent.core.model_ids import LOCAL_SERVERS

    current = ctx.session.settings.model_name
    rest = [m for m in MODEL_SUGGESTIONS if m != current]
    return [current, *rest, *(f"{prefix}/" for prefix in LOCAL_SERVERS)]


async def _model(ctx: ChatContext, arg: str) -> None:
    if arg:
        await _switch_model(ctx, arg)
        return
    from agent.core.model_ids import LOCAL_SERVERS

    print_ = ctx.console.print
    print_(Text.assemble("Current model: ", (ctx.session.settings.model_name, "bold")))
    print_("Switch with /model <id>, for example:")
    print_rows(ctx, ((model, "") for model in MODEL_SUGGESTIONS))
    print_("Local OpenAI-compatible servers:")
    print_rows(
        ctx,
        (
            (f"{prefix}/<model>", f"{server.stems[0]}_BASE_URL, default {server.default_url}")
            for prefix, server in LOCAL_SERVERS.items()
        ),
    )


async def _switch_model(ctx: ChatContext, model: str) -> None:
    """Only to a model that can answer: the id is checked, its key asked for if missing,
    and the model probed; on any failure the current model stays."""
    from agent.core.model_ids import id_problem

    current = ctx.session.settings.model_name
    if problem := id_problem(model):
        ctx.console.print(Text(f"Kept {current}: {model} cannot be used ({problem}).", "yellow"))
        return
    until = ("notice", "error", "interrupted")
    if not await ctx.perform(op.SetModel(model=model), until, busy=f"Checking {model}"):
        ctx.console.print(Text(f"Kept {current}.", "yellow"))


async def _status(ctx: ChatContext, arg: str) -> None:
    session = ctx.session
    settings, usage = session.settings, session.usage
    cost = usage.total_cost_usd
    from agent.cli.goal_line import goal_status
    from agent.core.goal import goal_event
    from agent.core.local_server import context_limit
    from agent.tools.goal import active_goal
    from agent.tools.local.background import job_lines

    threshold, window = context_limit(settings)
    used = session.context.tokens
    of_window = f"; the model's context window is {window:,}" if window else ""
    approvals: str = "yolo (every call approved)" if settings.yolo else settings.approval_mode
    if standing := session.standing_approvals():
        approvals += f"; always allowed: {', '.join(sorted(standing))}"
    rows = {
        "model": settings.model_name,
        "session": session.id,
        "turns": f"{session.turns} in this conversation",
        "tokens": f"{usage.input_tokens:,} in / {usage.output_tokens:,} out "
        f"({usage.cached_tokens:,} cached) since ml-intern started",
        "cost": "unknown for this model"
        if cost is None
        else f"${cost:.4f} since ml-intern started (estimated)",
        "context": f"{used:,} / {threshold:,} tokens ({100 * used / max(threshold, 1):.0f}%)"
        + of_window,
        "approvals": approvals,
        "background": "; ".join(job_lines(session.tool_state, session.id)) or "no jobs",
    }
    if (goal := active_goal(session.tool_state)) is not None:
        elapsed = time.monotonic() - goal.started
        rows["goal"] = goal_status(goal_event(session, goal), elapsed)
    print_rows(ctx, rows.items())


async def _plan(ctx: ChatContext, arg: str) -> None:
    from agent.cli.chat.render import plan_lines
    from agent.tools.plan import current_plan

    todos = current_plan(ctx.session.tool_state)
    if not todos:
        ctx.console.print(
            Text("No plan yet: the agent keeps one for work of three or more steps.", "dim")
        )
    for line in plan_lines(todos):
        ctx.console.print(Text(f"  {line}"))


async def _compact(ctx: ChatContext, arg: str) -> None:
    await ctx.perform(
        op.Compact(instructions=arg),
        until=("compacted", "notice", "error", "interrupted"),
        busy="Compacting the conversation",
    )


async def _undo(ctx: ChatContext, arg: str) -> None:
    if arg not in ("", "files"):
        ctx.console.print(
            Text(
                "Usage: /undo, or /undo files to also restore the files write/edit changed "
                "(changes made by bash are not undone).",
                "yellow",
            )
        )
        return
    request = last_request(ctx.session.context.messages)
    before = len(ctx.session.context.messages)
    await ctx.perform(op.Undo(restore_files=arg == "files"), until=("undo_complete", "notice"))
    if request and len(ctx.session.context.messages) < before:
        ctx.unsent = request
        ctx.console.print(Text("· your request is back in the input: edit it and send", "dim"))


def last_request(messages: list[dict]) -> str:
    """The person's last request, as /undo takes it back."""
    from agent.context.manager import is_person_turn

    for message in reversed(messages):
        if is_person_turn(message):
            from agent.core.mentions import typed_text

            return typed_text(message.get("content"))
    return ""


async def _new(ctx: ChatContext, arg: str) -> None:
    await ctx.perform(op.NewSession(), until=("notice",))


async def _clear(ctx: ChatContext, arg: str) -> None:
    ctx.console.clear()
    await _new(ctx, arg)


async def _yolo(ctx: ChatContext, arg: str) -> None:
    settings = ctx.session.settings
    wanted = {"": not settings.yolo, "on": True, "off": False}.get(arg.strip().lower())
    if wanted is None:
        ctx.console.print(Text("Usage: /yolo on|off (alone: switch it)", "yellow"))
        return
    settings.yolo = wanted
    state = "on: every tool call runs without asking" if settings.yolo else "off: risky calls ask"
    ctx.console.print(Text(f"· auto-approve {state}", "dim"))


async def _tools(ctx: ChatContext, arg: str) -> None:
    specs = ctx.session.router.specs
    print_rows(ctx, ((spec.name, first_sentence(spec.description)) for spec in specs), wrap=False)


async def _quit(ctx: ChatContext, arg: str) -> None:
    ctx.quit()


for _command in (
    Command("help", "list the commands", _help),
    Command("model", "show or switch the model", _model, "[id]", _model_choices),
    Command("status", "model, session, tokens, cost and context use", _status),
    Command("compact", "summarise older turns to free context", _compact, "[instructions]"),
    Command(
        "undo",
        "drop the last turn; files: also undo what write/edit changed in files (not bash)",
        _undo,
        "[files]",
        lambda ctx: ["files"],
    ),
    Command("new", "start a fresh conversation", _new),
    Command("clear", "start a fresh conversation and clear the screen", _clear),
    Command("yolo", "auto-approve every tool call, or stop (alone: switch)", _yolo, "[on|off]"),
    Command("tools", "list the tools the model can use", _tools),
    Command("plan", "show the agent's todo list", _plan),
    Command("quit", "leave ml-intern", _quit, aliases=("exit",)),
):
    register(_command)
