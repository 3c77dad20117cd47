"""Memory: the standing instructions sent with every request (AGENTS.md and its kin).

The user's own `<config dir>/AGENTS.md` comes first; then the project's AGENTS.md,
CLAUDE.md and ML_INTERN.md at every level from the git root down to the working
directory, so the nearest file is read last and has the last word. The project's files
count only in a trusted folder (agent/trust.py): a cloned repository must not speak to
the model in the user's name.

A memory file may pull in another with `@relative/path.md`, as Claude Code's do. An
import is resolved from the importing file's folder and must stay inside the project
(inside the config dir for the user's file), links followed; imports nest at most
MAX_DEPTH deep and a file is read once, so a cycle ends where it closes. Whatever is
left out is kept with the reason, for `/memory` to show.

All the files together are capped (`memory.max_bytes`, 40 kB, about 10k tokens, by
default): they go with every request, so files past the cap are left out, and said.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

from agent import trust
from agent.paths import config_home

log = logging.getLogger(__name__)
USER_FILE = "AGENTS.md"
INSTRUCTIONS_MAX_BYTES = 32 * 1024  # per file: a page of guidance, not a manual
DEFAULT_MAX_BYTES = 40_000  # all files together, about 10k tokens (memory.max_bytes)
NO_SUCH_FILE = "no such file"
MAX_DEPTH = 5  # imports of imports, as deep as Claude Code follows them
# `@path` at the start of a line or after a space; a word with a slash or an extension.
_IMPORT = re.compile(r"(?<!\S)@([\w./-]*[\w-](?:/[\w.-]*[\w-]|\.\w+))")
_CODE = re.compile(r"^(```|~~~).*?^\1[^\n]*$|`[^`\n]*`", re.MULTILINE | re.DOTALL)


@dataclass(frozen=True)
class MemoryFile:
    """One file whose text reaches the model."""

    path: Path
    text: str
    source: str  # "user" or "project"
    imported_by: Path | None = None


@dataclass(frozen=True)
class Skipped:
    """A file that was found, or asked for, and left out."""

    path: Path
    why: str
    imported_by: Path | None = None


@dataclass
class Memory:
    files: list[MemoryFile] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)  # for the person, once at launch


def load_memory(cwd: Path, enabled: bool = True, max_bytes: int = DEFAULT_MAX_BYTES) -> Memory:
    """The user's file, then the project's from the git root down to `cwd`, each followed
    by what it imports, as long as they fit in `max_bytes` together. `enabled=False`
    (--safe-mode) reads nothing."""
    memory = _load(cwd) if enabled else Memory()
    _cap(memory, max_bytes)
    return memory


def _cap(memory: Memory, max_bytes: int) -> None:
    """Leave out the files past `max_bytes` in all (the cap stands for a share of every
    request), saying which."""
    total = 0
    for index, file in enumerate(memory.files):
        total += len(file.text.encode())
        if total > max_bytes:
            cut, memory.files = memory.files[index:], memory.files[:index]
            break
    else:
        return
    limit = trust.human_size(max_bytes)
    why = f"past memory.max_bytes ({limit} for all memory files together)"
    memory.skipped += [Skipped(f.path, why, f.imported_by) for f in cut]
    names = ", ".join(str(f.path) for f in cut)
    memory.notices.append(
        f"Memory files past memory.max_bytes ({limit} in all) are left out: {names}. "
        "Shorten them, or raise memory.max_bytes in the config."
    )


def _load(cwd: Path) -> Memory:
    memory = Memory()
    seen: set[Path] = set()
    user = config_home() / USER_FILE
    if user.is_file():
        _add(memory, seen, user, user.resolve(), "user", config_home().resolve())
    found = [f for f in trust.project_files(cwd) if f.is_instructions]
    honoured, ignored = trust.split_by_trust(found)
    memory.skipped += [Skipped(f.path, "this folder is not trusted") for f in ignored]
    for file in honoured:
        target = file.inside_project()
        if target is None:
            memory.skipped.append(Skipped(file.path, "it links outside the project"))
            log.warning("%s links outside the project: not read", file.path)
        elif target not in seen:  # CLAUDE.md linked to AGENTS.md is read once
            _add(memory, seen, file.path, target, "project", trust.project_root(file.folder))
    return memory


def _add(
    memory: Memory, seen: set[Path], path: Path, target: Path, source: str, base: Path
) -> None:
    """`path` and its imports, depth first, each file once."""
    stack: list[tuple[Path, Path, Path | None, int]] = [(path, target, None, 0)]
    while stack:
        shown, resolved, importer, depth = stack.pop()
        seen.add(resolved)
        text = instructions(shown)
        if text is None:
            memory.skipped.append(Skipped(shown, "it cannot be read as text"))
            continue
        memory.files.append(MemoryFile(shown, text, source, importer))
        found = []
        for name in imports(text):
            wanted = shown.parent / name
            why, next_target = _check_import(wanted, base, seen, depth + 1)
            if why:
                if why != "read already":
                    memory.skipped.append(Skipped(wanted, why, shown))
                continue
            seen.add(next_target)
            found.append((wanted, next_target, shown, depth + 1))
        stack.extend(reversed(found))


def imported_files(files: list[Path]) -> list[Path]:
    """Every file these memory files import, at any depth (resolved), their folder
    trusted or not, and those they name that do not exist (yet): it takes effect at the
    next launch like the files themselves, so the sandbox keeps it read-only and does
    not let it be created."""
    memory, seen = Memory(), set[Path]()
    for path in files:
        target = path.resolve()
        if target not in seen:
            _add(memory, seen, path, target, "project", trust.project_root(path.parent))
    found = [f.path for f in memory.files if f.imported_by is not None]
    found += [s.path for s in memory.skipped if s.why == NO_SUCH_FILE]
    return sorted({path.resolve() for path in found})


def _check_import(wanted: Path, base: Path, seen: set[Path], depth: int) -> tuple[str, Path]:
    """("", the resolved path) for an import to read, else (why not, the path)."""
    try:
        target = wanted.resolve()
    except OSError as exc:
        return f"it cannot be resolved ({exc.strerror})", wanted
    if depth > MAX_DEPTH:
        return f"imports nest more than {MAX_DEPTH} deep", target
    if target != base and base not in target.parents:
        return f"it is outside {base}", target
    if target in seen:
        return "read already", target
    if not target.is_file():
        return NO_SUCH_FILE, target
    return "", target


def imports(text: str) -> list[str]:
    """The `@path` imports in Markdown text, in order; code blocks and spans are skipped
    (a decorator in an example is no import), and so is an e-mail address."""
    return list(dict.fromkeys(m.group(1) for m in _IMPORT.finditer(prose(text))))


def prose(text: str) -> str:
    """Markdown text with its code blocks and code spans blanked out."""
    return _CODE.sub(" ", text)


def instructions(path: Path) -> str | None:
    """The file's text, cut after INSTRUCTIONS_MAX_BYTES with a line that says so; None
    when it cannot be read or is not text."""
    try:
        with path.open("rb") as file:
            data = file.read(INSTRUCTIONS_MAX_BYTES + 1)
            size = max(path.stat().st_size, len(data))
    except OSError as exc:
        log.warning("%s: cannot read the instructions (%s)", path, exc)
        return None
    if b"\x00" in data:
        return None
    if len(data) <= INSTRUCTIONS_MAX_BYTES:
        return data.decode("utf-8", errors="replace").strip()
    kept = data[:INSTRUCTIONS_MAX_BYTES]
    kept = kept[: kept.rfind(b"\n") + 1] or kept  # whole lines where there are any
    shown, total = trust.human_size(INSTRUCTIONS_MAX_BYTES), trust.human_size(size)
    note = f"[Cut: only the first {shown} of its {total} are here; read {path} for the rest.]"
    return kept.decode("utf-8", errors="ignore").strip() + "\n" + note


def memory_section(memory: Memory) -> str:
    """The files as sections of the system prompt, each headed by where it comes from."""
    parts = []
    for file in memory.files:
        kind = "Your instructions" if file.source == "user" else "Project instructions"
        via = f", imported by {file.imported_by}" if file.imported_by else ""
        if file.text:
            parts.append(f"\n\n# {kind} ({file.path}{via})\n{file.text}")
    return "".join(parts)
