"""What the chat shows, in a real terminal: collapsed tool output and Ctrl-O, coloured
edit diffs, scoped approvals, typing during a turn, long pastes, Ctrl-C while the
model library loads, and resuming with the last turns replayed.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from tests.e2e.test_interactive import FIRST_ANSWER_S, tool_results, user_texts
from tests.fakes import llm_server as llm


def wait_for_file(path: Path, last: str, timeout: float = 20) -> str:
    """The file's text once `last` is in it (the pager runs in the chat's process tree)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and last in (text := path.read_text(errors="replace")):
            return re.sub(r"\x1b\[[0-9;]*m", "", text)
        time.sleep(0.05)
    raise AssertionError(f"{last!r} never reached the pager: {path}")


CHECK = "for i in $(seq 60); do echo ok $i; done; echo 'ValueError: bad row' >&2; exit 2"


@pytest.mark.timeout(300)
def test_what_the_chat_shows(terminal, fake_llm, isolated_env, monkeypatch):
    monkeypatch.delenv("NO_COLOR")  # colours are part of what is checked
    monkeypatch.setenv("TERM", "xterm-256color")
    pager_out = isolated_env.parent / "paged.txt"
    monkeypatch.setenv("PAGER", f"cat > {pager_out}")  # what the pager was given
    words = " ".join(f"w{i}" for i in range(1, 80))
    fake_llm.script(
        llm.text("Hi."),
        llm.tool_call("bash", {"command": CHECK}),
        llm.text("Check failed."),
        llm.tool_call("read", {"path": "src/app.py"}),
        llm.tool_call("edit", {"path": "src/app.py", "old_str": "x = 1", "new_str": "x = 2"}),
        llm.text("Edited."),
        llm.tool_call("bash", {"command": "rm -rf ./build"}),
        llm.text("Removed build."),
        llm.tool_call("bash", {"command": "rm -rf ./build2"}),
        llm.tool_call("bash", {"command": "rm -rf ./data"}),
        llm.text("Kept data."),
        llm.text(words, delay_s=0.05),
        llm.text("Answer to the queued one."),
        llm.text("Got the paste."),
        llm.text("Got both lines."),
    )
    for name in ("build", "build2", "data", "src"):
        (isolated_env / name).mkdir()
    (isolated_env / "src" / "app.py").write_text("import os\nx = 1\ny = 3\n")
    term = terminal()
    term.expect("›")

    # Ctrl-C while the model library loads: the wait stops, the message stays
    term.enter("hello there")
    term.expect("Loading the model library")
    term.type("\x03")
    term.expect("› hello there")
    assert fake_llm.requests == []
    term.type("\r")
    term.expect("Hi.", timeout=FIRST_ANSWER_S)
    term.expect("✓")
    term.expect("›")

    # a failing command: head, the count hidden, tail with the error and the exit code
    term.enter("run the check")
    term.expect("⎿ ok 1")
    term.expect("ok 3")
    term.expect("55 lines hidden (Ctrl-O shows the newest whole; again: older)")
    term.expect("ValueError: bad row")
    term.expect("exit code 2")
    term.expect("Check failed.")
    assert "ok 30" not in term.text
    term.expect("›")
    term.type("\x0f")  # Ctrl-O: taller than the window, so it goes to the pager
    paged = wait_for_file(pager_out, "exit code 2")
    assert "bash output, in full" in paged
    assert all(f"ok {i}\n" in paged for i in range(1, 61))
    assert "ValueError: bad row" in paged
    assert "ok 30" not in term.text

    # an edit shows its change, - in red and + in green
    term.enter("fix x")
    term.expect("app.py: 1 replacement")
    term.expect("+x = 2")
    term.expect("Edited.")
    assert re.search(r"\x1b\[31m-x = 1", term.raw)
    assert re.search(r"\x1b\[32m\+x = 2", term.raw)
    term.expect("›")
    term.type("\x0f")  # Ctrl-O: short enough to show in place
    term.expect("edit output, in full")
    term.expect("+x = 2")

    # "always" allows the command prefix, not all of bash
    term.enter("clean the build")
    term.expect("Approve bash?")
    term.expect("[a]lways allow: rm -rf ./build*  [f]eedback")  # no saving: not trusted
    term.type("a")
    term.expect("Removed build.")
    term.expect("›")
    term.enter("clean more")
    term.expect("Approve bash?")
    term.expect("rm -rf ./data")
    assert not (isolated_env / "build2").exists()
    term.type("n")
    term.expect("Kept data.")
    assert (isolated_env / "data").is_dir()
    assert "refused" in tool_results(fake_llm.requests[10])[-1]
    term.expect("›")

    # typed during a turn: shown as queued, sent when the turn ends
    term.enter("stream something")
    term.expect("w5 ")
    term.type("and then this\r")
    term.expect("queued: and then this")
    term.expect("Answer to the queued one.")
    assert user_texts(fake_llm.requests[12])[-1] == "and then this"
    term.expect("›")

    # a long paste collapses, and is sent whole
    pasted = "\n".join(f"row {i}" for i in range(30))
    term.type("\x1b[200~" + pasted + "\x1b[201~")
    term.expect("[pasted 30 lines]")
    term.type("\r")
    term.expect("Got the paste.")
    assert user_texts(fake_llm.requests[13])[-1] == pasted
    term.expect("›")

    # a paste the terminal does not mark: the lines arrive together, so it is one message
    term.type("first line\rsecond line\r")
    term.expect("Got both lines.")
    assert user_texts(fake_llm.requests[14])[-1] == "first line\nsecond line"
    term.expect("›")

    # the whole conversation in the pager, tool output in full
    pager_out.unlink()
    term.enter("/transcript")
    paged = wait_for_file(pager_out, "Got both lines.")
    for seen in ("hello there", "Hi.", "ok 30", "exit code 2", "and then this", "row 29"):
        assert seen in paged
    term.expect("›")

    term.enter("/quit")
    term.expect("resume with: ml-intern --continue")
    assert term.exit_code() == 0
    fake_llm.assert_done()

    again = terminal("--continue")
    again.expect("earlier turns")
    again.expect("› and then this")
    again.expect("Answer to the queued one.")
    again.expect("row 29")
    again.expect("Got both lines.")
    again.expect("›")
    again.type("\x04")
    assert again.exit_code() == 0


@pytest.mark.timeout(180)
def test_a_flood_is_counted_whole_in_its_collapsed_view(terminal, fake_llm, isolated_env):
    fake_llm.script(llm.tool_call("bash", {"command": "seq 200000"}), llm.text("Counted."))
    term = terminal("--yolo")
    term.expect("›")
    term.enter("count")
    term.expect("⎿ 1", timeout=FIRST_ANSWER_S)
    # 3 lines above, 5 below: every other line of the command's is in the count
    term.expect("… 199,992 lines hidden (Ctrl-O shows the ")
    term.expect("200000")
    term.expect("Counted.")
    assert "[... " not in term.text  # the reader's own marker stays out of the view
    term.expect("›")
    term.type("\x04")
    assert term.exit_code() == 0
    fake_llm.assert_done()


HOSTILE = "A\x1b[2JB C\x1b]0;PWNED\x07D E\x1b[?1049hF"


@pytest.mark.timeout(180)
def test_escape_codes_from_the_model_are_shown_not_obeyed(terminal, fake_llm, isolated_env):
    fake_llm.script(
        llm.text(HOSTILE),
        llm.tool_call("bash", {"command": "rm -rf ./data \x1b[2K\rls"}),
        llm.text("Not run."),
    )
    term = terminal()
    term.expect("›")
    term.enter("say it")
    term.expect("A^[[2JB C^[]0;PWNEDD E^[[?1049hF", timeout=FIRST_ANSWER_S)  # (rich drops BEL)
    term.expect("›")
    term.enter("run it")
    term.expect("bash: rm -rf ./data ^[[2K^Mls")  # the whole command, not what it would draw
    term.expect("Approve bash?")
    term.type("n")
    term.expect("Not run.")
    term.expect("›")
    for code in ("\x1b[2J", "\x1b]0;PWNED", "\x1b[?1049h", "\x1b[2K\rls"):
        assert code not in term.raw
    term.type("\x04")
    assert term.exit_code() == 0
    fake_llm.assert_done()


def test_a_headless_answer_is_spelled_out_on_a_terminal_and_exact_down_a_pipe(
    terminal, fake_llm, cli
):
    fake_llm.script(llm.text(HOSTILE), llm.text(HOSTILE))
    term = terminal("-o", "text", "say it")
    term.expect("A^[[2JB C^[]0;PWNED^GD E^[[?1049hF", timeout=FIRST_ANSWER_S)
    assert term.exit_code() == 0
    assert "\x1b]0;PWNED" not in term.raw
    piped = cli("-o", "text", "say it")
    assert piped.stdout == HOSTILE + "\n"  # a script reading the answer gets it whole
    fake_llm.assert_done()
