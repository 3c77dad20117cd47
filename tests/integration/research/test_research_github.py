"""The GitHub tools through the router, against a loopback fake of the REST API."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

TOKEN = "ghp_testtoken123"


def test_find_examples_without_token_lists_official_folders_and_repos(call, fakes):
    result = call("github_find_examples", {"keyword": "peft LoraConfig"})
    assert not result.is_error
    text = result.content
    assert "set GITHUB_TOKEN" in text
    assert "Official example folders in huggingface/peft" in text
    # Entries whose names match the class come first.
    assert text.index("examples/lora_dreambooth") < text.index("examples/sft")
    assert "https://github.com/huggingface/peft/tree/main/examples/lora_dreambooth" in text
    assert "alice-ml/llm-recipes ★ 850, pushed 2026-03-02" in text  # repository search
    assert not fakes.github.requests_to("/search/code")
    assert all("authorization" not in r.headers for r in fakes.github.requests)


def test_repository_search_falls_back_to_the_bare_name(call, fakes):
    result = call("github_find_examples", {"keyword": "transformers LoraConfig"})
    assert "Repositories matching 'LoraConfig'" in result.content
    assert "alice-ml/llm-recipes" in result.content
    queries = [r.query["q"] for r in fakes.github.requests_to("/search/repositories")]
    assert queries == ["transformers LoraConfig", "LoraConfig"]


def test_find_examples_with_token_searches_code_official_first(call, fakes):
    result = call("github_find_examples", {"keyword": "trl SFTTrainer"}, github_token=TOKEN)
    assert not result.is_error
    text = result.content
    official, others = text.split("## Other repositories")
    assert "huggingface/trl · examples/scripts/sft.py" in official
    assert "> from trl import SFTConfig, SFTTrainer" in official
    assert "huggingface/trl" not in others  # the library itself is not an "other" example
    order = [
        others.index(name)
        for name in (
            "huggingface/peft",
            "alice-ml/llm-recipes",
            "carol/tiny-sft",
            "bob/old-finetune",
            "dave/archived-sft",
        )
    ]
    assert order == sorted(order), "active repos by stars, then stale, then archived"
    assert "alice-ml/llm-recipes ★ 850, pushed 2026-03-02" in others
    searches = fakes.github.requests_to("/search/code")
    assert searches[0].query["q"] == "SFTTrainer repo:huggingface/trl path:examples/scripts"
    assert "text-match" in searches[0].headers["accept"]
    assert all(r.headers["authorization"] == f"Bearer {TOKEN}" for r in fakes.github.requests)
    # Stars were looked up once per repository.
    looked_up = [r.path for r in fakes.github.requests if r.path.count("/") == 3]
    assert len(looked_up) == len(set(looked_up))


def test_find_examples_in_one_repo(call, fakes):
    result = call(
        "github_find_examples",
        {"keyword": "LoraConfig", "repo": "https://github.com/huggingface/peft"},
        github_token=TOKEN,
    )
    assert not result.is_error
    assert "examples/lora_dreambooth/train.py" in result.content
    assert "Other repositories" not in result.content
    assert (
        fakes.github.requests_to("/search/code")[0].query["q"] == "LoraConfig repo:huggingface/peft"
    )
    nothing = call(
        "github_find_examples",
        {"keyword": "GRPOTrainer", "repo": "carol/tiny-sft"},
        github_token=TOKEN,
    )
    assert "No matches for 'GRPOTrainer' in carol/tiny-sft." in nothing.content


def test_find_examples_in_an_org(call, fakes):
    result = call(
        "github_find_examples", {"keyword": "SFTTrainer", "org": "carol"}, github_token=TOKEN
    )
    assert "carol/tiny-sft" in result.content
    assert "alice-ml" not in result.content
    assert fakes.github.requests_to("/search/code")[0].query["q"] == "SFTTrainer org:carol"


def test_list_repos_by_stars(call, fakes):
    result = call("github_list_repos", {"owner": "huggingface", "limit": 3})
    assert not result.is_error
    text = result.content
    assert (
        text.index("huggingface/transformers ★ 150000")
        < text.index("huggingface/peft")
        < text.index("huggingface/trl")
    )
    assert "old-demos" not in text
    assert "Python" in text and "Train transformer language models" in text
    assert fakes.github.requests_to("/search/repositories")[0].query["q"] == "user:huggingface"


def test_list_repos_by_update_time_marks_archived(call, fakes):
    result = call(
        "github_list_repos",
        {"owner": "huggingface", "owner_type": "org", "sort": "updated", "order": "asc"},
    )
    assert not result.is_error
    lines = [line for line in result.content.splitlines() if re.match(r"\d+\. ", line)]
    assert lines[0].startswith("1. huggingface/old-demos") and "(archived)" in lines[0]
    assert lines[-1].startswith("4. huggingface/transformers")
    request = fakes.github.requests_to("/orgs/huggingface/repos")[0]
    assert (request.query["sort"], request.query["direction"]) == ("updated", "asc")


def test_list_repos_of_unknown_owner(call):
    result = call("github_list_repos", {"owner": "nobody-here"})
    assert result.is_error
    assert "no GitHub user or organization named 'nobody-here'" in result.content
    user = call("github_list_repos", {"owner": "alice-ml", "owner_type": "org", "sort": "name"})
    assert user.is_error
    assert "organization 'alice-ml' not found" in user.content


def test_read_file_resolves_the_default_branch(call, fakes):
    result = call("github_read_file", {"repo": "bob/old-finetune", "path": "train.py"})
    assert not result.is_error
    assert result.content.startswith("bob/old-finetune@master:train.py (lines 1-5 of 5)")
    assert '     4\ttrainer = SFTTrainer(model="gpt2", train_dataset=data)' in result.content
    assert fakes.github.requests_to("/repos/bob/old-finetune/contents")[0].query["ref"] == "master"


def test_read_file_at_a_ref(call):
    result = call(
        "github_read_file",
        {"repo": "huggingface/trl", "path": "examples/scripts/sft.py", "ref": "v0.9.0"},
    )
    assert "trl 0.9 version" in result.content
    assert "@v0.9.0:" in result.content


def test_read_file_line_range(call):
    args = {
        "repo": "huggingface/transformers",
        "path": "examples/pytorch/language-modeling/run_clm.py",
    }
    result = call("github_read_file", {**args, "line_start": 10, "line_end": 12})
    assert "(lines 10-12 of 950)" in result.content
    numbered = [line for line in result.content.splitlines() if "\t" in line]
    assert numbered == [f"{n:>6}\tvalue_{n - 2} = {n - 2}  # line {n - 1}" for n in (10, 11, 12)]
    assert "call again" not in result.content


def test_read_large_file_is_paged(call):
    args = {
        "repo": "huggingface/transformers",
        "path": "examples/pytorch/language-modeling/run_clm.py",
    }
    first = call("github_read_file", args)
    assert "(lines 1-400 of 950)" in first.content
    assert first.content.endswith("[call again with line_start=401 for more]")
    second = call("github_read_file", {**args, "line_start": 401})
    assert "(lines 401-800 of 950)" in second.content
    last = call("github_read_file", {**args, "line_start": 801})
    assert "(lines 801-950 of 950)" in last.content
    assert "call again" not in last.content


def test_read_file_from_a_blob_url(call):
    url = "https://github.com/carol/tiny-sft/blob/main/sft.py"
    result = call("github_read_file", {"repo": "carol/tiny-sft", "path": url})
    assert "carol/tiny-sft@main:sft.py" in result.content
    assert "SmolLM2-135M" in result.content


def test_read_directory_binary_and_missing(call):
    folder = call("github_read_file", {"repo": "huggingface/trl", "path": "examples"})
    assert "is a directory" in folder.content
    assert "- notebooks/" in folder.content and "- scripts/" in folder.content
    image = call("github_read_file", {"repo": "huggingface/trl", "path": "docs/logo.png"})
    assert "is a binary file" in image.content
    missing = call("github_read_file", {"repo": "huggingface/trl", "path": "nope.py"})
    assert missing.is_error
    assert "'nope.py' in huggingface/trl at main not found (404)" in missing.content


def test_read_file_beyond_the_inline_limit_uses_raw_content(call, fakes):
    fakes.github.inline_limit = 100
    args = {
        "repo": "huggingface/transformers",
        "path": "examples/pytorch/language-modeling/run_clm.py",
    }
    result = call("github_read_file", {**args, "line_start": 949})
    assert "   950\tvalue_948 = 948  # line 949" in result.content
    raw = fakes.github.requests_to("/repos/huggingface/transformers/contents")[-1]
    assert "raw" in raw.headers["accept"]


def test_rate_limit_reports_reset_time_and_token_hint(call, fakes):
    reset = int(time.time()) + 600
    headers = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset)}
    fakes.github.fail_next("/repos", 403, headers, {"message": "API rate limit exceeded"})
    result = call("github_read_file", {"repo": "carol/tiny-sft", "path": "sft.py"})
    assert result.is_error
    when = datetime.fromtimestamp(reset, tz=UTC)
    assert "GitHub API rate limit reached" in result.content
    assert f"{when:%H:%M}" in result.content and "(in 10 min)" in result.content
    assert "Set GITHUB_TOKEN" in result.content

    fakes.github.fail_next("/users", 429, {"retry-after": "120"})
    with_token = call("github_list_repos", {"owner": "carol", "sort": "pushed"}, github_token=TOKEN)
    assert with_token.is_error
    assert "rate limit reached; it resets at" in with_token.content
    assert "(in 2 min)" in with_token.content
    assert "GITHUB_TOKEN" not in with_token.content


def test_brief_secondary_rate_limit_is_retried(call, fakes):
    fakes.github.fail_next("/search/repositories", 429, {"retry-after": "0"})
    result = call("github_list_repos", {"owner": "carol"})
    assert not result.is_error
    assert "carol/tiny-sft" in result.content
    assert len(fakes.github.requests_to("/search/repositories")) == 2


def test_token_is_sent_only_when_set(call, fakes):
    call("github_list_repos", {"owner": "carol"})
    assert "authorization" not in fakes.github.requests[-1].headers
    call("github_list_repos", {"owner": "carol"}, github_token=TOKEN)
    assert fakes.github.requests[-1].headers["authorization"] == f"Bearer {TOKEN}"
    assert fakes.github.requests[-1].headers["accept"] == "application/vnd.github+json"
