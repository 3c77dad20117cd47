"""Lifecycle hooks in Claude Code's schema, through the real CLI, with hook scripts written
here: blocking and rewriting tool calls, Stop sending the agent back, context added to a
request, resume, jobs, plugins, trust, --safe-mode, and hooks that hang or misbehave."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.fakes import llm_server as llm
from tests.fakes.hub_jobs import JobsHub
from tests.integration.test_compaction import BIG, SUMMARY


def script(folder: Path, name: str, body: str) -> str:
    """A python hook script; returns the command that runs it."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("import json, os, sys\nevent = json.load(sys.stdin)\n" + body)
    return f"{sys.executable} {path}"


def hook(command: str, matcher: str = "", timeout: float | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {"type": "command", "command": command}
    if timeout is not None:
        entry["timeout"] = timeout
    return {"matcher": matcher, "hooks": [entry]}


def user_hooks(hooks: dict[str, list[dict[str, Any]]]) -> None:
    """The hooks block in the user's config file (beside what the test setup put there)."""
    path = Path(os.environ["XDG_CONFIG_HOME"]) / "ml-intern" / "cli_agent_config.json"
    config = json.loads(path.read_text())
    config["hooks"] = hooks
    path.write_text(json.dumps(config))


def hook_events(result) -> list[dict[str, Any]]:
    return [line for line in result.lines() if line.get("type") == "hook"]


def user_messages(request: dict[str, Any]) -> list[str]:
    return [m["content"] for m in request["messages"] if m["role"] == "user"]


def tool_results(request: dict[str, Any]) -> list[str]:
    return [m["content"] for m in request["messages"] if m["role"] == "tool"]


def test_pre_tool_use_blocks_denies_and_rewrites_bash_calls(cli, fake_llm, tmp_path):
    guard = script(
        tmp_path / "hooks",
        "guard.py",
        """
command = event["tool_input"]["command"]
assert event["tool_name"] == "Bash" and event["hook_event_name"] == "PreToolUse"
if "rm -rf" in command:
    print("rm -rf is not allowed here", file=sys.stderr)
    sys.exit(2)
if "deny-me" in command:
    print(json.dumps({"hookSpecificOutput": {"hookEventName": "PreToolUse",
        "permissionDecision": "deny", "permissionDecisionReason": "no deny-me today"}}))
elif "original" in command:
    print(json.dumps({"hookSpecificOutput": {"hookEventName": "PreToolUse",
        "permissionDecision": "allow", "updatedInput": {"command": "echo updated > out.txt"}}}))
elif "ask-me" in command:
    print(json.dumps({"hookSpecificOutput": {"hookEventName": "PreToolUse",
        "permissionDecision": "ask", "permissionDecisionReason": "it writes to the shared disk"}}))
""",
    )
    seen = tmp_path / "seen.jsonl"
    record = script(
        tmp_path / "hooks",
        "record.py",
        f"""
with open({str(seen)!r}, "a") as f:
    f.write(json.dumps(event) + "\\n")
""",
    )
    user_hooks(
        {
            "PreToolUse": [hook(guard, "Bash|Edit")],
            "PostToolUse": [hook(record, "bash")],  # our name matches too
            "PostToolUseFailure": [hook(record, "Write")],  # matches nothing here
        }
    )
    fake_llm.script(
        llm.tool_call("bash", {"command": "rm -rf build && touch ran1"}),
        llm.tool_call("bash", {"command": "touch ran2 # deny-me"}),
        llm.tool_call("bash", {"command": "echo original > out.txt"}),
        llm.tool_call("bash", {"command": "touch ran3 # ask-me"}),
        llm.text("done"),
    )

    result = cli("--yolo", "-o", "stream-json", "clean up")

    assert result.exit_code == 0, result.stderr
    work = Path.cwd()
    assert not (work / "ran1").exists()
    assert not (work / "ran2").exists()
    assert not (work / "ran3").exists()  # asked, and nobody is here to answer
    assert (work / "out.txt").read_text() == "updated\n"
    blocked, denied, _, asked = (tool_results(fake_llm.requests[i])[-1] for i in (1, 2, 3, 4))
    assert "rm -rf is not allowed here" in blocked
    assert "no deny-me today" in denied
    assert asked.startswith("Not run: this call needs approval")
    assert "a PreToolUse hook asks first: it writes to the shared disk" in asked
    assert "nobody is here to answer" in asked
    runs = hook_events(result)
    assert [(r["event"], r["exit_code"], r["decision"]) for r in runs] == [
        ("PreToolUse", 2, "deny"),
        ("PreToolUse", 0, "deny"),
        ("PreToolUse", 0, "allow"),
        ("PostToolUse", 0, ""),
        ("PreToolUse", 0, "ask"),
    ]
    assert all(r["command"] and r["duration_ms"] >= 0 for r in runs)
    (after,) = [json.loads(line) for line in seen.read_text().splitlines()]
    assert after["tool_name"] == "Bash"
    assert after["tool_input"]["command"] == "echo updated > out.txt"
    assert after["cwd"] == str(work)
    assert after["session_id"] == result.result()["session_id"]


def test_stop_reads_the_transcript_and_blocks_once_then_resume_starts_with_context(
    cli, fake_llm, tmp_path
):
    hooks_dir = tmp_path / "hooks"
    once = tmp_path / "stop-blocked"
    stop = script(
        hooks_dir,
        "stop.py",
        f"""
lines = [json.loads(l) for l in open(event["transcript_path"]) if l.strip()]
said = [l for l in lines if l["type"] == "assistant"]
if os.path.exists({str(once)!r}) or event["stop_hook_active"]:
    sys.exit(0)
open({str(once)!r}, "w").close()
print(json.dumps({{"decision": "block",
    "reason": f"run the tests first ({{len(said)}} assistant lines so far)"}}))
""",
    )
    context = script(
        hooks_dir,
        "context.py",
        """
print(json.dumps({"hookSpecificOutput": {"hookEventName": "UserPromptSubmit",
    "additionalContext": "CTX-42 for " + event["prompt"]}}))
""",
    )
    starts = tmp_path / "starts"
    start = script(
        hooks_dir,
        "start.py",
        f"""
open({str(starts)!r}, "a").write(event["source"] + "\\n")
if event["source"] == "resume":
    print("RESUMED-CONTEXT")
""",
    )
    user_hooks(
        {
            "Stop": [hook(stop)],
            "UserPromptSubmit": [hook(context)],
            "SessionStart": [hook(start, "startup|resume")],
        }
    )
    fake_llm.script(llm.text("first"), llm.text("second"), llm.text("welcome back"))

    first = cli("-o", "json", "hello")
    again = cli("-c", "-o", "json", "go on")

    assert first.exit_code == 0, first.stderr
    assert json.loads(first.stdout)["final_text"] == "second"
    assert user_messages(fake_llm.requests[0])[-1].startswith("hello")
    assert "CTX-42 for hello" in user_messages(fake_llm.requests[0])[-1]
    feedback = user_messages(fake_llm.requests[1])[-1]
    assert feedback == "Stop hook feedback:\nrun the tests first (1 assistant lines so far)"
    assert again.exit_code == 0, again.stderr
    resumed = user_messages(fake_llm.requests[2])[-1]
    assert "RESUMED-CONTEXT" in resumed
    assert "CTX-42 for go on" in resumed
    assert starts.read_text().split() == ["startup", "resume"]


LAUNCH = {
    "operation": "run",
    "command": ["python", "train.py"],
    "flavor": "a10g-large",
    "timeout": "2h",
    "image": "python:3.12",
}


def test_job_hooks_hear_of_a_job_submitted_and_finished(cli, fake_llm, tmp_path, monkeypatch):
    seen = tmp_path / "jobs.jsonl"
    record = script(
        tmp_path / "hooks",
        "jobs.py",
        f"""
with open({str(seen)!r}, "a") as f:
    f.write(json.dumps(event) + "\\n")
""",
    )
    user_hooks({"JobSubmitted": [hook(record, "hf_jobs")], "JobFinished": [hook(record)]})
    with JobsHub() as hub:
        hub_url = hub.url
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        monkeypatch.setenv("HF_TOKEN", "hf_test")
        monkeypatch.setenv("ML_INTERN_SHARE_TRACES", "false")
        fake_llm.script(llm.tool_call("hf_jobs", {**LAUNCH, "wait": True}), llm.text("Trained."))
        result = cli("--yolo", "--max-budget-usd", "10", "-o", "json", "train")
    assert result.exit_code == 0, result.stderr
    submitted, finished = [json.loads(line) for line in seen.read_text().splitlines()]
    job_id = hub.only_job().id
    assert submitted["hook_event_name"] == "JobSubmitted"
    assert submitted["job_id"] == job_id
    assert submitted["backend"] == "hf_jobs"
    assert submitted["hardware"] == "a10g-large"
    assert submitted["cost_estimate_usd"] == pytest.approx(3.6, abs=0.5)
    assert submitted["links"] == [f"{hub_url}/jobs/testuser/{job_id}"]
    assert finished["hook_event_name"] == "JobFinished"
    assert (finished["job_id"], finished["status"]) == (job_id, "COMPLETED")
    assert finished["hardware"] == "a10g-large"
    assert finished["cost_usd"] > 0


def test_job_finished_is_heard_for_a_job_watched_in_the_background(
    cli, fake_llm, tmp_path, monkeypatch
):
    seen = tmp_path / "jobs.jsonl"
    record = script(
        tmp_path / "hooks",
        "jobs.py",
        f"""
with open({str(seen)!r}, "a") as f:
    f.write(json.dumps(event) + "\\n")
""",
    )
    user_hooks({"JobFinished": [hook(record)]})
    with JobsHub() as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        monkeypatch.setenv("HF_TOKEN", "hf_test")
        monkeypatch.setenv("ML_INTERN_SHARE_TRACES", "false")
        fake_llm.script(
            llm.tool_call("hf_jobs", LAUNCH),  # not waited for: a watched run
            llm.text("It runs; I will look when it ends."),
            llm.text("Trained."),  # woken by its end
        )
        result = cli("--yolo", "--max-budget-usd", "10", "-o", "json", "train")
    assert result.exit_code == 0, result.stderr
    (finished,) = [json.loads(line) for line in seen.read_text().splitlines()]
    assert (finished["job_id"], finished["status"]) == (hub.only_job().id, "COMPLETED")
    assert finished["hardware"] == "a10g-large"


def test_plugin_hooks_run_an_untrusted_projects_never_and_safe_mode_runs_none(
    cli, fake_llm, repo, tmp_path
):
    plugin = Path(os.environ["XDG_CONFIG_HOME"]) / "ml-intern" / "plugins" / "formatter"
    seen = tmp_path / "plugin.log"
    script(
        plugin / "scripts",
        "after_write.py",
        f"""
with open({str(seen)!r}, "a") as f:
    f.write(os.environ["CLAUDE_PLUGIN_ROOT"] + " " + event["tool_input"]["file_path"] + "\\n")
""",
    )
    (plugin / ".claude-plugin").mkdir()
    (plugin / ".claude-plugin" / "plugin.json").write_text(json.dumps({"name": "formatter"}))
    (plugin / "hooks").mkdir()
    command = f"{sys.executable} ${{CLAUDE_PLUGIN_ROOT}}/scripts/after_write.py"
    (plugin / "hooks" / "hooks.json").write_text(
        json.dumps({"description": "format", "hooks": {"PostToolUse": [hook(command, "Write")]}})
    )
    planted, claude_planted = tmp_path / "planted", tmp_path / "claude-planted"
    (repo / "configs").mkdir()
    (repo / "configs" / "cli_agent_config.json").write_text(
        json.dumps({"hooks": {"UserPromptSubmit": [hook(f"touch {planted}")]}})
    )
    (repo / ".claude").mkdir()
    claude_settings = {  # Claude Code's project settings: only the hooks count
        "model": "claude-opus-4",
        "env": {"ML_INTERN_MAX_ITERATIONS": "1"},
        "hooks": {"UserPromptSubmit": [hook(f"touch {claude_planted}")]},
    }
    (repo / ".claude" / "settings.json").write_text(json.dumps(claude_settings))
    local = {"hooks": {"Stop": [hook(f"echo local >> {claude_planted}")]}}
    (repo / ".claude" / "settings.local.json").write_text(json.dumps(local))
    write = llm.tool_call("write", {"path": "notes.txt", "content": "hi"})
    fake_llm.script(write, llm.text("written"), write, llm.text("written again"))

    first = cli("--yolo", "write notes")
    safe = cli("--yolo", "--safe-mode", "write notes")

    assert first.exit_code == 0, first.stderr
    assert safe.exit_code == 0, safe.stderr
    target = Path.cwd() / "notes.txt"
    assert seen.read_text().splitlines() == [f"{plugin.resolve()} {target}"]
    assert not planted.exists()
    assert not claude_planted.exists()
    assert "this folder is not trusted: its hooks were not run" in first.stderr
    assert f"UserPromptSubmit: touch {planted}" in first.stderr
    assert f"UserPromptSubmit: touch {claude_planted}" in first.stderr
    assert f"Stop: echo local >> {claude_planted}" in first.stderr
    assert ".claude/settings.json" in first.stderr  # the trust notice counts the file
    assert f"ml-intern trust {repo}" in first.stderr

    from agent.trust import add_trusted

    add_trusted(repo)
    fake_llm.script(llm.text("trusted now"))
    trusted = cli("-o", "stream-json", "hello")

    assert trusted.exit_code == 0, trusted.stderr
    assert claude_planted.read_text() == "local\n"
    sources = {r["command"]: r["source"] for r in hook_events(trusted)}
    settings_file = repo / ".claude" / "settings.json"
    assert sources[f"touch {claude_planted}"] == f"{settings_file} (Claude Code project settings)"
    assert fake_llm.requests[-1]["model"] == "test-model"  # not the file's "model"


def test_hooks_that_hang_flood_leak_or_print_nonsense_never_hold_up_the_turn(
    cli, fake_llm, tmp_path, monkeypatch
):
    pids = tmp_path / "pids"
    hang = script(
        tmp_path / "hooks",
        "hang.py",
        f"""
import subprocess, time
child = subprocess.Popen(["sleep", "300"])
open({str(pids)!r}, "w").write(f"{{os.getpid()}} {{child.pid}}")
time.sleep(300)
""",
    )
    flood = script(
        tmp_path / "hooks",
        "flood.py",
        "chunk = b'x' * 65536\nfor _ in range(320):\n    sys.stdout.buffer.write(chunk)\n",
    )
    nonsense = script(tmp_path / "hooks", "nonsense.py", "print('{not json')\n")
    leak = script(
        tmp_path / "hooks",
        "leak.py",
        "print(json.dumps({'hookSpecificOutput': {'additionalContext': 'use ' + 'hf_' + 'aBcDeFgHiJkLmNoPqRsTuVwXyZ01234567'}}))\n",
    )
    user_hooks({"UserPromptSubmit": [hook(hang, timeout=1), hook(flood), hook(nonsense)]})
    explicit = tmp_path / "explicit.json"  # a second source naming the same command
    explicit.write_text(
        json.dumps({"hooks": {"UserPromptSubmit": [hook(nonsense, "*"), hook(leak)]}})
    )
    monkeypatch.setenv("ML_INTERN_CLI_CONFIG", str(explicit))
    fake_llm.script(llm.text("still here"))

    result = cli("-o", "stream-json", "hi")

    assert result.exit_code == 0, result.stderr
    assert result.result()["final_text"] == "still here"
    names = [Path(r["command"].split()[-1]).name for r in hook_events(result)]
    assert sorted(names) == ["flood.py", "hang.py", "leak.py", "nonsense.py"]  # each once
    runs = {Path(r["command"].split()[-1]).name: r for r in hook_events(result)}
    assert runs["hang.py"]["decision"] == "error"
    assert runs["hang.py"]["exit_code"] is None
    assert "did not finish within 1 s" in runs["hang.py"]["reason"]
    assert (runs["flood.py"]["exit_code"], runs["flood.py"]["decision"]) == (0, "")
    assert runs["nonsense.py"]["decision"] == "error"
    assert "invalid JSON" in runs["nonsense.py"]["reason"]
    for pid in map(int, pids.read_text().split()):
        assert not alive(pid)
    request = user_messages(fake_llm.requests[0])[-1]  # a hook's plain output is context
    assert request.startswith("hi\n\n<hook-context>\nxxxx")
    assert "use [REDACTED:hf_token]" in request
    assert "aBcDeFgHiJkLmNoPqRsTuVwXyZ01234567" not in request
    assert len(request) < 10_300


def alive(pid: int) -> bool:
    """Running (a zombie waiting for its parent to read its status counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_compaction_and_session_hooks_see_their_moments(cli, fake_llm, tmp_path, monkeypatch):
    monkeypatch.setenv("ML_INTERN_COMPACTION_THRESHOLD_TOKENS", "6500")
    seen = tmp_path / "moments.jsonl"
    record = script(
        tmp_path / "hooks",
        "moments.py",
        f"""
with open({str(seen)!r}, "a") as f:
    f.write(json.dumps(event) + "\\n")
if event["hook_event_name"] == "SessionStart" and event["source"] == "compact":
    print("AFTER-COMPACT: keep printing x")
""",
    )
    user_hooks(
        {
            "PreCompact": [hook(record, "auto")],
            "PostCompact": [hook(record)],
            "SessionStart": [hook(record, "compact")],
            "SessionEnd": [hook(record)],
        }
    )
    fake_llm.script(
        llm.tool_call("bash", {"command": BIG}),
        llm.tool_call("bash", {"command": BIG}),
        llm.text(SUMMARY),
        llm.text("Printed them all."),
    )

    result = cli("--yolo", "-o", "json", "print lots of x")

    assert result.exit_code == 0, result.stderr
    moments = [json.loads(line) for line in seen.read_text().splitlines()]
    assert [
        (m["hook_event_name"], m.get("trigger") or m.get("source") or m.get("reason"))
        for m in moments
    ] == [
        ("PreCompact", "auto"),
        ("PostCompact", "auto"),
        ("SessionStart", "compact"),
        ("SessionEnd", "other"),
    ]
    assert "print many x" in moments[1]["compact_summary"]
    assert "AFTER-COMPACT: keep printing x" in user_messages(fake_llm.requests[3])[-1]


def test_a_request_can_be_refused_and_a_hook_can_stop_the_agent(cli, fake_llm, tmp_path):
    gate = script(
        tmp_path / "hooks",
        "gate.py",
        """
if "password" in event["prompt"]:
    print("no passwords in requests", file=sys.stderr)
    sys.exit(2)
""",
    )
    enough = script(
        tmp_path / "hooks",
        "enough.py",
        'print(json.dumps({"continue": False, "stopReason": "enough for today"}))\n',
    )
    user_hooks({"UserPromptSubmit": [hook(gate)], "PostToolUse": [hook(enough)]})

    refused = cli("-o", "json", "my password is hunter2")

    assert refused.exit_code == 1
    assert json.loads(refused.stdout)["exit_reason"] == "prompt_blocked"
    assert "no passwords in requests" in refused.stderr
    assert fake_llm.requests == []

    fake_llm.script(llm.tool_call("bash", {"command": "echo one"}))  # never asked again
    stopped = cli("--yolo", "-o", "json", "count")

    assert stopped.exit_code == 0, stopped.stderr
    assert json.loads(stopped.stdout)["exit_reason"] == "stopped_by_hook"
    assert "enough for today" in stopped.stderr
    assert len(fake_llm.requests) == 1


def test_stop_hooks_send_the_agent_back_three_times_at_most(cli, fake_llm, tmp_path):
    seen = tmp_path / "active"
    nag = script(
        tmp_path / "hooks",
        "nag.py",
        f"""
open({str(seen)!r}, "a").write(str(event["stop_hook_active"]) + "\\n")
print(json.dumps({{"decision": "block", "reason": "not yet"}}))
""",
    )
    user_hooks({"Stop": [hook(nag)]})
    fake_llm.script(*(llm.text(f"answer {i}") for i in range(4)))

    result = cli("-o", "json", "finish")

    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["final_text"] == "answer 3"
    assert seen.read_text().split() == ["False", "True", "True", "True"]
    assert "blocked the end of this turn 3 times in a row: ending it anyway" in result.stderr


def test_a_failed_call_has_its_hook_and_subagent_stop_sends_the_sub_agent_back(
    cli, fake_llm, tmp_path
):
    seen = tmp_path / "seen.jsonl"
    record = script(
        tmp_path / "hooks",
        "record.py",
        f"""
with open({str(seen)!r}, "a") as f:
    f.write(json.dumps(event) + "\\n")
if event["hook_event_name"] == "SubagentStop" and not event["stop_hook_active"]:
    print(json.dumps({{"decision": "block", "reason": "cite the file you read"}}))
""",
    )
    user_hooks({"PostToolUseFailure": [hook(record, "Read")], "SubagentStop": [hook(record)]})
    fake_llm.script(
        llm.tool_call("read", {"path": "missing.txt"}),
        llm.tool_call("research", {"task": "Which column holds the labels?"}),
        llm.text("**Answer**: `sentiment`."),  # the sub-agent's report
        llm.text("**Answer**: `sentiment` (from data/train.csv)."),  # sent back once
        llm.text("The labels are in `sentiment`."),
    )

    result = cli("-o", "json", "find the labels")

    assert result.exit_code == 0, result.stderr
    failed, ended, again = [json.loads(line) for line in seen.read_text().splitlines()]
    assert (failed["hook_event_name"], failed["tool_name"]) == ("PostToolUseFailure", "Read")
    assert failed["tool_input"]["file_path"] == str(Path.cwd() / "missing.txt")
    assert "missing.txt" in failed["error"]
    assert (ended["hook_event_name"], ended["agent_type"]) == ("SubagentStop", "research")
    assert ended["session_id"] == result.result()["session_id"]
    assert (ended["stop_hook_active"], again["stop_hook_active"]) == (False, True)
    assert ended["last_assistant_message"] == "**Answer**: `sentiment`."
    told = user_messages(fake_llm.requests[3])[-1]
    assert told == "SubagentStop hook feedback:\ncite the file you read"
    report = tool_results(fake_llm.requests[4])[-1]
    assert report == "**Answer**: `sentiment` (from data/train.csv)."
