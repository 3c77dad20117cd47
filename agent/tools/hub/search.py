"""hf_search: find models, datasets, Spaces and collections on the Hugging Face Hub.

One GET to the Hub's listing endpoint (the one HfApi.list_models and friends call),
asking only for the fields the table shows, so a search is one small request and a
rate limit is handled the same way as every other Hub read.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from agent.tools.hub.common import (
    Target,
    cut,
    hub_client,
    hub_json,
    human_count,
    short_date,
)
from agent.tools.spec import ToolContext, ToolResult, ToolSpec

SearchType = Literal["models", "datasets", "spaces", "collections"]
Sort = Literal["downloads", "likes", "trending", "recent"]

_SORT_PARAM: dict[str, dict[str, str]] = {
    "models": {
        "downloads": "downloads",
        "likes": "likes",
        "trending": "trendingScore",
        "recent": "lastModified",
    },
    "datasets": {
        "downloads": "downloads",
        "likes": "likes",
        "trending": "trendingScore",
        "recent": "lastModified",
    },
    "spaces": {
        "downloads": "likes",
        "likes": "likes",
        "trending": "trendingScore",
        "recent": "lastModified",
    },
    "collections": {
        "downloads": "upvotes",
        "likes": "upvotes",
        "trending": "trending",
        "recent": "lastModified",
    },
}
_EXPAND = {
    "models": [
        "downloads",
        "likes",
        "lastModified",
        "tags",
        "pipeline_tag",
        "library_name",
        "gated",
        "private",
    ],
    "datasets": ["downloads", "likes", "lastModified", "tags", "gated", "private"],
    "spaces": ["likes", "lastModified", "tags", "sdk", "private"],
}
_NOISY_TAG_PREFIXES = (
    "region:",
    "deploy:",
    "endpoints_compatible",
    "autotrain_compatible",
    "has_space",
)
_MAX_TAGS = 6


class SearchArgs(BaseModel):
    query: str | None = Field(
        None,
        description="Words to look for in repo ids or collection titles, e.g. 'llama 3 instruct'.",
    )
    search_type: SearchType = Field("models", description="What to search.")
    author: str | None = Field(
        None, description="Only repos of this user or organization, e.g. 'meta-llama'."
    )
    task: str | None = Field(
        None,
        description="Task filter: the pipeline tag for models (e.g. 'text-generation'), the task "
        "category for datasets (e.g. 'text-classification').",
    )
    library: str | None = Field(
        None,
        description="Library filter: e.g. 'transformers', 'peft', 'diffusers', 'gguf' for models; "
        "'datasets', 'pandas' for datasets.",
    )
    sort: Sort = Field(
        "downloads", description="Order, most first: downloads, likes, trending or recent."
    )
    limit: int = Field(10, ge=1, le=100, description="How many results (at most 100).")


async def _search(args: SearchArgs, ctx: ToolContext) -> ToolResult:
    settings = ctx.settings
    kind = args.search_type
    url = f"{settings.hf_endpoint.rstrip('/')}/api/{kind}"
    target = Target(what=f"the {kind} search")
    async with hub_client(settings) as client:
        items = await hub_json(client, url, settings=settings, target=target, params=_params(args))
    if not isinstance(items, list):
        items = []
    sort = _SORT_PARAM[kind][args.sort]
    header = f"{len(items)} {kind} ({_describe(args)}; sorted by {sort})"
    if not items:
        return ToolResult(f"No {kind} match {_describe(args)}; try fewer filters or other words.")
    table = _collections_table(items) if kind == "collections" else _repo_table(kind, items)
    notes = _ignored_filters(args)
    return ToolResult(f"{header}{notes}\n\n{table}", data={"count": len(items)})


def _params(args: SearchArgs) -> list[tuple[str, Any]]:
    kind = args.search_type
    params: list[tuple[str, Any]] = [("sort", _SORT_PARAM[kind][args.sort]), ("limit", args.limit)]
    if kind == "collections":
        params += [("q", args.query)] if args.query else []
        params += [("owner", args.author)] if args.author else []
        return params
    params += [("search", args.query)] if args.query else []
    params += [("author", args.author)] if args.author else []
    if kind == "models":
        params += [("pipeline_tag", args.task)] if args.task else []
        params += [("filter", args.library)] if args.library else []
    elif kind == "datasets":
        params += [("filter", f"task_categories:{args.task}")] if args.task else []
        params += [("filter", f"library:{args.library}")] if args.library else []
    params += [("expand", field) for field in _EXPAND[kind]]
    return params


def _describe(args: SearchArgs) -> str:
    parts = [
        f"{name}={value!r}"
        for name in ("query", "author", "task", "library")
        if (value := getattr(args, name))
    ]
    return ", ".join(parts) or "no filters"


def _ignored_filters(args: SearchArgs) -> str:
    if args.search_type in ("models", "datasets"):
        return ""
    ignored = [name for name in ("task", "library") if getattr(args, name)]
    return f" — {' and '.join(ignored)} ignored for {args.search_type}" if ignored else ""


def _repo_table(kind: str, items: list[dict[str, Any]]) -> str:
    middle = "likes | sdk" if kind == "spaces" else "downloads | likes"
    rows = [f"| id | {middle} | updated | tags |", "|---|---|---|---|---|"]
    for item in items:
        if kind == "spaces":
            counts = f"{human_count(item.get('likes'))} | {item.get('sdk') or '-'}"
        else:
            counts = f"{human_count(item.get('downloads'))} | {human_count(item.get('likes'))}"
        rows.append(
            f"| {_repo_id(item)} | {counts} | {short_date(item.get('lastModified'))} | {_tags(item)} |"
        )
    return "\n".join(rows)


def _repo_id(item: dict[str, Any]) -> str:
    marks = []
    if item.get("private"):
        marks.append("private")
    if item.get("gated"):
        marks.append("gated")
    return item.get("id", "?") + (f" ({', '.join(marks)})" if marks else "")


def _tags(item: dict[str, Any]) -> str:
    first = [item.get("pipeline_tag"), item.get("library_name")]
    tags = [
        t
        for t in (*first, *(item.get("tags") or []))
        if t and not t.startswith(_NOISY_TAG_PREFIXES)
    ]
    unique = list(dict.fromkeys(tags))
    shown = ", ".join(unique[:_MAX_TAGS])
    return shown + (f" +{len(unique) - _MAX_TAGS}" if len(unique) > _MAX_TAGS else "")


def _collections_table(items: list[dict[str, Any]]) -> str:
    rows = ["| slug | title | upvotes | updated | items |", "|---|---|---|---|---|"]
    for item in items:
        contents = ", ".join(f"{i.get('type')}:{i.get('id')}" for i in item.get("items") or [])
        rows.append(
            f"| {item.get('slug')} | {cut(item.get('title') or '', 60)} | {item.get('upvotes', 0)} "
            f"| {short_date(item.get('lastUpdated'))} | {cut(contents, 120) or '-'} |"
        )
    return "\n".join(rows)


def hf_search_tools() -> list[ToolSpec]:
    return [
        ToolSpec(
            name="hf_search",
            description=(
                "Search the Hugging Face Hub for models, datasets, Spaces or collections. Filter by "
                "words (query), author/organization, task and library; sort by downloads, likes, "
                "trending or recent. Returns a compact table (id, downloads, likes, last update, tags). "
                "Use it to find the exact repo id before inspecting a dataset (hf_inspect_dataset) "
                "or reading files (hf_repo_files)."
            ),
            handler=_search,
            args_model=SearchArgs,
            read_only=True,
            timeout_s=60.0,
        )
    ]
