"""Arguments the model keeps breaking: after two in a row, one plain instruction.

A `write` whose content is too long for the model's output limit arrives cut off, as
JSON that does not parse; repeating it fails the same way. The model gets the error
results and, after the second, one instruction saying what the tool needs and how to
send less at a time.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fakes import llm_server as llm

CUT_OFF = '{"path": "train.py", "content": "import torch\\n' + "x = 1\\n" * 200


def user_notes(request: dict) -> list[str]:
    return [
        m["content"]
        for m in request["messages"]
        if m["role"] == "user" and m["content"].startswith("[ml-intern]")
    ]


@pytest.mark.parametrize(
    ("first", "second", "problem"),
    [
        (CUT_OFF, CUT_OFF + "y = 2\\n", "not valid JSON"),
        ({"path": "train.py"}, {"path": "train.py "}, "content: Field required"),
    ],
    ids=["cut-off-json", "missing-field"],
)
def test_a_second_broken_call_to_the_same_tool_gets_one_instruction(
    cli, fake_llm, first, second, problem
):
    fake_llm.script(
        llm.tool_call("write", first),
        llm.tool_call("write", second),
        llm.tool_call("write", {"path": "train.py", "content": "import torch\n"}),
        llm.text("Written in parts."),
    )
    result = cli("write the training script")

    assert result.exit_code == 0, result.stderr
    fake_llm.assert_done()
    assert user_notes(fake_llm.requests[1]) == []  # one broken call: the error result only
    after_second = fake_llm.requests[2]["messages"]
    assert [m["role"] for m in after_second[-5:]] == [
        "assistant",
        "tool",
        "assistant",
        "tool",
        "user",
    ]
    assert all(problem in m["content"] for m in after_second[-4:] if m["role"] == "tool")
    [note] = user_notes(fake_llm.requests[2])
    assert problem in note
    assert "`path`, `content`" in note
    assert "send smaller arguments, e.g. write the file in parts" in note
    assert user_notes(fake_llm.requests[3]) == [note]  # not repeated once the call works
    assert Path("train.py").read_text() == "import torch\n"


def test_broken_calls_to_different_tools_are_not_a_streak(cli, fake_llm):
    fake_llm.script(
        llm.tool_call("write", '{"path": "a.txt", "content": "x'),
        llm.tool_call("read", '{"path": "a.t'),
        llm.text("Giving up."),
    )
    assert cli("do it").exit_code == 0
    fake_llm.assert_done()
    assert user_notes(fake_llm.requests[2]) == []
