"""MCP prompts as slash commands: `/mcp__<server>__<prompt> key=value ...`.

A server's prompts are listed once it connects (for completion), and fetched with
`prompts/get` when the person types one; the messages it returns become the request.
"""

from __future__ import annotations

import asyncio
import shlex
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agent.tools.mcp.client import McpConnection
    from agent.tools.mcp.manager import McpManager

PREFIX = "mcp__"
_MAX_PAGES = 20


class PromptError(ValueError):
    """Why a prompt cannot be sent, in words for the person."""


async def list_prompts(connection: McpConnection) -> list[tuple[str, str]]:
    """(name, description) of every prompt the server offers; none when it offers none."""
    from mcp.types import PaginatedRequestParams

    found: list[tuple[str, str]] = []
    cursor = None
    for _ in range(_MAX_PAGES):
        params = PaginatedRequestParams(cursor=cursor) if cursor else None
        try:
            session = await connection.session()
            page = await asyncio.wait_for(
                session.list_prompts(params=params), connection.server.timeout_s
            )
        except Exception:  # no prompts capability, no answer, a server gone: its tools still count
            return found
        found += [(p.name, p.description or "") for p in page.prompts]
        cursor = page.next_cursor
        if not cursor:
            break
    return found


def parse_arguments(text: str) -> dict[str, str]:
    """`key=value key2="two words"` as a dict; anything else is a PromptError."""
    try:
        words = shlex.split(text)
    except ValueError as exc:
        raise PromptError(f"cannot read the arguments ({exc})") from None
    arguments = {}
    for word in words:
        key, equals, value = word.partition("=")
        if not equals or not key:
            raise PromptError(f"{word!r}: give the prompt's arguments as name=value")
        arguments[key] = value
    return arguments


async def fetch_prompt(manager: McpManager, name: str, text: str) -> str:
    """The request a prompt makes: `name` is `mcp__<server>__<prompt>`, `text` its
    arguments. Waits for the server to finish connecting."""
    arguments = parse_arguments(text)
    connection, prompt = await manager.prompt_target(name.removeprefix(PREFIX))
    if connection is None:
        raise PromptError(f"/{name}: no connected MCP server offers that prompt (see /mcp)")
    from mcp.shared.exceptions import MCPError

    session = await connection.session()
    timeout = connection.server.timeout_s
    try:
        result = await asyncio.wait_for(session.get_prompt(prompt, arguments), timeout)
    except MCPError as exc:
        raise PromptError(f"MCP server '{connection.name}' refused '{prompt}': {exc}") from None
    except TimeoutError:
        raise PromptError(
            f"MCP server '{connection.name}' did not answer '{prompt}' within {timeout:g} s"
        ) from None
    return messages_text(getattr(result, "messages", []))


def messages_text(messages: list[Any]) -> str:
    """The prompt's messages as one request: text as is, other content named."""
    parts = []
    for message in messages:
        content = message.content
        kind = getattr(content, "type", "")
        if kind == "text":
            text = content.text
        elif kind == "resource" and hasattr(content.resource, "text"):
            text = f"[{content.resource.uri}]\n{content.resource.text}"
        else:
            text = f"[{kind or 'content'} left out: only text is sent]"
        parts.append(text if message.role == "user" else f"({message.role}) {text}")
    if not parts:
        raise PromptError("the prompt came back empty")
    return "\n\n".join(parts)
