"""Saved sessions on the command line: `--resume`, `--continue`, `ml-intern sessions ...`."""

from __future__ import annotations

import datetime
import sys
from pathlib import Path
from typing import Annotated

import typer

from agent.cli.app import make_app
from agent.cli.stopping import CLOSED_OUTPUT_EXIT, is_closed_output, silence_stdout
from agent.config import Settings
from agent.context.resume import LoadedSession, SessionSummary, load_session, scan_sessions
from agent.context.store import SessionNotFound, find_session_file, sessions_dir
from agent.core.resume_model import model_problem
from agent.errors import UsageError

PICK = "__pick__"

app = make_app("List and export saved sessions.")


def is_session_id(token: str) -> bool:
    """True when `token` names exactly one saved session (id or unique prefix)."""
    try:
        find_session_file(token, sessions_dir())
    except (SessionNotFound, OSError):
        return False
    return True


def resolve_resume(
    resume: str | None,
    continue_: bool,
    settings: Settings,
    *,
    model_flag: str | None,
    headless: bool,
) -> str | None:
    """The session id to resume (or PICK for the chat's picker); restores its model."""
    if continue_:
        here = saved_sessions(Path.cwd())
        if not here:
            raise UsageError(f"No saved session for {Path.cwd()}: start one without --continue.")
        resume = here[0].id
    if resume == PICK and headless:
        print_sessions(saved_sessions())
        raise typer.Exit(0)
    if resume is None or resume == PICK:
        return resume
    try:
        loaded = load_session(resume)
    except SessionNotFound as exc:
        raise UsageError(str(exc)) from None
    if model_flag is None and loaded.model and not model_problem(loaded.model, settings.api_base):
        settings.model_name = loaded.model  # else the current one stays: resuming says why
    return loaded.session_id


def require_session(resume: str | None) -> None:
    """A named session must exist: checked before anything else asks or starts."""
    if resume is None or resume == PICK:
        return
    try:
        find_session_file(resume, sessions_dir())
    except SessionNotFound as exc:
        raise UsageError(str(exc)) from None


def saved_sessions(cwd: Path | None = None) -> list[SessionSummary]:
    """The saved sessions (of `cwd` when given), newest first. A damaged log is left out
    with a warning, so that one bad file never breaks the listing or `--continue`."""
    sessions, damaged = scan_sessions(cwd=cwd)
    for log in damaged:
        typer.echo(
            f"ml-intern: skipped the damaged session log {log.path}: {log.problem}. "
            f"`ml-intern --resume {log.id}` reads what is left of it.",
            err=True,
        )
    return sessions


def print_sessions(sessions: list[SessionSummary], out=None) -> None:
    out = out or sys.stdout
    if not sessions:
        out.write("No saved sessions.\n")
        return
    out.write(f"{'ID':<24} {'UPDATED':<16} {'TURNS':>5}  {'MODEL':<28} DIRECTORY / FIRST PROMPT\n")
    for s in sessions:
        when = datetime.datetime.fromtimestamp(s.updated).strftime("%Y-%m-%d %H:%M")
        prompt = " ".join(s.first_prompt.split())[:60]
        out.write(f"{s.id:<24} {when:<16} {s.turns:>5}  {(s.model or '?'):<28} {s.cwd}\n")
        out.write(f"{'':<24} {prompt}\n")


@app.command("list")
def list_command(
    here: Annotated[bool, typer.Option("--here", help="Only sessions of this directory.")] = False,
) -> None:
    """Saved sessions, newest first: id, date, model, turns, directory, first prompt."""
    print_sessions(saved_sessions(cwd=Path.cwd() if here else None))


@app.command("export")
def export_command(
    session_id: Annotated[str, typer.Argument(help="Session id or unique prefix.")],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write (default: stdout).")
    ] = None,
) -> None:
    """Export a session as Claude Code JSONL (secrets scrubbed)."""
    from agent.context.traces import write_export

    try:
        loaded = load_session(session_id)
    except SessionNotFound as exc:
        raise UsageError(str(exc)) from None
    if output is None:
        print_export(loaded)
        return
    try:
        write_export(loaded, output)
    except OSError as exc:  # no such directory, a directory, no permission, disk full
        raise UsageError(
            f"cannot write {output}: {exc.strerror or exc}. Give -o a file in a directory "
            "you can write to, or leave -o out to print the export."
        ) from None
    typer.echo(f"Wrote {output}", err=True)


def print_export(loaded: LoadedSession) -> None:
    """The export on stdout. A reader that went away (`| head -c 10`) ends the command
    with 141 and no message, as it ends a run: nobody is left to read one."""
    import json

    from agent.context.traces import export_claude_code

    lines = export_claude_code(loaded)
    try:
        for line in lines:
            sys.stdout.write(json.dumps(line, ensure_ascii=False) + "\n")
        sys.stdout.flush()
    except OSError as exc:
        if not is_closed_output(exc):
            raise
        silence_stdout()  # the flush at exit must not fail again
        raise typer.Exit(CLOSED_OUTPUT_EXIT) from None
