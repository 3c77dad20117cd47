"""Traces go to the user's private dataset after each turn, scrubbed, through the real CLI."""

from __future__ import annotations

import asyncio
import json
import signal

import pytest

from agent.core import ops
from tests.cli import spawn, start
from tests.fakes import llm_server as llm
from tests.fakes.hub_uploads import HubUploads

TOKEN = "hf_" + "T0ken" * 7
GITHUB = "ghp_" + "A1b2C3d4" * 5


def test_a_turn_is_uploaded_privately_without_secrets(cli, fake_llm, monkeypatch):
    with HubUploads(token=TOKEN, user="alice") as hub:
        monkeypatch.setenv("HF_TOKEN", TOKEN)
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        monkeypatch.setenv("GITHUB_TOKEN", GITHUB)
        fake_llm.script(
            llm.tool_call("bash", {"command": f"echo {GITHUB}"}), llm.text(f"token {TOKEN}")
        )
        result = cli("-o", "json", f"use {TOKEN} please")
        assert result.exit_code == 0, result.stderr
        sid = json.loads(result.stdout)["session_id"]

        repo = hub.repos["alice/ml-intern-sessions"]
        assert repo.private is True
        uploaded = repo.files[f"sessions/{sid}.jsonl"].decode()
        lines = [json.loads(line) for line in uploaded.splitlines()]
        assert any(line["type"] == "assistant" for line in lines)
        assert TOKEN not in uploaded
        assert GITHUB not in uploaded
        assert "REDACTED" in uploaded


def test_a_failing_hub_never_breaks_the_run(cli, fake_llm, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # nothing listens there
    fake_llm.script(llm.text("fine"))
    result = cli("hi")
    assert result.exit_code == 0
    assert result.stdout.strip() == "fine"
    assert "upload" not in result.stderr.lower()


def test_share_traces_off_uploads_nothing(cli, fake_llm, monkeypatch):
    with HubUploads(token=TOKEN) as hub:
        monkeypatch.setenv("HF_TOKEN", TOKEN)
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        monkeypatch.setenv("ML_INTERN_SHARE_TRACES", "false")
        fake_llm.script(llm.text("fine"))
        assert cli("hi").exit_code == 0
        assert hub.requests == []


def test_the_token_hf_auth_login_saved_uploads_traces(cli, fake_llm, monkeypatch):
    from agent.hf_token import saved_login_path

    with HubUploads(token=TOKEN, user="alice") as hub:
        saved_login_path().parent.mkdir(parents=True, exist_ok=True)
        saved_login_path().write_text(TOKEN + "\n")
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        fake_llm.script(llm.text("fine"))
        result = cli("-o", "json", "hi")
        assert result.exit_code == 0, result.stderr
        fake_llm.assert_done()
        sid = json.loads(result.stdout)["session_id"]
        assert f"sessions/{sid}.jsonl" in hub.repos["alice/ml-intern-sessions"].files


def test_new_while_an_upload_runs_still_sends_the_old_sessions_last_turn(fake_llm, monkeypatch):
    from tests.integration.test_session_log import Driver

    with HubUploads(token=TOKEN, user="alice", stall_commits=True) as hub:
        monkeypatch.setenv("HF_TOKEN", TOKEN)
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        fake_llm.script(llm.text("first answer"), llm.text("second answer"))

        async def chat() -> tuple[str, str]:
            driver = Driver()
            await driver.start()
            await driver.perform(ops.UserInput(text="first"), "turn_complete")
            assert await asyncio.to_thread(hub.commit_started.wait, 30)  # its upload hangs
            await driver.perform(ops.UserInput(text="second"), "turn_complete")
            old = driver.session.id
            await driver.perform(ops.NewSession(), "notice")  # /new
            hub.release_commits()
            await driver.stop()  # leaving waits for the uploads still owed
            return old, driver.session.id

        old, new = asyncio.run(chat())

    files = hub.repos["alice/ml-intern-sessions"].files
    sent = [json.loads(line) for line in files[f"sessions/{old}.jsonl"].decode().splitlines()]
    assert {line["sessionId"] for line in sent} == {old}
    replies = [line["message"]["content"] for line in sent if line["type"] == "assistant"]
    assert [block["text"] for blocks in replies for block in blocks] == [
        "first answer",
        "second answer",
    ]
    assert f"sessions/{new}.jsonl" not in files  # the fresh conversation had no turn
    fake_llm.assert_done()


@pytest.mark.timeout(180)  # spawns ml-intern: a litellm import, slow on a busy machine
def test_a_hanging_upload_is_skipped_after_its_grace(fake_llm, monkeypatch):
    with HubUploads(token=TOKEN, stall_commits=True) as hub:
        monkeypatch.setenv("HF_TOKEN", TOKEN)
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        monkeypatch.setenv("ML_INTERN_UPLOAD_GRACE_S", "1")
        fake_llm.script(llm.text("fine"))
        result = spawn("hi", timeout=150)  # the Hub never answers the commit

        assert result.exit_code == 0, result.stderr
        assert result.stdout.strip() == "fine"
        assert "Trace upload skipped: the Hub did not finish it within 1 s" in result.stderr
        fake_llm.assert_done()


@pytest.mark.timeout(180)
def test_ctrl_c_while_the_exit_waits_for_an_upload_exits_at_once(fake_llm, monkeypatch):
    with HubUploads(token=TOKEN, stall_commits=True) as hub:
        monkeypatch.setenv("HF_TOKEN", TOKEN)
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        monkeypatch.setenv("ML_INTERN_UPLOAD_GRACE_S", "600")
        fake_llm.script(llm.text("fine"))
        proc = start("-o", "json", "hi")
        assert hub.commit_started.wait(150)  # the turn is over; the exit waits for the Hub
        proc.send_signal(signal.SIGINT)
        out, errors = proc.communicate(timeout=60)

        assert proc.returncode == 130, errors
        assert "SIGINT: stopped at once" in errors
        assert out == ""  # it left without finishing the exit (the result comes last)
        fake_llm.assert_done()
