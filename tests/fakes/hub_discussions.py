"""Discussions and pull requests of the fake Hub: list, details, open, comment, status, merge.

Pages of 50, newest first, with the `count`/`start` fields HfApi paginates on; details
carry the events (comments, status changes, commits) and, for pull requests, the
target branch, merge commit and diff.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tests.fakes.hub_http import Call, Response, url_prefix
from tests.fakes.hub_state import HubError, Repo, comment_event, status_event, user_ref

if TYPE_CHECKING:
    from tests.fakes.hub_server import FakeHub

_PER_PAGE = 50


def discussions(hub: FakeHub, call: Call, repo: Repo, tail: str) -> Response:
    num, _, action = tail.partition("/")
    if call.method == "POST" and not num:
        return _open(hub, call, repo)
    if call.method == "GET" and not num:
        return _list_discussions(call, repo)
    discussion = repo.discussion(int(num))
    if call.method == "GET":
        return Response.json(_details(repo, discussion))
    if call.user is None:
        raise HubError(401, "You must be authenticated to access this resource")
    body = call.json()
    if action == "comment":
        event = comment_event(call.user, body["comment"])
        discussion.events.append(event)
        return Response.json({"newMessage": event})
    if action == "status":
        if call.user != discussion.author:
            hub.check_write(repo, call.user)
        if body.get("comment"):
            discussion.events.append(comment_event(call.user, body["comment"]))
        discussion.status = body["status"]
        event = status_event(call.user, body["status"])
        discussion.events.append(event)
        return Response.json({"newStatus": event})
    if action == "merge":
        hub.check_write(repo, call.user)
        if body.get("comment"):
            discussion.events.append(comment_event(call.user, body["comment"]))
        repo.merge(discussion.num, call.user)
        return Response.json({})
    raise HubError(404, f"Cannot {call.method} {call.path}")


def _open(hub: FakeHub, call: Call, repo: Repo) -> Response:
    if call.user is None:
        raise HubError(401, "You must be authenticated to access this resource")
    body = call.json()
    pr = bool(body.get("pullRequest"))
    discussion = repo.open_discussion(body["title"], call.user, body.get("description", ""), pr=pr)
    url = f"{hub.url}/{url_prefix(repo.repo_type)}{repo.repo_id}/discussions/{discussion.num}"
    answer = {"num": discussion.num, "pullRequest": pr, "url": url}
    if pr:
        answer["reference"] = discussion.ref
    return Response.json(answer)


def _summary(repo: Repo, d: Any) -> dict[str, Any]:
    return {
        "num": d.num,
        "author": user_ref(d.author),
        "repo": {"name": repo.repo_id, "type": repo.repo_type},
        "title": d.title,
        "status": d.status,
        "createdAt": d.created_at,
        "isPullRequest": d.is_pull_request,
        "numComments": sum(1 for e in d.events if e["type"] == "comment"),
        "pinned": False,
        "topReactions": [],
    }


def _list_discussions(call: Call, repo: Repo) -> Response:
    kind, status, author = call.arg("type", "all"), call.arg("status", "all"), call.arg("author")
    found = [
        d
        for d in reversed(repo.discussions)
        if kind in ("all", "pull_request" if d.is_pull_request else "discussion")
        and (status == "all" or d.status == status or (status == "open" and d.status == "draft"))
        and (author is None or d.author == author)
    ]
    start = int(call.arg("p") or 0) * _PER_PAGE
    page = found[start : start + _PER_PAGE]
    closed = sum(1 for d in repo.discussions if d.status in ("closed", "merged"))
    return Response.json(
        {
            "discussions": [_summary(repo, d) for d in page],
            "count": len(found),
            "start": start,
            "numClosedDiscussions": closed,
        }
    )


def _details(repo: Repo, d: Any) -> dict[str, Any]:
    details = {**_summary(repo, d), "events": d.events}
    if d.is_pull_request:
        changes = {"base": d.base}
        if d.merge_commit:
            changes["mergeCommitId"] = d.merge_commit
        details.update(changes=changes, filesWithConflicts=[], diff=repo.diff(d.num))
    return details
