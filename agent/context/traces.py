"""Export a saved session as a Claude Code session file, and share it on the Hub.

The Hugging Face Hub recognises Claude Code JSONL and shows it in its agent trace
viewer, so that is the shape written here: one line per user prompt, per assistant reply
and per tool result (a `user` line holding a `tool_result` block), chained by
`parentUuid`. The system prompt is left out, as Claude Code leaves it out. Everything is
redacted again on the way out: the environment may hold secrets that were not set when
the log was written.
"""

from __future__ import annotations

import importlib
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agent.context.redact import current_literals, redact_obj
from agent.context.resume import LoadedSession, LogEntry, message_text
from agent.tools.router import read_arguments

_NAMESPACE = uuid.UUID("5b0f5a52-3a8e-4c1e-9d57-6f1d0b8c2a41")


class TraceUploadError(Exception):
    """Sharing a session on the Hub failed; the message says what to do."""


def export_claude_code(session: LoadedSession, extra_secrets: tuple[str, ...] = ()) -> list[dict]:
    """The session as Claude Code session-file lines, redacted.

    Ids derive from the session id and position, so re-exporting a session that grew
    keeps the lines already shared unchanged.
    """
    return redact_obj(_claude_code_lines(session), extra_secrets)


class GrowingExport:
    """`export_jsonl` for a session exported again and again as it grows (the transcript
    hooks read): a line already exported is not redacted again, as long as the secrets
    redaction looks for are the same. Redacting the whole history costs seconds at 150k
    tokens; each export then costs only its new lines."""

    def __init__(self) -> None:
        self._done: dict[str, bytes] = {}
        self._literals = current_literals()

    def __call__(self, session: LoadedSession) -> bytes:
        literals = current_literals()
        done = self._done if literals == self._literals else {}
        fresh: dict[str, bytes] = {}
        for line in _claude_code_lines(session):
            key = json.dumps(line, ensure_ascii=False, separators=(",", ":"))
            fresh[key] = done.get(key) or _jsonl([redact_obj(line)])
        self._done, self._literals = fresh, literals  # lines gone (an undo) are let go
        return b"".join(fresh.values())


def _claude_code_lines(session: LoadedSession) -> list[dict[str, Any]]:
    """The lines, chained by parentUuid, not yet redacted."""
    lines: list[dict[str, Any]] = []
    parent: str | None = None
    for index, entry in enumerate(session.transcript):
        line = _line_for(entry, index, session)
        if line is None:
            continue
        if line.get("subtype") == "compact_boundary":
            line["logicalParentUuid"] = parent
        else:
            line["parentUuid"] = parent
        parent = line["uuid"]
        lines.append(line)
    return lines


def write_export(session: LoadedSession, path: Path) -> None:
    Path(path).write_bytes(export_jsonl(session))


def export_jsonl(session: LoadedSession) -> bytes:
    """The Claude Code session file's bytes (what hooks read as `transcript_path`)."""
    return _jsonl(export_claude_code(session))


def _line_for(entry: LogEntry, index: int, session: LoadedSession) -> dict[str, Any] | None:
    message = entry.message
    line_id = str(uuid.uuid5(_NAMESPACE, f"{session.session_id}/{index}"))
    if message is None:
        return _system(line_id, entry, session, "Conversation compacted", "compact_boundary")
    role = message.get("role")
    if role == "user":
        return _envelope(line_id, "user", entry, session, _user_message(message))
    if role == "assistant":
        message_id = "msg_" + uuid.uuid5(_NAMESPACE, line_id).hex[:24]
        line = _envelope(
            line_id, "assistant", entry, session, _assistant(message_id, entry, session)
        )
        # One model request per reply: transcript viewers count tokens per requestId.
        line["requestId"] = "req_" + uuid.uuid5(_NAMESPACE, message_id).hex[:24]
        return line
    if role == "tool":
        return _envelope(line_id, "user", entry, session, _tool_result(entry))
    if role == "system" and index > 0:
        return _system(line_id, entry, session, message_text(message), "informational")
    return None


def _envelope(
    line_id: str, kind: str, entry: LogEntry, session: LoadedSession, message: dict[str, Any]
) -> dict[str, Any]:
    return {
        "parentUuid": None,
        "isSidechain": False,
        "userType": "external",
        "cwd": session.cwd,
        "sessionId": session.session_id,
        "version": session.version,
        "gitBranch": "",
        "type": kind,
        "message": message,
        "uuid": line_id,
        "timestamp": _timestamp(entry.ts or session.created),
    }


def _system(
    line_id: str, entry: LogEntry, session: LoadedSession, text: str, subtype: str
) -> dict[str, Any]:
    line = _envelope(line_id, "system", entry, session, {})
    del line["message"]
    line.update({"subtype": subtype, "content": text, "isMeta": False, "level": "info"})
    return line


def _user_message(message: dict[str, Any]) -> dict[str, Any]:
    content = message.get("content")
    if isinstance(content, list):
        return {"role": "user", "content": [b for b in map(_user_block, content) if b]}
    return {"role": "user", "content": content if isinstance(content, str) else ""}


def _user_block(part: Any) -> dict[str, Any] | None:
    """An OpenAI content part as an Anthropic content block."""
    if not isinstance(part, dict):
        return None
    if part.get("type") == "text":
        return {"type": "text", "text": str(part.get("text") or "")}
    if part.get("type") == "image_url":
        url = str((part.get("image_url") or {}).get("url") or "")
        if url.startswith("data:") and ";base64," in url:
            media, data = url[5:].split(";base64,", 1)
            return {
                "type": "image",
                "source": {"type": "base64", "media_type": media, "data": data},
            }
        return {"type": "image", "source": {"type": "url", "url": url}}
    return None


def _assistant(message_id: str, entry: LogEntry, session: LoadedSession) -> dict[str, Any]:
    message = entry.message or {}
    blocks: list[dict[str, Any]] = []
    if thinking := message.get("reasoning_content"):
        blocks.append({"type": "thinking", "thinking": str(thinking), "signature": ""})
    if text := message_text(message):
        blocks.append({"type": "text", "text": text})
    for call in message.get("tool_calls") or []:
        function = call.get("function") or {}
        blocks.append(
            {
                "type": "tool_use",
                "id": call.get("id") or "",
                "name": function.get("name") or "",
                "input": _arguments(function.get("arguments")),
            }
        )
    body: dict[str, Any] = {
        "id": message_id,
        "type": "message",
        "role": "assistant",
        "model": entry.model or session.model or "",
        "content": blocks,
        "stop_reason": "tool_use" if message.get("tool_calls") else "end_turn",
        "stop_sequence": None,
    }
    if entry.usage is not None:
        body["usage"] = _usage(entry.usage)
    return body


def _tool_result(entry: LogEntry) -> dict[str, Any]:
    message = entry.message or {}
    block = {
        "tool_use_id": message.get("tool_call_id") or "",
        "type": "tool_result",
        "content": message_text(message),
        "is_error": entry.is_error,
    }
    return {"role": "user", "content": [block]}


def _usage(usage: dict[str, Any]) -> dict[str, Any]:
    """Our counts (input includes cached reads, as litellm reports) in Anthropic's terms."""
    cached = int(usage.get("cached_tokens") or 0)
    return {
        "input_tokens": max(int(usage.get("input_tokens") or 0) - cached, 0),
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": cached,
        "output_tokens": int(usage.get("output_tokens") or 0),
    }


def _arguments(raw: Any) -> dict[str, Any]:
    if isinstance(raw, dict):
        return raw
    try:
        value = read_arguments(raw or "{}")
    except (TypeError, ValueError):
        return {"_raw_arguments": str(raw)}
    return value if isinstance(value, dict) else {"_arguments": value}


def _timestamp(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _jsonl(lines: list[dict[str, Any]]) -> bytes:
    return b"".join(
        json.dumps(line, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"
        for line in lines
    )


def upload_session(
    session: LoadedSession,
    *,
    token: str,
    endpoint: str,
    repo_template: str = "{hf_user}/ml-intern-sessions",
    private: bool = True,
) -> str:
    """Upload the session to a Hub dataset as `sessions/<id>.jsonl`; returns the repo id.

    With `private`, the dataset is created private, and an existing public one is
    refused rather than silently publishing the trace.
    """
    from huggingface_hub import HfApi

    api = HfApi(endpoint=endpoint, token=token)
    with _explained(endpoint, "your Hugging Face account"):
        user = api.whoami()["name"]
    repo_id = repo_template.format(hf_user=user)
    with _explained(endpoint, repo_id):
        api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
        if private and not api.repo_info(repo_id, repo_type="dataset").private:
            raise TraceUploadError(
                f"{repo_id} is a public dataset, so the session was not uploaded there. Make it"
                " private on the Hub, or choose another repository for traces."
            )
        api.upload_file(
            path_or_fileobj=_jsonl(export_claude_code(session, (token,))),
            path_in_repo=f"sessions/{session.session_id}.jsonl",
            repo_id=repo_id,
            repo_type="dataset",
            commit_message=f"Add session {session.session_id}",
        )
    return repo_id


def set_visibility(repo_id: str, *, token: str, endpoint: str, private: bool) -> None:
    """Make the traces dataset private or public."""
    from huggingface_hub import HfApi

    with _explained(endpoint, repo_id):
        HfApi(endpoint=endpoint, token=token).update_repo_settings(
            repo_id, repo_type="dataset", private=private
        )


@contextmanager
def _explained(endpoint: str, target: str) -> Iterator[None]:
    """Hub failures as one TraceUploadError that says what to do (never the token)."""
    from huggingface_hub.errors import HfHubHTTPError

    try:
        yield
    except HfHubHTTPError as exc:
        raise TraceUploadError(_http_advice(exc, target)) from None
    except _transport_errors() as exc:
        raise TraceUploadError(f"could not reach the Hub at {endpoint}: {exc}") from None


def _transport_errors() -> tuple[type[BaseException], ...]:
    """Connection failures, from whichever httpx the installed huggingface_hub uses."""
    errors: list[type[BaseException]] = [OSError]
    for name in ("httpx", "httpx2"):
        try:
            errors.append(importlib.import_module(name).TransportError)
        except (ImportError, AttributeError):
            continue
    return tuple(errors)


def _http_advice(exc: Any, repo_id: str) -> str:
    status = getattr(getattr(exc, "response", None), "status_code", None)
    if status == 401:
        return "the Hugging Face token was refused: set a valid HF_TOKEN (a write token)"
    if status == 429:
        return "the Hub is rate-limiting requests: wait a minute and try again"
    if status == 403:
        return f"the token may not write to {repo_id}: use a token with write access"
    if status == 404:
        return f"{repo_id} was not found on the Hub: check the repository name"
    return f"the Hub refused the request for {repo_id} (HTTP {status}); try again later"
