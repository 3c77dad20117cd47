"""@-mentions: files, images and MCP resources attached to a request.

`@path` attaches a text file as the `read` tool shows it (its first page, numbered
lines, binary files refused), with the same reach as `read`; `@plot.png` attaches an
image when the model takes images (litellm's model map says which); `@server:uri`
attaches a resource of a connected MCP server (resources/read). An @ that names
nothing (an e-mail address, `@dataclass` in pasted code) is left as it is. What cannot
be attached is refused before the model is asked anything.

The attachments go into the user message itself, so the session log (scrubbed like
every message), resume and export carry them.
"""

from __future__ import annotations

import asyncio
import base64
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent.core import llm
from agent.errors import AttachmentRefused
from agent.extensions.memory import prose
from agent.tools.spec import ToolError

if TYPE_CHECKING:
    from agent.core.session import Session

_MENTION = re.compile(r"(?<!\S)@(\S+)")
_TRAILING = ".,;:!?)]}'\""  # sentence punctuation after a mention is not part of it
IMAGE_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
}
IMAGE_MAX_BYTES = 5 * 1024 * 1024  # the most Anthropic takes per image; others take more
TEXT_MAX_CHARS = 110_000  # as much as one page of `read`
_FIRST_BLOCK = "\n\n<attachment "  # where the attachments start, after the request


@dataclass
class Attachments:
    """What the mentions in one request attach."""

    texts: list[str] = field(default_factory=list)
    images: list[dict[str, Any]] = field(default_factory=list)  # image_url parts
    names: list[str] = field(default_factory=list)  # what the person is told


def typed_text(content: Any) -> str:
    """A user message's text without its attachments: what the person typed (for a
    replayed session, or a request /undo puts back)."""
    if isinstance(content, list):
        content = next((p.get("text") for p in content if p.get("type") == "text"), "")
    text = content if isinstance(content, str) else ""
    return text.split(_FIRST_BLOCK, 1)[0]


def mentions(text: str) -> list[str]:
    """The words after an `@` that starts a word, outside code, in order, once each."""
    words = (m.group(1).rstrip(_TRAILING) for m in _MENTION.finditer(prose(text)))
    return list(dict.fromkeys(w for w in words if w))


async def user_content(session: Session, text: str, request: str) -> str | list[dict[str, Any]]:
    """The user message's content: `request` (what `text` asks, a skill's body included),
    then whatever `text`'s @-mentions attach; raises AttachmentRefused."""
    found = Attachments()
    for word in mentions(text):
        await _attach(session, word, found)
    if not found.names:
        return request
    session.notify(f"Attached {', '.join(found.names)}.")
    body = "".join([request, *(f"\n\n{block}" for block in found.texts)])
    if not found.images:
        return body
    return [{"type": "text", "text": body}, *found.images]


async def with_images(
    session: Session, content: str | list[dict[str, Any]], images: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """`content` with images sent as they are (an editor's pasted image, as image_url
    parts) after it; raises AttachmentRefused when the model does not take images."""
    await _check_vision(session, f"{len(images)} image(s)")
    parts = content if isinstance(content, list) else [{"type": "text", "text": content}]
    return [*parts, *images]


async def _attach(session: Session, word: str, found: Attachments) -> None:
    server, colon, uri = word.partition(":")
    if colon and session.mcp is not None and session.mcp.configured(server):
        await _attach_resource(session, server, uri, found)
        return
    path = _existing_file(word, session.cwd)
    if path is None:
        return  # not a file: an address, a decorator, a handle
    if path.suffix.lower() in IMAGE_TYPES:
        await _check_vision(session, str(path))
        data = await asyncio.to_thread(_image_bytes, path)
        found.images.append(_image_part(IMAGE_TYPES[path.suffix.lower()], data))
    else:
        found.texts.append(_block(f'path="{path}"', await _read_text(session, path)))
    found.names.append(word)


def _existing_file(word: str, cwd: Path) -> Path | None:
    """The file `word` names, absolute, when there is one."""
    try:
        path = (cwd / Path(word).expanduser()).resolve()
    except (OSError, RuntimeError, ValueError):
        return None
    return path if path.is_file() else None


async def _read_text(session: Session, path: Path) -> str:
    """The file as `read` shows it; read's refusal (binary, unreadable) refuses it here."""
    from agent.tools.local.files import ReadArgs, read
    from agent.tools.router import cap_output

    try:
        result = await read(
            ReadArgs(path=str(path), offset=None, limit=None), session.tool_context("", "read")
        )
    except ToolError as exc:
        raise AttachmentRefused(f"cannot attach {path}: {exc}") from None
    return cap_output(result.content, TEXT_MAX_CHARS)


async def _check_vision(session: Session, what: str) -> None:
    await llm.load()
    model = session.settings.model_name
    if not await asyncio.to_thread(llm.supports_vision, model, session.settings):
        raise AttachmentRefused(
            f"{model} does not take images, so {what} was not sent. Switch to a model that "
            "does (/model or --model, e.g. anthropic/claude-sonnet-4-5 or openai/gpt-4o), "
            "or describe the image in words."
        )


def _image_bytes(path: Path) -> bytes:
    """The image's bytes, when it is an image of the kind its name says and small enough."""
    size = path.stat().st_size
    if size > IMAGE_MAX_BYTES:
        raise AttachmentRefused(
            f"{path} is {size / 1e6:.1f} MB; images up to "
            f"{IMAGE_MAX_BYTES // (1024 * 1024)} MB can be attached: make it smaller first."
        )
    data = path.read_bytes()
    if not _looks_like(data, path.suffix.lower()):
        raise AttachmentRefused(f"{path} is not a {path.suffix[1:].upper()} image")
    return data


def _looks_like(data: bytes, suffix: str) -> bool:
    if suffix == ".png":
        return data.startswith(b"\x89PNG\r\n\x1a\n")
    if suffix in (".jpg", ".jpeg"):
        return data.startswith(b"\xff\xd8\xff")
    if suffix == ".gif":
        return data.startswith(b"GIF8")
    return data[:4] == b"RIFF" and data[8:12] == b"WEBP"


def _image_part(mime: str, data: bytes) -> dict[str, Any]:
    url = f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
    return {"type": "image_url", "image_url": {"url": url}}


async def _attach_resource(session: Session, server: str, uri: str, found: Attachments) -> None:
    """Every part of the resource: text as text, images as images, other data named."""
    from agent.tools.router import cap_output

    where = f"{server}:{uri}"
    try:
        result = await session.mcp.read_resource(server, uri)
    except ToolError as exc:
        raise AttachmentRefused(f"cannot attach @{where}: {exc}") from None
    for part in result.contents:
        mime = getattr(part, "mime_type", None) or ""
        text = getattr(part, "text", None)
        if text is not None:
            found.texts.append(_block(f'resource="{where}"', cap_output(text, TEXT_MAX_CHARS)))
        elif mime in IMAGE_TYPES.values():
            await _check_vision(session, f"@{where}")
            data = base64.b64decode(part.blob)
            if len(data) > IMAGE_MAX_BYTES:
                raise AttachmentRefused(f"@{where} is an image larger than 5 MB")
            found.images.append(_image_part(mime, data))
        else:
            size = len(part.blob) * 3 // 4
            note = f"[binary data, {mime or 'of unknown type'}, about {size} bytes: not shown]"
            found.texts.append(_block(f'resource="{where}"', note))
    found.names.append(where)


def _block(attribute: str, content: str) -> str:
    return f"<attachment {attribute}>\n{content}\n</attachment>"
