"""/cost and /context: what the session has spent, and what fills the model's window.

The counts are the session's own estimates (about four characters a token, recalibrated
by the provider's count after each call), split the way a person decides what to drop:
the system prompt, the tool descriptions, and the messages by who wrote them.
"""

from __future__ import annotations

import asyncio
import json

from rich.text import Text

from agent.cli.slash.commands import ChatContext, Command, print_rows, register
from agent.context.manager import estimate_tokens

ROLES = (("user", "your messages"), ("assistant", "the model's answers"), ("tool", "tool output"))


async def _cost(ctx: ChatContext, arg: str) -> None:
    usage = ctx.session.usage
    cost = usage.total_cost_usd
    rows = {
        "spent": "unknown: this model has no price in litellm's list"
        if cost is None
        else f"${cost:.4f} (estimated)",
        "model calls": f"{usage.calls:,}",
        "tokens in": f"{usage.input_tokens:,} ({usage.cached_tokens:,} cached)",
        "tokens out": f"{usage.output_tokens:,}",
    }
    if usage.outside_items:
        rows["outside the model"] = f"${usage.outside_cost_usd:.4f} (jobs and sandboxes)"
    print_rows(ctx, rows.items())
    ctx.console.print(Text("  since ml-intern started; /context shows the window", "dim"))


async def _context(ctx: ChatContext, arg: str) -> None:
    from agent.core.window import window_for

    session = ctx.session
    messages = session.context.messages
    parts = {"system prompt": estimate_tokens(messages[0]) if messages else 0}
    parts["tools"] = len(json.dumps(session.router.schemas())) // 4
    for role, label in ROLES:
        parts[label] = sum(estimate_tokens(m) for m in messages[1:] if m["role"] == role)
    settings = session.settings
    window = await asyncio.to_thread(window_for, settings.model_name, settings)
    limit = window or settings.compaction_threshold_tokens
    rows = [(name, _share(tokens, limit)) for name, tokens in parts.items()]
    used = sum(parts.values())
    rows.append(("free", _share(max(limit - used, 0), limit)))
    print_rows(ctx, rows)
    of = f"the model's {limit:,}-token window" if window else f"{limit:,} tokens (compaction point)"
    ctx.console.print(Text(f"  about {used:,} tokens of {of}; /compact frees room", "dim"))


def _share(tokens: int, limit: int) -> str:
    return f"{tokens:>9,} tokens  {100 * tokens / max(limit, 1):5.1f}%"


for _command in (
    Command("cost", "what this session has spent, and its tokens", _cost),
    Command("context", "what fills the model's context window, in tokens and %", _context),
):
    register(_command)
