"""Tool output as the chat shows it: the head and the tail, the exit code, coloured diffs.

A command's first lines say what it started doing and its last lines how it ended
(a traceback, a summary, the exit code), so the middle is what gets hidden. Edits
show the changed lines themselves, + in green and - in red.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

from rich.text import Text

from agent.wording import counted

HEAD_LINES = 3
TAIL_LINES = 5
DIFF_LINES = 24
DIFF_STYLES = {"+": "green", "-": "red", "@": "cyan"}
CTRL_O = "Ctrl-O shows the newest whole; again: older"


def output_lines(
    content: str, is_error: bool, data: dict[str, Any] | None, full: bool = False
) -> list[Text]:
    """The lines under a tool call's header: collapsed to head and tail unless `full`."""
    data = data or {}
    diff = data.get("diff")
    if isinstance(diff, str) and diff.strip():
        summary = content.split("\n", 1)[0]
        return [Text(summary, style="dim"), *diff_lines(diff, None if full else DIFF_LINES)]
    lines = content.rstrip("\n").splitlines() or ["(no output)"]
    style = "red" if is_error else "dim"
    shown: list[Text] = []
    if full or len(lines) <= HEAD_LINES + TAIL_LINES + 1:
        shown = [Text(line, style=style) for line in lines]
    else:
        shown = [Text(line, style="dim") for line in lines[:HEAD_LINES]]
        shown.append(Text(hidden_note(lines[HEAD_LINES:-TAIL_LINES]), style="dim italic"))
        shown += [Text(line, style=style) for line in lines[-TAIL_LINES:]]
    code = data.get("exit_code")
    if (
        isinstance(code, int)
        and code != 0
        and not any(f"exit code {code}" in t.plain for t in shown)
    ):
        shown.append(Text(f"exit code {code}", style="red"))
    return shown


def failure_summary(content: str, data: dict[str, Any] | None) -> tuple[str, list[str]]:
    """(what went wrong, the last lines before it) for a failed call, for front ends that
    print one line per event: a command's exit code or signal, else the error's first line.
    The tail is what tells why a command failed; its first line is what it started doing."""
    lines = content.rstrip("\n").splitlines()
    code = (data or {}).get("exit_code")
    if isinstance(code, int) and lines and _is_exit_note(lines[-1]):
        status, lines = lines[-1], lines[:-1]
    elif isinstance(code, int):
        status = f"exit code {code}"
    else:
        status, lines = (lines[0], lines[1:]) if lines else ("(no output)", [])
    while lines and not lines[-1].strip():
        lines.pop()
    tail = lines[-TAIL_LINES:]
    if len(lines) > len(tail):
        tail.insert(0, f"… {len(lines) - len(tail):,} lines above")
    return status, tail


def _is_exit_note(line: str) -> bool:
    return line.startswith(("exit code ", "killed by signal "))


def hidden_note(hidden: list[str]) -> str:
    """How many lines the collapse hides, counting those the tool itself left out (a
    flood keeps only its head and tail), so the count is the command's, not the view's."""
    from agent.tools.local.output import omitted_lines

    left_out = [n for line in hidden if (n := omitted_lines(line)) is not None]
    if not left_out:
        return f"… {counted(len(hidden), 'line')} hidden ({CTRL_O})"
    kept = len(hidden) - len(left_out)
    shown = f"Ctrl-O shows the {kept:,} kept of the newest; again: older"
    return f"… {counted(kept + sum(left_out), 'line')} hidden ({shown})"


def diff_lines(diff: str, limit: int | None) -> list[Text]:
    """A unified diff without its file headers, coloured by what each line does."""
    lines = [
        line
        for line in diff.rstrip("\n").splitlines()
        if not line.startswith(("--- ", "+++ ")) and not line.startswith("\\ No newline")
    ]
    shown = lines if limit is None or len(lines) <= limit else lines[:limit]
    out = [Text(line, style=DIFF_STYLES.get(line[:1], "dim")) for line in shown]
    if len(shown) < len(lines):
        more = len(lines) - len(shown)
        out.append(Text(f"… {counted(more, 'more diff line')} ({CTRL_O})", style="dim italic"))
    return out


def numbered(lines: list[Text]) -> list[Text]:
    """The lines with the chat's gutter: `⎿` on the first, indentation after."""
    return [Text.assemble("  ⎿ " if i == 0 else "    ", line) for i, line in enumerate(lines)]


def proposed_diff(name: str, arguments: dict[str, Any], cwd: Path) -> str | None:
    """What a write or edit would change, for the approval question; None for other calls."""
    path = arguments.get("path")
    if name not in ("write", "edit") or not isinstance(path, str):
        return None
    if name == "edit":
        before, after = str(arguments.get("old_str", "")), str(arguments.get("new_str", ""))
        if arguments.get("mode") == "append_after":
            after = before + "\n" + after
    else:
        target = (cwd / path).expanduser()
        try:
            before = target.read_text(encoding="utf-8", errors="replace")
        except OSError:
            before = ""
        after = str(arguments.get("content", ""))
    lines = difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=2)
    return "\n".join(lines)
