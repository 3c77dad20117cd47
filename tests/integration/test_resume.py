"""Resuming a saved session through the CLI: damaged logs, today's system prompt, a saved
model that no longer works, and history whose secrets were scrubbed."""

from __future__ import annotations

import datetime
import json
import time
from pathlib import Path

import pytest

from agent.context.resume import load_session
from agent.context.store import sessions_dir
from tests.fakes import llm_server as llm

OLD_PROMPT = "You are an old prompt. Today is 2001-01-01. Model: openai/ancient."
SECRET = "hf_" + "s3cret" * 6


def write_log(sid: str, records: list[dict | bytes], model: str = "openai/test-model") -> Path:
    """A session log written by hand, line by line (bytes are written as they are)."""
    directory = sessions_dir()
    directory.mkdir(parents=True, exist_ok=True)
    meta = {"kind": "meta", "session_id": sid, "created": time.time(), "cwd": str(Path.cwd())}
    lines = [json.dumps({**meta, "model": model}).encode()]
    for record in records:
        lines.append(record if isinstance(record, bytes) else json.dumps(record).encode())
    path = directory / f"{sid}.jsonl"
    path.write_bytes(b"\n".join(lines))
    return path


def message(role: str, content=None, **extra) -> dict:
    return {"kind": "message", "role": role, "message": {"role": role, "content": content, **extra}}


def notices(result) -> list[str]:
    return [e["message"] for e in result.lines() if e["type"] == "notice"]


def valid_for_a_provider(messages: list[dict]) -> bool:
    for m in messages:
        if m["role"] not in ("system", "user", "assistant", "tool"):
            return False
        if not isinstance(m.get("content"), str | None):
            return False
        for call in m.get("tool_calls") or []:
            if not call.get("id") or not isinstance(call["function"]["arguments"], str):
                return False
    return True


def test_a_damaged_log_resumes_with_one_notice_and_only_valid_messages(cli, fake_llm):
    nested = {"type": "text", "text": "x", "extra": json.loads("[" * 60 + "]" * 60)}
    write_log(
        "damaged",
        [
            message("system", OLD_PROMPT),
            message("user", "train it"),
            message("assistant", None, tool_calls="bogus"),
            message("assistant", 12345),
            message(
                "assistant", "", tool_calls=[{"function": {"name": "bash", "arguments": "{}"}}]
            ),
            message("wizard", "abracadabra"),
            message("tool", "result of nothing", tool_call_id="ghost", name="bash"),
            b'{"kind":"message","role":"user","message":' + b"[" * 100_000 + b"]" * 100_000 + b"}",
            message("user", [nested]),
            message("assistant", "I trained it."),
            b'{"kind":"message","role":"user","message":{"role":"user","content":"cut',
        ],
    )
    fake_llm.script(llm.text("Nothing left to do."))
    result = cli("-o", "stream-json", "--resume", "damaged", "what now?")
    assert result.exit_code == 0, result.stderr
    damaged = [n for n in notices(result) if "damaged" in n]
    assert len(damaged) == 1
    assert "8 problem(s) skipped or repaired" in damaged[0]
    assert "tool calls that are not a list" in damaged[0]
    sent = fake_llm.requests[0]["messages"]
    assert valid_for_a_provider(sent)
    assert [(m["role"], m["content"]) for m in sent[1:]] == [
        ("user", "train it"),
        ("assistant", "I trained it."),
        ("user", "what now?"),
    ]
    fake_llm.assert_done()


def test_resume_uses_todays_system_prompt_and_records_it(cli, fake_llm):
    write_log(
        "old", [message("system", OLD_PROMPT), message("user", "hi"), message("assistant", "hello")]
    )
    Path("AGENTS.md").write_text("Always report the loss curve.\n")
    assert cli("trust").exit_code == 0
    fake_llm.script(llm.text("sure"))
    result = cli("-o", "json", "--resume", "old", "-m", "openai/new-model", "go on")
    assert result.exit_code == 0, result.stderr
    prompt = fake_llm.requests[0]["messages"][0]["content"]
    assert "2001-01-01" not in prompt and "ancient" not in prompt
    assert datetime.date.today().isoformat() in prompt
    assert "Model: openai/new-model" in prompt
    assert "Always report the loss curve." in prompt
    assert "bash" in prompt  # the tools of this run
    assert load_session("old").messages[0]["content"] == prompt
    fake_llm.assert_done()


@pytest.mark.parametrize(
    ("saved", "why"),
    [
        ("ollama/", "names no model after 'ollama/'"),
        ("ollama/llama 3.1", "contains whitespace"),
        ("openai-compat/x", "has an unknown provider 'openai-compat'"),
        ("anthropic/claude-sonnet-4-5", "has no key on this machine (set ANTHROPIC_API_KEY)"),
    ],
)
def test_a_saved_model_that_no_longer_works_gives_way_to_the_current_one(cli, fake_llm, saved, why):
    write_log("was", [message("user", "hi"), message("assistant", "hello")], model=saved)
    fake_llm.script(llm.text("still here"))
    result = cli("-o", "stream-json", "--resume", "was", "go on")
    assert result.exit_code == 0, result.stderr
    assert fake_llm.requests[0]["model"] == "test-model"
    expected = f"The saved model {saved!r} {why}: continuing with openai/test-model."
    assert expected in notices(result)
    fake_llm.assert_done()


def test_resuming_scrubbed_history_says_so_once(cli, fake_llm):
    fake_llm.script(llm.text("Stored."))
    first = cli("-o", "json", f"log in with {SECRET}")
    sid = first.result()["session_id"]
    fake_llm.script(llm.text("Which token?"))
    result = cli("-o", "stream-json", "--resume", sid, "push the model")
    assert result.exit_code == 0, result.stderr
    scrubbed = [n for n in notices(result) if "Secrets were scrubbed" in n]
    assert len(scrubbed) == 1 and "may ask for them again" in scrubbed[0]
    resent = json.dumps(fake_llm.requests[-1]["messages"])
    assert SECRET not in resent and "[REDACTED:" in resent
    fake_llm.assert_done()


def test_a_clean_resume_has_no_notices(cli, fake_llm):
    fake_llm.script(llm.text("one"), llm.text("two"))
    sid = cli("-o", "json", "first").result()["session_id"]
    result = cli("-o", "stream-json", "--resume", sid, "second")
    assert result.exit_code == 0, result.stderr
    assert notices(result) == []
    fake_llm.assert_done()
