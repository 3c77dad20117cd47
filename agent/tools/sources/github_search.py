"""github_find_examples: real usage of a library, class or function on GitHub.

Official example folders come first because they track the current API; after them,
code in other repositories ranked by stars and recent activity, since a popular,
maintained repository is the likeliest to use the API correctly. Code search needs
a token; without one, the example folders are listed and repositories searched.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field

from agent.tools.http import json_body
from agent.tools.sources.github import SERVICE, TEXT_MATCH, GitHub, contents_path, parse_repo, stars
from agent.tools.spec import ToolContext, ToolError, ToolResult, ToolSpec


@dataclass(frozen=True)
class Official:
    """A library's home repository and its example folders (the first narrows code search)."""

    repo: str
    examples: tuple[str, ...]


OFFICIAL = {
    "trl": Official("huggingface/trl", ("examples/scripts", "trl/scripts")),
    "transformers": Official("huggingface/transformers", ("examples/pytorch",)),
    "peft": Official("huggingface/peft", ("examples",)),
    "diffusers": Official("huggingface/diffusers", ("examples",)),
    "accelerate": Official("huggingface/accelerate", ("examples",)),
    "datasets": Official("huggingface/datasets", ("docs/source",)),
    "huggingface_hub": Official("huggingface/huggingface_hub", ("docs/source/en/guides",)),
    "sentence_transformers": Official("huggingface/sentence-transformers", ("examples",)),
    "smolagents": Official("huggingface/smolagents", ("examples",)),
    "lerobot": Official("huggingface/lerobot", ("examples",)),
    "optimum": Official("huggingface/optimum", ("examples",)),
    "lighteval": Official("huggingface/lighteval", ("examples",)),
    "vllm": Official("vllm-project/vllm", ("examples",)),
    "lightning": Official("Lightning-AI/pytorch-lightning", ("examples",)),
    "axolotl": Official("axolotl-ai-cloud/axolotl", ("examples",)),
}
_GENERIC = {"trainer", "config", "model", "models", "train", "training", "example", "examples"}
_RANKED_REPOS = 12
_STALE_AFTER = timedelta(days=730)
NO_TOKEN_NOTE = (
    "GitHub code search needs a token: set GITHUB_TOKEN to find usage inside files. "
    "Meanwhile: example folders and repositories are listed."
)


class FindExamplesArgs(BaseModel):
    keyword: str = Field(
        description="Library plus class or function, e.g. 'trl SFTTrainer', 'peft LoraConfig'."
    )
    repo: str | None = Field(None, description="Only search this repository ('owner/name').")
    org: str | None = Field(None, description="Only search this user's or organization's repos.")
    max_results: int = Field(10, ge=1, le=30, description="How many examples to return.")


async def github_find_examples(args: FindExamplesArgs, ctx: ToolContext) -> ToolResult:
    keyword = " ".join(args.keyword.split())
    if not keyword:
        raise ToolError("keyword is empty; e.g. keyword='trl SFTTrainer'")
    library, term = split_keyword(keyword)
    official = OFFICIAL.get(library or "")
    if args.repo:
        official = Official(parse_repo(args.repo), ("examples",))
    async with GitHub(ctx.settings) as gh:
        if gh.token:
            sections = await _with_code_search(gh, keyword, term, official, args)
        else:
            sections = await _without_code_search(gh, keyword, term, official, args)
    body = "\n\n".join(s for s in sections if s)
    title = f"Examples for '{keyword}'" + (f" ({official.repo})" if official else "")
    return ToolResult(f"{title}\n\n{body}\n\nRead a file with github_read_file(repo, path).")


def split_keyword(keyword: str) -> tuple[str | None, str]:
    """(known library, what to look for): 'trl SFTTrainer' -> ('trl', 'SFTTrainer')."""
    words = keyword.split()
    for word in words:
        for part in re.split(r"[.]", word):
            name = part.lower().replace("-", "_")
            if name in OFFICIAL:
                rest = [w for w in words if w != word]
                if not rest and part != word:
                    rest = [word.removeprefix(part).lstrip(".")]
                return name, " ".join(rest) or word
    return None, keyword


async def _with_code_search(
    gh: GitHub, keyword: str, term: str, official: Official | None, args: FindExamplesArgs
) -> list[str]:
    found: list[dict[str, Any]] = []
    sections = []
    if official:
        where = f" path:{official.examples[0]}" if not args.repo else ""
        found = await _code_search(gh, f"{term} repo:{official.repo}{where}", args.max_results)
        sections.append(_code_section("Official examples", found, {}) if found else "")
    if args.repo:
        return sections if any(sections) else [f"No matches for '{term}' in {args.repo}."]
    scope = f" org:{args.org}" if args.org else ""
    try:
        items = await _code_search(gh, keyword + scope, 50)
    except ToolError as exc:
        return [*sections, f"Code search elsewhere failed: {exc}"]
    seen = {i["html_url"] for i in found}
    items = [i for i in items if i["html_url"] not in seen]
    if official:
        items = [i for i in items if _repo_name(i) != official.repo]
    repos = await _rank_info(gh, items)
    items.sort(key=lambda i: _rank_key(repos.get(_repo_name(i))))
    room = max(0, args.max_results - len(found))
    if items[:room]:
        sections.append(
            _code_section("Other repositories (by stars, active first)", items[:room], repos)
        )
    if not any(sections):
        return [f"No code found for '{keyword}'. Try the class name alone or another spelling."]
    return sections


async def _code_search(gh: GitHub, query: str, count: int) -> list[dict[str, Any]]:
    body = await gh.get(
        "/search/code", what="code search", accept=TEXT_MATCH, q=query, per_page=count
    )
    return [i for i in body.get("items") or [] if i.get("html_url")]


def _repo_name(item: dict[str, Any]) -> str:
    return (item.get("repository") or {}).get("full_name", "")


async def _rank_info(gh: GitHub, items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Stars and last push of the first few repositories (code search does not include them)."""
    names = list(dict.fromkeys(_repo_name(i) for i in items if _repo_name(i)))[:_RANKED_REPOS]
    infos = await asyncio.gather(*(gh.repo_or_none(n) for n in names))
    return {n: info for n, info in zip(names, infos, strict=True) if info}


def _rank_key(repo: dict[str, Any] | None) -> tuple[bool, bool, int]:
    if not repo:
        return (True, True, 0)
    return (bool(repo.get("archived")), _stale(repo), -stars(repo))


def _stale(repo: dict[str, Any]) -> bool:
    pushed = repo.get("pushed_at")
    if not pushed:
        return True
    when = datetime.fromisoformat(pushed.replace("Z", "+00:00"))
    return datetime.now(UTC) - when > _STALE_AFTER


def _code_section(title: str, items: list[dict[str, Any]], repos: dict[str, dict[str, Any]]) -> str:
    lines = [f"## {title}"]
    for number, item in enumerate(items, 1):
        name = _repo_name(item)
        info = repos.get(name)
        meta = f" ★ {stars(info)}, pushed {(info.get('pushed_at') or '')[:10]}" if info else ""
        lines.append(f"{number}. {name}{meta} · {item.get('path')}\n   {item['html_url']}")
        lines += [f"   > {line}" for line in _snippet(item)]
    return "\n".join(lines)


def _snippet(item: dict[str, Any], max_lines: int = 4) -> list[str]:
    for match in item.get("text_matches") or []:
        fragment = match.get("fragment") or ""
        rows = [r.rstrip()[:160] for r in fragment.splitlines() if r.strip()]
        if rows:
            return rows[:max_lines]
    return []


async def _without_code_search(
    gh: GitHub, keyword: str, term: str, official: Official | None, args: FindExamplesArgs
) -> list[str]:
    sections = [NO_TOKEN_NOTE]
    if official:
        sections.append(await _example_folders(gh, official, term, args.max_results))
    if args.repo:
        return sections
    scope = f" org:{args.org}" if args.org else ""
    query = keyword + scope
    repos = await _repo_search(gh, query, args.max_results)
    if not repos and term != keyword:
        query = term + scope
        repos = await _repo_search(gh, query, args.max_results)
    lines = [f"## Repositories matching '{query}' (most stars first)"]
    for number, repo in enumerate(repos, 1):
        description = " ".join((repo.get("description") or "").split())[:200]
        pushed = (repo.get("pushed_at") or repo.get("updated_at") or "")[:10]
        lines.append(f"{number}. {repo.get('full_name')} ★ {stars(repo)}, pushed {pushed}")
        lines.append(f"   {repo.get('html_url')}" + (f"\n   {description}" if description else ""))
    sections.append("\n".join(lines) if repos else f"No repositories match '{query}'.")
    return sections


async def _repo_search(gh: GitHub, query: str, count: int) -> list[dict[str, Any]]:
    body = await gh.get(
        "/search/repositories",
        what="repository search",
        q=query,
        sort="stars",
        order="desc",
        per_page=count,
    )
    return body.get("items") or []


async def _example_folders(gh: GitHub, official: Official, term: str, limit: int) -> str:
    """The official example folders, entries whose names match the term first."""
    words = _words(term)
    entries: list[dict[str, Any]] = []
    for folder in official.examples:
        response = await gh.fetch(contents_path(official.repo, folder))
        if response.status_code == 404:  # folders move between releases; list what exists
            continue
        gh.check(response, what=folder)
        listing = json_body(response, SERVICE)
        entries += listing if isinstance(listing, list) else []
    if not entries:
        return f"No example folder found in {official.repo}."
    entries.sort(
        key=lambda e: (-sum(w in e.get("name", "").lower() for w in words), e.get("path", ""))
    )
    lines = [f"## Official example folders in {official.repo} (names matching '{term}' first)"]
    for number, entry in enumerate(entries[:limit], 1):
        kind = "folder" if entry.get("type") == "dir" else "file"
        lines.append(f"{number}. {entry.get('path')} ({kind})\n   {entry.get('html_url')}")
    return "\n".join(lines)


def _words(term: str) -> list[str]:
    """Distinctive lower-case words of a name: 'SFTTrainer' -> ['sft']."""
    parts = re.findall(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+", term)
    words = [p.lower() for p in parts if len(p) > 1]
    return [w for w in words if w not in _GENERIC] or words


def find_examples_tool() -> ToolSpec:
    return ToolSpec(
        name="github_find_examples",
        description=(
            "Find real usage of a library, class or function on GitHub (e.g. 'trl SFTTrainer', "
            "'peft LoraConfig'): the library's official example folders first, then code in "
            "popular, recently active repositories. Returns file URLs with short snippets; "
            "read one with github_read_file before writing similar code."
        ),
        handler=github_find_examples,
        args_model=FindExamplesArgs,
        read_only=True,
        timeout_s=90.0,
    )
