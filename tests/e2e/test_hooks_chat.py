"""Hooks in the chat as a person sees them: /hooks lists them, a blocking hook is one line
with its reason, a hook's `ask` asks even where approvals are automatic, Ctrl-C stops a hook that is still
running, and Notification and SessionEnd hooks hear what the person did."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.e2e.test_interactive import FIRST_ANSWER_S
from tests.fakes import llm_server as llm
from tests.integration.test_hooks import alive, hook, script, user_hooks


def wait_for_file(path: Path, done: Callable[[str], bool] = bool, timeout: float = 30) -> str:
    """The file's text once `done` says it holds what is awaited (by default: anything)."""
    deadline = time.monotonic() + timeout
    while not (path.exists() and done(path.read_text())):
        assert time.monotonic() < deadline, f"{path} never got what was awaited"
        time.sleep(0.05)
    return path.read_text()


@pytest.mark.timeout(240)
def test_hooks_are_listed_block_ask_rewrite_notify_stop_on_ctrl_c_and_hear_the_end(
    terminal, fake_llm, tmp_path
):
    hooks_dir = tmp_path / "hooks"
    guard = script(
        hooks_dir,
        "guard.py",
        """
command = event["tool_input"]["command"]
if "curl" in command:
    print("no network from here", file=sys.stderr)
    sys.exit(2)
if "careful" in command:
    print(json.dumps({"hookSpecificOutput": {"hookEventName": "PreToolUse",
        "permissionDecision": "ask", "permissionDecisionReason": "shared cache"}}))
""",
    )
    answer = script(  # answers for the person, except where the person is wanted
        hooks_dir,
        "answer.py",
        """
command = event["tool_input"]["command"]
decision = {"behavior": "allow"}
if "rewrite-me" in command:
    decision["updatedInput"] = {"command": "echo rewritten > r.txt"}
if "careful" not in command or "rewrite-me" in command:
    print(json.dumps({"hookSpecificOutput": {"hookEventName": "PermissionRequest",
        "decision": decision}}))
""",
    )
    pid_file = tmp_path / "hook.pid"
    slow = script(
        hooks_dir,
        "slow.py",
        f"""
import time
if "slowly" in event["prompt"]:
    open({str(pid_file)!r}, "w").write(str(os.getpid()))
    time.sleep(300)
""",
    )
    seen = tmp_path / "seen.jsonl"
    record = script(
        hooks_dir, "record.py", f"open({str(seen)!r}, 'a').write(json.dumps(event) + '\\n')\n"
    )
    user_hooks(
        {
            "PreToolUse": [hook(guard, "Bash")],
            "PermissionRequest": [hook(answer, "Bash")],
            "UserPromptSubmit": [hook(slow)],
            "Notification": [hook(record)],
            "SessionEnd": [hook(record)],
        }
    )
    config = Path(os.environ["XDG_CONFIG_HOME"]) / "ml-intern" / "cli_agent_config.json"
    settings = json.loads(config.read_text())
    config.write_text(json.dumps({**settings, "notifications": {"idle_seconds": 1}}))
    fake_llm.script(
        llm.tool_call("bash", {"command": "curl https://example.com"}),
        llm.tool_call("bash", {"command": "echo approved-by-hook > hooked.txt"}),
        llm.text("Not fetching."),
        llm.tool_call("bash", {"command": "echo asked > a.txt # careful"}),
        llm.tool_call("bash", {"command": "echo original > r.txt # careful rewrite-me"}),
        llm.text("Both done."),
    )
    work = tmp_path / "work"
    term = terminal("--approval-mode", "auto")
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
    assert (work / "hooked.txt").read_text() == "approved-by-hook\n"
    assert "Approve bash?" not in term.text

    term.enter("go slowly")
    pid = int(wait_for_file(pid_file))
    term.type("\x03")
    term.expect("Interrupted")
    assert not alive(pid)

    term.enter("write the files")
    term.expect("Approve bash?")  # with approvals automatic all the same: the hook asks
    term.expect("a PreToolUse hook asks first: shared cache")
    term.type("y")
    term.expect("Both done.")
    term.expect("›")
    assert (work / "a.txt").read_text() == "asked\n"
    assert (work / "r.txt").read_text() == "rewritten\n"  # the hook answered, with its input
    assert term.text.count("Approve bash?") == 1
    wait_for_file(seen, lambda text: "idle_prompt" in text)

    term.enter("/new")
    term.expect("Started a fresh conversation")
    term.expect("›")
    term.type("\x04")  # Ctrl-D on an empty line
    assert term.exit_code() == 0

    events = [json.loads(line) for line in seen.read_text().splitlines()]
    notes = {e["notification_type"]: e for e in events if e["hook_event_name"] == "Notification"}
    assert set(notes) == {"permission_prompt", "idle_prompt"}
    asked = notes["permission_prompt"]
    assert asked["message"].startswith("ml-intern needs your permission to use Bash")
    assert asked["permission_mode"] == "bypassPermissions"
    assert notes["idle_prompt"]["message"] == "ml-intern is waiting for your input"
    ends = [e["reason"] for e in events if e["hook_event_name"] == "SessionEnd"]
    assert ends == ["clear", "prompt_input_exit"]
