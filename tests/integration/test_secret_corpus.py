"""Every shape of the secret corpus, put into the prompt, a tool's output, the model's
answer, an MCP server's stderr and a background job's output, reaches none of the
channels that outlive the run: the session log, `sessions export`, the uploaded trace,
stderr, ml-intern.log, the MCP server log, the job's log, or any other file under the
data folder."""

from __future__ import annotations

import json
import os
import re
import signal
import sys
from pathlib import Path

from agent.config import data_home, user_config_path
from tests import secret_corpus as corpus
from tests.fakes import llm_server as llm
from tests.fakes.hub_uploads import HubUploads

ROOT = Path(__file__).resolve().parents[2]
HF_TOKEN = "hf_" + "C0rpus" * 6
DB_PASSWORD = "Env" + "Db-pw" * 3
HOOK_PATH = "T9/B9/" + "w3bh00k" * 4
BACKGROUND = "cat corpus.txt; echo corpus done; sleep 60"
WAIT_FOR_BACKGROUND = (
    'timeout 20 sh -c \'until grep -qs "corpus done" "$XDG_DATA_HOME"/ml-intern/bg/*/bg1.log;'
    " do sleep 0.05; done'"
)


def stderr_mcp_server(corpus_file: Path) -> dict:
    """Our fake MCP server, started by a script that first prints the corpus to stderr."""
    script = (
        "import runpy, sys\n"
        f"sys.stderr.write(open({str(corpus_file)!r}).read() + '\\ncorpus printed\\n')\n"
        "sys.stderr.flush()\n"
        "sys.argv = ['mcp_server', '--transport', 'stdio']\n"
        "runpy.run_module('tests.fakes.mcp_server', run_name='__main__')\n"
    )
    return {"command": sys.executable, "args": ["-c", script], "cwd": str(ROOT)}


def stop_background_job(requests: list[dict]) -> None:
    """The job outlives the run (its log is kept, so it is checked too): stop it now."""
    for request in requests:
        for message in request["messages"]:
            if match := re.search(r"Started background job bg1 \(pid (\d+)\)", str(message)):
                os.killpg(int(match.group(1)), signal.SIGKILL)
                return


def files_under(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): path.read_text(errors="replace")
        for path in folder.rglob("*")
        if path.is_file()
    }


def test_no_shape_of_the_corpus_leaves_the_process(cli, fake_llm, monkeypatch, tmp_path):
    corpus_file = Path.cwd() / "corpus.txt"
    corpus_file.write_text(corpus.TEXT + "\n")
    database_url = f"postgresql://app:{DB_PASSWORD}@db.internal/app"
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SLACK_WEBHOOK_URL", f"https://hooks.slack.com/services/{HOOK_PATH}")
    user_config_path().write_text(
        json.dumps({"mcpServers": {"noisy": stderr_mcp_server(corpus_file)}})
    )
    show_env = 'python3 -c \'import os, urllib.parse as u; print(u.urlparse(os.environ["DATABASE_URL"]).password); print(os.environ["SLACK_WEBHOOK_URL"])\''
    fake_llm.script(
        llm.tool_call("bash", {"command": "cat corpus.txt"}),
        llm.tool_call("bash", {"command": show_env}),
        llm.tool_call("bash", {"command": BACKGROUND, "run_in_background": True}),
        llm.tool_call("bash", {"command": WAIT_FOR_BACKGROUND}),
        llm.text("Here is what I found:\n" + corpus.TEXT),
    )
    prompt = f"connect with {corpus.CORPUS['postgres_password']} and {corpus.CORPUS['jwt']}"
    with HubUploads(token=HF_TOKEN, user="alice") as hub:
        monkeypatch.setenv("HF_TOKEN", HF_TOKEN)
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        try:
            run = cli("-o", "json", "--no-wait", prompt)
        finally:
            stop_background_job(fake_llm.requests)
        assert run.exit_code == 0, run.stderr
        fake_llm.assert_done()
        sid = run.result()["session_id"]
        uploaded = hub.repos["alice/ml-intern-sessions"].files[f"sessions/{sid}.jsonl"].decode()

    seen_by_model = json.dumps(fake_llm.requests[-1]["messages"])
    assert set(corpus.leaked(seen_by_model)) == set(corpus.SECRETS)  # the tool printed them all
    assert DB_PASSWORD in seen_by_model

    export = tmp_path / "export.jsonl"
    assert cli("sessions", "export", sid, "-o", str(export)).exit_code == 0
    channels = {
        "stderr": run.stderr,
        "export": export.read_text(),
        "uploaded trace": uploaded,
        **files_under(data_home()),
    }
    assert {f"sessions/{sid}.jsonl", f"logs/{sid}.mcp.log", "logs/ml-intern.log"} <= set(channels)
    assert "corpus printed" in channels[f"logs/{sid}.mcp.log"]  # the server's stderr was kept
    assert "corpus done" in channels[f"bg/{sid}/bg1.log"]  # the running job's log was kept
    for name, text in channels.items():
        assert corpus.leaked(text) == [], f"secrets in {name}"
        assert DB_PASSWORD not in text and HOOK_PATH not in text, f"environment secret in {name}"
    for name in ("export", "uploaded trace", f"sessions/{sid}.jsonl"):
        assert "@db.internal:5432/app" in channels[name]  # scrubbed, not dropped
        assert "[REDACTED:env:DATABASE_URL]" in channels[name]
