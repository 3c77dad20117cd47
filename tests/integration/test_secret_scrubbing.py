"""Secrets a tool prints never reach the session log, `sessions export` or the MCP log:
credentials files, a private key, an environment secret printed JSON-escaped or
URL-encoded, and a key an MCP server writes to its stderr."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from agent.config import data_home, user_config_path
from tests.fakes import llm_server as llm

ROOT = Path(__file__).resolve().parents[2]
WANDB_KEY = "4f2a9c0e1d7b3a5f8e6c2d1b0a9f8e7d6c5b4a39"
NETRC_PASSWORD = "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
DB_PASSWORD = "Tr0ub4dor&3"
PEM_LINES = [
    "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW",
    "QyNTUxOQAAACBhbm90aGVyS2V5Qm9keUxpbmVGb3JUZXN0c09ubHkxMjM0NTY3ODkwQUJD",
]
ENV_SECRET = 'pr1v/Ate"value\\with-slash/and quotes'
MCP_PEM_LINE = "MIIEpAIBAAKCAQEAmcpStderrKeyBodyLineOnlyForThisTest0123456789abcd"


def write_credentials(home: Path, work: Path) -> None:
    (home / ".netrc").write_text(
        f"machine api.wandb.ai\n  login user\n  password {NETRC_PASSWORD}\n"
    )
    (work / "wandb.env").write_text(f"WANDB_API_KEY={WANDB_KEY}\nDB_PASSWORD: {DB_PASSWORD}\n")
    aws = home / ".aws" / "credentials"
    aws.parent.mkdir()
    aws.write_text(
        "[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\n"
        f"aws_secret_access_key = {AWS_SECRET}\n"
    )
    key = ["-----BEGIN OPENSSH PRIVATE KEY-----", *PEM_LINES, "-----END OPENSSH PRIVATE KEY-----"]
    (work / "id_ed25519").write_text("\n".join(key) + "\n")


def noisy_mcp_server() -> dict:
    """Our fake MCP server, started by a script that first prints a private key to stderr."""
    script = (
        "import runpy, sys\n"
        "sys.stderr.write('loading key\\n-----BEGIN RSA PRIVATE KEY-----\\n"
        f"{MCP_PEM_LINE}\\n-----END RSA PRIVATE KEY-----\\nkey loaded\\n')\n"
        "sys.stderr.flush()\n"
        "sys.argv = ['mcp_server', '--transport', 'stdio']\n"
        "runpy.run_module('tests.fakes.mcp_server', run_name='__main__')\n"
    )
    return {"command": sys.executable, "args": ["-c", script], "cwd": str(ROOT)}


def printed_forms(secret: str) -> list[str]:
    in_json = json.dumps(secret)[1:-1]
    return [secret, in_json, in_json.replace("/", "\\/")]


def test_credentials_a_tool_prints_stay_out_of_the_log_export_and_mcp_log(
    cli, fake_llm, monkeypatch, tmp_path
):
    home, work = Path.home(), Path.cwd()
    write_credentials(home, work)
    monkeypatch.setenv("MYAPP_SECRET", ENV_SECRET)
    user_config_path().write_text(json.dumps({"mcpServers": {"noisy": noisy_mcp_server()}}))
    show_env = (
        'python3 -c \'import json, os, urllib.parse; v = os.environ["MYAPP_SECRET"]; '
        'print(json.dumps({"v": v})); print(json.dumps(v).replace("/", "\\\\/")); '
        "print(urllib.parse.quote(v))'"
    )
    commands = ["cat ~/.netrc wandb.env ~/.aws/credentials id_ed25519", show_env]
    fake_llm.script(
        *(llm.tool_call("bash", {"command": command}) for command in commands),
        llm.text("I looked at your credentials."),
    )
    run = cli("-o", "json", "show me my credentials")
    assert run.exit_code == 0, run.stderr
    fake_llm.assert_done()
    sid = run.result()["session_id"]

    seen_by_model = json.dumps(fake_llm.requests[-1]["messages"])
    assert WANDB_KEY in seen_by_model and PEM_LINES[0] in seen_by_model  # the tool printed them

    export = tmp_path / "trace.jsonl"
    assert cli("sessions", "export", sid, "-o", str(export)).exit_code == 0
    session_log = (data_home() / "sessions" / f"{sid}.jsonl").read_text()
    mcp_log = (data_home() / "logs" / f"{sid}.mcp.log").read_text()
    secrets = [WANDB_KEY, NETRC_PASSWORD, AWS_SECRET, DB_PASSWORD, *PEM_LINES]
    secrets += [*printed_forms(ENV_SECRET), "pr1v%2FAte%22value%5Cwith-slash%2Fand%20quotes"]
    for where, text in (("session log", session_log), ("export", export.read_text())):
        for secret in secrets:
            assert secret not in text, f"{secret!r} in the {where}"
        assert "[REDACTED:private_key]" in text
        assert "aws_secret_access_key = [REDACTED:assignment]" in text
    assert "loading key" in mcp_log and "key loaded" in mcp_log
    assert "[REDACTED:private_key]" in mcp_log
    assert MCP_PEM_LINE not in mcp_log
