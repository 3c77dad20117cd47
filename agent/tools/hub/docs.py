"""explore_hf_docs and fetch_hf_docs: the Hugging Face documentation as the model reads it.

A library's page list comes from the sidebar of its docs index page. The first query
for a library fetches every page once, builds a BM25 index over titles and text and
stores it under $XDG_CACHE_HOME/ml-intern/docs/, so later queries (in this session or
the next) rank pages without touching the network. Pages are served as HTML; the
article is converted to Markdown without the site's navigation and scripts.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

from pydantic import BaseModel, Field

from agent.tools.http import html_to_markdown, page
from agent.tools.hub.common import HUB, Target, cut, hub_client, hub_request
from agent.tools.hub.docs_index import Bm25, load_cached, save_cached
from agent.tools.spec import ToolContext, ToolError, ToolResult, ToolSpec

if TYPE_CHECKING:
    import httpx

KNOWN_LIBRARIES = (
    "transformers", "trl", "peft", "datasets", "accelerate", "diffusers", "hub",
    "huggingface_hub", "inference-providers", "inference-endpoints", "tokenizers", "evaluate",
    "optimum", "smolagents", "lerobot", "text-generation-inference", "safetensors", "bitsandbytes",
    "timm", "transformers.js", "dataset-viewer", "kernels",
)  # fmt: skip
FETCH_CONCURRENCY = 8
GLIMPSE_CHARS = 240
_CHROME = (
    "nav",
    "header",
    "footer",
    "script",
    "style",
    "noscript",
    "template",
    "svg",
    "button",
    "aside",
    "iframe",
)


@dataclass
class DocPage:
    title: str
    url: str
    section: str
    glimpse: str = ""


class ExploreArgs(BaseModel):
    library: str = Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
        description="Which docs: the name after /docs/ in the URL, e.g. "
        + ", ".join(KNOWN_LIBRARIES[:12])
        + ".",
    )
    query: str | None = Field(
        None,
        description="What to look for, e.g. 'packing in SFT'. Without it, all pages are listed by section.",
    )
    max_results: int = Field(
        10, ge=1, le=50, description="How many ranked pages to return for a query."
    )


class FetchArgs(BaseModel):
    url: str = Field(
        description="A docs page: a URL like https://huggingface.co/docs/trl/sft_trainer or a "
        "path like /docs/trl/sft_trainer, as explore_hf_docs lists them."
    )
    offset: int = Field(
        0, ge=0, description="Character offset for long pages; the result says which to use next."
    )
    max_chars: int = Field(20_000, ge=500, le=100_000, description="How many characters to return.")


# -- the docs site ----------------------------------------------------------------------


async def fetch_nav(client: httpx.AsyncClient, ctx: ToolContext, library: str) -> list[DocPage]:
    """The library's pages, in sidebar order, from its docs index page."""
    endpoint = ctx.settings.hf_endpoint.rstrip("/")
    target = Target(
        what=f"the docs index of '{library}'",
        not_found_hint=f"the library name is the part after /docs/ in the URL, e.g. {', '.join(KNOWN_LIBRARIES[:8])}",
    )
    url = f"{endpoint}/docs/{library}"
    response = await hub_request(client, "GET", url, settings=ctx.settings, target=target)
    pages = parse_nav(response.text, library, str(response.url))
    if not pages:
        raise ToolError(f"found no page links in the sidebar of {url}")
    return pages


def parse_nav(html: str, library: str, base_url: str) -> list[DocPage]:
    """Links under /docs/<library>/ in the navigation that holds most of them, with the
    heading each one sits under as its section."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    prefix = f"/docs/{library}"

    def doc_links(tag: Any) -> list[Any]:
        return [a for a in tag.find_all("a", href=True) if _doc_path(a["href"], prefix, base_url)]

    navs = [(len(doc_links(n)), n) for n in soup.find_all(["nav", "aside"])]
    count, nav = max(navs, key=lambda pair: pair[0], default=(0, soup))
    root = nav if count else soup
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(base_url))
    pages, seen, section = [], set(), ""
    for element in root.find_all(["h1", "h2", "h3", "h4", "h5", "a"]):
        if element.name != "a":
            section = element.get_text(" ", strip=True)
            continue
        path = _doc_path(str(element.get("href") or ""), prefix, base_url)
        if path and path not in seen:
            seen.add(path)
            pages.append(DocPage(element.get_text(" ", strip=True) or path, origin + path, section))
    return pages


def _doc_path(href: str, prefix: str, base_url: str) -> str | None:
    parts = urlsplit(urljoin(base_url, href))
    path = parts.path.rstrip("/")
    if parts.netloc != urlsplit(base_url).netloc:
        return None
    return path if path == prefix or path.startswith(prefix + "/") else None


def page_markdown(html: str) -> tuple[str, str]:
    """(title, Markdown) of a docs page's article, without the site's chrome."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    title = soup.title.get_text(strip=True) if soup.title else ""
    for tag in soup(list(_CHROME)):
        tag.decompose()
    article = (
        soup.select_one(".prose-doc")
        or soup.find("main")
        or soup.find("article")
        or soup.body
        or soup
    )
    heading = article.find("h1")
    if heading:
        title = heading.get_text(" ", strip=True)
    return title, html_to_markdown(str(article))


async def fetch_page(client: httpx.AsyncClient, ctx: ToolContext, url: str) -> tuple[str, str]:
    target = Target(
        what=f"the docs page {urlsplit(url).path}",
        not_found_hint="list the pages with explore_hf_docs",
    )
    response = await hub_request(client, "GET", url, settings=ctx.settings, target=target)
    if "html" not in response.headers.get("content-type", "html"):
        return urlsplit(url).path.rsplit("/", 1)[-1], response.text
    return page_markdown(response.text)


# -- explore_hf_docs ----------------------------------------------------------------------


async def _explore(args: ExploreArgs, ctx: ToolContext) -> ToolResult:
    library = args.library
    endpoint = ctx.settings.hf_endpoint.rstrip("/")
    cached = load_cached(library, endpoint)
    query = (args.query or "").strip()
    async with hub_client(ctx.settings, auth=False) as client:
        if not query:
            pages = (
                [DocPage(**p) for p in cached["pages"]]
                if cached
                else await fetch_nav(client, ctx, library)
            )
            return ToolResult(_listing(library, endpoint, pages), data={"pages": len(pages)})
        if cached is None:
            cached = await _build_index(client, ctx, library)
    pages = [DocPage(**p) for p in cached["pages"]]
    hits = Bm25.from_json(cached["index"]).search(query, args.max_results)
    if not hits:
        return ToolResult(
            f"No {library} docs page matches {query!r}. Try other words, or list all pages "
            "by calling explore_hf_docs without a query."
        )
    lines = [f"{library} docs pages for {query!r} (best first, {len(hits)} of {len(pages)} pages):"]
    for rank, (number, score) in enumerate(hits, 1):
        hit = pages[number]
        section = f" [{hit.section}]" if hit.section else ""
        lines.append(
            f"\n{rank}. {hit.title}{section} (score {score:.1f})\n   {hit.url}\n   {hit.glimpse}"
        )
    lines.append("\nRead a page with fetch_hf_docs(url).")
    return ToolResult("\n".join(lines), data={"hits": len(hits)})


async def _build_index(client: httpx.AsyncClient, ctx: ToolContext, library: str) -> dict[str, Any]:
    """Fetch every page once, index it and cache the result on disk."""
    pages = await fetch_nav(client, ctx, library)
    gate = asyncio.Semaphore(FETCH_CONCURRENCY)
    done = 0

    async def one(doc: DocPage) -> tuple[str, str] | None:
        nonlocal done
        async with gate:
            try:
                result = await fetch_page(client, ctx, doc.url)
            except ToolError:
                result = None
        done += 1
        if done % 25 == 0 or done == len(pages):
            ctx.log(f"indexing {library} docs: {done}/{len(pages)} pages")
        return result

    fetched = await asyncio.gather(*(one(doc) for doc in pages))
    kept = [(doc, got) for doc, got in zip(pages, fetched, strict=True) if got is not None]
    if not kept:
        raise ToolError(
            f"could not fetch any page of the {library} docs from {HUB}; try again later"
        )
    for doc, (_, text) in kept:
        body = text.split("\n", 1)[-1] if text.startswith("#") else text
        doc.glimpse = cut(" ".join(re.sub(r"(?m)^#+\s*", "", body).split()), GLIMPSE_CHARS)
    index = Bm25.build([(doc.title, text) for doc, (_, text) in kept])
    endpoint = ctx.settings.hf_endpoint.rstrip("/")
    saved = [asdict(doc) for doc, _ in kept]
    save_cached(library, endpoint, saved, index)
    return {"pages": saved, "index": index.to_json()}


def _listing(library: str, endpoint: str, pages: list[DocPage]) -> str:
    lines = [f"{library} docs: {len(pages)} pages at {endpoint}/docs/{library}"]
    section = None
    for doc in pages:
        if doc.section != section:
            section = doc.section
            lines.append(f"\n## {section or '(no section)'}")
        lines.append(f"- {doc.title}: {urlsplit(doc.url).path}")
    lines.append("\nRead a page with fetch_hf_docs(url); pass query= to rank pages by relevance.")
    return "\n".join(lines)


# -- fetch_hf_docs --------------------------------------------------------------------


def docs_url(url: str, endpoint: str) -> str:
    """The page on the configured Hub: absolute Hub URLs, /docs/... paths or 'trl/page'."""
    parts = urlsplit(url.strip())
    host = parts.netloc.lower()
    allowed = {urlsplit(endpoint).netloc.lower(), "huggingface.co", "www.huggingface.co", "hf.co"}
    if host and host not in allowed:
        raise ToolError(
            f"fetch_hf_docs reads Hugging Face docs only; {host} is not a Hugging Face host"
        )
    path = parts.path if host else url.strip().split("#")[0].split("?")[0]
    path = "/" + path.lstrip("/")
    if not path.startswith("/docs/"):
        path = "/docs" + path
    return endpoint.rstrip("/") + path


async def _fetch(args: FetchArgs, ctx: ToolContext) -> ToolResult:
    url = docs_url(args.url, ctx.settings.hf_endpoint)
    async with hub_client(ctx.settings, auth=False) as client:
        title, markdown = await fetch_page(client, ctx, url)
    heading = "" if markdown.lstrip().startswith("# ") or not title else f"# {title}\n\n"
    text = f"Source: {url}\n\n{heading}{markdown}"
    return ToolResult(page(text, args.offset, args.max_chars, call_hint=f"url={args.url!r}"))


def hf_docs_tools() -> list[ToolSpec]:
    return [
        ToolSpec(
            name="explore_hf_docs",
            description=(
                "Find your way in a Hugging Face library's documentation (transformers, trl, peft, "
                "datasets, accelerate, diffusers, hub, inference-providers, ...). Without query: "
                "every page by section. With query: the most relevant pages, ranked by a full-text "
                "index built on first use (that first call fetches all pages and takes longer). "
                "Read current docs before writing training code: APIs change between versions."
            ),
            handler=_explore,
            args_model=ExploreArgs,
            read_only=True,
            timeout_s=300.0,
        ),
        ToolSpec(
            name="fetch_hf_docs",
            description=(
                "Read one Hugging Face docs page as Markdown (code examples included). Long pages "
                "come in parts: the result says which offset to pass for the next one."
            ),
            handler=_fetch,
            args_model=FetchArgs,
            read_only=True,
            timeout_s=60.0,
        ),
    ]
