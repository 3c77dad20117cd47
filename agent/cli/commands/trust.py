"""`ml-intern trust`, and what a launch does in a folder that is not trusted.

A checkout's own `configs/*.json`, `.env`, `AGENTS.md`, skills and commands count only in
a trusted folder (agent/trust.py). Headless runs never ask: the files are ignored with one notice.
The chat asks once per launch, showing what the files would do, and only when they
would change anything.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

from agent import trust
from agent.cli.app import make_app
from agent.cli.visible import quoted
from agent.errors import UsageError

app = make_app(
    "Trust a folder: its own configs/, .env, AGENTS.md, CLAUDE.md, skills and commands then "
    "count, also in folders below it."
)

ENDPOINT_KEYS = ("api_base", "hf_endpoint", "github_api_url", "sandbox_url_template")
APPROVAL_KEYS = ("yolo", "approval_mode", "approval", "sandbox", "allow_network")
DATA_KEYS = ("messaging", "share_traces", "traces_repo", "traces_private", "jobs_pass_hf_token")
UNREADABLE = "cannot be read as a JSON settings file"


@app.command()
def trust_command(
    folder: Annotated[
        Path | None,
        typer.Argument(
            metavar="DIR",
            help="Folder to trust (default: the project root: the top of the git checkout "
            "you are in, or the working directory).",
            show_default=False,
        ),
    ] = None,
    list_: Annotated[bool, typer.Option("--list", "-l", help="List the trusted folders.")] = False,
    remove: Annotated[
        Path | None, typer.Option("--remove", metavar="DIR", help="Stop trusting DIR.")
    ] = None,
) -> None:
    """Trust a folder, list the trusted ones, or remove one."""
    if sum((folder is not None, list_, remove is not None)) > 1:
        raise UsageError("give one of: a folder, --list, --remove DIR")
    if list_:
        folders = trust.trusted_folders()
        typer.echo("\n".join(quoted(str(f)) for f in folders) if folders else "No trusted folders.")
    elif remove is not None:
        _remove(remove)
    else:
        target = folder if folder is not None else trust.project_root(Path.cwd())
        if not target.expanduser().is_dir():
            raise UsageError(f"{target}: not a folder")
        recorded = trust.add_trusted(target)
        counted = (
            "its configs/, .env, AGENTS.md, CLAUDE.md, skills and commands now count "
            "(also below it)"
        )
        typer.echo(f"Trusted {quoted(str(recorded))}: {counted}.")


def _remove(folder: Path) -> None:
    if trust.remove_trusted(folder):
        typer.echo(f"No longer trusted: {quoted(str(folder.expanduser().resolve()))}")
        return
    if (via := trust.trusted_by(folder.expanduser())) is not None:
        raise UsageError(
            f"{folder} is trusted because {via} is; remove that: ml-intern trust --remove {via}"
        )
    raise UsageError(f"{folder} is not a trusted folder (see: ml-intern trust --list)")


@dataclass(frozen=True)
class Look:
    """What an ignored file would do (one line each; none: it would change nothing), and
    what the notice adds to its name (the variables a .env sets, or the size of a file
    too large to read)."""

    effects: list[str]
    note: str = ""


def settle_trust(cwd: Path, *, ask: bool) -> None:
    """Before settings load: the chat may trust the folder now; otherwise one notice
    names what is ignored. Files that would change nothing are not mentioned. Then a line
    for each honoured AGENTS.md that is not passed on whole."""
    honoured, ignored = trust.split_by_trust(trust.project_files(cwd))
    looks = {f: look_at(f) for f in ignored}
    ignored = [f for f in ignored if looks[f].effects]
    extensions = extension_effects(cwd) if ask else {}  # headless: the catalogs say it
    if ignored or extensions:
        # the outermost: trusting it covers every file found
        folder = ignored[0].folder if ignored else trust.project_root(cwd)
        if ask and _asked_to_trust(ignored, looks, extensions, folder, cwd):
            typer.echo(f"Trusted {quoted(str(trust.add_trusted(folder)))}.")
            honoured += ignored
        elif ignored:
            typer.echo(notice(ignored, looks, folder, cwd), err=True)
    for file in honoured:
        if file.is_instructions and (cut := _not_whole(file)):
            typer.echo(quoted(f"ml-intern: {_shown(file.path, cwd)} {cut}"), err=True)


def notice(
    ignored: list[trust.ProjectFile], looks: dict[trust.ProjectFile, Look], folder: Path, cwd: Path
) -> str:
    """The one line that says what was ignored and how to use it; what it quotes from the
    project (paths, variable names) has its control characters spelled out."""
    names = []
    for file in ignored:
        note = looks[file].note
        names.append(_shown(file.path, cwd) + (f" ({note})" if note else ""))
    return quoted(
        f"ml-intern: ignored the project settings in {', '.join(names)}: this folder is not "
        f"trusted. To use them: ml-intern trust {shlex.quote(str(folder))}"
    )


def look_at(file: trust.ProjectFile) -> Look:
    """What the file would do, judged by its name and size alone when it is too large to
    be a real settings file: a file that will not be used is never read whole."""
    if file.is_instructions:
        return _look_at_instructions(file)
    try:
        text = trust.small_text(file.path)
    except (OSError, UnicodeDecodeError):
        # an untrusted file is ignored anyway, and a broken one must not stop the launch
        return Look([] if file.is_dotenv else [UNREADABLE])
    if text is None:
        size = trust.human_size(file.path.stat().st_size)
        return Look([f"is {size}: too large to tell what it would do"], f"{size}, not read")
    if file.is_dotenv:
        names = _dotenv_names(text)
        effects = [f"sets environment variables: {', '.join(names)}"] if names else []
        return Look(effects, ", ".join(names))
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return Look([UNREADABLE])
    if not isinstance(data, dict):
        return Look(["is not a JSON object"])
    if file.is_claude_settings:  # only its hooks are read
        return Look(describe_config({"hooks": data["hooks"]}) if data.get("hooks") else [])
    return Look(describe_config(data))


def _look_at_instructions(file: trust.ProjectFile) -> Look:
    """Instructions for the model, judged by their size: an empty file, or a link out of
    the project (never followed), would change nothing."""
    if file.inside_project() is None:
        return Look([])
    from agent.extensions.memory import INSTRUCTIONS_MAX_BYTES

    size = file.path.stat().st_size
    if not size:
        return Look([])
    cut = f": only its first {trust.human_size(INSTRUCTIONS_MAX_BYTES)} would be used"
    shown = trust.human_size(size) + (cut if size > INSTRUCTIONS_MAX_BYTES else "")
    return Look([f"gives the model instructions ({shown})"])


def _not_whole(file: trust.ProjectFile) -> str:
    """Why the model will not get all of an instructions file, if it will not."""
    from agent.extensions.memory import INSTRUCTIONS_MAX_BYTES

    if (target := file.inside_project()) is None:
        return f"links outside the project, to {file.path.resolve()}: not read"
    if (size := target.stat().st_size) > INSTRUCTIONS_MAX_BYTES:
        kept = trust.human_size(INSTRUCTIONS_MAX_BYTES)
        return f"is {trust.human_size(size)}: only its first {kept} go to the model"
    return ""


def describe_config(data: dict[str, Any]) -> list[str]:
    """Processes it would start, hosts it would contact, approval it would loosen, the rest."""
    lines: list[str] = []
    others: list[str] = []
    for key, value in data.items():
        if key in ("mcpServers", "mcp_servers") and isinstance(value, dict):
            lines += [_server_effect(name, entry) for name, entry in value.items()]
        elif key == "hooks":
            from agent.extensions.hooks.catalog import hook_commands

            lines += [f"runs `{command}` ({event} hook)" for event, command in hook_commands(value)]
        elif key in ENDPOINT_KEYS or key.endswith("_url"):
            lines.append(f"sends requests to {value} ({key})")
        elif key in APPROVAL_KEYS:
            lines.append(f"approval: {key} = {json.dumps(value)}")
        elif key in DATA_KEYS:
            lines.append(f"where your data goes: {key}")
        else:
            others.append(key)
    if others:
        lines.append(f"also sets: {', '.join(others)}")
    return lines


def _server_effect(name: str, entry: Any) -> str:
    if not isinstance(entry, dict) or entry.get("enabled") is False:
        return f"changes MCP server '{name}'"
    if command := entry.get("command"):
        args: list[Any] = entry["args"] if isinstance(entry.get("args"), list) else []
        return f"starts `{shlex.join(map(str, [command, *args]))}` (MCP server '{name}')"
    if url := entry.get("url"):
        return f"connects to {url} (MCP server '{name}')"
    return f"changes MCP server '{name}'"


def extension_effects(cwd: Path) -> dict[Path, list[str]]:
    """The project's skill and command folders that count only once it is trusted, with
    what each would add (names only: nothing is parsed for a question)."""
    from agent.extensions.discovery import find_roots
    from agent.wording import counted

    effects: dict[Path, list[str]] = {}
    for root in find_roots("skills", cwd, []).skipped:
        names = sorted(p.parent.name for p in root.path.glob("*/SKILL.md"))
        if names:
            effects[root.path] = [f"gives the model {counted(len(names), 'skill')}: {_few(names)}"]
    for root in find_roots("commands", cwd, []).skipped:
        paths = sorted(root.path.rglob("*.md"))
        names = ["/" + ":".join(p.relative_to(root.path).with_suffix("").parts) for p in paths]
        if names:
            what = counted(len(names), "slash command")
            effects[root.path] = [f"adds {what}, sent to the model when typed: {_few(names)}"]
    return effects


def _few(names: list[str], shown: int = 8) -> str:
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more


def _asked_to_trust(
    ignored: list[trust.ProjectFile],
    looks: dict[trust.ProjectFile, Look],
    extensions: dict[Path, list[str]],
    folder: Path,
    cwd: Path,
) -> bool:
    """Show what the files would do and ask: trust, or not now (asked again next launch).
    Every line quotes the project, so each has its control characters spelled out: a
    command must not be able to erase itself from the screen."""
    import asyncio

    from prompt_toolkit import PromptSession

    from agent.cli.chat.input_prompts import ask_once, one_key

    typer.echo("This folder has settings of its own, ignored until you trust it:")
    for file in ignored:
        typer.echo(f"  {quoted(_shown(file.path, cwd))}")
        for line in looks[file].effects:
            typer.echo(f"    {quoted(line)}")
    for path, lines in extensions.items():
        typer.echo(f"  {quoted(_shown(path, cwd))}/")
        for line in lines:
            typer.echo(f"    {quoted(line)}")
    _drop_typed_ahead()  # a key pressed before the question showed is no answer to it
    session: PromptSession[str] = PromptSession(
        key_bindings=one_key({"t": "trust", "n": "not now"})
    )
    question = f"Trust {quoted(str(folder))}? [t]rust  [n]ot now › "
    answer = asyncio.run(ask_once(session, question))
    if answer is None:
        raise KeyboardInterrupt
    return answer == "t"


def _drop_typed_ahead() -> None:
    import termios

    with contextlib.suppress(OSError, ValueError, termios.error):
        termios.tcflush(sys.stdin.fileno(), termios.TCIFLUSH)


def _dotenv_names(text: str) -> list[str]:
    """The variables a .env sets (never their values)."""
    from dotenv import dotenv_values

    return [name for name in dotenv_values(stream=io.StringIO(text)) if name]


def _shown(path: Path, cwd: Path) -> str:
    cwd = cwd.resolve()
    return os.path.relpath(path, cwd) if cwd in path.parents else str(path)
