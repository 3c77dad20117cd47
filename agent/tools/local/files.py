"""read and write on the user's machine, plus what edit shares with them.

The model must read a file before it overwrites or edits it, and the file must
not have changed on disk since: that keeps it from clobbering work it has not
seen, its own earlier edits included.
"""

from __future__ import annotations

import asyncio
import codecs
import difflib
import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from agent.atomic import write_at
from agent.paths import not_a_file
from agent.tools.local.checkpoints import checkpoint
from agent.tools.local.paging import CHUNK, Page, page_of_lines, read_page
from agent.tools.local.roots import check_sandboxed_write
from agent.tools.local.safe_open import folder_of, read_current, refusing_links, root_for
from agent.tools.router import cap_output
from agent.tools.spec import ToolContext, ToolError, ToolResult

READ_STATE = "local.read"
STAMP_STATE = "local.read_stamp"
DEFAULT_LIMIT = 2000
SNIFF_BYTES = 8192
NOTEBOOK_BYTES = 64 * 1024 * 1024  # larger notebooks are paged as raw JSON
_TORCH_SUFFIXES = (".pt", ".pth", ".ckpt", ".bin")

_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "PNG image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"GIF8", "GIF image"),
    (b"%PDF", "PDF document"),
    (b"PK\x03\x04", "ZIP archive"),
    (b"\x7fELF", "ELF executable"),
    (b"\x1f\x8b", "gzip archive"),
    (b"BZh", "bzip2 archive"),
    (b"\xfd7zXZ\x00", "xz archive"),
    (b"PAR1", "Parquet file"),
    (b"\x93NUMPY", "NumPy array"),
    (b"\x89HDF\r\n\x1a\n", "HDF5 file"),
    (b"GGUF", "GGUF model"),
    (b"ARROW1", "Arrow file"),
    (b"SQLite format 3\x00", "SQLite database"),
    (b"RIFF", "RIFF media file (WAV, AVI or WebP)"),
    (b"OggS", "Ogg media file"),
    (b"fLaC", "FLAC audio"),
    (b"MZ", "Windows executable"),
)
_ZIP_BY_SUFFIX = {  # formats that are ZIP archives inside
    **dict.fromkeys(_TORCH_SUFFIXES, "PyTorch checkpoint"),
    ".npz": "NumPy archive",
    ".whl": "Python wheel (ZIP archive)",
    ".docx": "Word document",
    ".xlsx": "Excel workbook",
}


class ReadArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str = Field(
        description="The file to read; relative paths start at the working directory."
    )
    offset: int | None = Field(
        None, description="First line to show (1-based). Give it to page through long files."
    )
    limit: int | None = Field(
        None, ge=1, description=f"How many lines to show (default {DEFAULT_LIMIT})."
    )


class WriteArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str = Field(
        description="The file to write; relative paths start at the working directory."
    )
    content: str = Field(description="The complete new content of the file.")


def resolve_path(path: str, cwd: Path) -> Path:
    """An absolute, symlink-free path: `~` expanded, relative paths taken from `cwd`."""
    candidate = Path(path).expanduser()
    try:
        return (candidate if candidate.is_absolute() else cwd / candidate).resolve()
    except OSError as exc:  # a link replaced while it was being followed, a loop
        raise ToolError(f"Cannot resolve {path}: {exc.strerror}; try again.") from None


def _stamp(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_mtime_ns, stat.st_size


def mark_read(ctx: ToolContext, path: Path, written: os.stat_result | None = None) -> None:
    """Remember that the model has seen `path` as it is now (as just `written`, if given)."""
    ctx.state.setdefault(READ_STATE, set()).add(str(path))
    stamp = (written.st_mtime_ns, written.st_size) if written else _stamp(path)
    ctx.state.setdefault(STAMP_STATE, {})[str(path)] = stamp


def check_writable(ctx: ToolContext, path: Path, verb: str) -> None:
    """Refuse to change a file the model has not seen as it is now."""
    if str(path) not in ctx.state.get(READ_STATE, set()):
        raise ToolError(f"{path} exists but has not been read yet: read it first, then {verb} it.")
    seen = ctx.state.get(STAMP_STATE, {}).get(str(path))
    if seen is not None and seen != _stamp(path):
        raise ToolError(f"{path} changed on disk since it was read: read it again, then {verb} it.")


def _size(n: int) -> str:
    value = float(n)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{n} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def binary_kind(head: bytes, path: Path) -> str | None:
    """What kind of binary file this is, or None for UTF-8 text.

    A name is trusted only where the content agrees: a `.pt` file must start like a
    ZIP archive or a pickle to be called a PyTorch checkpoint."""
    suffix = path.suffix.lower()
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return _ZIP_BY_SUFFIX.get(suffix, kind) if magic == b"PK\x03\x04" else kind
    if len(head) > 1 and head[0] == 0x80 and 2 <= head[1] <= 5:
        return "PyTorch checkpoint" if suffix in _TORCH_SUFFIXES else "Python pickle"
    if len(head) > 8 and head[8:9] == b"{" and suffix == ".safetensors":
        return "safetensors weights"
    if head[257:262] == b"ustar":
        return "tar archive"
    if b"\x00" in head:
        return "binary data"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return "non-UTF-8 data"
    return None


def check_regular_file(path: Path) -> None:
    """Refuse a directory, pipe, socket or device before anything opens it: opening a
    pipe blocks the whole run until someone writes to it, and a device can be endless."""
    if kind := not_a_file(path):
        hint = (
            f"list it with bash, e.g. `ls -la {path}`"
            if kind == "a directory"
            else "read, write and edit work on regular files only"
        )
        raise ToolError(f"not a regular file: {path} is {kind}; {hint}.")


def not_found(path: Path) -> ToolError:
    """File not found, with the names in its folder that come close."""
    hint = ""
    if path.parent.is_dir():
        names = [p.name for p in path.parent.iterdir()]
        if close := difflib.get_close_matches(path.name, names, n=3):
            hint = f" Similar names in {path.parent}: {', '.join(close)}."
    return ToolError(f"File not found: {path}.{hint}")


def refuse_binary(head: bytes, path: Path, size: int) -> None:
    """Refuse what cannot be shown as text, saying what it is instead."""
    if kind := binary_kind(head, path):
        article = "" if kind.endswith(" data") else "an " if kind[0] in "AEIOU" else "a "
        raise ToolError(
            f"Cannot read {path}: it is {article}{kind} ({_size(size)}), not text. "
            "Inspect it with bash instead (e.g. `file`, or a short Python script)."
        )


def _cell_outputs(cell: dict[str, Any]) -> Iterator[str]:
    for output in cell.get("outputs", []):
        kind = output.get("output_type")
        if kind == "stream":
            yield "".join(output.get("text", []))
        elif kind == "error":
            yield f"{output.get('ename')}: {output.get('evalue')}"
            yield "\n".join(output.get("traceback", []))
        elif kind in ("execute_result", "display_data"):
            data = output.get("data", {})
            for mime, value in data.items():
                if mime == "text/plain":
                    yield "".join(value)
                elif not mime.startswith("text/"):
                    yield f"[{mime} output, {_size(len(''.join(value)))}]"


def render_notebook(text: str) -> list[str]:
    """A notebook as its cells: type, source and text outputs (images named, not dumped)."""
    from agent.tools.local.output import clean_line

    cells = json.loads(text).get("cells", [])
    lines = [f"Notebook with {len(cells)} cells (edit and write act on the raw JSON)"]
    for index, cell in enumerate(cells, 1):
        kind = cell.get("cell_type", "?")
        count = cell.get("execution_count")
        label = f" [{count}]" if count is not None else ""
        lines.append(f"## cell {index} ({kind}){label}")
        lines.extend("".join(cell.get("source", [])).splitlines())
        for output in _cell_outputs(cell):
            lines.append("### output")
            lines.extend(clean_line(x) for x in cap_output(output, 5000).splitlines())
    return lines


def _open_text(path: Path) -> int:
    """A descriptor of the text file at `path`; it is checked once open, so nothing
    swapped in after the check (a pipe, a device) can stall or flood the read."""
    if not path.exists() and not path.is_symlink():
        raise not_found(path)
    check_regular_file(path)
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ToolError(f"not a regular file: {path}; read works on regular files only.")
        refuse_binary(os.pread(fd, SNIFF_BYTES, 0), path, info.st_size)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _read_page(path: Path, offset: int, limit: int) -> Page:
    """The page asked for; runs in a worker thread, so the agent stays responsive."""
    with os.fdopen(_open_text(path), "rb", buffering=CHUNK) as file:
        if path.suffix == ".ipynb" and os.fstat(file.fileno()).st_size <= NOTEBOOK_BYTES:
            text = file.read().decode("utf-8", errors="replace")
            try:
                lines = render_notebook(text)
            except (ValueError, AttributeError, TypeError):
                lines = text.splitlines()
            return page_of_lines(lines, offset, limit)
        return read_page(file, offset, limit)


async def read(args: ReadArgs, ctx: ToolContext) -> ToolResult:
    path = resolve_path(args.path, ctx.cwd)
    offset, limit = max(args.offset or 1, 1), args.limit or DEFAULT_LIMIT
    if ctx.files is not None and path.suffix != ".ipynb":
        os.close(await asyncio.to_thread(_open_text, path))  # a text file, or a clear error
        text = await ctx.files.read_text(path)
        page = page_of_lines(text.splitlines(), offset, limit)
    else:
        page = await asyncio.to_thread(_read_page, path, offset, limit)
    mark_read(ctx, path)
    total = page.total
    if total == 0 and page.exact:
        return ToolResult(f"{path} is empty.")
    if offset > total and page.exact:
        raise ToolError(f"offset {offset} is past the end of {path}, which has {total} lines.")
    body = "\n".join(page.shown)
    if offset > 1 or page.last < total or not page.exact:
        of = f"{total}" if page.exact else f"more than {total} (the file is {_file_size(path)})"
        body += f"\n\n(showing lines {offset}-{page.last} of {of}"
        more = page.last < total or not page.exact
        body += f"; call read with offset={page.last + 1} to continue)" if more else ")"
    data = {"path": str(path), "lines": total if page.exact else None}
    return ToolResult(body, data=data)


def _file_size(path: Path) -> str:
    try:
        return _size(path.stat().st_size)
    except OSError:
        return "of unknown size"


def count_lines(text: str) -> str:
    count = text.count("\n") + (1 if text and not text.endswith("\n") else 0)
    return f"{count} line" if count == 1 else f"{count} lines"


def syntax_note(path: Path, text: str) -> str:
    """A warning when a Python file no longer parses; caught now, not at run time."""
    if path.suffix != ".py":
        return ""
    try:
        compile(text, str(path), "exec", dont_inherit=True)
    except SyntaxError as exc:
        return f"\nWarning: {path.name} does not parse: {exc.msg} at line {exc.lineno}."
    except ValueError:
        return ""
    return ""


async def write(args: WriteArgs, ctx: ToolContext) -> ToolResult:
    path = resolve_path(args.path, ctx.cwd)
    check_sandboxed_write(path, ctx)
    check_regular_file(path)
    with refusing_links():
        root = root_for(path, ctx)
        current = read_current(path, root)
        if current is not None:
            check_writable(ctx, path, "overwrite")
        checkpoint(ctx, path, root)
        written = None
        if ctx.files is None:
            with folder_of(path, root, create=True) as dir_fd:
                data = args.content.encode("utf-8", "surrogateescape")
                written = write_at(dir_fd, path.name, data)
    if ctx.files is not None:
        await ctx.files.write_text(path, args.content)
    mark_read(ctx, path, written)
    before = "" if current is None else current[0].decode("utf-8", errors="replace")
    how = "created" if current is None else "overwritten"
    note = syntax_note(path, args.content)
    return ToolResult(
        f"Wrote {count_lines(args.content)} to {path} ({how}){note}",
        data={
            "path": str(path),
            "created": current is None,
            "diff": write_diff(before, args.content, path),
        },
    )


def write_diff(before: str, after: str, path: Path) -> str:
    """What the write changed, as the chat shows it under the call."""
    from agent.tools.local.edit import short_diff  # edit builds on this module

    return short_diff(before, after, path.name)
