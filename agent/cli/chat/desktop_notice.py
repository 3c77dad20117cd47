"""Calling the person back to the chat: the terminal bell, and a desktop notification
where one can be shown.

Several terminals turn an escape sequence into a desktop notification, which also works
over SSH: iTerm2, WezTerm and ghostty read OSC 9, kitty its own OSC 99, foot and
rxvt-unicode OSC 777 `notify`. tmux and screen swallow sequences they do not know, so
inside them only the bell rings. Elsewhere, in a local graphical session, the desktop's
own command shows it (`notify-send`, or `osascript` on macOS), run without a shell. The
text is scrubbed of secrets and control characters and kept short: it leaves the
terminal for the desktop's notification history.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from rich.console import Console

Channel = Literal["osc9", "osc99", "osc777", "notify-send", "osascript", "bell"]
TITLE = "ml-intern"
MAX_CHARS = 200
COMMAND_TIMEOUT_S = 10.0
_running: set[asyncio.Task[None]] = set()  # kept until done: a task unreferenced may vanish
_OSC9_PROGRAMS = {"iterm.app", "wezterm", "ghostty"}
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]+")


def channel(
    env: Mapping[str, str],
    platform: str = sys.platform,
    which: Callable[[str], str | None] = shutil.which,
) -> Channel:
    """Where a desktop notification can go from this terminal ("bell": nowhere)."""
    term = env.get("TERM", "")
    if env.get("TMUX") or env.get("STY") or term.startswith(("screen", "tmux")):
        return "bell"
    program = env.get("TERM_PROGRAM", "").lower()
    if program in _OSC9_PROGRAMS or term == "xterm-ghostty" or env.get("WEZTERM_PANE"):
        return "osc9"
    if env.get("KITTY_WINDOW_ID") or term == "xterm-kitty":
        return "osc99"
    if term.startswith(("foot", "rxvt-unicode")):
        return "osc777"
    if env.get("SSH_CONNECTION") or env.get("SSH_TTY"):
        return "bell"  # a command would show it on the far machine's desktop
    if platform == "darwin" and which("osascript"):
        return "osascript"
    graphical = env.get("DISPLAY") or env.get("WAYLAND_DISPLAY")
    if platform.startswith("linux") and graphical and which("notify-send"):
        return "notify-send"
    return "bell"


def clean(text: str) -> str:
    """One short line with no secret and nothing that could drive the terminal."""
    from agent.context.redact import redact

    line = " ".join(_CONTROL.sub(" ", redact(text)).split())
    return line if len(line) <= MAX_CHARS else line[: MAX_CHARS - 1] + "…"


def sequence(chosen: Channel, body: str) -> str:
    """The escape sequence that shows `body` (already clean) as a notification."""
    if chosen == "osc9":
        return f"\x1b]9;{TITLE}: {body}\x07"
    if chosen == "osc99":
        return f"\x1b]99;;{TITLE}: {body}\x1b\\"
    if chosen == "osc777":
        return f"\x1b]777;notify;{TITLE};{body.replace(';', ',')}\x07"
    return ""


def command(chosen: Channel, body: str) -> list[str]:
    """The desktop's command that shows `body` (already clean), as its argument list."""
    if chosen == "notify-send":
        return ["notify-send", f"--app-name={TITLE}", "--", TITLE, body]
    if chosen == "osascript":
        quoted = body.replace("\\", "\\\\").replace('"', '\\"')
        return ["osascript", "-e", f'display notification "{quoted}" with title "{TITLE}"']
    return []


def call_back(console: Console, text: str, env: Mapping[str, str], desktop: bool = True) -> None:
    """Ring the bell and, when `desktop` and the terminal or desktop can, show `text` as
    a desktop notification. A command that cannot start is only the bell's loss."""
    from rich.control import Control, ControlType
    from rich.segment import Segment

    console.bell()
    if not desktop:
        return
    chosen, body = channel(env), clean(text)
    if osc := sequence(chosen, body):
        notice = Control()
        notice.segment = Segment(osc, None, [(ControlType.BELL,)])
        console.control(notice)
    elif args := command(chosen, body):
        task = asyncio.get_running_loop().create_task(_run(args))
        _running.add(task)
        task.add_done_callback(_running.discard)


async def _run(args: list[str]) -> None:
    """Run the desktop's command beside the chat, without a shell; one that hangs is
    stopped."""
    try:
        process = await asyncio.create_subprocess_exec(
            *args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    except OSError:
        return
    try:
        await asyncio.wait_for(process.wait(), COMMAND_TIMEOUT_S)
    except TimeoutError:
        pass
    finally:
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
