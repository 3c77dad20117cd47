"""In-memory repositories of the fake Hub: commits, branches, tags and discussions.

Each repo keeps every commit as a full snapshot of its files, so branches, tags,
pull-request refs and old revisions all read back exactly as they were written.
Errors are raised as `HubError` carrying the status and `X-Error-Code` the real
Hub sends, and the server turns them into responses.
"""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

LFS_SUFFIXES = (".safetensors", ".bin", ".pt", ".parquet", ".arrow", ".gguf", ".png", ".jpg")
_counter = itertools.count(1)


class HubError(Exception):
    """An error response of the Hub: status, `X-Error-Code` and the JSON `error` text."""

    def __init__(self, status: int, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def git_blob_sha(data: bytes) -> str:
    """The git object id of a file, which the Hub reports as a file's `oid`."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def new_oid(seed: str) -> str:
    return hashlib.sha1(f"{seed}-{next(_counter)}".encode()).hexdigest()


def user_ref(name: str) -> dict[str, Any]:
    """How the Hub embeds a user in discussions and collections."""
    return {
        "_id": hashlib.md5(name.encode()).hexdigest()[:24],
        "avatarUrl": f"/avatars/{name}.svg",
        "fullname": name.title(),
        "name": name,
        "type": "user",
        "isPro": False,
        "isHf": False,
    }


@dataclass
class Commit:
    oid: str
    title: str
    files: dict[str, bytes]
    date: str = field(default_factory=now_iso)


@dataclass
class Discussion:
    num: int
    title: str
    author: str
    is_pull_request: bool
    status: str = "open"
    base: str = "refs/heads/main"
    created_at: str = field(default_factory=now_iso)
    events: list[dict[str, Any]] = field(default_factory=list)
    merge_commit: str | None = None

    @property
    def ref(self) -> str:
        return f"refs/pr/{self.num}"


@dataclass
class Repo:
    """One repository with its refs; `meta` holds the listing fields (tags, downloads...)."""

    repo_id: str
    repo_type: str = "model"
    private: bool = False
    gated: str | bool = False
    meta: dict[str, Any] = field(default_factory=dict)
    viewer: dict[str, dict[str, list[dict[str, Any]]]] | None = None
    class_labels: dict[str, list[str]] = field(default_factory=dict)
    granted: set[str] = field(default_factory=set)
    commits: dict[str, Commit] = field(default_factory=dict)
    branches: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    pr_heads: dict[int, str] = field(default_factory=dict)
    discussions: list[Discussion] = field(default_factory=list)
    created_at: str = field(default_factory=now_iso)
    last_modified: str = field(default_factory=now_iso)

    @property
    def owner(self) -> str:
        return self.repo_id.split("/")[0]

    @property
    def label(self) -> str:
        return f"{self.repo_type} {self.repo_id}"

    def initial_commit(self, files: dict[str, bytes]) -> None:
        oid = new_oid(self.repo_id)
        self.commits[oid] = Commit(oid, "initial commit", dict(files))
        self.branches["main"] = oid

    # -- revisions -------------------------------------------------------------------

    def resolve(self, revision: str) -> Commit:
        """The commit a branch, tag, PR ref or (short) commit id points to."""
        oid = self._lookup(revision)
        if oid is None:
            raise HubError(404, f"Invalid rev id: {revision}", "RevisionNotFound")
        return self.commits[oid]

    def _lookup(self, revision: str) -> str | None:
        name = revision.removeprefix("refs/heads/")
        if name in self.branches:
            return self.branches[name]
        tag = revision.removeprefix("refs/tags/")
        if tag in self.tags:
            return self.tags[tag]
        if revision.startswith("refs/pr/") and revision[8:].isdigit():
            return self.pr_heads.get(int(revision[8:]))
        if len(revision) >= 7:
            return next((oid for oid in self.commits if oid.startswith(revision)), None)
        return None

    def files(self, revision: str = "main") -> dict[str, bytes]:
        return self.resolve(revision).files

    def file(self, path: str, revision: str = "main") -> bytes:
        files = self.files(revision)
        if path not in files:
            raise HubError(404, "Entry not found", "EntryNotFound")
        return files[path]

    # -- writes ----------------------------------------------------------------------

    def commit(self, revision: str, title: str, operations: list[dict[str, Any]]) -> Commit:
        """Apply NDJSON commit operations on a branch or PR ref and move it forward."""
        files = dict(self.resolve(revision).files)
        for op in operations:
            _apply(files, op)
        oid = new_oid(title)
        commit = Commit(oid, title, files)
        self.commits[oid] = commit
        self._advance(revision, oid)
        self.last_modified = commit.date
        return commit

    def _advance(self, revision: str, oid: str) -> None:
        if revision.startswith("refs/pr/"):
            num = int(revision[8:])
            self.pr_heads[num] = oid
            discussion = self.discussion(num)
            if discussion.status == "draft":
                discussion.status = "open"
            discussion.events.append(commit_event(oid, self.commits[oid].title))
            return
        branch = revision.removeprefix("refs/heads/")
        if branch not in self.branches:
            raise HubError(400, f"Invalid rev id: {revision} is not a branch", "RevisionNotFound")
        self.branches[branch] = oid

    def open_discussion(self, title: str, author: str, description: str, *, pr: bool) -> Discussion:
        num = len(self.discussions) + 1
        discussion = Discussion(num, title, author, pr, status="draft" if pr else "open")
        discussion.events.append(comment_event(author, description))
        self.discussions.append(discussion)
        if pr:
            self.pr_heads[num] = self.branches["main"]
        return discussion

    def discussion(self, num: int) -> Discussion:
        for discussion in self.discussions:
            if discussion.num == num:
                return discussion
        raise HubError(404, f"Discussion #{num} not found")

    def merge(self, num: int, author: str) -> None:
        discussion = self.discussion(num)
        if not discussion.is_pull_request:
            raise HubError(400, "This discussion is not a pull request")
        if discussion.status != "open":
            raise HubError(400, f"Pull request #{num} is {discussion.status}, it cannot be merged")
        files = self.commits[self.pr_heads[num]].files
        oid = new_oid("merge")
        self.commits[oid] = Commit(
            oid, f"Merge pull request #{num}: {discussion.title}", dict(files)
        )
        self.branches[discussion.base.removeprefix("refs/heads/")] = oid
        discussion.status = "merged"
        discussion.merge_commit = oid
        discussion.events.append(status_event(author, "merged"))

    def diff(self, num: int) -> str:
        """A unified-diff-like summary of what a pull request changes."""
        head = self.commits[self.pr_heads[num]].files
        base = self.files(self.discussion(num).base)
        lines = []
        for path in sorted(set(head) | set(base)):
            if head.get(path) == base.get(path):
                continue
            lines.append(f"diff --git a/{path} b/{path}")
            old = base.get(path, b"").decode(errors="replace").splitlines()
            new = head.get(path, b"").decode(errors="replace").splitlines()
            lines += [f"-{line}" for line in old] + [f"+{line}" for line in new]
        return "\n".join(lines)


def _apply(files: dict[str, bytes], op: dict[str, Any]) -> None:
    import base64

    key, value = op["key"], op["value"]
    path = value["path"]
    if key == "file":
        files[path] = base64.b64decode(value["content"])
    elif key == "deletedFile":
        if path not in files:
            raise HubError(404, f"A file with this name doesn't exist: {path}", "EntryNotFound")
        del files[path]
    elif key == "deletedFolder":
        prefix = path.rstrip("/") + "/"
        doomed = [name for name in files if name.startswith(prefix)]
        if not doomed:
            raise HubError(404, f"A folder with this name doesn't exist: {path}", "EntryNotFound")
        for name in doomed:
            del files[name]
    else:
        raise HubError(
            400, f"Unsupported commit operation '{key}' (this Hub only takes regular files)"
        )


def _event(kind: str, author: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": new_oid(kind)[:24],
        "type": kind,
        "createdAt": now_iso(),
        "author": user_ref(author),
        "data": data,
    }


def comment_event(author: str, text: str) -> dict[str, Any]:
    latest = {
        "raw": text,
        "html": f"<p>{text}</p>",
        "updatedAt": now_iso(),
        "author": user_ref(author),
    }
    data = {"edited": False, "hidden": False, "latest": latest, "numEdits": 0, "reactions": []}
    return _event("comment", author, data)


def status_event(author: str, status: str) -> dict[str, Any]:
    return _event("status-change", author, {"status": status})


def commit_event(oid: str, subject: str) -> dict[str, Any]:
    return _event("commit", "testuser", {"subject": subject, "oid": oid})


def tree_entries(files: dict[str, bytes], folder: str, recursive: bool) -> list[dict[str, Any]]:
    """The `/tree` listing of a folder: files with sizes (and LFS pointers), then folders."""
    prefix = folder.strip("/") + "/" if folder.strip("/") else ""
    entries: dict[str, dict[str, Any]] = {}
    for path in sorted(files):
        if not path.startswith(prefix):
            continue
        rest = path[len(prefix) :]
        parts = rest.split("/")
        for depth in range(1, len(parts)):
            if not recursive and depth > 1:
                break
            sub = prefix + "/".join(parts[:depth])
            entries.setdefault(
                sub, {"type": "directory", "oid": new_oid(sub), "size": 0, "path": sub}
            )
        if recursive or len(parts) == 1:
            entries[path] = file_entry(path, files[path])
    if prefix and not entries:
        raise HubError(404, f"{folder} does not exist on this revision", "EntryNotFound")
    return sorted(entries.values(), key=lambda e: (e["type"] != "directory", e["path"]))


def file_entry(path: str, data: bytes) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "type": "file",
        "oid": git_blob_sha(data),
        "size": len(data),
        "path": path,
    }
    if path.endswith(LFS_SUFFIXES):
        sha = hashlib.sha256(data).hexdigest()
        entry["lfs"] = {"oid": sha, "size": len(data), "pointerSize": 134}
        entry["xetHash"] = hashlib.sha256(b"xet" + data).hexdigest()
    return entry
