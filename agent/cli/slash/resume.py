"""/resume: continue a saved session, picked from a numbered list or named by id.

The sessions of the working directory come first: that is almost always the one
wanted. Sessions without a single request are left out, as is the current one.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Iterable
from pathlib import Path

from rich.text import Text

from agent.cli.chat.render import ColourPager
from agent.cli.chat.replay import replay
from agent.cli.slash.commands import ChatContext, Command, register
from agent.context.resume import (
    LoadedSession,
    SessionSummary,
    load_session,
    scan_sessions,
)
from agent.context.store import SessionNotFound, sessions_dir
from agent.core.resume_model import model_problem
from agent.errors import AgentStop

MAX_LISTED = 30


def resumable(sessions: Iterable[SessionSummary], cwd: Path, current: str) -> list[SessionSummary]:
    """Grouped by directory, `cwd` first, then the directory used most recently, and so on.

    `sessions` come newest first, and stay so within each directory.
    """
    wanted = [s for s in sessions if s.turns and s.id != current]
    rank = {str(cwd): -1}
    for summary in wanted:
        rank.setdefault(summary.cwd, len(rank))
    return sorted(wanted, key=lambda s: rank[s.cwd])


def when(ts: float, now: float) -> str:
    """Recent times as an age, older ones as a date; never more than 12 characters."""
    age = max(now - ts, 0)
    if age < 60:
        return "just now"
    if age < 3600:
        return f"{age // 60:.0f} min ago"
    if age < 86400:
        return f"{age // 3600:.0f} h ago"
    moment = datetime.datetime.fromtimestamp(ts)
    if moment.year == datetime.datetime.fromtimestamp(now).year:
        return moment.strftime("%b %d %H:%M")
    return moment.strftime("%Y-%m-%d")


def turns(session: SessionSummary | LoadedSession) -> str:
    return f"{session.turns} turn" + ("s" if session.turns != 1 else "")


def short_path(path: str, width: int = 60) -> str:
    """`~` for home, and the end of a long path: the last directories say the most."""
    home = str(Path.home())
    if path == home or path.startswith(home + "/"):
        path = "~" + path[len(home) :]
    return path if len(path) <= width else "…" + path[-(width - 1) :]


def session_lines(sessions: list[SessionSummary], cwd: Path, now: float) -> list[Text]:
    """A heading per directory, then number, id, age, turns and first prompt per session.

    One line each, cut short rather than wrapped, so the columns stay aligned.
    """
    lines: list[Text] = []
    directory: str | None = None
    width = len(str(len(sessions)))
    for number, summary in enumerate(sessions, start=1):
        if summary.cwd != directory:
            directory = summary.cwd
            name = "This directory" if directory == str(cwd) else short_path(directory or "?")
            lines.append(Text(f"{'':>{width}}  {name}", "bold"))
        line = Text.assemble(
            (f"{number:>{width}}", "bold"),
            f"  {summary.id}  ",
            (f"{when(summary.updated, now):<12}", "dim"),
            f"{turns(summary):>9}  ",
            " ".join(summary.first_prompt.split()),
        )
        lines.append(line)
    return lines


def matching_ids(prefix: str, ids: Iterable[str]) -> list[str]:
    """The ids `prefix` names: itself when it is a whole id, else those it starts."""
    ids = list(ids)
    if prefix in ids:
        return [prefix]
    return [i for i in ids if i.startswith(prefix)]


def saved_ids() -> list[str]:
    """Every saved session's id, newest first: cheap enough to run on each key press."""
    directory = sessions_dir()
    if not directory.is_dir():
        return []
    found = []
    for path in directory.glob("*.jsonl"):
        try:
            found.append((path.stat().st_mtime, path.stem))
        except OSError:
            continue
    return [stem for _, stem in sorted(found, reverse=True)]


async def _pick(ctx: ChatContext) -> str | None:
    """A numbered list, then a number (or an id); None when the person just presses Enter."""
    cwd, now = ctx.session.cwd, time.time()
    saved, damaged = scan_sessions()
    sessions = resumable(saved, cwd, ctx.session.id)
    if damaged:
        ctx.console.print(
            Text(
                f"· {len(damaged)} damaged session log(s) left out: "
                "`ml-intern sessions list` names them",
                "dim",
            )
        )
    if not sessions:
        ctx.console.print(Text("No saved sessions to resume yet.", "yellow"))
        return None
    shown = sessions[:MAX_LISTED]
    for line in session_lines(shown, cwd, now):
        ctx.console.print(Text("  ") + line, no_wrap=True, overflow="ellipsis")
    if len(sessions) > len(shown):
        more = len(sessions) - len(shown)
        ctx.console.print(Text(f"  … and {more} older: /resume <id> continues any.", "dim"))
    while True:
        numbers = "1" if len(shown) == 1 else f"1-{len(shown)}"
        answer = await ctx.ask(f"Resume which? {numbers} or an id, Enter cancels › ")
        answer = (answer or "").strip()
        if not answer:
            return None
        if not answer.isdigit():
            return answer
        if 1 <= int(answer) <= len(shown):
            return shown[int(answer) - 1].id
        ctx.console.print(Text(f"No session {answer} in the list.", "yellow"))


async def _switch(ctx: ChatContext, wanted: str) -> None:
    """Continue the session `wanted` names, with the model it last used."""
    ids = matching_ids(wanted, saved_ids())
    if len(ids) != 1:
        many = f"'{wanted}' matches {len(ids)} sessions: type more of the id."
        none = f"No saved session '{wanted}'. Type /resume to choose from a list."
        ctx.console.print(Text(many if ids else none, "yellow"))
        return
    if ids[0] == ctx.session.id:
        ctx.console.print(Text(f"Already in session {ids[0]}.", "dim"))
        return
    try:
        loaded = load_session(ids[0])
    except (SessionNotFound, OSError) as exc:
        ctx.console.print(Text(f"Cannot resume {ids[0]}: {exc}", "red"))
        return
    settings = ctx.session.settings
    previous_model = settings.model_name
    if loaded.model and not model_problem(loaded.model, settings.api_base):
        settings.model_name = loaded.model  # the new session starts with it
    try:
        await ctx.switch_session(loaded.session_id)
    except (AgentStop, OSError) as exc:
        settings.model_name = previous_model
        ctx.console.print(Text(f"Cannot resume {loaded.session_id}: {exc}", "red"))
        return
    line = f"· resumed {loaded.session_id} ({turns(loaded)}) · {settings.model_name}"
    ctx.console.print(Text(line, "dim"))
    replay(ctx.console, loaded.messages)


async def _resume(ctx: ChatContext, arg: str) -> None:
    wanted = arg or await _pick(ctx)
    if wanted:
        await _switch(ctx, wanted)


def _complete(ctx: ChatContext) -> list[str]:
    return [i for i in saved_ids() if i != ctx.session.id]


register(
    Command(
        "resume",
        "continue a saved session, picked from a list or named by id",
        _resume,
        "[id]",
        _complete,
    )
)


async def _transcript(ctx: ChatContext, arg: str) -> None:
    """The whole conversation, tool output in full, in the pager ($PAGER, else less)."""
    with ctx.console.pager(ColourPager(), styles=True):
        replay(ctx.console, ctx.session.context.messages, last=None)


register(
    Command("transcript", "page through the whole conversation, tool output in full", _transcript)
)
