"""hf_papers: find, inspect, read and trace ML papers.

Before writing training code the agent should know what the paper actually did:
the Hugging Face papers API finds papers and the models/datasets/Spaces built on
them, arXiv's HTML rendering gives the text one section at a time (hyperparameter
tables included), and Semantic Scholar gives who cites what.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any, Literal
from urllib.parse import quote

from pydantic import BaseModel, Field

from agent.tools.http import check, json_body, make_client, page, send
from agent.tools.sources import arxiv_html
from agent.tools.spec import ToolContext, ToolError, ToolResult, ToolSpec

READ_PAGE_CHARS = 15_000
_S2_FETCH = 1000  # the most Semantic Scholar returns in one page of citations
_S2_FIELDS = "title,year,publicationDate,citationCount,externalIds,authors"
_ID = re.compile(r"(\d{4}\.\d{4,5}(?:v\d+)?|[a-z][a-z.\-]*/\d{7}(?:v\d+)?)", re.IGNORECASE)

Operation = Literal["search", "trending", "daily", "details", "read", "citations", "references"]


class PapersArgs(BaseModel):
    operation: Operation = Field(
        description=(
            "search: find papers by words (needs query). trending / daily: today's "
            "popular papers on Hugging Face (daily accepts date). details: title, authors, "
            "abstract and the models/datasets/Spaces that use a paper. read: the paper's "
            "text; without section it lists the sections. citations / references: papers "
            "citing / cited by this one."
        )
    )
    query: str | None = Field(None, description="Search words, for operation='search'.")
    arxiv_id: str | None = Field(
        None,
        description="arXiv id like '2305.18290' (an arxiv.org or huggingface.co/papers URL works "
        "too); needed by details, read, citations and references.",
    )
    section: str | None = Field(
        None,
        description="For read: a section number ('4', '4.2', 'A'), a name ('Experiments'), "
        "'abstract' or 'all'. Omit to get the list of sections.",
    )
    date: str | None = Field(None, description="For daily: a day as YYYY-MM-DD (default: latest).")
    sort: Literal["citations", "date"] = Field(
        "citations", description="For citations/references: most cited first, or newest first."
    )
    limit: int = Field(10, ge=1, le=100, description="How many papers to list.")
    offset: int = Field(
        0, ge=0, description="Character offset when reading long text; the result says which."
    )


async def hf_papers(args: PapersArgs, ctx: ToolContext) -> ToolResult:
    """Dispatch one operation; each needs its own argument, checked here with a clear message."""
    op = args.operation
    if op == "search":
        if not args.query:
            raise ToolError("operation='search' needs query, e.g. query='direct preference'")
        return ToolResult(await _search(args, ctx))
    if op in ("trending", "daily"):
        return ToolResult(await _daily(args, ctx, trending=op == "trending"))
    if not args.arxiv_id:
        raise ToolError(f"operation='{op}' needs arxiv_id, e.g. arxiv_id='2305.18290'")
    arxiv_id = normalize_id(args.arxiv_id)
    if op == "details":
        return ToolResult(await _details(arxiv_id, ctx))
    if op == "read":
        return ToolResult(await _read(arxiv_id, args, ctx))
    return ToolResult(await _graph(arxiv_id, op, args, ctx))


def normalize_id(raw: str) -> str:
    """The bare arXiv id from an id, 'arXiv:' prefix or URL."""
    match = _ID.search(raw.strip().removeprefix("arXiv:").removeprefix("arxiv:"))
    if not match:
        raise ToolError(f"'{raw}' is not an arXiv id; expected something like '2305.18290'")
    return match.group(1)


def _unversioned(arxiv_id: str) -> str:
    return re.sub(r"v\d+$", "", arxiv_id)


async def _get_json(base: str, path: str, service: str, what: str, **params: Any) -> Any:
    async with make_client() as client:
        response = await send(
            client, "GET", base.rstrip("/") + path, service=service, params=params
        )
    check(response, service, what=what)
    return json_body(response, service)


async def _search(args: PapersArgs, ctx: ToolContext) -> str:
    base = ctx.settings.papers_url
    items = await _get_json(
        base, "/api/papers/search", "Hugging Face papers", "search", q=args.query
    )
    items = items[: args.limit] if isinstance(items, list) else []
    if not items:
        return f"No papers found for '{args.query}'. Try fewer or different words."
    lines = [f"Papers matching '{args.query}':", ""]
    lines += [_paper_line(i, item, base) for i, item in enumerate(items, 1)]
    lines.append("Use operation='details' or 'read' with an arxiv_id for more.")
    return "\n".join(lines)


async def _daily(args: PapersArgs, ctx: ToolContext, *, trending: bool) -> str:
    base = ctx.settings.papers_url
    params: dict[str, Any] = {"limit": args.limit}
    if trending:
        params["sort"] = "trending"
    elif args.date:
        params["date"] = args.date
    items = await _get_json(base, "/api/daily_papers", "Hugging Face papers", "day", **params)
    items = items[: args.limit] if isinstance(items, list) else []
    if not items:
        return f"No daily papers listed for {args.date or 'today'}."
    title = (
        "Trending papers on Hugging Face" if trending else f"Daily papers ({args.date or 'latest'})"
    )
    lines = [f"{title}:", ""]
    lines += [_paper_line(i, item, base) for i, item in enumerate(items, 1)]
    return "\n".join(lines)


def _paper_line(number: int, item: dict[str, Any], base: str) -> str:
    paper = item.get("paper") or item
    pid = paper.get("id", "?")
    title = " ".join((paper.get("title") or item.get("title") or "").split())
    summary = " ".join((paper.get("summary") or item.get("summary") or "").split())
    date = (paper.get("publishedAt") or item.get("publishedAt") or "")[:10]
    upvotes = paper.get("upvotes", item.get("upvotes"))
    meta = ", ".join(
        p
        for p in (_authors(paper.get("authors")), date, f"{upvotes} upvotes" if upvotes else "")
        if p
    )
    if len(summary) > 300:
        summary = summary[:300].rsplit(" ", 1)[0] + " ..."
    url = f"{base.rstrip('/')}/papers/{pid}"
    return f"{number}. [{pid}] {title}\n   {meta}\n   {summary}\n   {url}\n"


def _authors(authors: Any, most: int = 3) -> str:
    names = [a.get("name", "") for a in authors or [] if isinstance(a, dict)]
    names = [n for n in names if n]
    if len(names) > most:
        return ", ".join(names[:most]) + " et al."
    return ", ".join(names)


async def _details(arxiv_id: str, ctx: ToolContext) -> str:
    base = ctx.settings.papers_url
    bare = _unversioned(arxiv_id)
    # The paper first: if it is unknown there is nothing to list, and no request left running.
    paper = await _get_json(base, f"/api/papers/{bare}", "Hugging Face papers", f"paper {bare}")
    linked = await asyncio.gather(
        *(_linked(ctx, k, bare) for k in ("models", "datasets", "spaces"))
    )
    lines = [
        f"# {' '.join((paper.get('title') or '').split())}",
        f"arXiv: {bare}  (https://arxiv.org/abs/{bare})",
        f"Authors: {_authors(paper.get('authors'), most=12)}",
        f"Published: {(paper.get('publishedAt') or '')[:10]}",
    ]
    if paper.get("upvotes") is not None:
        lines.append(f"Upvotes on Hugging Face: {paper['upvotes']}")
    for key, label in (("githubRepo", "Code"), ("projectPage", "Project page")):
        if paper.get(key):
            lines.append(f"{label}: {paper[key]}")
    lines += ["", "## Abstract", " ".join((paper.get("summary") or "").split())]
    for kind, repo_lines in zip(("Models", "Datasets", "Spaces"), linked, strict=True):
        lines += ["", f"## {kind} on the Hub citing this paper (most liked first)", *repo_lines]
    lines += ["", "Use operation='read' to read the paper section by section."]
    return "\n".join(lines)


async def _linked(ctx: ToolContext, kind: str, arxiv_id: str) -> list[str]:
    """Lines naming the Hub repos that cite the paper; a Hub hiccup must not hide the paper."""
    params = {"filter": f"arxiv:{arxiv_id}", "sort": "likes", "direction": "-1", "limit": 10}
    try:
        items = await _get_json(
            ctx.settings.papers_url, f"/api/{kind}", "Hugging Face Hub", kind, **params
        )
    except ToolError as exc:
        return [f"(could not list: {exc})"]
    return [_repo_line(r) for r in items if isinstance(r, dict)] or ["(none)"]


def _repo_line(repo: dict[str, Any]) -> str:
    stats = [f"{repo[k]} {k}" for k in ("likes", "downloads") if repo.get(k) is not None]
    return f"- {repo.get('id', '?')}" + (f" ({', '.join(stats)})" if stats else "")


async def _read(arxiv_id: str, args: PapersArgs, ctx: ToolContext) -> str:
    url = f"{ctx.settings.arxiv_url.rstrip('/')}/html/{arxiv_id}"
    async with make_client() as client:
        response = await send(client, "GET", url, service="arXiv")
    if response.status_code == 404:
        raise ToolError(
            f"arXiv has no HTML rendering of {arxiv_id} (common for papers before late 2023 "
            "or with unusual LaTeX); use operation='details' for the abstract, or fetch_url "
            f"on https://arxiv.org/abs/{arxiv_id}"
        )
    check(response, "arXiv", what=f"paper {arxiv_id}")
    paper = await asyncio.to_thread(arxiv_html.parse_paper, response.text)
    if not args.section:
        return arxiv_html.outline(paper) + (
            f"\n\nRead one part with operation='read', arxiv_id='{arxiv_id}', section='<number or "
            "name>' (or section='all')."
        )
    wanted = args.section.strip()
    if wanted.lower() == "abstract":
        text = f"# {paper.title}\n\n## Abstract\n\n{paper.abstract}"
    elif wanted.lower() in ("all", "full"):
        text = arxiv_html.full_text(paper)
    else:
        text = arxiv_html.section_text(arxiv_html.find_section(paper, wanted))
    hint = f"operation='read', arxiv_id='{arxiv_id}', section='{wanted}'"
    return page(text, args.offset, READ_PAGE_CHARS, call_hint=hint)


async def _graph(arxiv_id: str, op: str, args: PapersArgs, ctx: ToolContext) -> str:
    bare = _unversioned(arxiv_id)
    path = f"/graph/v1/paper/arXiv:{quote(bare, safe='')}/{op}"
    body = await _get_json(
        ctx.settings.semantic_scholar_url,
        path,
        "Semantic Scholar",
        f"arXiv:{bare} (new papers take a few days to appear)",
        fields=_S2_FIELDS,
        limit=_S2_FETCH,
    )
    key = "citingPaper" if op == "citations" else "citedPaper"
    papers = [row.get(key) or {} for row in (body or {}).get("data") or []]
    papers = [p for p in papers if p.get("title")]
    if not papers:
        return f"Semantic Scholar lists no {op} for arXiv:{bare}."
    if args.sort == "citations":
        papers.sort(key=lambda p: p.get("citationCount") or 0, reverse=True)
    else:
        papers.sort(
            key=lambda p: p.get("publicationDate") or str(p.get("year") or ""), reverse=True
        )
    order = "most cited first" if args.sort == "citations" else "newest first"
    more = " (more exist)" if body.get("next") else ""
    noun = "Papers citing" if op == "citations" else "Papers referenced by"
    lines = [f"{noun} arXiv:{bare}: {len(papers)} fetched{more}, {order}.", ""]
    lines += [_s2_line(i, p) for i, p in enumerate(papers[: args.limit], 1)]
    return "\n".join(lines)


def _s2_line(number: int, paper: dict[str, Any]) -> str:
    arxiv = (paper.get("externalIds") or {}).get("ArXiv")
    where = (
        f"arXiv:{arxiv}"
        if arxiv
        else f"https://www.semanticscholar.org/paper/{paper.get('paperId')}"
    )
    when = paper.get("publicationDate") or paper.get("year") or "n.d."
    authors = _authors(paper.get("authors"))
    cited = paper.get("citationCount")
    meta = ", ".join(
        str(x) for x in (authors, when, f"{cited} citations" if cited is not None else "") if x
    )
    return f"{number}. {paper['title']}\n   {meta}\n   {where}"


def papers_tool() -> ToolSpec:
    return ToolSpec(
        name="hf_papers",
        description=(
            "Research ML papers. Search papers or list trending ones on Hugging Face; get a "
            "paper's details with the Hub models, datasets and Spaces that use it; read its "
            "text section by section from arXiv (hyperparameters, results tables); list the "
            "papers citing it or cited by it (Semantic Scholar), sorted by citations or date."
        ),
        handler=hf_papers,
        args_model=PapersArgs,
        read_only=True,
        timeout_s=60.0,
    )
