"""The session log on disk: written per message, read back after anything, even kill -9."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from agent.context.resume import load_session, repair_history, scan_sessions
from agent.context.store import SYNTHETIC_RESULT, SessionLog, SessionNotFound
from agent.events import AssistantChunk, Ready, ToolOutput, ToolStateChange, Usage

REPO = Path(__file__).resolve().parents[2]
SECRET = "hf_" + "s3cret" * 6


def user(text: str) -> dict:
    return {"role": "user", "content": text}


def call(call_id: str, name: str = "bash") -> dict:
    arguments = json.dumps({"command": f"echo {call_id}"})
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


def asks(*call_ids: str, text: str = "") -> dict:
    return {"role": "assistant", "content": text, "tool_calls": [call(c) for c in call_ids]}


def result(call_id: str, content: str = "ok") -> dict:
    return {"role": "tool", "tool_call_id": call_id, "name": "bash", "content": content}


def says(text: str) -> dict:
    return {"role": "assistant", "content": text}


def turn(i: int) -> list[dict]:
    """One agent turn: a prompt, two tool calls and their results, an answer."""
    return [
        user(f"task {i}"),
        asks(f"c{i}a", f"c{i}b"),
        result(f"c{i}a", f"out {i}a " + "x" * 200),
        result(f"c{i}b", f"out {i}b"),
        says(f"done {i}"),
    ]


def unanswered(messages: list[dict]) -> list[str]:
    """Tool calls without exactly one result right after their assistant message."""
    missing = []
    for i, message in enumerate(messages):
        for c in message.get("tool_calls") or []:
            following = []
            for later in messages[i + 1 :]:
                if later["role"] != "tool":
                    break
                following.append(later["tool_call_id"])
            if following.count(c["id"]) != 1:
                missing.append(c["id"])
    return missing


def write_session(root: Path, session_id: str, messages: list[dict], cwd: Path | None = None):
    with SessionLog.create(session_id, cwd or Path.cwd(), "openai/m1", root) as log:
        for message in messages:
            log.append_message(message)
    return log.path


def test_a_session_reads_back_as_written(tmp_path):
    messages = [{"role": "system", "content": "be useful"}, *turn(0), *turn(1)]
    path = write_session(tmp_path, "s1", messages, cwd=tmp_path)
    session = load_session("s1", tmp_path)
    assert session.messages == messages
    assert session.warnings == []
    assert (session.session_id, session.cwd, session.model) == ("s1", str(tmp_path), "openai/m1")
    assert session.turns == 2
    assert session.first_prompt == "task 0"
    assert session.created <= session.updated
    meta = json.loads(path.read_text().splitlines()[0])
    assert meta["kind"] == "meta"
    assert meta["session_id"] == "s1"
    assert meta["version"]
    assert path.stat().st_mode & 0o777 == 0o600


def test_default_location_is_the_data_directory(isolated_env):
    with SessionLog.create("here", Path.cwd(), "m") as log:
        log.append_message(user("hi"))
    expected = Path(os.environ["XDG_DATA_HOME"]) / "ml-intern" / "sessions" / "here.jsonl"
    assert log.path == expected
    assert load_session("here").messages == [user("hi")]


def test_secrets_never_reach_the_disk(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "k-9f8e7d6c5b4a")
    path = write_session(
        tmp_path,
        "s",
        [user(f"my token is {SECRET}"), says("the key k-9f8e7d6c5b4a is set")],
    )
    text = path.read_text()
    assert SECRET not in text
    assert "k-9f8e7d6c5b4a" not in text
    assert "[REDACTED:hf_token]" in text
    assert "[REDACTED:env:OPENAI_API_KEY]" in text


def test_a_session_id_is_never_reused_or_a_path(tmp_path):
    write_session(tmp_path, "taken", [])
    with pytest.raises(FileExistsError):
        SessionLog.create("taken", tmp_path, "m", tmp_path)
    with pytest.raises(ValueError, match="invalid session id"):
        SessionLog.create("../escape", tmp_path, "m", tmp_path)


def test_undo_writes_a_small_truncate_record(tmp_path):
    history = [*turn(0), *turn(1)]
    with SessionLog.create("u", tmp_path, "m", tmp_path) as log:
        for message in history:
            log.append_message(message)
        log.replace_messages(history[:5])
        log.append_message(user("instead"))
    last_lines = log.path.read_text().splitlines()[-2:]
    assert json.loads(last_lines[0])["kind"] == "truncate"
    assert len(last_lines[0]) < 100
    assert load_session("u", tmp_path).messages == [*history[:5], user("instead")]


def test_compaction_keeps_the_new_history_and_the_full_transcript(tmp_path):
    system = {"role": "system", "content": "sys"}
    summary = user("Summary of earlier work: ran things.")
    with SessionLog.create("c", tmp_path, "m", tmp_path) as log:
        for message in [system, *turn(0), *turn(1)]:
            log.append_message(message)
        compacted = [system, summary, *turn(1)]
        log.replace_messages(compacted)
        log.append_message(user("next"))
    session = load_session("c", tmp_path)
    assert session.messages == [*compacted, user("next")]
    assert session.turns == 3
    transcript = [e.message for e in session.transcript]
    boundary = transcript.index(None)
    assert transcript[:boundary] == [system, *turn(0), *turn(1)]
    assert transcript[boundary + 1 :] == [summary, user("next")]


def test_model_changes_and_metadata_events_are_kept(tmp_path):
    with SessionLog.create("e", tmp_path, "m1", tmp_path) as log:
        log.record_event(Ready(model="m1", tools=["bash"]))  # same model: nothing to record
        log.append_message(user("go"))
        log.append_message(asks("c1"))
        log.record_event(Usage(input_tokens=100, output_tokens=7, cached_tokens=40))
        log.record_event(ToolStateChange(tool_call_id="c1", name="bash", state="denied"))
        log.record_event(
            ToolOutput(tool_call_id="c1", name="bash", content="x" * 500, is_error=True)
        )
        log.record_event(AssistantChunk(content="streamed text"))
        log.append_message(result("c1", "denied by the user"))
        log.record("model", model="m2")
        log.append_message(says("ok"))
    session = load_session("e", tmp_path)
    assert session.model == "m2"
    assert [e.model for e in session.entries] == ["m1", "m1", "m1", "m2"]
    assert session.entries[1].usage["input_tokens"] == 100
    assert session.entries[2].is_error
    text = log.path.read_text()
    assert "streamed text" not in text
    assert "x" * 500 not in text
    assert '"state":"denied"' in text
    assert sum(1 for line in text.splitlines() if '"kind":"model"' in line) == 1


def test_a_torn_last_line_is_ignored_with_a_warning_and_appending_resumes(tmp_path):
    history = [*turn(0), user("last")]
    path = write_session(tmp_path, "t", history)
    with path.open("ab") as f:
        f.write(b'{"kind":"message","role":"user","message":{"role":"user","content":"ne')
    session = load_session("t", tmp_path)
    assert session.messages == history
    assert scan_sessions(tmp_path)[0][0].turns == session.turns == 2
    assert len(session.warnings) == 1
    assert "incomplete last record" in session.warnings[0]

    with SessionLog.open_existing("t", tmp_path) as log:
        log.append_message(says("after the crash"))
    session = load_session("t", tmp_path)
    assert session.messages == [*history, says("after the crash")]
    assert len(session.warnings) == 1
    assert "unreadable record skipped" in session.warnings[0]


def test_a_corrupt_line_in_the_middle_is_skipped_with_a_warning(tmp_path):
    path = write_session(tmp_path, "m", [user("one"), says("two"), user("three")])
    lines = path.read_text().splitlines()
    lines[2] = lines[2][:20] + "\x00garbage"
    path.write_text("\n".join(lines) + "\n")
    session = load_session("m", tmp_path)
    assert session.messages == [user("one"), user("three")]
    assert session.warnings == ["line 3: unreadable record skipped"]


def test_sessions_are_found_by_a_unique_prefix(tmp_path):
    write_session(tmp_path, "abc123", [user("a")])
    write_session(tmp_path, "abd456", [user("b")])
    assert load_session("abc", tmp_path).messages == [user("a")]
    with pytest.raises(KeyError, match="matches 2 sessions"):
        load_session("ab", tmp_path)
    with pytest.raises(SessionNotFound, match="no saved session 'zzz'") as info:
        load_session("zzz", tmp_path)
    assert "--resume" in str(info.value)


def test_list_sessions_newest_first_with_what_a_picker_shows(tmp_path):
    here, elsewhere = tmp_path / "proj", tmp_path / "other"
    here.mkdir(), elsewhere.mkdir()
    old = write_session(tmp_path, "old", [user("first task"), says("ok")], cwd=here)
    with SessionLog.create("new", here, "m1", tmp_path) as log:
        for message in [*turn(0), *turn(1), *turn(2)]:
            log.append_message(message)
        log.replace_messages([*turn(0), *turn(1)])  # undo the last turn
        log.record("model", model="m2")
    write_session(tmp_path, "away", [user("x")], cwd=elsewhere)
    os.utime(old, (time.time() - 3600, time.time() - 3600))

    everything, damaged = scan_sessions(tmp_path)
    assert {s.id for s in everything} == {"old", "new", "away"} and damaged == []
    mine, _ = scan_sessions(tmp_path, cwd=here)
    assert [s.id for s in mine] == ["new", "old"]
    assert (mine[0].turns, mine[0].model, mine[0].first_prompt) == (2, "m2", "task 0")
    assert (mine[1].turns, mine[1].model, mine[1].first_prompt) == (1, "openai/m1", "first task")
    assert scan_sessions(tmp_path, cwd=tmp_path / "nowhere") == ([], [])
    assert scan_sessions(tmp_path / "missing") == ([], [])


def test_repair_answers_every_call_and_drops_orphans():
    history = [
        user("go"),
        asks("a", "b", "c"),
        result("b"),
        result("b", "duplicate"),
        result("zz", "orphan"),
        user("stop"),
        result("a", "too late"),
        asks("d"),
    ]
    repaired = repair_history(history)
    interrupted = {"content": SYNTHETIC_RESULT, "name": "bash", "role": "tool"}
    assert repaired == [
        user("go"),
        asks("a", "b", "c"),
        result("b"),
        {**interrupted, "tool_call_id": "a"},
        {**interrupted, "tool_call_id": "c"},
        user("stop"),
        asks("d"),
        {**interrupted, "tool_call_id": "d"},
    ]
    assert unanswered(repaired) == []
    assert history[2] == result("b")
    assert len(history) == 8


def test_repair_leaves_a_valid_history_alone():
    history = [{"role": "system", "content": "s"}, *turn(0), *turn(1)]
    assert repair_history(history) == history


def test_a_thousand_appended_messages_read_back_in_order(tmp_path):
    messages = [m for i in range(200) for m in turn(i)]
    with SessionLog.create("big", tmp_path, "m", tmp_path) as log:
        for message in messages:
            log.append_message(message)
    assert load_session("big", tmp_path).messages == messages


CHILD = """
import sys
from pathlib import Path
from agent.context.store import SessionLog
from tests.unit.test_store import turn

log = SessionLog.create("crash", Path.cwd(), "m", Path(sys.argv[1]))
i = 0
while True:
    for message in turn(i):
        log.append_message(message)
    i += 1
    if i == 40:
        print("ready", flush=True)
"""


def test_kill_9_loses_at_most_the_line_being_written(tmp_path):
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(tmp_path)],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
    )
    try:
        assert child.stdout.readline() == b"ready\n"
        child.send_signal(signal.SIGKILL)
    finally:
        child.kill()
        child.wait()
        child.stdout.close()

    session = load_session("crash", tmp_path)
    written = [e.message for e in session.entries if not e.synthetic]
    expected = [m for i in range(len(written) // 5 + 1) for m in turn(i)]
    assert len(written) >= 200
    assert written == expected[: len(written)]
    assert unanswered(session.messages) == []
    assert all(
        "incomplete last record" in w or "marked as interrupted" in w for w in session.warnings
    )

    # A crash in the middle of a write leaves half a line: the rest still loads.
    data = session.path.read_bytes()
    cut = data.rstrip(b"\n").rfind(b"\n") + 30
    session.path.write_bytes(data[:cut])
    torn = load_session("crash", tmp_path)
    assert any("incomplete last record" in w for w in torn.warnings)
    kept = [e.message for e in torn.entries if not e.synthetic]
    assert kept == expected[: len(kept)]
    assert len(kept) >= len(written) - 1
    assert unanswered(torn.messages) == []


def test_the_log_reaches_the_disk_at_the_end_of_each_turn_not_per_record(tmp_path, monkeypatch):
    from agent.events import Interrupted, TurnComplete

    synced: list[int] = []
    real = os.fsync

    def watching(fd: int) -> None:
        synced.append(os.fstat(fd).st_ino)
        real(fd)

    monkeypatch.setattr(os, "fsync", watching)
    log = SessionLog.create("durable", tmp_path, "openai/m1", tmp_path)
    inode = log.path.stat().st_ino
    for message in turn(1):
        log.append_message(message)
    log.record_event(Usage(input_tokens=10, output_tokens=2))
    assert synced == []  # no flush per record
    log.record_event(TurnComplete(final_text="done 1"))
    assert synced == [inode]
    log.append_message(user("task 2"))
    log.record_event(Interrupted())
    assert synced == [inode, inode]
    log.close()
    assert synced == [inode, inode, inode]
