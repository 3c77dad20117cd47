"""hf_search against the loopback Hub: filters reach the API, results come back as a table."""

from __future__ import annotations

import pytest

from agent.tools.hub.hub_tools import hub_tools
from tests.fakes.hub_server import FakeHub
from tests.tools import call_tool


@pytest.fixture
def hub():
    with FakeHub() as fake:
        yield fake.seed_demo()


def call(hub, tmp_path, args, token="hf_test"):
    hub_urls = {"hf_endpoint": hub.url, "datasets_server_url": hub.url}
    return call_tool(hub_tools(), "hf_search", args, cwd=tmp_path, hf_token=token, **hub_urls)


def table_ids(content):
    rows = [
        line
        for line in content.splitlines()
        if line.startswith("| ") and not line.startswith("| id")
    ]
    return [row.split("|")[1].strip().split(" ")[0] for row in rows]


def test_models_by_query_sorted_by_downloads(hub, tmp_path):
    result = call(hub, tmp_path, {"query": "bert"})
    assert not result.is_error, result.content
    assert table_ids(result.content) == [
        "google-bert/bert-base-uncased",
        "acme/tiny-bert-sentiment",
    ]
    assert "| id | downloads | likes | updated | tags |" in result.content
    assert "52.0M" in result.content
    assert "2025-03-01" in result.content
    assert "text-classification" in result.content
    assert "region:us" not in result.content  # noise tags are dropped


def test_model_filters_are_sent_as_the_hub_expects(hub, tmp_path):
    result = call(
        hub,
        tmp_path,
        {
            "author": "acme",
            "task": "text-generation",
            "library": "peft",
            "sort": "trending",
            "limit": 5,
        },
    )
    assert table_ids(result.content) == ["acme/llama-3-8b-sft-lora"]
    query = hub.requests_to("/api/models")[-1].query
    assert query["author"] == ["acme"]
    assert query["pipeline_tag"] == ["text-generation"]
    assert query["filter"] == ["peft"]
    assert query["sort"] == ["trendingScore"]
    assert query["limit"] == ["5"]
    assert "downloads" in query["expand"]


def test_gated_models_are_marked(hub, tmp_path):
    result = call(hub, tmp_path, {"author": "meta-llama"})
    assert "meta-llama/Llama-3.2-1B (gated)" in result.content


def test_datasets_by_task(hub, tmp_path):
    result = call(hub, tmp_path, {"search_type": "datasets", "task": "text-classification"})
    assert table_ids(result.content) == ["acme/sentiment-prompts"]
    assert hub.requests_to("/api/datasets")[-1].query["filter"] == [
        "task_categories:text-classification"
    ]


def test_spaces_show_likes_and_sdk(hub, tmp_path):
    result = call(hub, tmp_path, {"search_type": "spaces", "sort": "likes"})
    assert table_ids(result.content) == ["acme/leaderboard", "acme/sentiment-demo"]
    assert "| id | likes | sdk | updated | tags |" in result.content
    assert "docker" in result.content


def test_collections_by_words(hub, tmp_path):
    result = call(hub, tmp_path, {"search_type": "collections", "query": "sentiment"})
    assert "Sentiment models" in result.content
    assert "model:acme/tiny-bert-sentiment" in result.content
    assert "Llama" not in result.content
    assert hub.requests_to("/api/collections")[-1].query["q"] == ["sentiment"]


def test_no_match_says_so(hub, tmp_path):
    result = call(hub, tmp_path, {"query": "no-such-model-anywhere"})
    assert not result.is_error
    assert result.content.startswith("No models match")


def test_limit_is_bounded(hub, tmp_path):
    result = call(hub, tmp_path, {"query": "bert", "limit": 101})
    assert result.is_error
    assert "limit" in result.content


def test_invalid_token_says_how_to_fix_it(hub, tmp_path):
    result = call(hub, tmp_path, {"query": "bert"}, token="hf_revoked")
    assert result.is_error
    assert "rejected your token" in result.content
    assert "HF_TOKEN" in result.content
    assert "https://huggingface.co/settings/tokens" in result.content


def test_rate_limit_is_retried_once_after_the_advertised_delay(hub, tmp_path):
    hub.fail_next("/api/models", 429, headers={"Retry-After": "0"})
    result = call(hub, tmp_path, {"query": "bert"})
    assert not result.is_error, result.content
    assert len(hub.requests_to("/api/models")) == 2


def test_persistent_rate_limit_gives_a_clear_message(hub, tmp_path):
    hub.fail_next("/api/models", 429, headers={"Retry-After": "0"}, times=2)
    result = call(hub, tmp_path, {"query": "bert"})
    assert result.is_error
    assert "rate limited" in result.content
    assert len(hub.requests_to("/api/models")) == 2


def test_long_rate_limit_is_not_waited_for(hub, tmp_path):
    hub.fail_next("/api/models", 429, headers={"Retry-After": "3600"})
    result = call(hub, tmp_path, {"query": "bert"})
    assert result.is_error
    assert "in 60 min" in result.content
    assert len(hub.requests_to("/api/models")) == 1


def test_server_error_is_reported_as_unavailable(hub, tmp_path):
    hub.fail_next("/api/models", 503)
    result = call(hub, tmp_path, {"query": "bert"})
    assert result.is_error
    assert "unavailable" in result.content
