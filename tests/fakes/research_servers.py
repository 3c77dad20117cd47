"""Loopback fakes of the services the research tools call.

Each fake is a real HTTP server on 127.0.0.1 with an ephemeral port, answering with
bodies shaped like the real service's: the Hugging Face papers API, arXiv's HTML
rendering, Semantic Scholar's graph API, GitHub's REST API (in github_fake.py),
DuckDuckGo's HTML search page, and a plain website for fetch_url. Every fake keeps a
log of the requests it got (`.requests`) and can be told to fail the next request
under a path (`fail_next(prefix, status, headers)`). Standard library only.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlsplit

from tests.fakes import research_data as data
from tests.fakes.github_fake import GitHubFake
from tests.fakes.http_fake import FakeService, Reply, Request, html

__all__ = [
    "ArxivFake",
    "FakeService",
    "GitHubFake",
    "PapersFake",
    "Reply",
    "Request",
    "ResearchFakes",
    "SearchFake",
    "SemanticScholarFake",
    "WebFake",
]


class PapersFake(FakeService):
    """huggingface.co/api: papers search, daily papers, paper pages, repos citing a paper."""

    def __init__(self) -> None:
        super().__init__()
        self.papers = dict(data.PAPERS)
        self.linked = {kind: dict(v) for kind, v in data.LINKED.items()}

    def route(self, request: Request) -> Reply:
        path, q = request.path, request.query
        if path == "/api/papers/search":
            words = q.get("q", "").lower().split()
            found = [p for p in self.papers.values() if _mentions(p, words)]
            return Reply(body=[_daily_item(p) for p in found])
        if path == "/api/daily_papers":
            items = list(self.papers.values())
            if "date" in q:
                items = [p for p in items if p["publishedAt"].startswith(q["date"])]
            key = "upvotes" if q.get("sort") == "trending" else "publishedAt"
            items.sort(key=lambda p: p[key], reverse=True)
            return Reply(body=[_daily_item(p) for p in items[: int(q.get("limit", 50))]])
        if path.startswith("/api/papers/"):
            paper = self.papers.get(path.rsplit("/", 1)[-1])
            return Reply(body=paper) if paper else Reply(404, {"error": "Paper not found"})
        kind = path.removeprefix("/api/")
        if kind in self.linked:
            arxiv = q.get("filter", "").removeprefix("arxiv:")
            return Reply(body=self.linked[kind].get(arxiv, [])[: int(q.get("limit", 50))])
        return Reply(404, {"error": "Sorry, we can't find the page you are looking for."})


def _mentions(paper: dict, words: list[str]) -> bool:
    text = (paper["title"] + " " + paper["summary"]).lower()
    return bool(words) and all(w in text for w in words)


def _daily_item(paper: dict) -> dict:
    return {
        "paper": paper,
        "publishedAt": paper["publishedAt"],
        "title": paper["title"],
        "summary": paper["summary"],
        "thumbnail": f"https://cdn-thumbnails.huggingface.co/social-thumbnails/papers/{paper['id']}.png",
        "numComments": 2,
        "submittedBy": {"name": "akhaliq", "fullname": "AK"},
        "isAuthorParticipating": False,
    }


class ArxivFake(FakeService):
    """arxiv.org/html/<id>: redirects to the latest version, which is LaTeXML HTML."""

    def __init__(self) -> None:
        super().__init__()
        self.versions = {data.DPO: 3}

    def route(self, request: Request) -> Reply:
        name = request.path.removeprefix("/html/").strip("/")
        bare, _, version = name.partition("v")
        if bare in self.versions:
            latest = self.versions[bare]
            if not version:
                return html("", 302, Location=f"/html/{bare}v{latest}")
            if version.isdigit() and int(version) <= latest:
                return html(data.arxiv_page(bare))
        return html(f"<html><body><h1>No HTML for '{name}'</h1></body></html>", 404)


class SemanticScholarFake(FakeService):
    """api.semanticscholar.org/graph/v1: citations and references of a paper."""

    def __init__(self) -> None:
        super().__init__()
        self.citations = dict(data.CITATIONS)
        self.references = dict(data.REFERENCES)

    def route(self, request: Request) -> Reply:
        prefix = "/graph/v1/paper/arXiv:"
        if not request.path.startswith(prefix):
            return Reply(404, {"error": "Not found"})
        paper, _, what = request.path.removeprefix(prefix).partition("/")
        table, key = (
            (self.citations, "citingPaper")
            if what == "citations"
            else (self.references, "citedPaper")
        )
        if what not in ("citations", "references") or paper not in table:
            return Reply(404, {"error": f"Paper with id arXiv:{paper} not found"})
        offset, limit = int(request.query.get("offset", 0)), int(request.query.get("limit", 100))
        if limit > 1000:
            return Reply(400, {"error": "Limit must be <= 1000"})
        rows = table[paper][offset : offset + limit]
        body: dict[str, Any] = {"offset": offset, "data": [{key: row} for row in rows]}
        if offset + limit < len(table[paper]):
            body["next"] = offset + limit
        return Reply(body=body)


class SearchFake(FakeService):
    """html.duckduckgo.com/html/: a results page with an ad and redirect-wrapped links."""

    def __init__(self) -> None:
        super().__init__()
        self.results = list(data.SEARCH_RESULTS)

    def route(self, request: Request) -> Reply:
        if request.path.rstrip("/") != "/html":
            return html("<html><body>Not found</body></html>", 404)
        query = request.form.get("q") or request.query.get("q", "")
        blocks = [_ad_block()] + [_result_block(*r) for r in self.results]
        if not self.results:
            blocks = ['<div class="no-results">No results found for your search.</div>']
        return html(
            f"""<!DOCTYPE html><html><head><title>{query} at DuckDuckGo</title></head><body>
<div id="links" class="results">{"".join(blocks)}</div>
<div class="nav-link"><form action="/html/" method="post"><input type="hidden" name="q" value="{query}">
<input type="submit" class="btn btn--alt" value="Next"></form></div></body></html>"""
        )


def _result_block(title: str, url: str, snippet: str) -> str:
    href = f"//duckduckgo.com/l/?uddg={quote(url, safe='')}&amp;rut=abc123"
    return f"""<div class="result results_links results_links_deep web-result ">
<div class="links_main links_deep result__body">
<h2 class="result__title"><a rel="nofollow" class="result__a" href="{href}">{title}</a></h2>
<div class="result__extras"><div class="result__extras__url">
<a class="result__url" href="{href}">{urlsplit(url).hostname}</a></div></div>
<a class="result__snippet" href="{href}">{snippet}</a>
<div class="clear"></div></div></div>"""


def _ad_block() -> str:
    href = "https://duckduckgo.com/y.js?ad_domain=ads.example&amp;ad_provider=bingv7aa"
    return f"""<div class="result results_links results_links_deep result--ad ">
<div class="links_main links_deep result__body"><h2 class="result__title">
<a rel="nofollow" class="result__a" href="{href}">Buy GPUs Now - Sponsored</a></h2>
<a class="result__snippet" href="{href}">Cheap GPUs, limited offer.</a></div></div>"""


class WebFake(FakeService):
    """An ordinary website: pages, plain text, JSON, a PDF, redirects, a huge page."""

    def __init__(self) -> None:
        super().__init__()
        self.pages: dict[str, Reply] = {
            "/article": html(data.ARTICLE),
            "/long": html(data.long_article()),
            "/notes.txt": Reply(body="plain notes\nsecond line\n", content_type="text/plain"),
            "/data.json": Reply(body={"answer": 42}),
            "/paper.pdf": Reply(body=b"%PDF-1.7\n%binary", content_type="application/pdf"),
            "/image.png": Reply(body=data.PNG, content_type="image/png"),
            "/huge": Reply(body="a" * 3_000_000, content_type="text/plain"),
        }

    def route(self, request: Request) -> Reply:
        if request.path == "/redirect":
            return html("", 302, Location=request.query.get("to", "/article"))
        if request.path == "/loop":
            return html("", 301, Location="/loop")
        return self.pages.get(request.path) or html("<html><body>Page not found</body></html>", 404)


class ResearchFakes:
    """Every research fake at once, with the Settings that point the tools at them."""

    def __init__(self) -> None:
        self.papers = PapersFake()
        self.arxiv = ArxivFake()
        self.s2 = SemanticScholarFake()
        self.github = GitHubFake()
        self.search = SearchFake()
        self.web = WebFake()
        self._all = [self.papers, self.arxiv, self.s2, self.github, self.search, self.web]

    def __enter__(self) -> ResearchFakes:
        for fake in self._all:
            fake.start()
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        for fake in self._all:
            fake.stop()
        if exc_type is None:
            for fake in self._all:
                fake.assert_faults_consumed()

    def settings_kwargs(self) -> dict[str, str]:
        return {
            "papers_url": self.papers.url,
            "arxiv_url": self.arxiv.url,
            "semantic_scholar_url": self.s2.url,
            "github_api_url": self.github.url,
            "web_search_url": self.search.url,
        }
