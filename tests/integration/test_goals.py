"""Goals through the real CLI (`--goal`): the work goes on turn after turn until the model
shows the condition holds with evidence a tool printed, or a limit ends it."""

from __future__ import annotations

import threading

from tests.fakes import llm_server as llm

GOAL = "eval accuracy above 0.9"
SUMMARY = (
    "## Goal\nlower the loss\n## Decisions\ntrain longer\n## Files\nnone\n"
    "## Commands and outcomes\ntwo runs printing loss=1.7\n## Open problems\nnone\n"
    "## Next steps\ntrain for longer"
)


def last_message(body: dict) -> dict:
    return body["messages"][-1]


def says(*parts: str):
    """An expectation: the request's last message holds every one of `parts`."""

    def check(body: dict) -> None:
        content = str(last_message(body).get("content"))
        for part in parts:
            assert part in content, (part, content)

    return check


def goal_events(result) -> list[dict]:
    return [e for e in result.lines() if e["type"] == "goal"]


def test_a_goal_goes_on_across_turns_and_ends_only_with_evidence_seen(cli, fake_llm):
    fake_llm.script(
        llm.text("I had a look at the training script."),
        llm.tool_call(
            "goal_done",
            {"evidence": ""},
            expect=says("Goal, turn 2 of 20", GOAL, "Left: 19 turns", "nothing new"),
        ),
        llm.tool_call(
            "goal_done",
            {"evidence": "eval accuracy is 0.95"},
            expect=says("Refused: the evidence is empty"),
        ),
        llm.tool_call(
            "bash",
            {"command": "echo eval_accuracy=0.93"},
            expect=says("none of this evidence appears"),
        ),
        llm.tool_call("goal_done", {"evidence": "eval_accuracy=0.93"}),
        llm.text("Done: eval accuracy is 0.93.", expect=says("Recorded: the goal is met")),
    )
    result = cli("-o", "stream-json", "--goal", GOAL, "train the model")
    assert result.exit_code == 0, result.stderr
    first = fake_llm.requests[0]["messages"][-1]["content"]
    assert first.startswith("train the model\n\n[ml-intern] Goal set: " + GOAL)
    assert "goal_done" in [t["function"]["name"] for t in fake_llm.requests[0]["tools"]]
    summary = result.result()
    assert summary["exit_reason"] == "goal_met"
    assert summary["num_turns"] == 2
    assert summary["final_text"] == "Done: eval accuracy is 0.93."
    assert summary["goal"] == {
        "condition": GOAL,
        "status": "met",
        "code": "goal_met",
        "reason": "the model showed the condition holds",
        "evidence": "eval_accuracy=0.93",
        "turns": 2,
    }
    events = goal_events(result)
    assert [e["status"] for e in events] == ["active", "active", "met"]
    assert [e["turns"] for e in events] == [0, 1, 2]


def test_a_goal_stops_at_its_turn_limit_with_exit_4(cli, fake_llm):
    fake_llm.script(
        llm.tool_call("bash", {"command": "echo try 1"}),
        llm.text("Not there yet."),
        llm.tool_call(
            "bash", {"command": "echo try 2"}, expect=says("turn 2 of 2", "Left: 1 turn.")
        ),
        llm.text("Still not there."),
    )
    result = cli("-o", "json", "--max-turns", "2", "--goal", "the tests pass")
    assert result.exit_code == 4, result.stderr
    summary = result.result()
    assert summary["exit_reason"] == "goal_max_turns"
    assert summary["goal"]["status"] == "limit"
    assert "after 2 turns (--max-turns 2)" in summary["error"]
    opening = fake_llm.requests[0]["messages"][-1]["content"]
    assert opening.startswith("Work toward this goal: the tests pass")


def test_a_goal_stops_when_the_budget_would_be_passed_with_exit_5(cli, fake_llm):
    fake_llm.script(llm.text("Working on it.", usage=(20_000, 100)))
    result = cli(
        *("-o", "stream-json", "--price-per-mtok", "3,15", "--max-budget-usd", "0.05"),
        *("--goal", "the loss is below 1.0"),
    )
    assert result.exit_code == 5, result.stderr
    summary = result.result()
    assert summary["exit_reason"] == "budget_exceeded"
    assert summary["goal"]["status"] == "limit"
    assert "over the budget of $0.05" in summary["goal"]["reason"]
    assert len(fake_llm.requests) == 1  # the continuation was never sent
    active = goal_events(result)[-2]
    assert active["status"] == "active" and active["budget_usd"] == 0.05
    assert active["spent_usd"] == 20_000 * 3 / 1e6 + 100 * 15 / 1e6


def test_a_goal_that_makes_no_progress_stops_with_a_reason(cli, fake_llm):
    fake_llm.script(
        llm.text("Thinking."),
        llm.text("Still thinking.", expect=says("Your last turn produced nothing new")),
        llm.text("Hmm.", expect=says("one more and the goal stops")),
    )
    result = cli("-o", "json", "--goal", "the tests pass")
    assert result.exit_code == 1, result.stderr
    summary = result.result()
    assert summary["exit_reason"] == "goal_no_progress"
    assert "3 turns in a row produced nothing new" in summary["error"]


def test_a_goal_survives_continue_and_compaction(cli, fake_llm, monkeypatch):
    fake_llm.script(llm.tool_call("bash", {"command": "echo loss=2.5"}), llm.text("Training."))
    first = cli("-o", "json", "--max-turns", "1", "--goal", "the loss is below 1.0")
    assert first.exit_code == 4, first.stderr

    monkeypatch.setenv("ML_INTERN_COMPACTION_THRESHOLD_TOKENS", "6500")
    before = len(fake_llm.requests)
    big = "python3 -c \"print('loss=1.7 ' * 2500)\""
    fake_llm.script(
        llm.tool_call("bash", {"command": big}),
        llm.tool_call("bash", {"command": big}),
        llm.text(SUMMARY),
        llm.tool_call("bash", {"command": "echo loss=0.8"}),
        llm.tool_call("goal_done", {"evidence": "loss=0.8"}),
        llm.text("The loss is 0.8 now."),
    )
    second = cli("-o", "json", "--continue", "train for longer")
    assert second.exit_code == 0, second.stderr
    assert "Goal carried on from the saved session: the loss is below 1.0" in second.stderr
    assert "## Goal" in fake_llm.requests[before + 2]["messages"][0]["content"]  # the summary
    after = fake_llm.requests[before + 3]["messages"]
    restated = "## Goal (set by the user, still to reach)\nthe loss is below 1.0"
    assert any(restated in str(m.get("content")) for m in after if m["role"] == "user")
    summary = second.result()
    assert summary["goal"]["status"] == "met"
    assert summary["goal"]["evidence"] == "loss=0.8"

    fake_llm.script(llm.text("You're welcome."))  # a goal met is not carried on again
    third = cli("-o", "json", "--continue", "thanks")
    assert third.exit_code == 0, third.stderr
    assert "Goal carried on" not in third.stderr
    assert third.result()["goal"] is None


def test_an_empty_goal_is_a_usage_error(cli):
    result = cli("--goal", "  ")
    assert result.exit_code == 2
    assert "--goal is empty" in result.stderr
    assert "Traceback" not in result.stderr


def test_no_model_call_is_made_for_a_goal_while_runs_are_pending(cli, fake_llm, monkeypatch):
    from agent.core import goal as goals

    waiting, released = threading.Event(), threading.Event()

    def pending_runs(session) -> bool:
        if goals.active_goal(session.tool_state) is not None and not released.is_set():
            waiting.set()
            return True
        return False

    def release() -> None:
        assert waiting.wait(30)
        released.set()

    def after_release(body: dict) -> None:
        assert released.is_set(), "the model was called while runs were pending"

    monkeypatch.setattr(goals, "pending_runs", pending_runs)
    monkeypatch.setattr(goals, "RECHECK_S", 0.05)
    fake_llm.script(
        llm.tool_call("bash", {"command": "echo started training"}),
        llm.text("Training started; waiting for it."),
        llm.tool_call("bash", {"command": "echo loss=0.4"}, expect=after_release),
        llm.tool_call("goal_done", {"evidence": "loss=0.4"}),
        llm.text("Loss is 0.4."),
    )
    releaser = threading.Thread(target=release)
    releaser.start()
    result = cli("-o", "json", "--goal", "the loss is below 0.5")
    releaser.join()
    assert result.exit_code == 0, result.stderr
    assert result.result()["goal"]["status"] == "met"


def test_a_goal_out_of_time_stops_with_exit_4_before_calling_the_model(cli, fake_llm):
    result = cli("-o", "json", "--max-minutes", "1e-9", "--goal", "the tests pass")
    assert result.exit_code == 4, result.stderr
    summary = result.result()
    assert summary["exit_reason"] == "goal_time_limit"
    assert summary["goal"]["status"] == "limit"
    assert "--max-minutes" in summary["error"]
    assert not fake_llm.requests


def test_goal_limits_that_are_not_positive_are_usage_errors(cli):
    for flags in (("--max-turns", "0"), ("--max-minutes", "-1")):
        result = cli(*flags, "--goal", "the tests pass")
        assert result.exit_code == 2, flags
        assert flags[0] in result.stderr
        assert "Traceback" not in result.stderr
