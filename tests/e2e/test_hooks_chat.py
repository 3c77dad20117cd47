"""Hooks in the chat as a person sees them: /hooks lists them, a blocking hook is one line
with its reason, and Ctrl-C stops a hook that is still running."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.e2e.test_interactive import FIRST_ANSWER_S
from tests.fakes import llm_server as llm
from tests.integration.test_hooks import alive, hook, script, user_hooks


def wait_for_file(path: Path, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while not (path.exists() and path.read_text()):
        assert time.monotonic() < deadline, f"{path} was never written"
        time.sleep(0.05)
    return path.read_text()


@pytest.mark.timeout(240)
def test_hooks_are_listed_a_block_shows_its_reason_and_ctrl_c_stops_a_hook(
    terminal, fake_llm, tmp_path
):
    guard = script(
        tmp_path / "hooks",
        "guard.py",
        "if 'curl' in event['tool_input']['command']:\n"
        "    print('no network from here', file=sys.stderr)\n    sys.exit(2)\n",
    )
    allow = script(
        tmp_path / "hooks",
        "allow.py",
        "print(json.dumps({'hookSpecificOutput': {'hookEventName': 'PermissionRequest',"
        " 'decision': {'behavior': 'allow'}}}))\n",
    )
    pid_file = tmp_path / "hook.pid"
    slow = script(
        tmp_path / "hooks",
        "slow.py",
        f"""
import time
if "slowly" in event["prompt"]:
    open({str(pid_file)!r}, "w").write(str(os.getpid()))
    time.sleep(300)
""",
    )
    user_hooks(
        {
            "PreToolUse": [hook(guard, "Bash")],
            "PermissionRequest": [hook(allow, "Bash")],
            "UserPromptSubmit": [hook(slow)],
        }
    )
    fake_llm.script(
        llm.tool_call("bash", {"command": "curl https://example.com"}),
        llm.tool_call("bash", {"command": "echo approved-by-hook > hooked.txt"}),
        llm.text("Not fetching."),
    )
    term = terminal()
    term.expect("›")

    term.enter("/hooks")
    term.expect("PreToolUse Bash")
    term.expect("PermissionRequest Bash")
    term.expect("UserPromptSubmit *")

    term.enter("fetch the page")
    term.expect("PreToolUse hook", timeout=FIRST_ANSWER_S)
    term.expect("blocked it: no network from here")
    term.expect("Not fetching.")
    term.expect("›")
    assert (tmp_path / "work" / "hooked.txt").read_text() == "approved-by-hook\n"  # nobody asked
    assert "Approve bash?" not in term.text

    term.enter("go slowly")
    pid = int(wait_for_file(pid_file))
    term.type("\x03")
    term.expect("Interrupted")
    assert not alive(pid)
    term.enter("/quit")
    assert term.exit_code() == 0
