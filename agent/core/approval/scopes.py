"""What an "always" answer allows: the scope offered for a call, the scopes kept in
`approval.always_allow`, and whether a later call is covered by one.
"""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path
from typing import Any

from agent.core.approval.destructive import segments_reason
from agent.core.approval.policy import FILE_TOOLS
from agent.core.approval.shell_words import (
    SHELLS,
    STATE_BUILTINS,
    SUBSTITUTION,
    Segment,
    command_words,
    plain,
    split_segments,
)
from agent.tools.local.files import resolve_path

# What an "always" prefix may be extended by (nothing the shell expands or splits),
# where a covered command may send output, and `set` options that change no meaning.
SAFE_EXTENSION = re.compile(r"[A-Za-z0-9_@%+=:,./-]+")
HARMLESS_TARGET = re.compile(r"\d+|-|/dev/null")
SET_HARMLESS = re.compile(r"[-+][euxo]+|pipefail|errexit|nounset|xtrace")


def always_scope(name: str, args: dict[str, Any], cwd: Path) -> str:
    """What answering "always" to this call allows for the rest of the session; "" when
    no scope narrow enough can be named, and "always" is not offered.

    Never a whole tool that can do harm: a bash command prefix (`bash: rm -rf ./build*`,
    the star extending the last word only), or a directory for file changes
    (`edits in src/`); other tools by name. No prefix is offered for a command whose
    words depend on anything but their letters (expansions, globs, redirections, what
    the line did before), nor one whose last word is a directory as wide as `.`, `..`,
    `/` or `~`; no folder as wide as `/` or the home folder.
    """
    if name == "bash":
        command = str(args.get("command") or "")
        segments = split_segments(command)
        if not segments:
            return f"bash: {command.strip()}"
        if not _scopes_apply(command, segments, cwd):
            return ""
        asking = [s for s in segments if segments_reason([s])] or segments
        words = asking[0].words
        if not _coverable(asking[0], cwd) or _wide(words[-1]):
            return ""
        return f"bash: {shlex.join(words)}*"
    if name in FILE_TOOLS and isinstance(args.get("path"), str) and args["path"]:
        folder = resolve_path(args["path"], cwd).parent
        home = Path.home().resolve()
        if folder == home or folder in home.parents:
            return ""
        root = cwd.resolve()
        shown = str(folder.relative_to(root)) if folder.is_relative_to(root) else str(folder)
        return "edits in ./" if shown == "." else f"edits in {shown.rstrip('/')}/"
    return f"tool: {name}"


def configured_scopes(saved: list[str], project_root: Path) -> set[str]:
    """`approval.always_allow` as session scopes: folders there are the project's
    (taken as written: a folder that turns out to be a symlink covers nothing)."""
    scopes = set()
    for scope in saved:
        if scope.startswith("edits in "):
            folder = os.path.normpath(project_root.resolve() / scope[len("edits in ") :])
            scope = f"edits in {folder.rstrip('/')}/"
        scopes.add(scope)
    return scopes


def scope_to_save(scope: str, cwd: Path, project_root: Path) -> str:
    """A session scope as `approval.always_allow` keeps it: folders relative to the
    project root where they are inside it."""
    if not scope.startswith("edits in "):
        return scope
    folder = (cwd / scope[len("edits in ") :]).resolve()
    root = project_root.resolve()
    if not folder.is_relative_to(root):
        return f"edits in {str(folder).rstrip('/')}/"
    inside = str(folder.relative_to(root))
    return "edits in ./" if inside == "." else f"edits in {inside}/"


def allowed_always(
    name: str, args: dict[str, Any], scopes: set[str], cwd: Path, every_part: bool = False
) -> bool:
    """Whether an earlier "always" answer covers this call.

    A bash command is covered when each part that would ask (each part at all with
    `every_part`, as under approval.bash_always_ask) extends an allowed prefix; a file
    change when the path, as written and as it resolves, stays in an allowed folder.
    """
    if not scopes:
        return False
    if name == "bash":
        return _command_allowed(str(args.get("command") or ""), scopes, cwd, every_part)
    if name in FILE_TOOLS and isinstance(args.get("path"), str) and args["path"]:
        root = cwd.resolve()
        written = Path(os.path.normpath(root / Path(args["path"]).expanduser()))
        target = resolve_path(args["path"], cwd)
        for scope in scopes:
            if scope.startswith("edits in "):
                folder = Path(os.path.normpath(root / scope[len("edits in ") :]))
                inside = written.is_relative_to(folder) and target.is_relative_to(folder)
                if inside and folder.resolve() == folder:
                    return True
        return False
    return f"tool: {name}" in scopes


def words_allowed(
    command: str, rules: list[tuple[list[str], bool]], cwd: Path, every_part: bool = False
) -> bool:
    """Whether each part of `command` that would ask (each part at all with `every_part`)
    starts with the words of a rule, any arguments after them (exactly them when the
    rule says so): Claude Code's `Bash(git status:*)` and `Bash(npm test)`. The same care
    as for a saved prefix: nothing expands, redirects or changes what later parts mean."""
    segments = split_segments(command)
    if not segments or not _scopes_apply(command, segments, cwd):
        return False
    asking = [s for s in segments if every_part or segments_reason([s])]
    return bool(asking) and all(
        _coverable(s, cwd)
        and any(s.words[: len(w)] == w and (not exact or s.words == w) for w, exact in rules if w)
        for s in asking
    )


def _command_allowed(command: str, scopes: set[str], cwd: Path, every_part: bool) -> bool:
    segments = split_segments(command)
    if not segments:
        return f"bash: {command.strip()}" in scopes
    prefixes = []
    for scope in scopes:
        if scope.startswith("bash: ") and scope.endswith("*"):
            try:
                prefixes.append(shlex.split(scope[len("bash: ") : -1]))
            except ValueError:
                continue
    if not _scopes_apply(command, segments, cwd):
        return False
    asking = [s for s in segments if every_part or segments_reason([s])]
    # nothing asks on its own: the line as a whole does (`bash <(curl ...)`), no prefix fits
    return bool(asking) and all(
        _coverable(s, cwd) and any(_extends(s.words, p) for p in prefixes if p) for s in asking
    )


def _scopes_apply(command: str, segments: list[Segment], cwd: Path) -> bool:
    """Whether a prefix means here what it meant when allowed: no substitution whose
    output joins a word (`./build$(...)`, ``./build`...` ``), and nothing in the line
    that changes the folder, variables, aliases or functions a later part sees."""
    return not SUBSTITUTION.search(command) and not any(
        _changes_state(s.words, cwd) for s in segments
    )


def _changes_state(words: list[str], cwd: Path) -> bool:
    run = command_words(words)
    if not run:
        return bool(words)  # only assignments: variables for the rest of the line
    if run[0] == "cd" and len(run) == 2 and plain(run[1]):
        return (cwd / run[1]).resolve() != cwd.resolve()  # `cd <this folder>` is no change
    if run[0] == "set":
        return not all(SET_HARMLESS.fullmatch(w) for w in run[1:])
    return run[0] in STATE_BUILTINS


def _coverable(segment: Segment, cwd: Path) -> bool:
    """Whether the words of a part say all it does, so a prefix of them can stand for
    it: nothing expands, no path leaves through a symlink, no input from a file, a
    here-document or a pipe into a shell, no words from input (xargs), output only to
    other descriptors or /dev/null."""
    words = segment.words
    run = command_words(words)
    if segment.heredoc or segment.inputs or "xargs" in words or "parallel" in words:
        return False
    if segment.piped and run and run[0] in SHELLS:
        return False
    if not all(HARMLESS_TARGET.fullmatch(t) for t in segment.targets):
        return False
    return bool(words) and all(plain(w) and not _through_symlink(w, cwd) for w in words)


def _through_symlink(word: str, cwd: Path) -> bool:
    """Whether the word, read as a path, goes through a symlink (and may lead anywhere)."""
    lexical = os.path.normpath(cwd.resolve() / word)
    return os.path.realpath(lexical) != lexical


def _wide(word: str) -> bool:
    """A word like `.`, `..`, `/`, `~`, `./` or `../..`: extended, it could name anything."""
    return set(word) <= set("./~")


def _extends(words: list[str], prefix: list[str]) -> bool:
    """`words` are the prefix with its last word extended, never with a word added, and
    the extension names nothing outside it: plain letters, no `..`; a last word as wide
    as `.`, `/` or `~` is not extended at all."""
    if len(words) != len(prefix) or words[:-1] != prefix[:-1]:
        return False
    last, given = prefix[-1], words[-1]
    extension = given[len(last) :]
    if not given.startswith(last) or not extension:
        return given == last
    if _wide(last):
        return False
    return bool(SAFE_EXTENSION.fullmatch(extension)) and ".." not in last[-1:] + extension
