"""github_list_repos and github_read_file: browse an owner's repositories and read files."""

from __future__ import annotations

import base64
import json
from typing import Any, Literal

from pydantic import BaseModel, Field

from agent.tools.http import json_body
from agent.tools.sources.github import (
    RAW,
    SERVICE,
    GitHub,
    contents_path,
    parse_blob_url,
    parse_repo,
    stars,
)
from agent.tools.spec import ToolContext, ToolError, ToolResult, ToolSpec

PAGE_LINES = 400
PAGE_CHARS = 24_000
MAX_FILE_BYTES = 10_000_000
_LIST_SORT = {"updated": "updated", "pushed": "pushed", "created": "created", "name": "full_name"}


class ListReposArgs(BaseModel):
    owner: str = Field(description="GitHub user or organization, e.g. 'huggingface'.")
    owner_type: Literal["auto", "user", "org"] = Field(
        "auto", description="Whether owner is a user or an organization; auto works for both."
    )
    sort: Literal["stars", "updated", "pushed", "created", "name"] = Field(
        "stars", description="Order by stars, last update, last push, creation date or name."
    )
    order: Literal["desc", "asc"] = Field("desc", description="Descending or ascending.")
    limit: int = Field(20, ge=1, le=100, description="How many repositories to list.")


class ReadFileArgs(BaseModel):
    repo: str = Field(description="Repository as 'owner/name', e.g. 'huggingface/trl'.")
    path: str = Field(
        description="File path in the repository, e.g. 'examples/scripts/sft.py' (a github.com "
        "blob URL also works)."
    )
    ref: str | None = Field(
        None, description="Branch, tag or commit (default: the default branch)."
    )
    line_start: int | None = Field(None, ge=1, description="First line to show (1-based).")
    line_end: int | None = Field(None, ge=1, description="Last line to show (inclusive).")


async def github_list_repos(args: ListReposArgs, ctx: ToolContext) -> ToolResult:
    owner = args.owner.strip().strip("/").removeprefix("https://github.com/").split("/")[0]
    if not owner:
        raise ToolError("owner is empty; give a GitHub user or organization name")
    async with GitHub(ctx.settings) as gh:
        repos = await (
            _by_stars(gh, owner, args) if args.sort == "stars" else _listed(gh, owner, args)
        )
    if not repos:
        return ToolResult(f"{owner} has no public repositories.")
    order = "fewest" if args.order == "asc" else "most"
    by = f"{order} stars first" if args.sort == "stars" else f"by {args.sort} ({args.order})"
    lines = [f"Repositories of {owner}, {by}:", ""]
    lines += [_repo_line(i, r) for i, r in enumerate(repos[: args.limit], 1)]
    return ToolResult("\n".join(lines))


async def _by_stars(gh: GitHub, owner: str, args: ListReposArgs) -> list[dict[str, Any]]:
    """The list endpoints cannot sort by stars; repository search can."""
    qualifier = "org" if args.owner_type == "org" else "user"
    response = await gh.fetch(
        "/search/repositories",
        q=f"{qualifier}:{owner}",
        sort="stars",
        order=args.order,
        per_page=args.limit,
    )
    if response.status_code == 422:  # search's answer for an owner that does not exist
        raise ToolError(f"no GitHub user or organization named '{owner}'")
    gh.check(response, what=f"owner {owner}")
    return json_body(response, SERVICE).get("items") or []


async def _listed(gh: GitHub, owner: str, args: ListReposArgs) -> list[dict[str, Any]]:
    kind = "orgs" if args.owner_type == "org" else "users"
    what = f"GitHub {'organization' if kind == 'orgs' else 'user or organization'} '{owner}'"
    body = await gh.get(
        f"/{kind}/{owner}/repos",
        what=what,
        sort=_LIST_SORT[args.sort],
        direction=args.order,
        per_page=args.limit,
    )
    return body if isinstance(body, list) else []


def _repo_line(number: int, repo: dict[str, Any]) -> str:
    flags = [f for f in ("fork", "archived") if repo.get(f)]
    meta = [
        f"★ {stars(repo)}",
        repo.get("language") or "",
        f"updated {(repo.get('updated_at') or '')[:10]}",
    ]
    head = f"{number}. {repo.get('full_name')} " + " · ".join(m for m in meta if m)
    if flags:
        head += f" ({', '.join(flags)})"
    description = " ".join((repo.get("description") or "").split())
    parts = [head, f"   {description}" if description else "", f"   {repo.get('html_url', '')}"]
    return "\n".join(p for p in parts if p)


async def github_read_file(args: ReadFileArgs, ctx: ToolContext) -> ToolResult:
    repo, ref, path = parse_repo(args.repo), args.ref, args.path.strip()
    if blob := parse_blob_url(path):
        repo, ref, path = blob[0], ref or blob[1], blob[2]
    if args.line_start and args.line_end and args.line_end < args.line_start:
        raise ToolError("line_end is before line_start")
    async with GitHub(ctx.settings) as gh:
        if not ref:
            ref = (await gh.repo(repo)).get("default_branch") or "main"
        what = f"'{path}' in {repo} at {ref}"
        entry = await gh.get(contents_path(repo, path), what=what, ref=ref)
        if isinstance(entry, list):
            return ToolResult(_directory(repo, ref, path, entry))
        data = await _file_bytes(gh, repo, ref, path, entry)
    return ToolResult(_render(repo, ref, path, entry, data, args))


async def _file_bytes(gh: GitHub, repo: str, ref: str, path: str, entry: dict[str, Any]) -> bytes:
    kind = entry.get("type")
    if kind == "symlink":
        raise ToolError(f"'{path}' is a symlink to '{entry.get('target')}'; read that path")
    if kind == "submodule":
        raise ToolError(f"'{path}' is a submodule ({entry.get('submodule_git_url')})")
    size = int(entry.get("size") or 0)
    if size > MAX_FILE_BYTES:
        raise ToolError(
            f"'{path}' is {size:,} bytes, too large to read here; see {entry.get('html_url')}"
        )
    if entry.get("encoding") == "base64" and entry.get("content"):
        return base64.b64decode(entry["content"])
    if size == 0:
        return b""
    # Files over 1 MB come without inline content; the raw media type returns the bytes.
    response = await gh.response(contents_path(repo, path), what=path, accept=RAW, ref=ref)
    return response.content


def _directory(repo: str, ref: str, path: str, entries: list[dict[str, Any]]) -> str:
    entries = sorted(entries, key=lambda e: (e.get("type") != "dir", e.get("name", "")))
    lines = [f"{repo}@{ref}:{path or '/'} is a directory ({len(entries)} entries):"]
    lines += [f"- {e.get('name')}{'/' if e.get('type') == 'dir' else ''}" for e in entries]
    lines.append("Read a file with github_read_file and its full path.")
    return "\n".join(lines)


def _render(
    repo: str, ref: str, path: str, entry: dict[str, Any], data: bytes, args: ReadFileArgs
) -> str:
    url = entry.get("html_url") or ""
    if b"\0" in data[:8192]:
        return f"{repo}@{ref}:{path} is a binary file ({len(data):,} bytes): {url}"
    text = data.decode("utf-8", errors="replace")
    if path.endswith(".ipynb"):
        text = _notebook_text(text)
    lines = text.splitlines()
    total = len(lines)
    if not total:
        return f"{repo}@{ref}:{path} is empty.\n{url}"
    start = args.line_start or 1
    if start > total:
        raise ToolError(f"line_start={start} is past the end of the file ({total} lines)")
    end = min(total, args.line_end or start + PAGE_LINES - 1)
    shown: list[str] = []
    used = 0
    for number in range(start, end + 1):
        row = f"{number:>6}\t{lines[number - 1]}"
        if used + len(row) > PAGE_CHARS and shown:
            end = number - 1
            break
        shown.append(row)
        used += len(row) + 1
    head = f"{repo}@{ref}:{path} (lines {start}-{end} of {total})\n{url}\n"
    tail = ""
    if end < total and (args.line_end is None or end < args.line_end):
        tail = f"\n[call again with line_start={end + 1} for more]"
    return head + "\n".join(shown) + tail


def _notebook_text(raw: str) -> str:
    """Notebook JSON is hard to read; its cells in order read like a script."""
    try:
        cells = json.loads(raw).get("cells") or []
    except (ValueError, AttributeError):
        return raw
    parts = []
    for cell in cells:
        source = cell.get("source") or ""
        source = "".join(source) if isinstance(source, list) else source
        parts.append(f"# %% [{cell.get('cell_type', 'code')}]\n{source}")
    return "\n\n".join(parts)


def list_repos_tool() -> ToolSpec:
    return ToolSpec(
        name="github_list_repos",
        description=(
            "List a GitHub user's or organization's repositories, sorted by stars or by "
            "update time, with language, description and URL."
        ),
        handler=github_list_repos,
        args_model=ListReposArgs,
        read_only=True,
        timeout_s=60.0,
    )


def read_file_tool() -> ToolSpec:
    return ToolSpec(
        name="github_read_file",
        description=(
            "Read a file from a GitHub repository (default branch unless ref is given), with "
            "line numbers. Long files come in pages: pass line_start/line_end for other parts. "
            "A directory path lists its entries."
        ),
        handler=github_read_file,
        args_model=ReadFileArgs,
        read_only=True,
        timeout_s=60.0,
    )
