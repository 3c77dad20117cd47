"""An MCP tool result as text the model can read.

The model gets text only: images and binary resources are described (kind, MIME
type, size) rather than pasted as base64, which would burn context for nothing.
The functions duck-type the SDK's content models so this module stays free of
the mcp import.
"""

from __future__ import annotations

import binascii
import json
import struct
from base64 import b64decode
from typing import Any

from agent.tools.spec import ToolResult

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def to_tool_result(result: Any) -> ToolResult:
    """A CallToolResult as a ToolResult; `isError` results become error results."""
    parts = [describe_block(block) for block in result.content or []]
    if not parts and result.structured_content is not None:
        parts.append(json.dumps(result.structured_content, ensure_ascii=False, indent=2))
    text = "\n".join(parts)
    if result.is_error:
        return ToolResult(text or "the tool reported an error without a message", is_error=True)
    return ToolResult(text or "(no output)")


def describe_block(block: Any) -> str:
    """One content block as text."""
    kind = getattr(block, "type", "")
    if kind == "text":
        return block.text
    if kind in ("image", "audio"):
        return f"[{kind}: {describe_binary(block.data, block.mime_type)}]"
    if kind == "resource":
        return _describe_resource(block.resource)
    if kind == "resource_link":
        about = f" - {block.description}" if block.description else ""
        return f"[resource link: {block.name} <{block.uri}>{about}]"
    return f"[{kind or 'unknown'} content not shown]"


def describe_binary(data: str, mime_type: str | None) -> str:
    """MIME type and size of base64 data, plus pixel size for PNG images."""
    try:
        raw = b64decode(data, validate=False)
    except (binascii.Error, ValueError):
        return f"{mime_type or 'unknown type'}, undecodable data"
    described = f"{mime_type or 'unknown type'}, {_size(len(raw))}"
    if raw.startswith(_PNG_SIGNATURE) and len(raw) >= 24:
        width, height = struct.unpack(">II", raw[16:24])
        described += f", {width}x{height} px"
    return described


def _describe_resource(resource: Any) -> str:
    uri = str(resource.uri)
    text = getattr(resource, "text", None)
    if text is not None:
        return f"[resource {uri}]\n{text}"
    return f"[resource {uri}: {describe_binary(resource.blob, resource.mime_type)}]"


def _size(n: int) -> str:
    if n < 1024:
        return f"{n} bytes"
    if n < 1024 * 1024:
        return f"{n / 1024:.1f} KB"
    return f"{n / (1024 * 1024):.1f} MB"
