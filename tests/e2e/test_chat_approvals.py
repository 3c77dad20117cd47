"""Approvals in a real terminal: the diff before the question, and "always" answers
saved for a trusted project, honoured after `/new` and in the next launch."""

from __future__ import annotations

import json

import pyte
import pytest

from agent.trust import add_trusted
from tests.e2e.test_interactive import FIRST_ANSWER_S, tool_results
from tests.fakes import llm_server as llm


def edit(old: str, new: str):
    return llm.tool_call("edit", {"path": "src/app.py", "old_str": old, "new_str": new})


@pytest.mark.timeout(240)
def test_always_answers_saved_for_the_project(terminal, fake_llm, isolated_env):
    add_trusted(isolated_env)
    config = isolated_env / "configs" / "cli_agent_config.json"
    config.parent.mkdir()
    config.write_text(json.dumps({"approval": {"edits_in_cwd_ask": True}}))
    for name in ("build", "build2", "build3", "data", "src"):
        (isolated_env / name).mkdir()
    (isolated_env / "src" / "app.py").write_text("import os\nx = 1\ny = 3\n")
    fake_llm.script(
        llm.tool_call("read", {"path": "src/app.py"}),
        edit("x = 1", "x = 2"),
        llm.tool_call("bash", {"command": "rm -rf ./build"}),
        llm.text("Edited and removed."),
        edit("x = 2", "x = 3"),
        llm.tool_call("bash", {"command": "rm -rf ./build2"}),
        llm.text("Done without asking."),
        llm.tool_call("bash", {"command": "rm -rf ./build3"}),
        llm.tool_call("bash", {"command": "rm -rf ./data"}),
        llm.text("Kept data."),
    )
    term = terminal()
    term.expect("›")
    term.enter("fix x and clean")

    # the change is shown before the question
    term.expect("Approve edit?", timeout=FIRST_ANSWER_S)
    term.expect("-x = 1")
    term.expect("+x = 2")
    term.expect("[a]lways allow edits in src/  [s]ave for the project")
    term.type("s")
    term.expect("saved in configs/cli_agent_config.json: always allow edits in src/")
    term.expect("[a]lways allow: rm -rf ./build*  [s]ave for the project")
    term.type("s")
    term.expect("always allow bash: rm -rf ./build*")
    term.expect("Edited and removed.")
    term.expect("›")
    saved = json.loads(config.read_text())["approval"]
    assert saved == {
        "edits_in_cwd_ask": True,
        "always_allow": ["edits in src/", "bash: rm -rf ./build*"],
    }

    # a new conversation keeps what was saved
    term.enter("/new")
    term.expect("›")
    term.enter("again")
    term.expect("Done without asking.")
    assert "x = 3" in (isolated_env / "src" / "app.py").read_text()
    assert not (isolated_env / "build2").exists()
    term.enter("/status")
    term.expect("always allowed: bash: rm -rf ./build*")
    term.enter("/quit")
    assert term.exit_code() == 0
    assert term.text.count("Approve ") == 2

    # and so does the next launch; what was not saved still asks
    again = terminal()
    again.expect("›")
    again.enter("clean the rest")
    again.expect("Approve bash?", timeout=FIRST_ANSWER_S)
    again.expect("rm -rf ./data")
    again.type("n")
    again.expect("Kept data.")
    assert not (isolated_env / "build3").exists()
    assert (isolated_env / "data").is_dir()
    assert "refused" in tool_results(fake_llm.requests[-1])[-1]
    again.expect("›")  # keys typed before the prompt is back may be swallowed
    again.type("\x04")
    assert again.exit_code() == 0
    assert again.text.count("Approve ") == 1
    fake_llm.assert_done()


@pytest.mark.timeout(180)
def test_one_key_answers_an_approval_and_enter_right_behind_it_confirms(
    terminal, fake_llm, isolated_env
):
    (isolated_env / "build").mkdir()
    fake_llm.script(
        llm.tool_call("bash", {"command": "rm -rf ./build"}),
        llm.text("Kept it."),
        llm.tool_call("bash", {"command": "rm -rf ./build"}),
        llm.text("Removed it."),
    )
    term = terminal()
    term.expect("›")
    term.enter("clean")
    term.expect("[f]eedback ›", timeout=FIRST_ANSWER_S)
    # words and pastes typed here, and the pauses between keys: tests/unit/test_one_key.py
    term.type("n")
    term.expect("Kept it.")
    assert (isolated_env / "build").is_dir()
    term.expect("›")

    term.enter("clean now")
    term.expect("[f]eedback ›")
    term.type("y\r")  # Enter right behind the key confirms it
    term.expect("Removed it.")
    assert not (isolated_env / "build").exists()
    term.expect("›")
    term.type("\x04")
    assert term.exit_code() == 0
    assert "refused" in tool_results(fake_llm.requests[1])[-1]
    fake_llm.assert_done()


def screen_of(term) -> str:
    screen = pyte.Screen(100, 40)  # the size the terminal fixture opens
    pyte.Stream(screen).feed(term.raw)
    return "\n".join(line.rstrip() for line in screen.display)


@pytest.mark.timeout(180)
def test_a_padded_command_cannot_push_the_question_off_the_screen(terminal, fake_llm, isolated_env):
    (isolated_env / "data").mkdir()
    hidden = "\u202eatad/. fr- mr\u2066\u200b"  # shows reversed unless spelled out
    padded = "ls" + "\n" * 60 + " " * 3000 + "\n" + "rm -rf ./data # " + hidden
    fake_llm.script(
        llm.tool_call("bash", {"command": padded}),
        llm.text("Kept data."),
        llm.tool_call("bash", {"command": "cd data && rm -rf ."}),
        llm.text("Kept it again."),
    )
    term = terminal()
    term.expect("›")
    term.enter("clean")
    term.expect("[f]eedback ›", timeout=FIRST_ANSWER_S)
    shown = screen_of(term)
    assert "Approve bash?" in shown
    assert "… 60 blank lines …" in shown
    assert "rm -rf ./data # \\u202eatad/. fr- mr\\u2066\\u200b" in shown
    assert "\u202e" not in term.raw and "\u200b" not in term.raw
    lines = shown.splitlines()
    options = next(i for i, line in enumerate(lines) if "[f]eedback ›" in line)
    assert "⚠ `rm -rf` deletes whole directories" in lines[options - 1]
    term.type("n")
    term.expect("Kept data.")
    assert (isolated_env / "data").is_dir()

    # "always" on `rm -rf .` in another folder would allow `rm -rf ..`: not offered
    term.expect("›")
    term.enter("try again")
    term.expect("[f]eedback ›", timeout=FIRST_ANSWER_S)
    assert "[y]es  [n]o  [f]eedback ›" in screen_of(term)
    term.type("n")
    term.expect("Kept it again.")
    term.expect("›")
    term.type("\x04")
    assert term.exit_code() == 0
    assert "refused" in tool_results(fake_llm.requests[-1])[-1]
