"""GitHub REST access shared by the GitHub tools, and their ToolSpecs.

Working examples beat documentation when writing training code, so the agent reads
real repositories. Anonymous access works (60 requests an hour, no code search);
GITHUB_TOKEN raises the limit and enables code search. A rate limit becomes a
message with the reset time, never a crash.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from agent.tools.http import check, json_body, make_client, send
from agent.tools.spec import ToolError, ToolSpec

if TYPE_CHECKING:
    from types import TracebackType

    import httpx

    from agent.config import Settings

SERVICE = "GitHub API"
JSON = "application/vnd.github+json"
TEXT_MATCH = "application/vnd.github.text-match+json"
RAW = "application/vnd.github.raw+json"
_REPO = re.compile(r"^[A-Za-z0-9_.\-]+/[A-Za-z0-9_.\-]+$")
_URL = re.compile(r"github\.com/([^/\s]+)/([^/\s#?]+)(?:/(?:blob|tree)/([^/\s]+)/([^\s#?]*))?")


class GitHub:
    """An open connection to the GitHub API for the length of one tool call."""

    def __init__(self, settings: Settings) -> None:
        self.base = settings.github_api_url.rstrip("/")
        self.token = settings.github_token or None
        headers = {"Accept": JSON, "X-GitHub-Api-Version": "2022-11-28"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        self._client = make_client(headers)
        self._repo_cache: dict[str, dict[str, Any] | None] = {}

    async def __aenter__(self) -> GitHub:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._client.aclose()

    @property
    def limit_hint(self) -> str:
        if self.token:
            return ""
        return "Set GITHUB_TOKEN for a higher limit (5,000 requests an hour instead of 60)."

    async def fetch(self, path: str, *, accept: str | None = None, **params: Any) -> httpx.Response:
        """The response as it came, for callers that treat some statuses specially."""
        headers = {"Accept": accept} if accept else None
        url = self.base + path
        return await send(self._client, "GET", url, service=SERVICE, params=params, headers=headers)

    def check(self, response: httpx.Response, *, what: str = "") -> None:
        check(response, SERVICE, what=what, hint=self.limit_hint)

    async def response(
        self, path: str, *, what: str = "", accept: str | None = None, **params: Any
    ) -> httpx.Response:
        """A checked response; errors become ToolErrors naming `what`."""
        response = await self.fetch(path, accept=accept, **params)
        self.check(response, what=what)
        return response

    async def get(
        self, path: str, *, what: str = "", accept: str | None = None, **params: Any
    ) -> Any:
        return json_body(await self.response(path, what=what, accept=accept, **params), SERVICE)

    async def repo(self, full_name: str) -> dict[str, Any]:
        """Repository metadata, fetched once per call however often it is asked for."""
        if full_name not in self._repo_cache:
            self._repo_cache[full_name] = await self.get(
                f"/repos/{full_name}", what=f"repository {full_name}"
            )
        return self._repo_cache[full_name] or {}

    async def repo_or_none(self, full_name: str) -> dict[str, Any] | None:
        """Repository metadata, or None when it cannot be had (ranking must not fail on it)."""
        try:
            return await self.repo(full_name)
        except ToolError:
            self._repo_cache[full_name] = None
            return None


def parse_repo(repo: str) -> str:
    """'owner/name' from 'owner/name' or a github.com URL."""
    repo = repo.strip().removesuffix(".git").strip("/")
    if match := _URL.search(repo):
        repo = f"{match.group(1)}/{match.group(2)}"
    if not _REPO.match(repo):
        raise ToolError(f"'{repo}' is not a repository; use 'owner/name', e.g. 'huggingface/trl'")
    return repo


def parse_blob_url(url: str) -> tuple[str, str | None, str] | None:
    """(repo, ref, path) from a github.com blob/tree URL, or None if it is not one."""
    match = _URL.search(url)
    if not match or match.group(4) is None:
        return None
    return f"{match.group(1)}/{match.group(2)}", match.group(3), match.group(4)


def contents_path(repo: str, path: str) -> str:
    return f"/repos/{repo}/contents/{quote(path.strip('/'))}"


def stars(repo: dict[str, Any] | None) -> int:
    return int((repo or {}).get("stargazers_count") or 0)


def github_tools() -> list[ToolSpec]:
    from agent.tools.sources.github_files import list_repos_tool, read_file_tool
    from agent.tools.sources.github_search import find_examples_tool

    return [find_examples_tool(), list_repos_tool(), read_file_tool()]
