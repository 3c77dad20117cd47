"""hf_repo_git: branches, tags, pull requests, discussions and repo settings on the Hub.

Every operation is one HfApi call run in a worker thread. Reading (refs, lists,
details) needs no approval; anything that changes a repo or writes in public does.
"""

from __future__ import annotations

from itertools import islice
from typing import Any, Literal

from pydantic import BaseModel, Field

from agent.tools.hub.common import RepoType, Target, call_hub, cut, hf_api, repo_url, short_date
from agent.tools.spec import ToolContext, ToolError, ToolResult, ToolSpec

Operation = Literal[
    "list_refs", "create_branch", "delete_branch", "create_tag", "delete_tag",
    "list_prs", "list_discussions", "get_pr", "create_pr", "create_discussion",
    "comment_pr", "merge_pr", "close_pr", "create_repo", "update_repo",
]  # fmt: skip
READ_OPERATIONS = ("list_refs", "list_prs", "list_discussions", "get_pr")
MAX_LISTED = 50
MAX_DIFF_CHARS = 6_000


class RepoGitArgs(BaseModel):
    operation: Operation = Field(
        description="list_refs; create_branch/delete_branch (branch); create_tag/delete_tag (tag); "
        "list_prs/list_discussions (status, author); get_pr (num: a PR or a discussion, with its "
        "comments and diff); create_pr/create_discussion (title, description); comment_pr (num, "
        "comment); merge_pr/close_pr (num, optional comment); create_repo (private by default); "
        "update_repo (private and/or gated)."
    )
    repo_id: str = Field(
        description="Repo id 'namespace/name' (create_repo also takes a bare name)."
    )
    repo_type: RepoType = Field("model", description="model, dataset or space.")
    branch: str | None = Field(None, description="Branch name for create_branch/delete_branch.")
    tag: str | None = Field(None, description="Tag name for create_tag/delete_tag.")
    revision: str | None = Field(
        None, description="Where a new branch or tag starts (default: main)."
    )
    message: str | None = Field(None, description="create_tag: the tag message.")
    num: int | None = Field(None, ge=1, description="Pull request or discussion number.")
    title: str | None = Field(None, description="create_pr/create_discussion: the title.")
    description: str | None = Field(
        None, description="create_pr/create_discussion: the first message."
    )
    comment: str | None = Field(
        None, description="comment_pr: the comment; merge_pr/close_pr: optional note."
    )
    status: Literal["open", "closed", "all"] = Field(
        "open", description="list_prs/list_discussions filter."
    )
    author: str | None = Field(
        None, description="list_prs/list_discussions: only those opened by this user."
    )
    private: bool | None = Field(
        None,
        description="create_repo: private unless false. update_repo: true/false changes visibility.",
    )
    gated: Literal["auto", "manual", "off"] | None = Field(
        None,
        description="update_repo: access requests approved automatically, manually, or no gate.",
    )
    space_sdk: Literal["gradio", "streamlit", "docker", "static"] | None = Field(
        None, description="create_repo with repo_type='space': the Space SDK."
    )
    exist_ok: bool = Field(
        False, description="create_repo/create_branch/create_tag: no error if it exists."
    )


def _need(value: Any, name: str, operation: str) -> Any:
    if value in (None, ""):
        raise ToolError(f"{operation} needs {name}")
    return value


def _target(args: RepoGitArgs) -> Target:
    revision = args.branch or args.tag or args.revision
    if args.num is not None:
        return Target(
            args.repo_id, args.repo_type, revision,
            what=f"pull request or discussion #{args.num} of {args.repo_type} '{args.repo_id}'",
            not_found_hint="list them with hf_repo_git operation='list_prs' or 'list_discussions'",
        )  # fmt: skip
    return Target(
        args.repo_id,
        args.repo_type,
        revision,
        conflict_hint="pass exist_ok=true to keep the existing one",
    )


async def _run(args: RepoGitArgs, ctx: ToolContext) -> ToolResult:
    api = hf_api(ctx.settings)

    async def call(fn: Any, /, *a: Any, **kw: Any) -> Any:
        return await call_hub(ctx.settings, _target(args), fn, *a, **kw)

    handler = _HANDLERS[args.operation]
    text = await handler(args, api, call)
    return ToolResult(text)


# -- refs -----------------------------------------------------------------------------


async def _list_refs(args: RepoGitArgs, api: Any, call: Any) -> str:
    refs = await call(
        api.list_repo_refs, args.repo_id, repo_type=args.repo_type, include_pull_requests=True
    )
    lines = [f"Refs of {args.repo_type} {args.repo_id}:"]
    for title, items in (
        ("Branches", refs.branches),
        ("Tags", refs.tags),
        ("Pull request refs", refs.pull_requests),
    ):
        lines.append(
            f"{title}: "
            + (", ".join(f"{r.name} ({r.target_commit[:8]})" for r in items or []) or "none")
        )
    return "\n".join(lines)


async def _create_branch(args: RepoGitArgs, api: Any, call: Any) -> str:
    branch = _need(args.branch, "branch", "create_branch")
    await call(
        api.create_branch, args.repo_id, branch=branch, revision=args.revision,
        repo_type=args.repo_type, exist_ok=args.exist_ok,
    )  # fmt: skip
    page = repo_url(api.endpoint, args.repo_id, args.repo_type)
    return f"Created branch '{branch}' from {args.revision or 'main'}: {page}/tree/{branch}"


async def _delete_branch(args: RepoGitArgs, api: Any, call: Any) -> str:
    branch = _need(args.branch, "branch", "delete_branch")
    await call(api.delete_branch, args.repo_id, branch=branch, repo_type=args.repo_type)
    return f"Deleted branch '{branch}' of {args.repo_type} {args.repo_id}"


async def _create_tag(args: RepoGitArgs, api: Any, call: Any) -> str:
    tag = _need(args.tag, "tag", "create_tag")
    await call(
        api.create_tag, args.repo_id, tag=tag, tag_message=args.message, revision=args.revision,
        repo_type=args.repo_type, exist_ok=args.exist_ok,
    )  # fmt: skip
    return f"Tagged {args.revision or 'main'} of {args.repo_type} {args.repo_id} as '{tag}'"


async def _delete_tag(args: RepoGitArgs, api: Any, call: Any) -> str:
    tag = _need(args.tag, "tag", "delete_tag")
    await call(api.delete_tag, args.repo_id, tag=tag, repo_type=args.repo_type)
    return f"Deleted tag '{tag}' of {args.repo_type} {args.repo_id}"


# -- pull requests and discussions ------------------------------------------------------


async def _list(args: RepoGitArgs, api: Any, call: Any) -> str:
    kind = "pull_request" if args.operation == "list_prs" else "discussion"
    found = api.get_repo_discussions(
        args.repo_id, author=args.author, discussion_type=kind,
        discussion_status=None if args.status == "all" else args.status, repo_type=args.repo_type,
    )  # fmt: skip
    items = await call(lambda: list(islice(found, MAX_LISTED + 1)))
    noun = "pull requests" if kind == "pull_request" else "discussions"
    if not items:
        return f"No {args.status} {noun} in {args.repo_type} {args.repo_id}"
    lines = [f"{args.status.capitalize()} {noun} of {args.repo_type} {args.repo_id}:"]
    for d in items[:MAX_LISTED]:
        lines.append(f"#{d.num} [{d.status}] {d.title} — by {d.author}, {short_date(d.created_at)}")
    if len(items) > MAX_LISTED:
        lines.append(f"(more than {MAX_LISTED}; filter with author= or status=)")
    return "\n".join(lines)


async def _get(args: RepoGitArgs, api: Any, call: Any) -> str:
    num = _need(args.num, "num", "get_pr")
    d = await call(api.get_discussion_details, args.repo_id, num, repo_type=args.repo_type)
    kind = "Pull request" if d.is_pull_request else "Discussion"
    lines = [
        f"{kind} #{d.num}: {d.title}",
        f"Status: {d.status} · by {d.author} · {short_date(d.created_at)} · {d.url}",
    ]
    if d.is_pull_request:
        lines.append(f"Target: {d.target_branch} · push commits with revision='refs/pr/{d.num}'")
        if d.merge_commit_oid:
            lines.append(f"Merged as {d.merge_commit_oid[:10]}")
        if d.conflicting_files:
            lines.append(f"Conflicts: {', '.join(d.conflicting_files)}")
    lines += ["", "Events:"] + [_event(e) for e in d.events]
    if d.diff:
        lines += ["", "Diff:", cut(d.diff, MAX_DIFF_CHARS)]
    return "\n".join(lines)


def _event(event: Any) -> str:
    when = short_date(event.created_at)
    if event.type == "comment":
        return f"- {when} {event.author} commented: {cut(event.content.strip(), 600)}"
    if event.type == "status-change":
        return f"- {when} {event.author} changed the status to {event.new_status}"
    if event.type == "commit":
        return f"- {when} commit {event.oid[:10]}: {event.summary}"
    if event.type == "title-change":
        return f"- {when} {event.author} renamed it to {event.new_title!r}"
    return f"- {when} {event.author}: {event.type}"


async def _create(args: RepoGitArgs, api: Any, call: Any) -> str:
    title = _need(args.title, "title", args.operation)
    if args.operation == "create_pr":
        d = await call(
            api.create_pull_request,
            args.repo_id,
            title=title,
            description=args.description,
            repo_type=args.repo_type,
        )
        return (
            f"Opened draft pull request #{d.num}: {d.url}\nAdd commits with hf_repo_files "
            f"(upload or delete with revision='refs/pr/{d.num}'); it leaves draft with its first commit."
        )
    d = await call(
        api.create_discussion,
        args.repo_id,
        title=title,
        description=args.description,
        repo_type=args.repo_type,
    )
    return f"Opened discussion #{d.num}: {d.url}"


async def _comment(args: RepoGitArgs, api: Any, call: Any) -> str:
    num = _need(args.num, "num", "comment_pr")
    text = _need(args.comment, "comment", "comment_pr")
    await call(api.comment_discussion, args.repo_id, num, text, repo_type=args.repo_type)
    return f"Commented on #{num} of {args.repo_type} {args.repo_id}"


async def _merge(args: RepoGitArgs, api: Any, call: Any) -> str:
    num = _need(args.num, "num", "merge_pr")
    await call(
        api.merge_pull_request, args.repo_id, num, comment=args.comment, repo_type=args.repo_type
    )
    return f"Merged pull request #{num} of {args.repo_type} {args.repo_id}"


async def _close(args: RepoGitArgs, api: Any, call: Any) -> str:
    num = _need(args.num, "num", "close_pr")
    await call(
        api.change_discussion_status,
        args.repo_id,
        num,
        "closed",
        comment=args.comment,
        repo_type=args.repo_type,
    )
    return f"Closed #{num} of {args.repo_type} {args.repo_id}"


# -- repos ----------------------------------------------------------------------------


async def _create_repo(args: RepoGitArgs, api: Any, call: Any) -> str:
    if args.repo_type == "space" and not args.space_sdk:
        raise ToolError(
            "create_repo of a Space needs space_sdk: gradio, streamlit, docker or static"
        )
    private = True if args.private is None else args.private
    url = await call(
        api.create_repo, args.repo_id, private=private, repo_type=args.repo_type,
        space_sdk=args.space_sdk, exist_ok=args.exist_ok,
    )  # fmt: skip
    return f"Created {'private' if private else 'public'} {args.repo_type} {url.repo_id}: {url}"


async def _update_repo(args: RepoGitArgs, api: Any, call: Any) -> str:
    if args.private is None and args.gated is None:
        raise ToolError("update_repo needs private (true/false) and/or gated (auto, manual, off)")
    gated = False if args.gated == "off" else args.gated
    await call(
        api.update_repo_settings,
        args.repo_id,
        private=args.private,
        gated=gated,
        repo_type=args.repo_type,
    )
    changes = []
    if args.private is not None:
        changes.append("private" if args.private else "public")
    if args.gated is not None:
        changes.append(f"gated={args.gated}")
    return f"Updated {args.repo_type} {args.repo_id}: {', '.join(changes)}"


_HANDLERS = {
    "list_refs": _list_refs,
    "create_branch": _create_branch,
    "delete_branch": _delete_branch,
    "create_tag": _create_tag,
    "delete_tag": _delete_tag,
    "list_prs": _list,
    "list_discussions": _list,
    "get_pr": _get,
    "create_pr": _create,
    "create_discussion": _create,
    "comment_pr": _comment,
    "merge_pr": _merge,
    "close_pr": _close,
    "create_repo": _create_repo,
    "update_repo": _update_repo,
}


def _needs_approval(args: dict[str, Any], settings: Any) -> bool:
    return args.get("operation") not in READ_OPERATIONS


def hf_repo_git_tools() -> list[ToolSpec]:
    return [
        ToolSpec(
            name="hf_repo_git",
            description=(
                "Git-like operations on Hugging Face repos: list refs; create/delete branches and "
                "tags; list, read (with comments and diff), open, comment, merge and close pull "
                "requests and discussions; create a repo (private by default) and change its "
                "visibility or gating. Everything except listing and reading needs approval."
            ),
            handler=_run,
            args_model=RepoGitArgs,
            needs_approval=_needs_approval,
            timeout_s=120.0,
        )
    ]
