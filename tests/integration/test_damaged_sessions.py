"""Session logs that were copied, renamed or damaged, through the CLI: resuming writes the
file that was named (its id is its file name), one damaged log never breaks
`sessions list` or `--continue`, and `sessions export` ends in one line, never a traceback."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest

from agent.context.resume import load_session
from agent.context.store import sessions_dir
from tests.cli import start
from tests.fakes import llm_server as llm
from tests.integration.test_resume import message, notices


def write_log(sid: str, records: list[dict], model: str = "openai/test-model") -> Path:
    """A log of this directory, written as ml-intern writes one (compact JSON lines)."""
    meta = {"kind": "meta", "session_id": sid, "created": time.time(), "cwd": str(Path.cwd())}
    lines = [json.dumps(r, separators=(",", ":")) for r in [{**meta, "model": model}, *records]]
    sessions_dir().mkdir(parents=True, exist_ok=True)
    path = sessions_dir() / f"{sid}.jsonl"
    path.write_text("".join(line + "\n" for line in lines))
    return path


def first_session(cli, fake_llm) -> Path:
    """Run once; the log of that session."""
    fake_llm.script(llm.text("Noted."))
    result = cli("-o", "json", "the code word is alpha")
    assert result.exit_code == 0, result.stderr
    return sessions_dir() / f"{result.result()['session_id']}.jsonl"


def user_prompts(session_id: str) -> list[str]:
    return [m["content"] for m in load_session(session_id).messages if m["role"] == "user"]


def newer(path: Path) -> None:
    """Make `path` the most recently changed log, as if it had just been written."""
    later = time.time() + 60
    os.utime(path, (later, later))


def test_resuming_a_copied_log_continues_the_copy_not_the_original(cli, fake_llm):
    original = first_session(cli, fake_llm)
    before = original.read_bytes()
    shutil.copy(original, original.with_name("backup-copy.jsonl"))

    fake_llm.script(llm.text("Still alpha."))
    result = cli("-o", "json", "--resume", "backup-copy", "second prompt")

    assert result.exit_code == 0, result.stderr
    assert result.result()["session_id"] == "backup-copy"
    assert original.read_bytes() == before
    assert user_prompts("backup-copy") == ["the code word is alpha", "second prompt"]


def test_a_renamed_log_resumes_once_its_original_name_is_gone(cli, fake_llm, tmp_path):
    original = first_session(cli, fake_llm)
    original.rename(original.with_name("renamed.jsonl"))

    fake_llm.script(llm.text("Still alpha."))
    result = cli("-o", "json", "--resume", "renamed", "second prompt")

    assert result.exit_code == 0, result.stderr
    assert result.result()["session_id"] == "renamed"
    assert not original.exists()
    assert user_prompts("renamed") == ["the code word is alpha", "second prompt"]


def test_continue_writes_the_copy_it_picked(cli, fake_llm):
    original = first_session(cli, fake_llm)
    before = original.read_bytes()
    copy = original.with_name("backup-copy.jsonl")
    shutil.copy(original, copy)
    newer(copy)

    fake_llm.script(llm.text("Still alpha."))
    result = cli("-o", "json", "--continue", "second prompt")

    assert result.exit_code == 0, result.stderr
    assert result.result()["session_id"] == "backup-copy"
    assert original.read_bytes() == before
    assert user_prompts("backup-copy") == ["the code word is alpha", "second prompt"]


def damaged_log(damage: str) -> Path:
    """A log of this directory with one kind of damage the listing cannot make sense of."""
    path = write_log("broken", [message("user", "hi"), message("assistant", "hello")])
    meta, *rest = path.read_bytes().split(b"\n")
    if damage == "role bytes":
        rest.insert(0, b'{"kind":"message","role":"\xff\xfe","message":{"role":"user"}}')
    else:
        created = {"created text": "abc", "created far away": 1e20}[damage]
        meta = json.dumps({**json.loads(meta), "created": created}, separators=(",", ":")).encode()
    path.write_bytes(b"\n".join([meta, *rest]))
    newer(path)
    return path


@pytest.mark.parametrize("damage", ["created text", "role bytes", "created far away"])
def test_a_damaged_log_is_skipped_with_a_warning_by_list_and_continue(cli, fake_llm, damage):
    good = first_session(cli, fake_llm).stem
    broken = damaged_log(damage)

    listing = cli("sessions", "list")
    assert listing.exit_code == 0, listing.stderr
    assert good in listing.stdout and "broken" not in listing.stdout
    assert "Traceback" not in listing.stderr
    assert f"skipped the damaged session log {broken}" in listing.stderr

    fake_llm.script(llm.text("Carrying on."))
    resumed = cli("-o", "json", "--continue", "go on")
    assert resumed.exit_code == 0, resumed.stderr
    assert resumed.result()["session_id"] == good
    assert f"skipped the damaged session log {broken}" in resumed.stderr

    fake_llm.script(llm.text("Read what was left."))  # as the warning says, by its id
    named = cli("-o", "json", "--resume", "broken", "what is left?")
    assert named.exit_code == 0, named.stderr
    assert named.result()["session_id"] == "broken"


def test_a_truncate_record_with_an_impossible_count_is_skipped_with_a_notice(cli, fake_llm):
    log = first_session(cli, fake_llm)
    with log.open("ab") as file:
        file.write(b'{"kind":"truncate","keep":1e400}\n')

    fake_llm.script(llm.text("Carrying on."))
    result = cli("-o", "stream-json", "--continue", "go on")

    assert result.exit_code == 0, result.stderr
    damaged = [n for n in notices(result) if "damaged" in n]
    assert len(damaged) == 1 and "malformed truncate record skipped" in damaged[0]
    sent = fake_llm.requests[-1]["messages"]
    assert [m["content"] for m in sent if m["role"] == "user"] == [
        "the code word is alpha",
        "go on",
    ]


def test_an_unprefixed_saved_model_is_kept_only_when_litellm_can_place_it(cli, fake_llm):
    write_log(
        "mystery", [message("user", "hi"), message("assistant", "hello")], "mystery-model-9000"
    )
    fake_llm.script(llm.text("Still here."))
    result = cli("-o", "stream-json", "--continue", "go")

    assert result.exit_code == 0, result.stderr
    assert fake_llm.requests[-1]["model"] == "test-model"
    kept = [n for n in notices(result) if n.startswith("The saved model 'mystery-model-9000'")]
    assert len(kept) == 1 and kept[0].endswith("continuing with openai/test-model.")

    write_log("known", [message("user", "hi"), message("assistant", "hello")], "gpt-4o-mini")
    fake_llm.script(llm.text("Same model."))
    again = cli("-o", "json", "--resume", "known", "go")
    assert again.exit_code == 0, again.stderr
    assert fake_llm.requests[-1]["model"] == "gpt-4o-mini"


@pytest.mark.parametrize("where", ["missing directory", "a directory"])
def test_export_to_a_path_it_cannot_write_says_so_in_one_line(cli, fake_llm, tmp_path, where):
    sid = first_session(cli, fake_llm).stem
    target = tmp_path / "nonexistent" / "x.jsonl" if where == "missing directory" else tmp_path

    result = cli("sessions", "export", sid, "-o", str(target))

    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("ml-intern: ")
    assert str(target) in lines[0]


@pytest.mark.timeout(120)  # a real process, for its exit code
def test_export_to_a_reader_that_went_away_exits_141_quietly(tmp_path):
    write_log("big", [message("user", "x" * 300_000), message("assistant", "done")])
    errors = tmp_path / "stderr.txt"
    with errors.open("w") as stderr:
        proc = start("sessions", "export", "big", stderr=stderr)
        proc.stdout.close()  # as `| head -c 10` does once it has read its bytes
        code = proc.wait(timeout=90)

    assert code == 141, errors.read_text()
    assert errors.read_text() == ""
