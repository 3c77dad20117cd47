"""A loopback fake of GitHub's REST API: repositories, contents, owners, search.

Code search demands authentication, as on github.com; every answer carries the
x-ratelimit-* headers; bodies follow the real field names.
"""

from __future__ import annotations

import base64
import time
from urllib.parse import quote

from tests.fakes import research_data as data
from tests.fakes.http_fake import FakeService, Reply, Request


class GitHubFake(FakeService):
    """api.github.com: repositories, contents, owner listings, repository and code search."""

    def __init__(self) -> None:
        super().__init__()
        self.repos = {r["full_name"]: dict(r) for r in data.REPOS}
        self.files = dict(data.FILES)
        self.inline_limit = 1_000_000

    def route(self, request: Request) -> Reply:
        authed = "authorization" in request.headers
        reply = self._route(request, authed)
        reset = str(int(time.time()) + 3600)
        limit = "5000" if authed else "60"
        reply.headers = {
            "x-ratelimit-limit": limit,
            "x-ratelimit-remaining": str(int(limit) - 1),
            "x-ratelimit-reset": reset,
            **reply.headers,
        }
        return reply

    def _route(self, request: Request, authed: bool) -> Reply:
        parts = request.path.strip("/").split("/")
        if parts[:2] == ["search", "code"]:
            if not authed:
                return _gh_error(401, "Requires authentication")
            return self._search_code(request)
        if parts[:2] == ["search", "repositories"]:
            return self._search_repos(request.query)
        if parts[0] in ("users", "orgs") and len(parts) == 3 and parts[2] == "repos":
            return self._owner_repos(parts[0], parts[1], request.query)
        if parts[0] == "repos" and len(parts) >= 3:
            full = f"{parts[1]}/{parts[2]}"
            if full not in self.repos:
                return _gh_error(404, "Not Found")
            if len(parts) == 3:
                return Reply(body=self.repos[full])
            if parts[3] == "contents":
                return self._contents(full, "/".join(parts[4:]), request)
        return _gh_error(404, "Not Found")

    def _owner_repos(self, kind: str, owner: str, query: dict[str, str]) -> Reply:
        repos = [r for r in self.repos.values() if r["owner"]["login"] == owner]
        is_org = any(r["owner"]["type"] == "Organization" for r in repos)
        if not repos or (kind == "orgs" and not is_org):
            return _gh_error(404, "Not Found")
        key = {"full_name": "full_name", "created": "created_at", "updated": "updated_at"}
        field_name = key.get(query.get("sort", "full_name"), "pushed_at")
        descending = (
            query.get("direction", "asc" if field_name == "full_name" else "desc") == "desc"
        )
        repos.sort(key=lambda r: r[field_name], reverse=descending)
        return Reply(body=repos[: int(query.get("per_page", 30))])

    def _search_repos(self, query: dict[str, str]) -> Reply:
        terms, quals = _parse_query(query.get("q", ""))
        owner = quals.get("user") or quals.get("org")
        if owner and not any(r["owner"]["login"] == owner for r in self.repos.values()):
            return _gh_error(422, "Validation Failed")
        found = [
            r
            for r in self.repos.values()
            if (not owner or r["owner"]["login"] == owner)
            and all(t in f"{r['full_name']} {r['description']}".lower() for t in terms)
        ]
        if query.get("sort") == "stars":
            found.sort(key=lambda r: r["stargazers_count"], reverse=query.get("order") != "asc")
        items = [{**r, "score": 1.0} for r in found[: int(query.get("per_page", 30))]]
        return Reply(body={"total_count": len(found), "incomplete_results": False, "items": items})

    def _search_code(self, request: Request) -> Reply:
        terms, quals = _parse_query(request.query.get("q", ""))
        text_match = "text-match" in request.headers.get("accept", "")
        items = []
        for (repo, ref, path), content in self.files.items():
            info = self.repos[repo]
            text = content.decode(errors="replace")
            if ref != info["default_branch"] or not terms:
                continue
            if not all(t in text.lower() for t in terms) or not _code_scope(repo, path, quals):
                continue
            items.append(_code_item(info, path, text, terms, text_match))
        per_page = int(request.query.get("per_page", 30))
        return Reply(
            body={"total_count": len(items), "incomplete_results": False, "items": items[:per_page]}
        )

    def _contents(self, repo: str, path: str, request: Request) -> Reply:
        ref = request.query.get("ref") or self.repos[repo]["default_branch"]
        content = self.files.get((repo, ref, path))
        if content is None:
            listing = self._listing(repo, ref, path)
            return Reply(body=listing) if listing else _gh_error(404, "Not Found")
        if "raw" in request.headers.get("accept", ""):
            return Reply(body=content, content_type="application/vnd.github.raw")
        entry = self._entry(repo, ref, path, "file", len(content))
        inline = len(content) <= self.inline_limit
        encoded = base64.encodebytes(content).decode() if inline else ""
        return Reply(body={**entry, "encoding": "base64" if inline else "none", "content": encoded})

    def _listing(self, repo: str, ref: str, path: str) -> list[dict]:
        prefix = f"{path.strip('/')}/" if path.strip("/") else ""
        children: dict[str, tuple[str, int]] = {}
        for (r, f_ref, f_path), content in self.files.items():
            if r == repo and f_ref == ref and f_path.startswith(prefix):
                name, _, rest = f_path.removeprefix(prefix).partition("/")
                children[name] = ("dir", 0) if rest else ("file", len(content))
        return [
            self._entry(repo, ref, prefix + name, kind, size)
            for name, (kind, size) in sorted(children.items())
        ]

    def _entry(self, repo: str, ref: str, path: str, kind: str, size: int) -> dict:
        api = f"https://api.github.com/repos/{repo}/contents/{path}"
        view = "blob" if kind == "file" else "tree"
        return {
            "type": kind,
            "name": path.rsplit("/", 1)[-1],
            "path": path,
            "sha": f"{abs(hash((repo, path))):040x}"[:40],
            "size": size,
            "url": f"{api}?ref={ref}",
            "html_url": f"https://github.com/{repo}/{view}/{ref}/{quote(path)}",
            "download_url": f"https://raw.githubusercontent.com/{repo}/{ref}/{path}"
            if kind == "file"
            else None,
        }


def _gh_error(status: int, message: str) -> Reply:
    docs = "https://docs.github.com/rest"
    return Reply(status, {"message": message, "documentation_url": docs, "status": str(status)})


def _parse_query(q: str) -> tuple[list[str], dict[str, str]]:
    terms, quals = [], {}
    for word in q.split():
        name, sep, value = word.partition(":")
        if sep and name in ("repo", "org", "user", "path", "language"):
            quals[name] = value
        else:
            terms.append(word.lower())
    return terms, quals


def _code_scope(repo: str, path: str, quals: dict[str, str]) -> bool:
    if "repo" in quals and repo != quals["repo"]:
        return False
    if "org" in quals and not repo.startswith(quals["org"] + "/"):
        return False
    return "path" not in quals or path.startswith(quals["path"].strip("/"))


def _code_item(info: dict, path: str, text: str, terms: list[str], text_match: bool) -> dict:
    repo = info["full_name"]
    sha = "6f3c1d2e9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d"
    item = {
        "name": path.rsplit("/", 1)[-1],
        "path": path,
        "sha": sha,
        "url": f"https://api.github.com/repositories/1/contents/{path}?ref={sha}",
        "git_url": f"https://api.github.com/repositories/1/git/blobs/{sha}",
        "html_url": f"https://github.com/{repo}/blob/{sha}/{path}",
        "repository": {
            "id": info["id"],
            "name": info["name"],
            "full_name": repo,
            "owner": info["owner"],
            "private": False,
            "html_url": info["html_url"],
            "description": info["description"],
            "fork": False,
        },
        "score": 1.0,
    }
    if text_match:
        at = text.lower().find(terms[0])
        start = text.rfind("\n", 0, max(0, at - 40)) + 1
        fragment = text[start : start + 160]
        item["text_matches"] = [
            {
                "object_url": item["url"],
                "object_type": "FileContent",
                "property": "content",
                "fragment": fragment,
                "matches": [
                    {"text": terms[0], "indices": [at - start, at - start + len(terms[0])]}
                ],
            }
        ]
    return item
