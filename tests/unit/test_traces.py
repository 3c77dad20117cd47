"""Sessions exported as Claude Code session files and shared privately on the Hub."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from agent.context.resume import load_session
from agent.context.store import SessionLog
from agent.context.traces import (
    GrowingExport,
    TraceUploadError,
    export_claude_code,
    export_jsonl,
    set_visibility,
    upload_session,
    write_export,
)
from agent.events import ToolOutput, Usage
from tests.fakes.hub_uploads import HubUploads
from tests.unit.test_store import asks, result, says, user

TOKEN = "hf_" + "UpL0ad" * 6
HF_SECRET = "hf_" + "Pr1vate" * 5


def saved(tmp_path: Path, session_id: str = "sess-1"):
    """A session with a prompt, a failed and a good tool call, usage and an answer."""
    with SessionLog.create(session_id, tmp_path, "anthropic/claude-x", tmp_path) as log:
        log.append_message({"role": "system", "content": "You are ml-intern."})
        log.append_message(user("train a model"))
        log.append_message(asks("c1", "c2", text="Looking around."))
        log.record_event(Usage(input_tokens=1200, output_tokens=30, cached_tokens=1000))
        log.append_message(result("c1", "no such file"))
        log.record_event(ToolOutput(tool_call_id="c1", name="bash", content="", is_error=True))
        log.append_message(result("c2", "README.md"))
        log.append_message(says("Done."))
    return load_session(session_id, tmp_path)


def test_export_has_the_shape_of_a_claude_code_session(tmp_path):
    lines = export_claude_code(saved(tmp_path))
    assert [(line["type"], line["message"]["role"]) for line in lines] == [
        ("user", "user"),
        ("assistant", "assistant"),
        ("user", "user"),
        ("user", "user"),
        ("assistant", "assistant"),
    ]
    prompt, ask, failed, good, answer = lines
    assert prompt["message"]["content"] == "train a model"
    assert ask["message"]["model"] == "anthropic/claude-x"
    assert ask["message"]["content"] == [
        {"type": "text", "text": "Looking around."},
        {"type": "tool_use", "id": "c1", "name": "bash", "input": {"command": "echo c1"}},
        {"type": "tool_use", "id": "c2", "name": "bash", "input": {"command": "echo c2"}},
    ]
    assert ask["message"]["stop_reason"] == "tool_use"
    assert ask["message"]["usage"] == {
        "input_tokens": 200,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 1000,
        "output_tokens": 30,
    }
    assert "usage" not in answer["message"]
    assert failed["message"]["content"] == [
        {"tool_use_id": "c1", "type": "tool_result", "content": "no such file", "is_error": True}
    ]
    assert good["message"]["content"][0]["is_error"] is False
    assert answer["message"]["stop_reason"] == "end_turn"
    ids = [line.get("requestId") for line in lines]
    assert [i is not None for i in ids] == [False, True, False, False, True]
    assert ask["requestId"].startswith("req_") and ask["requestId"] != answer["requestId"]


def test_lines_form_one_chain_with_the_session_metadata(tmp_path):
    lines = export_claude_code(saved(tmp_path))
    assert lines[0]["parentUuid"] is None
    for before, after in itertools.pairwise(lines):
        assert after["parentUuid"] == before["uuid"]
    assert len({line["uuid"] for line in lines}) == len(lines)
    for line in lines:
        assert line["sessionId"] == "sess-1"
        assert line["cwd"] == str(tmp_path)
        assert line["isSidechain"] is False
        assert line["userType"] == "external"
        assert line["timestamp"].endswith("Z")
        datetime.fromisoformat(line["timestamp"])
    assert export_claude_code(load_session("sess-1", tmp_path)) == lines  # stable ids


def test_compaction_appears_as_a_boundary_and_earlier_work_is_kept(tmp_path):
    system = {"role": "system", "content": "sys"}
    with SessionLog.create("c", tmp_path, "m", tmp_path) as log:
        for message in [system, user("one"), says("did one"), user("two"), says("did two")]:
            log.append_message(message)
        log.replace_messages([system, user("Summary: did one and two.")])
        log.append_message(user("three"))
    lines = export_claude_code(load_session("c", tmp_path))
    kinds = [(line["type"], line.get("subtype")) for line in lines]
    assert kinds == [("user", None), ("assistant", None)] * 2 + [
        ("system", "compact_boundary"),
        ("user", None),
        ("user", None),
    ]
    boundary = lines[4]
    assert boundary["parentUuid"] is None
    assert boundary["logicalParentUuid"] == lines[3]["uuid"]


def test_images_and_odd_arguments_are_carried_over(tmp_path):
    image = {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}
    bad_call = {"id": "c9", "type": "function", "function": {"name": "bash", "arguments": "{oops"}}
    with SessionLog.create("i", tmp_path, "m", tmp_path) as log:
        log.append_message({"role": "user", "content": [{"type": "text", "text": "see"}, image]})
        log.append_message({"role": "assistant", "content": None, "tool_calls": [bad_call]})
    prompt, ask, interrupted = export_claude_code(load_session("i", tmp_path))
    assert prompt["message"]["content"][1] == {
        "type": "image",
        "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="},
    }
    assert ask["message"]["content"] == [
        {"type": "tool_use", "id": "c9", "name": "bash", "input": {"_raw_arguments": "{oops"}}
    ]
    assert interrupted["message"]["content"][0]["is_error"] is True


def test_export_redacts_secrets_set_after_the_log_was_written(tmp_path, monkeypatch):
    with SessionLog.create("r", tmp_path, "m", tmp_path) as log:
        log.append_message(user("the password is tr0ub4dor&3 ok"))
    monkeypatch.setenv("DB_PASSWORD", "tr0ub4dor&3")
    out = tmp_path / "export.jsonl"
    write_export(load_session("r", tmp_path), out)
    text = out.read_text()
    assert "tr0ub4dor&3" not in text
    assert "[REDACTED:env:DB_PASSWORD]" in text
    assert [json.loads(line)["type"] for line in text.splitlines()] == ["user"]


def test_a_growing_export_matches_a_full_one_and_redacts_secrets_set_later(tmp_path, monkeypatch):
    export = GrowingExport()
    with SessionLog.create("g", tmp_path, "m", tmp_path) as log:
        log.append_message(user("the password is tr0ub4dor&3 ok"))
        first = export(load_session("g", tmp_path))
        assert first == export_jsonl(load_session("g", tmp_path))
        assert b"tr0ub4dor&3" in first  # not a secret yet
        log.append_message(says("Noted."))
        monkeypatch.setenv("DB_PASSWORD", "tr0ub4dor&3")
        grown = export(load_session("g", tmp_path))
    assert grown == export_jsonl(load_session("g", tmp_path))
    assert b"tr0ub4dor&3" not in grown
    assert [json.loads(line)["type"] for line in grown.splitlines()] == ["user", "assistant"]


def test_upload_goes_to_a_private_dataset_without_secrets(tmp_path):
    with SessionLog.create("up", tmp_path, "m", tmp_path) as log:
        log.append_message(user(f"use {HF_SECRET} and also {TOKEN}"))
        log.append_message(says("Authorization: Bearer abcdefghijklmnopqrstuvwxyz"))
    session = load_session("up", tmp_path)
    with HubUploads(token=TOKEN, user="alice") as hub:
        repo_id = upload_session(session, token=TOKEN, endpoint=hub.url)
        assert repo_id == "alice/ml-intern-sessions"
        repo = hub.repos[repo_id]
        assert repo.private is True
        uploaded = repo.files["sessions/up.jsonl"]
    for secret in (HF_SECRET, TOKEN, "abcdefghijklmnopqrstuvwxyz"):
        assert secret.encode() not in uploaded
    assert [json.loads(line) for line in uploaded.splitlines()] == export_claude_code(
        session, (TOKEN,)
    )


def test_uploads_update_the_same_dataset_and_respect_visibility(tmp_path):
    session = saved(tmp_path)
    with HubUploads(token=TOKEN, user="bob") as hub:
        repo_id = upload_session(
            session, token=TOKEN, endpoint=hub.url, repo_template="{hf_user}/t"
        )
        upload_session(session, token=TOKEN, endpoint=hub.url, repo_template="{hf_user}/t")
        assert repo_id == "bob/t"
        assert hub.repos[repo_id].commits == 2

        set_visibility(repo_id, token=TOKEN, endpoint=hub.url, private=False)
        assert hub.repos[repo_id].private is False
        with pytest.raises(TraceUploadError, match="public dataset"):
            upload_session(session, token=TOKEN, endpoint=hub.url, repo_template="{hf_user}/t")
        assert hub.repos[repo_id].commits == 2
        upload_session(session, token=TOKEN, endpoint=hub.url, repo_template="bob/t", private=False)
        assert hub.repos[repo_id].commits == 3

        set_visibility(repo_id, token=TOKEN, endpoint=hub.url, private=True)
        assert hub.repos[repo_id].private is True


def test_a_refused_token_says_what_to_do_and_is_never_shown(tmp_path):
    session = saved(tmp_path)
    wrong = "hf_" + "Wr0ng" * 7
    with HubUploads(token=TOKEN) as hub:
        with pytest.raises(TraceUploadError) as info:
            upload_session(session, token=wrong, endpoint=hub.url)
        assert hub.repos == {}
    assert "HF_TOKEN" in str(info.value)
    assert wrong not in str(info.value)


def test_importing_the_context_modules_stays_light():
    code = (
        "import sys, agent.context.traces, agent.context.store, agent.context.redact;"
        "print(sorted(m for m in ('huggingface_hub', 'litellm', 'httpx2') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
