"""hf_repo_files: list, read, upload and delete files in Hub repos (models, datasets, Spaces).

Reading streams the file from `/resolve` and looks at its size and first bytes before
taking the body, so a multi-gigabyte weights file is refused without downloading it.
Uploads and deletions are commits made through HfApi (directly or as a pull request)
and need the person's approval.
"""

from __future__ import annotations

from collections.abc import Callable
from fnmatch import fnmatch
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote

from pydantic import BaseModel, Field

from agent.tools.hub.common import (
    RepoType,
    Target,
    call_hub,
    hf_api,
    hub_client,
    hub_request,
    human_size,
    repo_url,
)
from agent.tools.spec import ToolContext, ToolError, ToolResult, ToolSpec

if TYPE_CHECKING:
    import httpx

MAX_READ_BYTES = 2_000_000
MAX_READ_CHARS = 25_000
MAX_LISTED = 500
BINARY_SUFFIXES = (
    ".safetensors", ".bin", ".pt", ".pth", ".ckpt", ".h5", ".onnx", ".gguf", ".parquet",
    ".arrow", ".png", ".jpg", ".jpeg", ".gif", ".webp", ".zip", ".gz", ".tar", ".npy", ".npz",
    ".pkl", ".mp3", ".wav", ".flac", ".mp4", ".msgpack", ".tflite", ".model",
)  # fmt: skip
WRITE_OPERATIONS = ("upload", "delete")


class RepoFilesArgs(BaseModel):
    operation: Literal["list", "read", "upload", "delete"] = Field(
        description="list: files with sizes. read: a text file's lines. upload: a text (content) or a "
        "local file/folder (local_path) in one commit. delete: a file, a folder or pattern matches."
    )
    repo_id: str = Field(description="Repo id 'namespace/name', e.g. 'meta-llama/Llama-3.2-1B'.")
    repo_type: RepoType = Field("model", description="model, dataset or space.")
    revision: str | None = Field(
        None, description="Branch, tag, commit id or 'refs/pr/N' (default: main)."
    )
    path: str | None = Field(
        None,
        description="list: the folder to list. read: the file. upload: where to put it in the repo "
        "(default: the local file's name, or the root for a folder). delete: a file or a folder.",
    )
    content: str | None = Field(None, description="upload: the text to write at `path`.")
    local_path: str | None = Field(
        None, description="upload: a local file or folder, relative to the working directory."
    )
    patterns: list[str] | None = Field(
        None,
        description="Glob patterns such as '*.json' or 'checkpoints/*': list shows only matching "
        "paths; upload of a folder sends only matching files; delete removes every matching file.",
    )
    recursive: bool = Field(True, description="list: include the contents of sub-folders.")
    offset: int = Field(1, ge=1, description="read: first line to show (1-based).")
    limit: int = Field(400, ge=1, le=5000, description="read: how many lines to show.")
    create_pr: bool = Field(
        False, description="upload/delete: open a pull request instead of committing."
    )
    commit_message: str | None = Field(None, description="upload/delete: the commit title.")


def _target(args: RepoFilesArgs) -> Target:
    return Target(args.repo_id, args.repo_type, args.revision or "main", args.path)


def _label(args: RepoFilesArgs) -> str:
    return f"{args.repo_type} {args.repo_id} @ {args.revision or 'main'}"


async def _run(args: RepoFilesArgs, ctx: ToolContext) -> ToolResult:
    operations = {"list": _list, "read": _read, "upload": _upload, "delete": _delete}
    return await operations[args.operation](args, ctx)


# -- list -----------------------------------------------------------------------------


async def _list(args: RepoFilesArgs, ctx: ToolContext) -> ToolResult:
    api = hf_api(ctx.settings)
    folder = (args.path or "").strip("/") or None

    def listing() -> list[Any]:
        return list(
            api.list_repo_tree(
                args.repo_id,
                path_in_repo=folder,
                recursive=args.recursive,
                revision=args.revision,
                repo_type=args.repo_type,
            )
        )

    entries = await call_hub(ctx.settings, _target(args), listing)
    if args.patterns:
        entries = [e for e in entries if any(fnmatch(e.path, p) for p in args.patterns)]
    files = [e for e in entries if hasattr(e, "size")]
    where = f" in {folder}/" if folder else ""
    header = f"{_label(args)}{where}: {len(files)} files, {human_size(sum(f.size for f in files))}"
    lines = [header]
    for entry in entries[:MAX_LISTED]:
        if hasattr(entry, "size"):
            lfs = "  [LFS]" if getattr(entry, "lfs", None) else ""
            lines.append(f"{human_size(entry.size):>10}  {entry.path}{lfs}")
        else:
            lines.append(f"{'dir':>10}  {entry.path}/")
    if len(entries) > MAX_LISTED:
        lines.append(f"({len(entries) - MAX_LISTED} more entries; narrow with path= or patterns=)")
    if not entries:
        lines.append("(nothing matches)" if args.patterns else "(empty)")
    return ToolResult("\n".join(lines), data={"files": len(files)})


# -- read -----------------------------------------------------------------------------


async def _read(args: RepoFilesArgs, ctx: ToolContext) -> ToolResult:
    if not args.path:
        raise ToolError("read needs path: the file to read (list the files with operation='list')")
    settings = ctx.settings
    revision = quote(args.revision or "main", safe="")
    base = repo_url(settings.hf_endpoint, args.repo_id, args.repo_type)
    url = f"{base}/resolve/{revision}/{quote(args.path.lstrip('/'))}"
    async with hub_client(settings) as client:
        response = await hub_request(
            client, "GET", url, settings=settings, target=_target(args), stream=True
        )
        try:
            size = _size(response)
            if args.path.lower().endswith(BINARY_SUFFIXES):
                raise ToolError(_binary(args.path, size))
            data, more = await _head(response, MAX_READ_BYTES)
        finally:
            await response.aclose()
    if more:
        data = data[: data.rfind(b"\n") + 1] or data
    text = _decode(data, cut_short=more)
    if text is None:
        raise ToolError(_binary(args.path, size or len(data)))
    partial = f"only the first {human_size(len(data))} of {human_size(size)} read" if more else ""
    return ToolResult(_page_lines(text, args, partial), data={"bytes": len(data)})


async def _head(response: httpx.Response, limit: int) -> tuple[bytes, bool]:
    """At most `limit` bytes of the body, and whether there was more."""
    chunks, total = [], 0
    async for chunk in response.aiter_bytes():
        chunks.append(chunk)
        total += len(chunk)
        if total > limit:
            return b"".join(chunks)[:limit], True
    return b"".join(chunks), False


def _decode(data: bytes, *, cut_short: bool) -> str | None:
    """The text, or None for binary content (a NUL byte, or not UTF-8). A body cut short
    may end inside a character, so its last bytes are allowed to be incomplete."""
    if b"\0" in data[:8192]:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if cut_short and exc.start >= len(data) - 3:
            return data[: exc.start].decode("utf-8")
        return None


def _size(response: httpx.Response) -> int | None:
    for candidate in (response, *response.history):
        value = candidate.headers.get("x-linked-size") or candidate.headers.get("content-length")
        if value and value.isdigit():
            return int(value)
    return None


def _binary(path: str, size: int | None) -> str:
    return (
        f"'{path}' is a binary file ({human_size(size)}); only text files can be read. "
        "Load it in code instead (e.g. huggingface_hub.hf_hub_download, safetensors, datasets)."
    )


def _page_lines(text: str, args: RepoFilesArgs, partial: str) -> str:
    """Lines offset..offset+limit (and at most MAX_READ_CHARS), saying how to read on."""
    lines = text.splitlines()
    total = len(lines)
    start = args.offset - 1
    if start >= total > 0:
        where = f"the part read ({partial})" if partial else f"the end of '{args.path}'"
        raise ToolError(f"offset {args.offset} is past {where}: {total} lines")
    end = min(total, start + args.limit)
    while end > start + 1 and sum(len(line) + 1 for line in lines[start:end]) > MAX_READ_CHARS:
        end = start + max(1, (end - start) // 2)
    of = f"of the first {total}; {partial}" if partial else f"of {total}"
    header = f"{_label(args)}: {args.path} (lines {start + 1}-{end} {of})"
    body = "\n".join(lines[start:end])
    footer = f"\n[call again with offset={end + 1} for more]" if end < total else ""
    if partial and end >= total:
        footer = "\n[the rest is beyond what can be read here: process the file in code]"
    return f"{header}\n{body}{footer}"


# -- upload and delete -------------------------------------------------------------------


async def _upload(args: RepoFilesArgs, ctx: ToolContext) -> ToolResult:
    api = hf_api(ctx.settings)
    common: dict[str, Any] = {
        "repo_id": args.repo_id,
        "repo_type": args.repo_type,
        "revision": args.revision,
        "create_pr": args.create_pr,
    }
    upload: Callable[..., Any]
    if args.content is not None:
        if not args.path:
            raise ToolError("upload with content needs path: where to write it in the repo")
        what = args.path
        upload = api.upload_file
        common.update(path_or_fileobj=args.content.encode(), path_in_repo=args.path)
    elif args.local_path:
        local = (ctx.cwd / Path(args.local_path).expanduser()).resolve()
        if not local.exists():
            raise ToolError(
                f"local_path '{args.local_path}' does not exist (relative to {ctx.cwd})"
            )
        what = f"{local.name}/" if local.is_dir() else local.name
        if local.is_dir():
            upload = api.upload_folder
            common.update(
                folder_path=str(local), path_in_repo=args.path or "", allow_patterns=args.patterns
            )
        else:
            upload = api.upload_file
            common.update(path_or_fileobj=str(local), path_in_repo=args.path or local.name)
    else:
        raise ToolError(
            "upload needs content (text to write at path) or local_path (a file or folder)"
        )
    common["commit_message"] = args.commit_message or f"Upload {what} with ml-intern"
    info = await call_hub(ctx.settings, _target(args), upload, **common)
    return ToolResult(_commit_text(f"Uploaded {what} to", args, info), data={"commit": info.oid})


async def _delete(args: RepoFilesArgs, ctx: ToolContext) -> ToolResult:
    from huggingface_hub import CommitOperationDelete

    targets = args.patterns or ([args.path.strip("/")] if args.path else [])
    if not targets:
        raise ToolError(
            "delete needs path (a file or folder) or patterns (globs of files to delete)"
        )
    api = hf_api(ctx.settings)
    files = await call_hub(
        ctx.settings, _target(args), api.list_repo_files, args.repo_id,
        revision=args.revision, repo_type=args.repo_type,
    )  # fmt: skip
    doomed = [f for f in files if any(_covers(t, f) for t in targets)]
    if not doomed:
        raise ToolError(
            f"nothing in {_label(args)} matches {', '.join(targets)}; list the files with operation='list'"
        )
    info = await call_hub(
        ctx.settings,
        _target(args),
        api.create_commit,
        repo_id=args.repo_id,
        repo_type=args.repo_type,
        operations=[CommitOperationDelete(path_in_repo=f) for f in doomed],
        commit_message=args.commit_message or f"Delete {', '.join(targets)} with ml-intern",
        revision=args.revision,
        create_pr=args.create_pr,
    )
    shown = ", ".join(doomed[:20]) + (f" and {len(doomed) - 20} more" if len(doomed) > 20 else "")
    return ToolResult(_commit_text(f"Deleted {shown} from", args, info), data={"commit": info.oid})


def _covers(target: str, path: str) -> bool:
    """A file path, a folder (everything under it) or a glob; `.gitattributes` only by name."""
    if path == target:
        return True
    if path == ".gitattributes":
        return False
    return path.startswith(target.rstrip("/") + "/") or fnmatch(path, target)


def _commit_text(action: str, args: RepoFilesArgs, info: Any) -> str:
    text = f"{action} {_label(args)}: commit {info.oid[:10]} ({info.commit_url})"
    if info.pr_url:
        text += (
            f"\nOpened pull request {info.pr_url}; push more commits to it with "
            f"revision='refs/pr/{info.pr_num}', merge it with hf_repo_git operation='merge_pr'"
        )
    return text


def _needs_approval(args: dict[str, Any], settings: Any) -> bool:
    return args.get("operation") in WRITE_OPERATIONS


def hf_repo_files_tools() -> list[ToolSpec]:
    return [
        ToolSpec(
            name="hf_repo_files",
            description=(
                "Files of a Hugging Face repo (model, dataset or Space) at any revision: list them "
                "with sizes, read a text file (paged by lines; binaries are refused with their size), "
                "upload text or a local file/folder in one commit, or delete files/folders/patterns. "
                "upload and delete need approval; create_pr=true proposes the change as a pull "
                "request instead of committing."
            ),
            handler=_run,
            args_model=RepoFilesArgs,
            needs_approval=_needs_approval,
            timeout_s=600.0,
        )
    ]
