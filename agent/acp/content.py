"""The editor's prompt blocks as the model's text, and a saved history replayed as updates."""

from __future__ import annotations

import json
from typing import Any

from acp.schema import (
    AgentMessageChunk,
    BlobResourceContents,
    EmbeddedResourceContentBlock,
    ImageContentBlock,
    ResourceContentBlock,
    TextContentBlock,
    TextResourceContents,
    ToolCallProgress,
    ToolCallStart,
    UserMessageChunk,
)

from agent.acp import tool_calls as tc
from agent.acp.live import LiveSession


def prompt_request(blocks: list[Any]) -> tuple[str, list[dict[str, Any]]]:
    """The request's text and its images (image_url parts).

    Text as it is; a resource link as a mention the model can open with its tools; an
    embedded resource (a file or selection the editor attached) inline, marked with its
    uri; an image, or an embedded image file, as an image part."""
    parts: list[str] = []
    images: list[dict[str, Any]] = []
    for block in blocks:
        match block:
            case ImageContentBlock(data=data, mime_type=mime):
                images.append(_image(mime, data))
            case EmbeddedResourceContentBlock(
                resource=BlobResourceContents(blob=data, mime_type=mime)
            ) if (mime or "").startswith("image/"):
                images.append(_image(str(mime), data))
            case TextContentBlock(text=text):
                parts.append(text)
            case ResourceContentBlock(uri=uri, name=name):
                parts.append(f"[@{name}]({uri})")
            case EmbeddedResourceContentBlock(resource=TextResourceContents(uri=uri, text=text)):
                parts.append(f'\n<context ref="{uri}">\n{text}\n</context>\n')
            case EmbeddedResourceContentBlock(resource=resource):
                parts.append(f"[attached binary resource {resource.uri}, not readable as text]")
            case _:
                parts.append(f"[{getattr(block, 'type', 'unknown')} content is not supported]")
    return " ".join(p for p in parts if p), images


def _image(mime: str, data: str) -> dict[str, Any]:
    return {"type": "image_url", "image_url": {"url": f"data:{mime};base64,{data}"}}


async def replay(live: LiveSession) -> None:
    """A loaded session's history, sent as the updates that would have shown it."""
    client = live.client
    for message in live.session.context.messages:
        for update in _message_updates(message, live):
            await client.session_update(session_id=live.id, update=update)


def _message_updates(message: dict[str, Any], live: LiveSession) -> list[Any]:
    role, content = message.get("role"), _text_of(message.get("content"))
    if role == "user" and content:
        return [UserMessageChunk(session_update="user_message_chunk", content=_block(content))]
    if role == "tool":
        return [
            ToolCallProgress(
                session_update="tool_call_update",
                tool_call_id=str(message.get("tool_call_id", "")),
                status="completed",
                content=[tc.text_content(tc.fenced(content))],
            )
        ]
    if role != "assistant":
        return []
    updates: list[Any] = []
    if content:
        updates.append(
            AgentMessageChunk(session_update="agent_message_chunk", content=_block(content))
        )
    for call in message.get("tool_calls") or []:
        function = call.get("function", {})
        name = function.get("name", "")
        try:
            args = json.loads(function.get("arguments") or "{}")
        except json.JSONDecodeError:
            args = function.get("arguments") or ""
        updates.append(
            ToolCallStart(
                session_update="tool_call",
                tool_call_id=call.get("id", ""),
                title=tc.title_of(name, args),
                kind=tc.kind_of(name),  # type: ignore[arg-type]
                status="completed",
                locations=tc.locations_of(args, live.session.cwd),
                raw_input=args,
            )
        )
    return updates


def _block(text: str) -> TextContentBlock:
    return TextContentBlock(type="text", text=text)


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict))
    return ""
