"""Traces go to the user's private dataset after each turn, scrubbed, through the real CLI."""

from __future__ import annotations

import json

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
