"""explore_hf_docs, fetch_hf_docs and find_hf_api against the loopback Hub's docs site."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from agent.config import Settings
from agent.tools.hub.hub_tools import hub_tools
from tests.fakes.hub_server import FakeHub
from tests.tools import call_tool


@pytest.fixture
def hub():
    with FakeHub() as fake:
        yield fake.seed_demo()


def call(hub, tmp_path, name, args, state=None):
    settings = Settings(hf_endpoint=hub.url, datasets_server_url=hub.url, hf_token="hf_test")
    return call_tool(hub_tools(), name, args, cwd=tmp_path, settings=settings, state=state)


def page_fetches(hub, library):
    """Requests for docs pages other than the index page the sidebar is read from."""
    return [r for r in hub.requests_to(f"/docs/{library}/") if r.path != f"/docs/{library}/index"]


def test_listing_shows_sections_and_pages_from_the_sidebar(hub, tmp_path):
    result = call(hub, tmp_path, "explore_hf_docs", {"library": "trl"})
    assert not result.is_error, result.content
    text = result.content
    assert "trl docs: 8 pages" in text
    assert (
        text.index("## Getting started") < text.index("## Trainers") < text.index("## Integrations")
    )
    assert "- SFT Trainer: /docs/trl/sft_trainer" in text
    assert "Models" not in text  # the site's top navigation is not a docs page
    assert page_fetches(hub, "trl") == []  # listing reads the index page only


def test_query_ranks_the_relevant_page_first(hub, tmp_path):
    result = call(
        hub, tmp_path, "explore_hf_docs", {"library": "trl", "query": "packing sequences SFT"}
    )
    assert not result.is_error, result.content
    first = result.content.split("\n1. ", 1)[1]
    assert first.startswith("SFT Trainer [Trainers]")
    assert f"{hub.url}/docs/trl/sft_trainer" in first.split("\n2. ")[0]
    assert "Supervised fine-tuning" in first  # a glimpse of the page


def test_index_is_cached_on_disk_and_reused(hub, tmp_path):
    call(hub, tmp_path, "explore_hf_docs", {"library": "trl", "query": "preference pairs"})
    fetched = len(hub.requests_to("/docs/trl"))
    assert len(page_fetches(hub, "trl")) == 7  # every page but the index, fetched once
    cache = Path(os.environ["XDG_CACHE_HOME"]) / "ml-intern" / "docs" / "trl.json"
    assert json.loads(cache.read_text())["endpoint"] == hub.url

    again = call(hub, tmp_path, "explore_hf_docs", {"library": "trl", "query": "reward functions"})
    assert "GRPO Trainer" in again.content.split("\n2. ")[0]
    listing = call(hub, tmp_path, "explore_hf_docs", {"library": "trl"})
    assert "SFT Trainer" in listing.content
    assert len(hub.requests_to("/docs/trl")) == fetched  # no request at all


def test_query_without_match_says_so(hub, tmp_path):
    result = call(hub, tmp_path, "explore_hf_docs", {"library": "trl", "query": "zebra quantum"})
    assert not result.is_error
    assert "No trl docs page matches" in result.content


def test_unknown_library_names_the_known_ones(hub, tmp_path):
    result = call(hub, tmp_path, "explore_hf_docs", {"library": "not-a-lib"})
    assert result.is_error
    assert "not-a-lib" in result.content
    assert "transformers" in result.content


def test_fetch_returns_clean_markdown(hub, tmp_path):
    result = call(
        hub, tmp_path, "fetch_hf_docs", {"url": "https://huggingface.co/docs/trl/sft_trainer"}
    )
    assert not result.is_error, result.content
    text = result.content
    assert text.startswith(f"Source: {hub.url}/docs/trl/sft_trainer")
    assert "# SFT Trainer" in text
    assert "## Packing" in text
    assert "```" in text and "SFTConfig(output_dir=" in text
    for chrome in (
        "window.hubConfig",
        "Copied",
        "Privacy",
        "Datasets",
        "DPO Trainer",
        "dataset.ready",
    ):
        assert chrome not in text


def test_fetch_accepts_paths_and_pages_long_content(hub, tmp_path):
    first = call(hub, tmp_path, "fetch_hf_docs", {"url": "/docs/trl/sft_trainer", "max_chars": 500})
    assert not first.is_error, first.content
    note = first.content.rsplit("[", 1)[1]
    assert "call again with" in note
    offset = int(re.search(r"offset=(\d+)", note).group(1))
    second = call(
        hub,
        tmp_path,
        "fetch_hf_docs",
        {"url": "/docs/trl/sft_trainer", "offset": offset, "max_chars": 500},
    )
    assert not second.is_error
    assert second.content.split("\n\n[")[0] not in first.content


def test_fetch_missing_page_points_to_explore(hub, tmp_path):
    result = call(hub, tmp_path, "fetch_hf_docs", {"url": "trl/no_such_page"})
    assert result.is_error
    assert "/docs/trl/no_such_page" in result.content
    assert "explore_hf_docs" in result.content


def test_fetch_refuses_other_sites(hub, tmp_path):
    result = call(hub, tmp_path, "fetch_hf_docs", {"url": "https://example.com/docs/trl/x"})
    assert result.is_error
    assert "example.com" in result.content
    assert hub.requests == []


def test_find_hf_api_ranks_operations(hub, tmp_path):
    result = call(hub, tmp_path, "find_hf_api", {"query": "create a new repository"})
    assert not result.is_error, result.content
    first = result.content.split("\n1. ", 1)[1].split("\n2. ")[0]
    assert first.startswith("POST /api/repos/create")
    assert "Body (application/json): name, organization, type, private, sdk" in first


def test_find_hf_api_resolves_parameter_refs_and_caches_per_session(hub, tmp_path):
    state = {}
    result = call(hub, tmp_path, "find_hf_api", {"query": "change space hardware gpu"}, state)
    first = result.content.split("\n1. ", 1)[1].split("\n2. ")[0]
    assert first.startswith("POST /api/spaces/{namespace}/{repo}/hardware")
    assert "namespace (path, required)" in first
    call(hub, tmp_path, "find_hf_api", {"query": "run a job"}, state)
    assert len(hub.requests_to("/.well-known/openapi.json")) == 1


def test_find_hf_api_without_openapi(hub, tmp_path):
    hub.openapi = None
    result = call(hub, tmp_path, "find_hf_api", {"query": "create repo"})
    assert result.is_error
    assert "OpenAPI" in result.content


def test_docs_rate_limit_is_retried(hub, tmp_path):
    hub.fail_next("/docs/trl", 429, headers={"Retry-After": "0"})
    result = call(hub, tmp_path, "explore_hf_docs", {"library": "trl"})
    assert not result.is_error, result.content
