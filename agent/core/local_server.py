"""Fitting a session to the model's server: its context window, and tools it may not pass.

Before each turn the window is known (asked of the server once, see `window.py`); where
it is the deployment's own (reported by the server, or set), the tool schemas are counted
in the history's size, and a system prompt with tools too big for the window is said at
once: the lean tool set is used where the whole set does not fit, and a
window too small even for that ends the turn with what to change.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from agent import events as ev
from agent.core.compact import WINDOW_SHARE
from agent.core.model_ids import resolve_model
from agent.core.session import Session
from agent.core.window import estimate, learn, served_window, source_of
from agent.errors import ContextOverflow

if TYPE_CHECKING:
    from agent.config import Settings

LEAN_TOOLS = frozenset({"bash", "read", "write", "edit"})
_LEAN_NAMES = ", ".join(sorted(LEAN_TOOLS))
FIXED_SHARE = 0.75  # the most of the window the system prompt and tools may take
MIN_ROOM = 512  # tokens for a request and an answer, beside the system prompt and tools
_TOOL_SHAPED = re.compile(  # requests no model can answer without looking or running
    r"\b(files?|folders?|director(y|ies)|ls|cat|grep|run|execute|list)\b", re.I
)


async def fit_to_window(session: Session) -> None:
    """Learn the window, count the tools in the history's size, and make the system prompt
    and tools fit (the lean set), or say at once that they cannot."""
    settings = session.settings
    if settings.tool_set == "lean" and not _is_lean(session):
        use_lean_tools(session, f"tool_set is lean (only {_LEAN_NAMES} are offered)")
    await learn(settings.model_name, settings)
    window = served_window(resolve_model(settings.model_name, settings), settings)
    # Where the window is the deployment's own, the tools are counted before the server's
    # first count of them: a small window leaves no slack for leaving them out.
    session.context.set_fixed(_tool_tokens(session) if window else 0)
    if window is None:
        return
    if session.tool_state.get("window_told") != (settings.model_name, window):
        session.tool_state["window_told"] = (settings.model_name, window)
        source = source_of(settings.model_name, settings)
        session.emit(ev.Notice(message=f"Context window: {window:,} tokens ({source})."))
    if _fixed_tokens(session) <= window * FIXED_SHARE:
        return
    if not _is_lean(session):
        before, count = _fixed_tokens(session), len(session.router.names)
        session.emit(
            ev.Notice(
                message=f"The system prompt and {count} tools (about {before:,} tokens) do not "
                f"fit the {window:,}-token context window: using the lean tool set "
                f"({_LEAN_NAMES}). Set tool_set to lean to start with it."
            )
        )
        use_lean_tools(session, f"only {_LEAN_NAMES} fit the {window:,}-token context window")
        session.context.set_fixed(_tool_tokens(session))
    fixed = _fixed_tokens(session)
    if fixed + MIN_ROOM > window:
        raise ContextOverflow(
            f"The system prompt and tools alone take about {fixed:,} tokens, and the model's "
            f"context window is {window:,}: nothing fits beside them. Load the model with a "
            "larger context (llama.cpp -c, ollama num_ctx, vLLM --max-model-len, LM Studio's "
            "context length) and set context_window_tokens if the server does not report it."
        )


def context_limit(settings: Settings) -> tuple[int, int | None]:
    """(where compaction starts, the deployment's window if known), without asking litellm:
    what /status shows."""
    window = served_window(resolve_model(settings.model_name, settings), settings)
    configured = settings.compaction_threshold_tokens
    return (min(configured, int(window * WINDOW_SHARE)) if window else configured), window


def use_lean_tools(session: Session, why: str) -> None:
    """Offer only bash, read, write and edit, and say so in the system prompt. MCP tools
    left out are named, once (those of servers that connect later, when they do): the
    person configured them and would otherwise wonder where they went."""
    left_out = [
        name for name in session.router.keep_only(LEAN_TOOLS, why) if name.startswith("mcp__")
    ]
    if left_out:
        session.emit(ev.Notice(message=f"MCP tools left out ({', '.join(left_out)}): {why}."))
    session.context.set_system_prompt(session.system_prompt())


def tool_less_hint(session: Session, request: str) -> str:
    """Once per session: a model on a custom server that answered a request about files or
    commands without ever calling a tool may never have been shown the tools."""
    target = resolve_model(session.settings.model_name, session.settings)
    if (
        not target.api_base
        or not session.router.names
        or session.tool_state.get("tool_less_told")
        or not _TOOL_SHAPED.search(request)
        or any(m.get("tool_calls") for m in session.context.messages)
    ):
        return ""
    session.tool_state["tool_less_told"] = True
    return (
        f"The model answered without calling any tool, so nothing was run or read: what it "
        f"said about files or commands may be invented. Check that the server at "
        f"{target.api_base} passes tools to the model (llama.cpp: start it with --jinja; "
        "ollama, LM Studio, vLLM: a model and chat template with tool support)."
    )


def _is_lean(session: Session) -> bool:
    return set(session.router.names) <= LEAN_TOOLS


def _fixed_tokens(session: Session) -> int:
    return estimate(session.context.messages[:1], session.router.schemas())


def _tool_tokens(session: Session) -> int:
    names = tuple(session.router.names)
    cached: tuple[tuple[str, ...], int] | None = session.tool_state.get("tool_tokens")
    if cached is None or cached[0] != names:
        schemas: list[dict[str, Any]] = session.router.schemas()
        cached = (names, len(json.dumps(schemas)) // 4 + 4 * len(schemas))
        session.tool_state["tool_tokens"] = cached
    return cached[1]
