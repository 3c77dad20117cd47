"""Arguments nested far deeper than any tool takes: an error result the model reads.

A model can send `[[[[...]]]]` a hundred thousand levels deep; reading it must not
overflow the stack anywhere (parsing, checking, logging, the session log, resuming,
exporting). The call is answered with an error and the run goes on.
"""

from __future__ import annotations

import json

import pytest

from tests.fakes import llm_server as llm

DEPTH = 100_000


def nested(depth: int) -> str:
    return '{"path": "a.txt", "content": ' + "[" * depth + "]" * depth + "}"


@pytest.mark.parametrize("depth", [DEPTH, 900, 150], ids=["100k", "900", "150"])
def test_deeply_nested_arguments_are_an_error_the_model_reads(cli, fake_llm, tmp_path, depth):
    fake_llm.script(
        llm.tool_call("write", nested(depth)),
        llm.tool_call("write", {"path": "a.txt", "content": "flat\n"}),
        llm.text("Wrote it flat."),
    )
    first = cli("-o", "json", "write a.txt")
    assert first.exit_code == 0, first.stderr
    assert "Traceback" not in first.stderr
    answer = fake_llm.requests[1]["messages"][-1]
    assert answer["role"] == "tool"
    assert "Invalid arguments for write" in answer["content"]
    assert "nested too deeply" in answer["content"]
    assert open("a.txt").read() == "flat\n"
    assert first.result()["final_text"] == "Wrote it flat."

    sid = first.result()["session_id"]
    fake_llm.script(llm.text("Still here."))
    again = cli("-o", "json", "--resume", sid, "and now?")
    assert again.exit_code == 0, again.stderr
    assert again.result()["final_text"] == "Still here."
    out = tmp_path / "export.jsonl"
    exported = cli("sessions", "export", sid, "-o", str(out))
    assert exported.exit_code == 0, exported.stderr
    assert all(json.loads(line) for line in out.read_text().splitlines())


def test_deep_arguments_in_a_whole_answer_cost_no_retry(cli, fake_llm, stream_flags):
    """A whole (not streamed) answer is read by the model library before we see it:
    its reading must not overflow either, nor pass for a provider failure to retry."""
    fake_llm.script(
        llm.tool_call("write", nested(DEPTH)),
        llm.text("Sorry, flatter next time."),
    )
    result = cli("-o", "json", *stream_flags, "write a.txt")
    assert result.exit_code == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "retry" not in result.stderr.lower()
    assert len(fake_llm.requests) == 2
    answer = fake_llm.requests[1]["messages"][-1]
    assert answer["role"] == "tool"
    assert "nested too deeply" in answer["content"]
    assert result.result()["final_text"] == "Sorry, flatter next time."


def test_brackets_inside_strings_are_not_nesting(cli, fake_llm):
    content = '"[' * 300 + "\\" + "{" * 300
    fake_llm.script(
        llm.tool_call("write", {"path": "b.txt", "content": content}),
        llm.text("Wrote the brackets."),
    )
    result = cli("-o", "json", "write b.txt")
    assert result.exit_code == 0, result.stderr
    assert open("b.txt").read() == content
