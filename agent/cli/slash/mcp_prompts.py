"""Slash requests a front end settles before anything is sent: `/mcp__<server>__<prompt>
key=value` (the server's prompt becomes the request), and a custom command whose file is
broken (refused, saying why)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from agent.cli.visible import quoted

if TYPE_CHECKING:
    from agent.cli.slash.commands import ChatContext
    from agent.core.session import Session


async def send_prompt(ctx: ChatContext, name: str, arguments: str) -> None:
    """Fetch the prompt (waiting for the servers to connect) and send it as the request;
    a prompt that cannot be had is said, and nothing is sent."""
    from rich.text import Text

    from agent.tools.mcp.prompts import PromptError, fetch_prompt
    from agent.tools.spec import ToolError

    manager = ctx.session.mcp
    if manager is None:
        ctx.console.print(Text(f"Unknown command /{name}: no MCP server is configured.", "yellow"))
        return
    try:
        text = await fetch_prompt(manager, name, arguments)
    except (PromptError, ToolError) as exc:
        ctx.console.print(Text(quoted(f"/{name}: {exc}"), "yellow"))
        return
    await ctx.request(text)


async def headless_request(session: Session, prompt: str) -> str:
    """A headless prompt that starts with `/mcp__<server>__<prompt>` becomes the server's
    prompt; one that cannot be had, or a custom command whose file is broken, is a usage
    error (exit 2), and one whose model has no key here a configuration error (exit 3).
    Other prompts go as typed (a skill or command is expanded by the loop)."""
    from agent.core.command_turn import refusal
    from agent.errors import UsageError
    from agent.tools.mcp.prompts import PREFIX, PromptError, fetch_prompt
    from agent.tools.spec import ToolError

    if problem := refusal(session, prompt):
        raise problem
    word, _, arguments = prompt.strip().partition(" ")
    if not word.startswith(f"/{PREFIX}"):
        return prompt
    if session.mcp is None:
        raise UsageError(f"{word}: no MCP server is configured")
    try:
        return await fetch_prompt(session.mcp, word[1:], arguments)
    except (PromptError, ToolError) as exc:
        raise UsageError(f"{word}: {exc}") from None
