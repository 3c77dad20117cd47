"""read and write on the user's machine, plus what edit shares with them.

The model must read a file before it overwrites or edits it, and the file must
not have changed on disk since: that keeps it from clobbering work it has not
seen, its own earlier edits included.
"""

from __future__ import annotations

import codecs
import difflib
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from agent.paths import not_a_file
from agent.tools.local.checkpoints import checkpoint
from agent.tools.local.roots import check_sandboxed_write
from agent.tools.router import cap_output
from agent.tools.spec import ToolContext, ToolError, ToolResult

READ_STATE = "local.read"
STAMP_STATE = "local.read_stamp"
DEFAULT_LIMIT = 2000
MAX_LINE_CHARS = 2000
PAGE_CHARS = 100_000
SNIFF_BYTES = 8192

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
_BY_SUFFIX = {
    **dict.fromkeys((".pt", ".pth", ".ckpt", ".bin"), "PyTorch checkpoint"),
    **dict.fromkeys((".pkl", ".pickle"), "Python pickle"),
    **dict.fromkeys((".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp", ".tiff", ".ico"), "image"),
    **dict.fromkeys((".mp3", ".wav", ".flac", ".ogg", ".mp4", ".mov", ".avi", ".mkv"), "media"),
    **dict.fromkeys((".so", ".dylib", ".dll", ".o", ".a", ".exe"), "compiled binary"),
    ".safetensors": "safetensors weights",
    ".onnx": "ONNX model",
    ".pyc": "Python bytecode",
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
    return (candidate if candidate.is_absolute() else cwd / candidate).resolve()


def _stamp(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_mtime_ns, stat.st_size


def mark_read(ctx: ToolContext, path: Path) -> None:
    ctx.state.setdefault(READ_STATE, set()).add(str(path))
    ctx.state.setdefault(STAMP_STATE, {})[str(path)] = _stamp(path)


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
    """What kind of binary file this is, or None for UTF-8 text."""
    suffix = path.suffix.lower()
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return _BY_SUFFIX.get(suffix, kind) if magic == b"PK\x03\x04" else kind
    if len(head) > 1 and head[0] == 0x80 and 2 <= head[1] <= 5:
        return "Python pickle"
    if len(head) > 8 and head[8:9] == b"{" and suffix == ".safetensors":
        return "safetensors weights"
    if head[257:262] == b"ustar":
        return "tar archive"
    if b"\x00" in head:
        return _BY_SUFFIX.get(suffix, "binary data")
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return _BY_SUFFIX.get(suffix, "non-UTF-8 data")
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


def check_text_file(path: Path) -> None:
    """Refuse what cannot be shown as text, saying what it is instead."""
    if not path.exists():
        hint = ""
        if path.parent.is_dir():
            names = [p.name for p in path.parent.iterdir()]
            if close := difflib.get_close_matches(path.name, names, n=3):
                hint = f" Similar names in {path.parent}: {', '.join(close)}."
        raise ToolError(f"File not found: {path}.{hint}")
    check_regular_file(path)
    with path.open("rb") as file:
        head = file.read(SNIFF_BYTES)
    if kind := binary_kind(head, path):
        raise ToolError(
            f"Cannot read {path}: it is a {kind} ({_size(path.stat().st_size)}), not text. "
            "Inspect it with bash instead (e.g. `file`, or a short Python script)."
        )


def _file_lines(path: Path) -> Iterator[str]:
    with path.open("rb") as file:
        for number, raw in enumerate(file):
            line = raw.decode("utf-8", errors="replace").rstrip("\n").removesuffix("\r")
            yield line.removeprefix("\ufeff") if number == 0 else line


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


def _page(lines: Iterable[str], offset: int, limit: int) -> tuple[list[str], int, int]:
    """Numbered lines from `offset`, stopping at `limit` lines or the page size."""
    shown: list[str] = []
    chars = 0
    total = 0
    last = offset - 1
    for number, line in enumerate(lines, 1):
        total = number
        if number < offset or len(shown) >= limit or chars >= PAGE_CHARS:
            continue
        if len(line) > MAX_LINE_CHARS:
            cut = len(line) - MAX_LINE_CHARS
            line = f"{line[:MAX_LINE_CHARS]} [... {cut} more characters on this line]"
        shown.append(f"{number:>6}\t{line}")
        chars += len(line) + 8
        last = number
    return shown, last, total


async def read(args: ReadArgs, ctx: ToolContext) -> ToolResult:
    path = resolve_path(args.path, ctx.cwd)
    check_text_file(path)
    offset, limit = max(args.offset or 1, 1), args.limit or DEFAULT_LIMIT
    lines: Iterable[str] = _file_lines(path)
    if path.suffix == ".ipynb":
        text = path.read_text(encoding="utf-8", errors="replace")
        try:
            lines = render_notebook(text)
        except (ValueError, AttributeError, TypeError):
            lines = text.splitlines()
    shown, last, total = _page(lines, offset, limit)
    mark_read(ctx, path)
    if total == 0:
        return ToolResult(f"{path} is empty.")
    if offset > total:
        raise ToolError(f"offset {offset} is past the end of {path}, which has {total} lines.")
    body = "\n".join(shown)
    if offset > 1 or last < total:
        body += f"\n\n(showing lines {offset}-{last} of {total}"
        body += f"; call read with offset={last + 1} to continue)" if last < total else ")"
    return ToolResult(body, data={"path": str(path), "lines": total})


def atomic_write(path: Path, text: str) -> None:
    """Replace the file in one step, so a crash never leaves it half written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = path.stat().st_mode & 0o7777 if path.exists() else None
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", errors="surrogateescape", newline="") as file:
            file.write(text)
        Path(tmp).chmod(mode if mode is not None else 0o666 & ~_umask())
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


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
    existed = path.exists()
    before = ""
    if existed:
        check_writable(ctx, path, "overwrite")
        before = path.read_bytes().decode("utf-8", errors="replace")
    checkpoint(ctx, path)
    atomic_write(path, args.content)
    mark_read(ctx, path)
    how = "overwritten" if existed else "created"
    note = syntax_note(path, args.content)
    return ToolResult(
        f"Wrote {count_lines(args.content)} to {path} ({how}){note}",
        data={
            "path": str(path),
            "created": not existed,
            "diff": write_diff(before, args.content, path),
        },
    )


def write_diff(before: str, after: str, path: Path) -> str:
    """What the write changed, as the chat shows it under the call."""
    from agent.tools.local.edit import short_diff  # edit builds on this module

    return short_diff(before, after, path.name)
