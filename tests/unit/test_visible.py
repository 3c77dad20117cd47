"""What reaches the terminal of text that is not ours."""

from __future__ import annotations

from agent.cli.visible import quoted, visible


def test_visible_keeps_lines_and_spells_out_controls_and_bidi_overrides():
    text = "a\tb\nc\x1b[2J\x9b\u202eevil\u2069 ok"
    assert visible(text) == "a\tb\nc^[[2J\\x9b\\u202eevil\\u2069 ok"
    assert visible("plain — ünïcode 👍\n") == "plain — ünïcode 👍\n"


def test_quoted_leaves_nothing_invisible():
    text = "rm\u00a0-rf\t/\nx\u200b\ufeff\u2028\U000e0041 ok"
    assert quoted(text) == "rm\\xa0-rf^I/^Jx\\u200b\\ufeff\\u2028\\U000e0041 ok"
    assert quoted("docs/ünïcode 👍 a b") == "docs/ünïcode 👍 a b"
