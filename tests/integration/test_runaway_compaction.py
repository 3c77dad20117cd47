"""Continuing a very long session: its history is summarised in one bounded call, and
the summary's calls count against --max-iterations and --max-budget-usd like any other."""

from __future__ import annotations

import json
import time

from agent.context.store import find_session_file, sessions_dir
from tests.fakes import llm_server as llm

TURNS = 2000
SUMMARY = (
    "## Goal\ntrain the classifier\n## Decisions\nkeep lr 3e-4\n## Files\ntrain.py\n"
    "## Commands and outcomes\nmany evaluation runs, accuracy about 0.91\n"
    "## Open problems\nnone\n## Next steps\nanother run"
)


def long_session(cli, fake_llm) -> str:
    """A saved session of TURNS turns that was never compacted; its id."""
    fake_llm.script(llm.text("Started."))
    first = cli("-o", "json", "train the classifier")
    assert first.exit_code == 0, first.stderr
    sid = first.result()["session_id"]
    output = "epoch loss accuracy " * 60  # about 1,200 characters a result
    records = []
    for i in range(TURNS):
        call = {
            "id": f"call_{i}",
            "type": "function",
            "function": {"name": "bash", "arguments": json.dumps({"command": f"eval {i}"})},
        }
        records += [
            {"role": "user", "content": f"request {i}: evaluate again"},
            {"role": "assistant", "content": "", "tool_calls": [call]},
            {"role": "tool", "tool_call_id": f"call_{i}", "name": "bash", "content": output},
            {"role": "assistant", "content": f"Run {i} finished."},
        ]
    now = time.time()
    lines = (
        json.dumps({"kind": "message", "role": m["role"], "message": m, "ts": now}) for m in records
    )
    with find_session_file(sid, sessions_dir()).open("a") as log:
        log.write("\n".join(lines) + "\n")
    return sid


def test_continuing_a_huge_session_makes_one_summary_call_within_the_iterations(
    cli, fake_llm, monkeypatch
):
    monkeypatch.setenv("ML_INTERN_COMPACTION_THRESHOLD_TOKENS", "20000")
    long_session(cli, fake_llm)
    fake_llm.requests.clear()
    echo = {"command": "echo more"}
    fake_llm.script(
        llm.text(SUMMARY, usage=(9_000, 200)),
        llm.tool_call("bash", echo, usage=(5_000, 20)),
        llm.tool_call("bash", echo, usage=(5_100, 20)),
    )
    result = cli("-o", "json", "--continue", "-n", "3", "one more run")
    assert result.exit_code == 4, result.stderr
    outcome = result.result()
    assert outcome["exit_reason"] == "max_iterations"
    assert len(fake_llm.requests) == 3  # the summary counted as one of the three
    summary_request = fake_llm.requests[0]["messages"]
    assert "## Goal" in summary_request[0]["content"]
    assert len(summary_request[1]["content"]) < 20_000 * 4  # a bounded selection
    assert "request 0: evaluate again" in summary_request[1]["content"]
    assert "messages (about" in summary_request[1]["content"]  # says what it left out
    after = fake_llm.requests[1]["messages"]
    assert SUMMARY in after[1]["content"]
    assert after[-1]["content"] == "one more run"
    assert "request 1999: evaluate again" in json.dumps(after)  # the recent turns stay
    assert len(json.dumps(after)) < 20_000 * 4  # the history now fits under the threshold
    assert outcome["usage"]["input_tokens"] == 9_000 + 5_000 + 5_100
    assert outcome["usage"]["output_tokens"] == 200 + 20 + 20
    fake_llm.assert_done()


def test_the_summary_is_not_asked_again_past_the_budget(cli, fake_llm, monkeypatch):
    monkeypatch.setenv("ML_INTERN_COMPACTION_THRESHOLD_TOKENS", "20000")
    long_session(cli, fake_llm)
    fake_llm.requests.clear()
    fake_llm.script(llm.text("", usage=(120_000, 0)))  # an unusable summary costing $0.30
    result = cli(
        "-o",
        "json",
        "--continue",
        "--model",
        "openai/gpt-4o",
        "--max-budget-usd",
        "0.31",
        "one more run",
    )
    assert result.exit_code == 5, result.stdout
    outcome = result.result()
    assert outcome["exit_reason"] == "budget_exceeded"
    assert len(fake_llm.requests) == 1  # not asked again once the budget could not cover it
    assert outcome["total_cost_usd"] >= 0.30  # the summary's spend is counted
    fake_llm.assert_done()
