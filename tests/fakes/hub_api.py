"""The REST endpoints of the fake Hub: listings, repos, files, refs, commits, discussions.

Paths, query parameters and bodies are those huggingface_hub's HfApi sends; the
answers have the fields of the real API, so HfApi parses them as it would parse
huggingface.co's.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from tests.fakes.hub_discussions import discussions
from tests.fakes.hub_http import Call, Response, url_prefix
from tests.fakes.hub_state import (
    HubError,
    Repo,
    file_entry,
    git_blob_sha,
    now_iso,
    tree_entries,
    user_ref,
)

if TYPE_CHECKING:
    from tests.fakes.hub_server import FakeHub

_SORT_KEYS = {"downloads", "likes", "trendingScore", "lastModified", "createdAt"}
_DISCUSSIONS_PER_PAGE = 50


# -- listings -------------------------------------------------------------------------


def listing(repo: Repo) -> dict[str, Any]:
    """A repo as `/api/models` (or datasets, spaces) lists it."""
    meta = repo.meta
    item: dict[str, Any] = {
        "_id": git_blob_sha(repo.repo_id.encode())[:24],
        "id": repo.repo_id,
        "author": repo.owner,
        "sha": repo.branches["main"],
        "createdAt": repo.created_at,
        "lastModified": meta.get("lastModified", repo.last_modified),
        "private": repo.private,
        "gated": repo.gated,
        "disabled": False,
        "likes": meta.get("likes", 0),
        "trendingScore": meta.get("trendingScore", 0),
        "tags": meta.get("tags", []),
    }
    if repo.repo_type == "model":
        item.update(modelId=repo.repo_id, downloads=meta.get("downloads", 0))
        item.update(pipeline_tag=meta.get("pipeline_tag"), library_name=meta.get("library_name"))
    elif repo.repo_type == "dataset":
        item.update(downloads=meta.get("downloads", 0), description=meta.get("description", ""))
    else:
        item.update(sdk=meta.get("sdk", "gradio"), subdomain=repo.repo_id.replace("/", "-"))
    return item


def list_repos(hub: FakeHub, call: Call) -> Response:
    repo_type = (call.groups[0] or "models")[:-1]
    found = [
        r
        for (kind, _), r in hub.repos.items()
        if kind == repo_type and (not r.private or hub.can_write(r.owner, call.user))
    ]
    found = [r for r in found if _matches(r, call)]
    sort = call.arg("sort")
    if sort in _SORT_KEYS:
        found.sort(key=lambda r: listing(r).get(sort) or 0, reverse=True)
    items = [listing(r) for r in found]
    if expand := call.args("expand"):
        items = [{k: v for k, v in item.items() if k in {"_id", "id", *expand}} for item in items]
    return _paged(hub, call, items, int(call.arg("limit") or hub.page_size))


def _matches(repo: Repo, call: Call) -> bool:
    words = [w.lower() for w in call.args("search")]
    if any(w not in repo.repo_id.lower() for w in words):
        return False
    if (author := call.arg("author")) and repo.owner != author:
        return False
    if (tag := call.arg("pipeline_tag")) and repo.meta.get("pipeline_tag") != tag:
        return False
    labels = set(repo.meta.get("tags", [])) | {
        repo.meta.get("library_name"),
        repo.meta.get("pipeline_tag"),
    }
    return all(f in labels for f in call.args("filter"))


def _paged(hub: FakeHub, call: Call, items: list[Any], limit: int) -> Response:
    """One page of a listing, with a `Link: <...>; rel="next"` header when more remain."""
    start = int(call.arg("cursor") or 0)
    size = min(limit, hub.page_size)
    end = start + size
    headers = hub.next_link(call.path, call.query, end) if end < len(items) else {}
    return Response.json(items[start:end], headers=headers)


def collection(
    slug: str, owner: str, title: str, items: list[tuple[str, str]], **extra: Any
) -> dict[str, Any]:
    return {
        "slug": slug,
        "title": title,
        "description": extra.get("description", ""),
        "owner": {**user_ref(owner), "type": "org"},
        "items": [
            {"_id": git_blob_sha(item_id.encode())[:24], "id": item_id, "type": kind, "position": i}
            for i, (kind, item_id) in enumerate(items)
        ],
        "lastUpdated": extra.get("lastUpdated", now_iso()),
        "private": False,
        "theme": "indigo",
        "upvotes": extra.get("upvotes", 0),
        "isUpvotedByUser": False,
        "gating": False,
    }


def list_collections(hub: FakeHub, call: Call) -> Response:
    q = (call.arg("q") or "").lower()
    owners = call.args("owner")
    found = [
        c
        for c in hub.collections
        if q in (c["title"] + " " + c["description"] + " " + c["slug"]).lower()
        and (not owners or c["owner"]["name"] in owners)
    ]
    sort = call.arg("sort")
    if sort in ("upvotes", "trending"):
        found.sort(key=lambda c: c["upvotes"], reverse=True)
    elif sort == "lastModified":
        found.sort(key=lambda c: c["lastUpdated"], reverse=True)
    return _paged(hub, call, found, int(call.arg("limit") or hub.page_size))


def whoami(hub: FakeHub, call: Call) -> Response:
    if call.user is None:
        raise HubError(401, "Invalid credentials in Authorization header")
    orgs = [{"type": "org", "name": org} for org in hub.orgs.get(call.user, [])]
    token = {"displayName": "test token", "role": "write"}
    return Response.json(
        {
            "type": "user",
            "name": call.user,
            "orgs": orgs,
            "auth": {"type": "access_token", "accessToken": token},
        }
    )


def validate_yaml(hub: FakeHub, call: Call) -> Response:
    return Response.json({"errors": [], "warnings": []})


def create_repo(hub: FakeHub, call: Call) -> Response:
    if call.user is None:
        raise HubError(401, "You must be authenticated to access this resource")
    body = call.json()
    repo_type = body.get("type") or "model"
    namespace = body.get("organization") or call.user
    repo_id = f"{namespace}/{body['name']}"
    url = f"{hub.url}/{url_prefix(repo_type)}{repo_id}"
    if not hub.can_write(namespace, call.user):
        raise HubError(
            403,
            f'You don\'t have the rights to create a {repo_type} under the namespace "{namespace}"',
        )
    if (repo_type, repo_id) in hub.repos:
        return Response.json(
            {"error": f"You already created this {repo_type} repo", "url": url}, 409
        )
    if repo_type == "space" and not body.get("sdk"):
        raise HubError(400, "sdk is required to create a Space")
    private = body.get("visibility", "public") == "private" or body.get("private") is True
    files = {"README.md": f"---\nsdk: {body['sdk']}\n---\n"} if repo_type == "space" else {}
    hub.add_repo(repo_id, repo_type, files, private=private, sdk=body.get("sdk"))
    return Response.json({"url": url, "name": repo_id, "id": git_blob_sha(repo_id.encode())[:24]})


# -- one repo -------------------------------------------------------------------------


def repo_endpoint(hub: FakeHub, call: Call) -> Response:
    """Everything under /api/{type}s/{namespace}/{name}/..."""
    kind, namespace, name, rest = call.groups
    repo = hub.find((kind or "")[:-1], unquote(f"{namespace}/{name}"), call.user)
    head, _, tail = (rest or "").partition("/")
    handler = _REPO_ROUTES.get((call.method, head))
    if handler is None:
        raise HubError(404, f"Cannot {call.method} {call.path}")
    return handler(hub, call, repo, tail)


def _info(hub: FakeHub, call: Call, repo: Repo, tail: str) -> Response:
    commit = repo.resolve(unquote(tail) or "main")
    item = listing(repo)
    item["sha"] = commit.oid
    item["siblings"] = [{"rfilename": path} for path in sorted(commit.files)]
    item["usedStorage"] = sum(len(data) for data in commit.files.values())
    item["cardData"] = repo.meta.get("cardData", {})
    if "safetensors" in repo.meta:  # e.g. {"parameters": {"BF16": n}, "total": n}
        item["safetensors"] = repo.meta["safetensors"]
    return Response.json(item)


def _tree(hub: FakeHub, call: Call, repo: Repo, tail: str) -> Response:
    revision, _, folder = tail.partition("/")
    files = repo.files(unquote(revision))
    entries = tree_entries(files, unquote(folder), call.arg("recursive", "False").lower() == "true")
    return _paged(hub, call, entries, hub.page_size)


def _refs(hub: FakeHub, call: Call, repo: Repo, tail: str) -> Response:
    def refs(names: dict[Any, str], prefix: str) -> list[dict[str, str]]:
        return [
            {"name": str(n), "ref": f"{prefix}{n}", "targetCommit": oid} for n, oid in names.items()
        ]

    data = {
        "branches": refs(repo.branches, "refs/heads/"),
        "converts": [],
        "tags": refs(repo.tags, "refs/tags/"),
    }
    if call.arg("include_prs"):
        data["pullRequests"] = refs(repo.pr_heads, "refs/pr/")
    return Response.json(data)


def _preupload(hub: FakeHub, call: Call, repo: Repo, tail: str) -> Response:
    """Every file is a regular (non-LFS) upload; `oid` lets unchanged files be skipped."""
    if call.user is None or not call.arg("create_pr"):
        hub.check_write(repo, call.user)
    files = repo.files(unquote(tail))
    answer = [
        {
            "path": f["path"],
            "uploadMode": "regular",
            "shouldIgnore": False,
            "oid": git_blob_sha(files[f["path"]]) if f["path"] in files else None,
        }
        for f in call.json().get("files", [])
    ]
    return Response.json({"files": answer})


def _commit(hub: FakeHub, call: Call, repo: Repo, tail: str) -> Response:
    """The NDJSON commit: a header line, then one line per added or deleted file."""
    if call.user is None:
        raise HubError(401, "You must be authenticated to access this resource")
    lines = [json.loads(line) for line in call.body.splitlines() if line.strip()]
    header = next(line["value"] for line in lines if line["key"] == "header")
    operations = [line for line in lines if line["key"] != "header"]
    base = f"{hub.url}/{url_prefix(repo.repo_type)}{repo.repo_id}"
    pr_url = None
    revision = unquote(tail)
    if call.arg("create_pr"):
        repo.resolve(revision)
        discussion = repo.open_discussion(
            header["summary"], call.user, header.get("description", ""), pr=True
        )
        discussion.base = f"refs/heads/{revision}"
        revision, pr_url = discussion.ref, f"{base}/discussions/{discussion.num}"
    elif not revision.startswith("refs/pr/"):
        hub.check_write(repo, call.user)
    commit = repo.commit(revision, header["summary"], operations)
    return Response.json(
        {
            "success": True,
            "commitOid": commit.oid,
            "commitUrl": f"{base}/commit/{commit.oid}",
            "hookOutput": "",
            "pullRequestUrl": pr_url,
        }
    )


def _branch(hub: FakeHub, call: Call, repo: Repo, tail: str) -> Response:
    hub.check_write(repo, call.user)
    tail = unquote(tail)
    if call.method == "DELETE":
        if tail == "main":
            raise HubError(403, "You cannot delete the default branch")
        if tail not in repo.branches:
            raise HubError(404, f"Invalid rev id: {tail}", "RevisionNotFound")
        del repo.branches[tail]
        return Response.json({})
    if tail in repo.branches:
        raise HubError(409, f"Reference already exists: refs/heads/{tail}")
    repo.branches[tail] = repo.resolve(call.json().get("startingPoint") or "main").oid
    return Response.json({})


def _tag(hub: FakeHub, call: Call, repo: Repo, tail: str) -> Response:
    hub.check_write(repo, call.user)
    tail = unquote(tail)
    if call.method == "DELETE":
        if tail not in repo.tags:
            raise HubError(404, f"Invalid rev id: {tail}", "RevisionNotFound")
        del repo.tags[tail]
        return Response.json({})
    tag = call.json()["tag"]
    if tag in repo.tags:
        raise HubError(409, f"Tag already exists: refs/tags/{tag}")
    repo.tags[tag] = repo.resolve(tail).oid
    return Response.json({})


def _settings(hub: FakeHub, call: Call, repo: Repo, tail: str) -> Response:
    hub.check_write(repo, call.user)
    body = call.json()
    if "gated" in body:
        repo.gated = body["gated"]
    if "visibility" in body:
        repo.private = body["visibility"] == "private"
    return Response.json({})


_REPO_ROUTES = {
    ("GET", ""): _info,
    ("GET", "revision"): _info,
    ("GET", "tree"): _tree,
    ("GET", "refs"): _refs,
    ("POST", "preupload"): _preupload,
    ("POST", "commit"): _commit,
    ("POST", "branch"): _branch,
    ("DELETE", "branch"): _branch,
    ("POST", "tag"): _tag,
    ("DELETE", "tag"): _tag,
    ("PUT", "settings"): _settings,
    ("GET", "discussions"): discussions,
    ("POST", "discussions"): discussions,
}


# -- file content ---------------------------------------------------------------------


def resolve(hub: FakeHub, call: Call) -> Response:
    """`/{repo}/resolve/{revision}/{path}`: the raw bytes, with the Hub's metadata headers."""
    prefix, namespace, name, revision, raw_path = call.groups
    repo_type = (prefix or "models")[:-1]
    repo = hub.find(repo_type, f"{namespace}/{name}", call.user)
    hub.check_files(repo, call.user)
    commit = repo.resolve(unquote(revision or "main"))
    path = unquote(raw_path or "")
    if path not in commit.files:
        raise HubError(404, "Entry not found", "EntryNotFound")
    data = commit.files[path]
    entry = file_entry(path, data)
    headers = {"X-Repo-Commit": commit.oid, "ETag": f'"{entry["oid"]}"', "Accept-Ranges": "bytes"}
    if "lfs" in entry:
        headers.update(
            {"X-Linked-Size": str(len(data)), "X-Linked-ETag": f'"{entry["lfs"]["oid"]}"'}
        )
    headers["Content-Type"] = (
        "application/octet-stream" if b"\0" in data[:8000] else "text/plain; charset=utf-8"
    )
    return Response(200, data, headers)
