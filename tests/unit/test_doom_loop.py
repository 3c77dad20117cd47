"""The repetition guard flags real loops and leaves polling alone."""

from __future__ import annotations

import itertools

from agent.core.doom_loop import RepetitionGuard, detect_repetition, signatures

_ids = itertools.count()


def exchange(name: str, arguments: str, result: str) -> list[dict]:
    call_id = f"c{next(_ids)}"
    call = {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}
    return [
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": call_id, "content": result},
    ]


def history(*calls: tuple[str, str, str]) -> list[dict]:
    return [m for call in calls for m in exchange(*call)]


def test_three_identical_calls_with_identical_results():
    msgs = history(*[("bash", '{"command": "ls"}', "a b")] * 3)
    assert detect_repetition(signatures(msgs)) == (
        "Repeated the same `bash` call 3 times with the same result"
    )


def test_key_order_and_spacing_do_not_matter():
    msgs = history(
        ("edit", '{"path": "a", "old_str": "x"}', "ok"),
        ("edit", '{"old_str":"x","path":"a"}', "ok"),
        ("edit", '{ "path" : "a" , "old_str" : "x" }', "ok"),
    )
    assert detect_repetition(signatures(msgs)) is not None


def test_polling_with_changing_results_is_not_a_loop():
    msgs = history(*[("bash", '{"command": "tail log"}', f"step {i}") for i in range(6)])
    assert detect_repetition(signatures(msgs)) is None


def test_two_calls_is_not_yet_a_loop():
    msgs = history(*[("bash", '{"command": "ls"}', "a")] * 2)
    assert detect_repetition(signatures(msgs)) is None


def test_cycle_of_three_repeated_twice():
    cycle = [("read", '{"path": "a"}', "A"), ("edit", '{"path": "a"}', "E"), ("bash", "{}", "F")]
    msgs = history(*cycle, *cycle)
    description = detect_repetition(signatures(msgs))
    assert description is not None and "cycle of 3 calls" in description


def test_cycle_with_changing_results_is_not_flagged():
    msgs = history(
        ("bash", '{"command": "train"}', "loss 3"),
        ("read", '{"path": "log"}', "epoch 1"),
        ("bash", '{"command": "train"}', "loss 2"),
        ("read", '{"path": "log"}', "epoch 2"),
    )
    assert detect_repetition(signatures(msgs)) is None


def test_only_the_last_30_messages_count():
    msgs = history(*[("bash", '{"command": "ls"}', "a")] * 3)
    msgs += history(*[("bash", f'{{"command": "echo {i}"}}', str(i)) for i in range(15)])
    assert detect_repetition(signatures(msgs)) is None


def test_guard_warns_then_stops_after_extra_detections():
    guard = RepetitionGuard(extra_detections_allowed=2)
    msgs = history(*[("bash", '{"command": "ls"}', "a")] * 3)
    assert guard.check(msgs)[0] == "warn"
    assert guard.check(msgs)[0] == "warn"
    assert guard.check(msgs)[0] == "stop"
