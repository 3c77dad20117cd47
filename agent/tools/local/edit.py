"""edit: replace a piece of a file the model has read.

An exact match is tried first. Models often get indentation or trailing spaces
slightly wrong, so a match that differs only in whitespace, line by line, is
accepted next, and the new text is re-indented to fit the file. Anything else
fails with the closest lines of the file, so the next try can succeed.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from agent.atomic import write_at
from agent.tools.local.checkpoints import checkpoint
from agent.tools.local.files import (
    SNIFF_BYTES,
    check_regular_file,
    check_writable,
    mark_read,
    refuse_binary,
    resolve_path,
    syntax_note,
)
from agent.tools.local.roots import check_sandboxed_write
from agent.tools.local.safe_open import folder_of, read_current, refusing_links, root_for
from agent.tools.router import cap_output
from agent.tools.spec import ToolContext, ToolError, ToolResult

DIFF_CHARS = 4000
_NUMBER_PREFIX = re.compile(r"^\s*\d+\t", re.MULTILINE)

Mode = Literal["replace", "append_after", "prepend_before"]


class EditArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str = Field(
        description="The file to edit; relative paths start at the working directory."
    )
    old_str: str = Field(
        description="The text to find, copied exactly from the file (without the line-number "
        "prefixes read shows). Include enough surrounding lines to make it unique."
    )
    new_str: str = Field(description="The text to put in its place (empty to delete it).")
    replace_all: bool = Field(
        False, description="Change every occurrence instead of requiring exactly one."
    )
    mode: Mode = Field(
        "replace",
        description="replace (default) swaps old_str for new_str; append_after inserts new_str "
        "right after old_str; prepend_before inserts it right before. old_str is kept in both.",
    )


@dataclass
class Hit:
    start: int
    end: int
    line: int
    loose: bool = False


def _norm(line: str) -> str:
    return " ".join(line.split())


def _line_starts(lines: list[str]) -> list[int]:
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))
    return starts


def _trimmed(old: str) -> list[str]:
    """old_str's lines without blank lines at either end."""
    lines = old.splitlines()
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    return lines


def exact_hits(text: str, old: str) -> list[Hit]:
    hits: list[Hit] = []
    pos = text.find(old)
    while pos != -1:
        hits.append(Hit(pos, pos + len(old), text.count("\n", 0, pos) + 1))
        pos = text.find(old, pos + len(old))
    return hits


def loose_hits(text: str, old: str) -> list[Hit]:
    """Whole-line matches where only the whitespace differs."""
    want = [_norm(x) for x in _trimmed(old)]
    if not want:
        return []
    lines = text.splitlines(keepends=True)
    norms = [_norm(x) for x in lines]
    starts = _line_starts(lines)
    hits: list[Hit] = []
    i = 0
    while i <= len(lines) - len(want):
        if norms[i : i + len(want)] == want:
            hits.append(Hit(starts[i], starts[i + len(want)], i + 1, loose=True))
            i += len(want)
        else:
            i += 1
    return hits


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def _reindent(new: str, old: str, found: str) -> str:
    """new_str moved from old_str's indentation to the one found in the file."""
    old_lines, found_lines = _trimmed(old), _trimmed(found)
    old_indent = _indent(old_lines[0]) if old_lines else ""
    file_indent = _indent(found_lines[0]) if found_lines else ""
    out = []
    for line in new.splitlines():
        if not line.strip():
            out.append("")
        elif line.startswith(old_indent):
            out.append(file_indent + line[len(old_indent) :])
        else:
            out.append(file_indent + line.lstrip())
    text = "\n".join(out)
    return text + "\n" if found.endswith("\n") and text else text


def _replacement(found: str, hit: Hit, args: EditArgs) -> str:
    new = _reindent(args.new_str, args.old_str, found) if hit.loose else args.new_str
    if args.mode == "append_after":
        return found + new
    if args.mode == "prepend_before":
        return new + found
    return new


def closest(text: str, old: str, count: int = 2) -> list[tuple[int, int, float]]:
    """The file's windows most like old_str: (first line, last line, similarity)."""
    want = [_norm(x) for x in _trimmed(old)]
    norms = [_norm(x) for x in text.splitlines()]
    if not want or not norms:
        return []
    first = difflib.SequenceMatcher(autojunk=False)
    first.set_seq2(want[0])
    scored = []
    for i, line in enumerate(norms):
        first.set_seq1(line)
        if first.real_quick_ratio() > 0.4 and first.quick_ratio() > 0.4:
            scored.append((first.ratio(), i))
    target = "\n".join(want)
    windows = []
    for _, i in sorted(scored, reverse=True)[:8]:
        window = "\n".join(norms[i : i + len(want)])
        ratio = difflib.SequenceMatcher(None, target, window, autojunk=False).ratio()
        if ratio >= 0.5:
            windows.append((ratio, i))
    windows.sort(reverse=True)
    return [(i + 1, min(i + len(want), len(norms)), r) for r, i in windows[:count]]


def _not_found(path: Path, text: str, old: str) -> ToolError:
    lines = text.splitlines()
    parts = [f"old_str was not found in {path}."]
    if _NUMBER_PREFIX.search(old):
        parts.append("It seems to contain line-number prefixes from read; leave them out.")
    for first, last, ratio in closest(text, old):
        parts.append(f"Closest match, lines {first}-{last} ({ratio:.0%} similar):")
        parts.extend(f"{n:>6}\t{lines[n - 1]}" for n in range(first, last + 1))
    if len(parts) == 1:
        parts.append("Nothing similar either: read the file again to see its current content.")
    else:
        parts.append("Copy the text exactly from the file and try again.")
    return ToolError("\n".join(parts))


def find_hits(path: Path, text: str, args: EditArgs) -> list[Hit]:
    """Where to edit, or a ToolError that tells the model how to do better."""
    hits = exact_hits(text, args.old_str) or loose_hits(text, args.old_str)
    if not hits:
        raise _not_found(path, text, args.old_str)
    if len(hits) > 1 and not args.replace_all:
        where = ", ".join(str(h.line) for h in hits[:20])
        raise ToolError(
            f"old_str occurs {len(hits)} times in {path} (at lines {where}). Include more "
            "surrounding lines to make it unique, or set replace_all=true to change them all."
        )
    return hits


def apply(text: str, hits: list[Hit], args: EditArgs) -> str:
    pieces, pos = [], 0
    for hit in hits:
        found = text[hit.start : hit.end]
        pieces += [text[pos : hit.start], _replacement(found, hit, args)]
        pos = hit.end
    pieces.append(text[pos:])
    return "".join(pieces)


def short_diff(before: str, after: str, label: str) -> str:
    diff = difflib.unified_diff(
        before.splitlines(keepends=True),
        after.splitlines(keepends=True),
        fromfile=f"a/{label}",
        tofile=f"b/{label}",
    )
    lines = [x if x.endswith("\n") else x + "\n\\ No newline at end of file\n" for x in diff]
    return cap_output("".join(lines), DIFF_CHARS)


def _label(path: Path, cwd: Path) -> str:
    try:
        return str(path.relative_to(cwd.resolve()))
    except ValueError:
        return str(path)


async def edit(args: EditArgs, ctx: ToolContext) -> ToolResult:
    if not args.old_str:
        raise ToolError(
            "old_str is empty: to create a file use write; to insert text, put a "
            "neighbouring line in old_str and use mode=append_after."
        )
    if args.old_str == args.new_str and args.mode == "replace":
        raise ToolError("old_str and new_str are the same: nothing to change.")
    path = resolve_path(args.path, ctx.cwd)
    check_sandboxed_write(path, ctx)
    check_regular_file(path)
    buffer = await ctx.files.read_text(path) if ctx.files and path.is_file() else None
    with refusing_links():
        root = root_for(path, ctx)
        current = read_current(path, root)
        if current is None:
            raise ToolError(f"File not found: {path}. To create a file use write.")
        refuse_binary(current[0][:SNIFF_BYTES], path, len(current[0]))
        check_writable(ctx, path, "edit")
        before = current[0].decode("utf-8", errors="surrogateescape") if buffer is None else buffer
        hits = find_hits(path, before, args)
        after = apply(before, hits, args)
        checkpoint(ctx, path, root)
        written = None
        if ctx.files is None:
            with folder_of(path, root) as dir_fd:
                written = write_at(dir_fd, path.name, after.encode("utf-8", "surrogateescape"))
    if ctx.files is not None:
        await ctx.files.write_text(path, after)
    mark_read(ctx, path, written)
    diff = short_diff(before, after, _label(path, ctx.cwd))
    count = f"{len(hits)} replacement{'s' if len(hits) > 1 else ''}"
    loose = " (matched ignoring whitespace differences)" if hits[0].loose else ""
    note = syntax_note(path, after)
    return ToolResult(
        f"Edited {path}: {count}{loose}{note}\n{diff}",
        data={"path": str(path), "diff": diff},
    )
