"""Keys typed while a turn runs: edited, queued, pasted, and terminal replies dropped."""

from __future__ import annotations

from agent.cli.chat.typeahead import Pastes, TypeAhead


def test_typed_lines_are_queued_and_the_open_line_stays_editable():
    changes = []
    keys = TypeAhead(lambda: changes.append(1))
    keys.feed("first")
    keys.feed("\r")
    keys.feed("secx\x7fond")
    assert keys.queued == ["first"]
    assert keys.line == "second"
    assert [t.plain for t in keys.view()] == ["queued: first", "› second▏"]
    assert changes == [1, 1, 1]
    assert keys.take() == ["first"]
    assert keys.unsent() == "second"
    assert keys.line == ""


def test_terminal_replies_and_arrow_keys_never_show():
    keys = TypeAhead()
    keys.feed("\x1b[1;1Rab\x1b[12;40R\x1b[Ac\x1bOP")
    assert keys.line == "abc"


def test_a_long_paste_shows_as_a_placeholder_and_is_sent_whole():
    keys = TypeAhead()
    text = "\n".join(f"row {i}" for i in range(30))
    keys.feed("look at this: \x1b[200~" + text[:50])
    keys.feed(text[50:] + "\x1b[201~")
    assert keys.line == "look at this: [pasted 30 lines]"
    keys.feed("\r")
    assert keys.queued == ["look at this: " + text]


def test_a_short_paste_stays_as_it_is():
    pastes = Pastes()
    assert pastes.hold("a\nb") == "a\nb"
    assert pastes.expand("x [pasted 3 lines]") == "x [pasted 3 lines]"


def test_lines_that_arrive_together_are_one_message():
    keys = TypeAhead()
    keys.feed("one\rtwo\rthree")
    assert keys.queued == []
    assert keys.line == "one\ntwo\nthree"
    keys.feed("\r")
    assert keys.queued == ["one\ntwo\nthree"]


def test_up_on_an_empty_line_takes_the_last_queued_line_back_to_edit():
    keys = TypeAhead()
    keys.feed("first\r")
    keys.feed("second\r")
    assert [t.plain for t in keys.view()] == ["queued: first", "queued: second  (↑ to edit)"]
    keys.feed("\x1b[A")
    assert keys.queued == ["first"]
    assert keys.line == "second"
    keys.feed("\x17\x17")  # Ctrl-W twice: the word, then nothing left
    keys.feed("third\x1bOA")  # Up with text on the line changes nothing
    assert keys.line == "third"
    keys.feed("\r")
    assert keys.take() == ["first", "third"]


def test_ctrl_w_deletes_the_word_before_the_cursor():
    keys = TypeAhead()
    keys.feed("train the model  ")
    keys.feed("\x17")
    assert keys.line == "train the "
    keys.feed("\x17")
    assert keys.line == "train "


def test_a_paste_of_thirty_lines_says_thirty_lines():
    text = "".join(f"row {i}\n" for i in range(30))  # a copied block ends with its newline
    pastes = Pastes()
    assert pastes.hold(text) == "[pasted 30 lines]"
    assert pastes.expand("see [pasted 30 lines]") == "see " + text
    twenty = "".join(f"row {i}\n" for i in range(20))
    assert Pastes().hold(twenty) == twenty  # 20 lines are shown as they are


def test_counts_of_one_are_singular():
    from agent.cli.chat.tool_output import hidden_note
    from agent.wording import counted

    assert counted(1, "turn") == "1 turn"
    assert counted(12345, "line") == "12,345 lines"
    assert hidden_note(["x"]) == "… 1 line hidden (Ctrl-O shows the newest whole; again: older)"


def test_the_esc_key_alone_stops_the_turn_but_arrow_keys_do_not():
    pressed = []
    keys = TypeAhead(on_escape=lambda: pressed.append("esc"))
    keys.feed("ab\x1b[A\x1bOB\x1b[1;1R")
    assert pressed == []
    keys.feed("\x1b")
    assert pressed == ["esc"]
    assert keys.line == "ab"
