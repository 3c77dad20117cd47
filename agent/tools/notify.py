"""Messages to the user's Slack: the `notify` tool, and the client the notifier uses.

Destinations come from the `messaging` config block, in the shape the original
ml-intern used, and from `SLACK_BOT_TOKEN` + `SLACK_CHANNEL_ID`, which add a
`slack.default` destination that both the agent and the automatic notifications may
use, unless `slack_notifications` is off (`ML_INTERN_SLACK_NOTIFICATIONS=false`). Messages go through Slack's Web API (`chat.postMessage` with a bot token) at
`settings.slack_url`; every message is scrubbed of secrets first.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from agent.config import MessagingConfig, SlackDestination
from agent.context.redact import redact
from agent.tools.spec import ToolContext, ToolError, ToolResult, ToolSpec

if TYPE_CHECKING:
    import httpx

    from agent.config import Settings

ENV_DESTINATION = "slack.default"
MAX_MESSAGE_CHARS = 3_000
TIMEOUT_S = 10.0


class DeliveryError(Exception):
    """Slack did not take the message; the text says why, without secrets."""


def messaging_config(settings: Settings) -> MessagingConfig:
    return settings.messaging


def destinations(settings: Settings) -> dict[str, SlackDestination]:
    """Every configured destination; the environment's comes after the config file's."""
    config = messaging_config(settings)
    if not config.enabled:
        return {}
    found = dict(config.destinations)
    token, channel = os.environ.get("SLACK_BOT_TOKEN"), os.environ.get("SLACK_CHANNEL_ID")
    if token and channel and settings.slack_notifications and ENV_DESTINATION not in found:
        found[ENV_DESTINATION] = SlackDestination(
            token=token, channel=channel, allow_agent_tool=True, allow_auto_events=True
        )
    return found


def scrub(text: str, known: dict[str, SlackDestination]) -> str:
    """Secrets out (the bot tokens included), and short enough for a chat message."""
    text = redact(text, extra_secrets=[d.token for d in known.values()])
    if len(text) > MAX_MESSAGE_CHARS:
        text = text[: MAX_MESSAGE_CHARS - 1] + "…"
    return text


async def post_message(
    client: httpx.AsyncClient, base_url: str, destination: SlackDestination, text: str
) -> None:
    """chat.postMessage; raises DeliveryError when Slack refuses or cannot be reached."""
    import httpx

    payload: dict[str, Any] = {"channel": destination.channel, "text": text, "unfurl_links": False}
    for key in ("username", "icon_emoji"):
        if value := getattr(destination, key):
            payload[key] = value
    headers = {"Authorization": f"Bearer {destination.token}"}
    url = f"{base_url.rstrip('/')}/chat.postMessage"
    try:
        response = await client.post(url, json=payload, headers=headers, timeout=TIMEOUT_S)
    except httpx.HTTPError as exc:
        raise DeliveryError(f"cannot reach Slack at {base_url} ({type(exc).__name__})") from None
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.status_code == 429:
        raise DeliveryError("Slack rate-limited the message; it was dropped")
    if response.status_code >= 400 or not body.get("ok"):
        reason = body.get("error") or f"HTTP {response.status_code}"
        raise DeliveryError(f"Slack refused the message: {reason}")


async def send(settings: Settings, names: list[str], text: str) -> list[str]:
    """Post `text` to each named destination; returns the failures, one line each."""
    import httpx

    known = destinations(settings)
    text = scrub(text, known)
    failures = []
    async with httpx.AsyncClient() as client:
        for name in names:
            try:
                await post_message(client, settings.slack_url, known[name], text)
            except DeliveryError as exc:
                failures.append(f"{name}: {exc}")
    return failures


DESCRIPTION = """\
Send a short message to the user's Slack, e.g. when long work (a training run, a Hub job) \
finished or failed, or when you need a decision from them while they are away. Say what \
happened, the key numbers and links; keep it to a few lines. Secrets are removed.
"""


class NotifyArgs(BaseModel):
    message: str = Field(min_length=1, description="the message, a few lines of plain text")
    title: str = Field("", description="an optional first line in bold")
    destination: str = Field(
        "", description="a configured destination name; empty sends to every allowed one"
    )


async def notify(args: NotifyArgs, ctx: ToolContext) -> ToolResult:
    allowed = [n for n, d in destinations(ctx.settings).items() if d.allow_agent_tool]
    if args.destination and args.destination not in allowed:
        raise ToolError(
            f"unknown destination '{args.destination}'; available: {', '.join(allowed) or 'none'}"
        )
    names = [args.destination] if args.destination else allowed
    if not names:
        raise ToolError("no Slack destination is configured for the agent to write to")
    text = f"*{args.title.strip()}*\n{args.message}" if args.title.strip() else args.message
    failures = await send(ctx.settings, names, text)
    if failures:
        return ToolResult("Not delivered:\n" + "\n".join(failures), is_error=True)
    return ToolResult(f"Sent to {', '.join(names)}.")


def notify_tools(settings: Settings) -> list[ToolSpec]:
    """The notify tool, offered only when a destination lets the agent write to it."""
    if not any(d.allow_agent_tool for d in destinations(settings).values()):
        return []
    return [ToolSpec("notify", DESCRIPTION, notify, args_model=NotifyArgs, timeout_s=30.0)]
