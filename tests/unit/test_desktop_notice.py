"""Which desktop notification a terminal can show, and what is sent to it."""

from __future__ import annotations

import io

import pytest

from agent.cli.chat.desktop_notice import call_back, channel, clean, command, sequence
from agent.cli.chat.render import make_console


def found(name: str) -> str | None:
    return f"/usr/bin/{name}"


def nothing(name: str) -> str | None:
    return None


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"TERM_PROGRAM": "iTerm.app"}, "osc9"),
        ({"TERM_PROGRAM": "WezTerm"}, "osc9"),
        ({"TERM_PROGRAM": "ghostty", "TERM": "xterm-ghostty"}, "osc9"),
        ({"TERM": "xterm-ghostty"}, "osc9"),
        ({"KITTY_WINDOW_ID": "1", "TERM": "xterm-kitty"}, "osc99"),
        ({"TERM": "foot"}, "osc777"),
        ({"TERM": "rxvt-unicode-256color"}, "osc777"),
        # tmux and screen eat the sequences they do not know: the bell only
        ({"TERM_PROGRAM": "iTerm.app", "TMUX": "/tmp/tmux-0/default,1,0"}, "bell"),
        ({"TERM": "screen-256color", "KITTY_WINDOW_ID": "1"}, "bell"),
        ({"TERM": "xterm-256color", "STY": "1.pts-0"}, "bell"),
        # no such terminal: the desktop's own command, in a local graphical session
        ({"TERM": "xterm-256color", "DISPLAY": ":0"}, "notify-send"),
        ({"TERM": "xterm-256color", "WAYLAND_DISPLAY": "wayland-0"}, "notify-send"),
        ({"TERM": "xterm-256color"}, "bell"),
        ({"TERM": "xterm-256color", "DISPLAY": ":0", "SSH_CONNECTION": "1 2 3 4"}, "bell"),
    ],
)
def test_the_channel_follows_the_terminal_and_the_desktop(env, expected):
    assert channel(env, "linux", found) == expected


def test_a_command_is_chosen_only_when_it_is_there():
    assert channel({"TERM": "xterm", "DISPLAY": ":0"}, "linux", nothing) == "bell"
    assert channel({"TERM_PROGRAM": "Apple_Terminal"}, "darwin", found) == "osascript"
    assert channel({"TERM_PROGRAM": "Apple_Terminal"}, "darwin", nothing) == "bell"


def test_the_sequences_are_the_ones_each_terminal_reads():
    assert sequence("osc9", "bg1 ended") == "\x1b]9;ml-intern: bg1 ended\x07"
    assert sequence("osc99", "bg1 ended") == "\x1b]99;;ml-intern: bg1 ended\x1b\\"
    assert sequence("osc777", "a; b") == "\x1b]777;notify;ml-intern;a, b\x07"
    assert sequence("notify-send", "x") == ""


def test_commands_take_the_text_as_one_argument_never_through_a_shell():
    assert command("notify-send", "-x; rm -rf ~") == [
        "notify-send",
        "--app-name=ml-intern",
        "--",
        "ml-intern",
        "-x; rm -rf ~",
    ]
    (_, _, script) = command("osascript", 'say "hi" \\ now')
    assert script == 'display notification "say \\"hi\\" \\\\ now" with title "ml-intern"'


def test_the_text_is_scrubbed_short_and_cannot_drive_the_terminal():
    text = clean(
        "bg1 ended\x1b]0;PWNED\x07\nwith HF_TOKEN=hf_abcdefghijklmnopqrstuvwxyz012345 " + "x" * 400
    )
    assert "\x1b" not in text and "\x07" not in text and "\n" not in text
    assert "hf_abcdefghijklmnopqrstuvwxyz012345" not in text
    assert len(text) == 200 and text.endswith("…")


def test_turned_off_only_the_bell_rings():
    out = io.StringIO()
    call_back(make_console(out), "bg1 ended", {"TERM_PROGRAM": "iTerm.app"}, desktop=False)
    assert out.getvalue() == "\x07"
