"""Saved sessions on the command line: `--resume`, `--continue`, `ml-intern sessions ...`."""

from __future__ import annotations

import datetime
import sys
from pathlib import Path
from typing import Annotated

import typer

from agent.cli.app import make_app
from agent.config import Settings
from agent.context.resume import SessionSummary, latest_session, list_sessions, load_session
from agent.context.store import SessionNotFound, find_session_file, sessions_dir
from agent.core.errors import UsageError
from agent.core.resume_model import model_problem

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
        resume = latest_session(Path.cwd())
        if resume is None:
            raise UsageError(f"No saved session for {Path.cwd()}: start one without --continue.")
    if resume == PICK and headless:
        print_sessions(list_sessions())
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
    print_sessions(list_sessions(cwd=Path.cwd() if here else None))


@app.command("export")
def export_command(
    session_id: Annotated[str, typer.Argument(help="Session id or unique prefix.")],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write (default: stdout).")
    ] = None,
) -> None:
    """Export a session as Claude Code JSONL (secrets scrubbed)."""
    import json

    from agent.context.traces import export_claude_code, write_export

    try:
        loaded = load_session(session_id)
    except SessionNotFound as exc:
        raise UsageError(str(exc)) from None
    if output is None:
        for line in export_claude_code(loaded):
            sys.stdout.write(json.dumps(line, ensure_ascii=False) + "\n")
        return
    write_export(loaded, output)
    typer.echo(f"Wrote {output}", err=True)
