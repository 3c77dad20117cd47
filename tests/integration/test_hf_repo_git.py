"""hf_repo_git against the loopback Hub: refs, pull requests, discussions and repo settings."""

from __future__ import annotations

import pytest

from agent.config import Settings
from agent.tools.hub.hub_tools import hub_tools
from tests.fakes.hub_server import FakeHub
from tests.tools import call_tool

MODEL = "acme/tiny-bert-sentiment"


@pytest.fixture
def hub():
    with FakeHub() as fake:
        yield fake.seed_demo()


def run(hub, tmp_path, name, args, token="hf_test"):
    settings = Settings(hf_endpoint=hub.url, datasets_server_url=hub.url, hf_token=token)
    return call_tool(hub_tools(), name, args, cwd=tmp_path, settings=settings)


def git(hub, tmp_path, operation, token="hf_test", **args):
    return run(
        hub, tmp_path, "hf_repo_git", {"operation": operation, "repo_id": MODEL, **args}, token
    )


def test_branches_and_tags(hub, tmp_path):
    repo = hub.repo(MODEL)
    assert not git(hub, tmp_path, "create_branch", branch="dev").is_error
    assert not git(hub, tmp_path, "create_tag", tag="v1.0", message="first release").is_error
    refs = git(hub, tmp_path, "list_refs").content
    assert f"main ({repo.branches['main'][:8]})" in refs
    assert "dev (" in refs and "v1.0 (" in refs
    assert repo.tags["v1.0"] == repo.branches["main"] == repo.branches["dev"]
    git(hub, tmp_path, "delete_branch", branch="dev")
    git(hub, tmp_path, "delete_tag", tag="v1.0")
    assert list(repo.branches) == ["main"] and repo.tags == {}


def test_branch_from_a_revision_and_conflicts(hub, tmp_path):
    repo = hub.repo(MODEL)
    old = repo.branches["main"]
    run(
        hub,
        tmp_path,
        "hf_repo_files",
        {"operation": "upload", "repo_id": MODEL, "path": "a.txt", "content": "a"},
    )
    git(hub, tmp_path, "create_branch", branch="before-a", revision=old[:10])
    assert repo.branches["before-a"] == old
    again = git(hub, tmp_path, "create_branch", branch="before-a")
    assert again.is_error
    assert "409" in again.content and "exist_ok" in again.content
    assert not git(hub, tmp_path, "create_branch", branch="before-a", exist_ok=True).is_error


def test_missing_branch_and_missing_arguments(hub, tmp_path):
    result = git(hub, tmp_path, "delete_branch", branch="nope")
    assert result.is_error
    assert "revision 'nope' was not found" in result.content
    assert "create_branch needs branch" in git(hub, tmp_path, "create_branch").content


def test_pull_request_lifecycle(hub, tmp_path):
    created = git(hub, tmp_path, "create_pr", title="Fix the card", description="Typo in the intro")
    assert "Opened draft pull request #1" in created.content
    assert "revision='refs/pr/1'" in created.content
    upload = {
        "operation": "upload",
        "repo_id": MODEL,
        "revision": "refs/pr/1",
        "path": "README.md",
        "content": "fixed card\n",
    }
    assert not run(hub, tmp_path, "hf_repo_files", upload).is_error
    git(hub, tmp_path, "comment_pr", num=1, comment="Looks good")

    listing = git(hub, tmp_path, "list_prs").content
    assert "#1 [open] Fix the card — by testuser" in listing
    details = git(hub, tmp_path, "get_pr", num=1).content
    assert details.startswith("Pull request #1: Fix the card")
    assert "testuser commented: Typo in the intro" in details
    assert "testuser commented: Looks good" in details
    assert "+fixed card" in details

    assert not git(hub, tmp_path, "merge_pr", num=1, comment="Thanks!").is_error
    assert hub.repo(MODEL).files()["README.md"] == b"fixed card\n"
    merged = git(hub, tmp_path, "get_pr", num=1).content
    assert "Status: merged" in merged and "Merged as" in merged
    assert "No open pull requests" in git(hub, tmp_path, "list_prs").content
    assert "#1 [merged]" in git(hub, tmp_path, "list_prs", status="all").content


def test_discussions_are_opened_listed_and_closed(hub, tmp_path):
    opened = git(
        hub, tmp_path, "create_discussion", title="Which tokenizer?", description="Is it uncased?"
    )
    assert "Opened discussion #1" in opened.content
    git(hub, tmp_path, "create_pr", title="A change")
    listing = git(hub, tmp_path, "list_discussions").content
    assert "#1 [open] Which tokenizer?" in listing and "A change" not in listing
    assert not git(hub, tmp_path, "close_pr", num=1, comment="Answered").is_error
    details = git(hub, tmp_path, "get_pr", num=1).content
    assert details.startswith("Discussion #1: Which tokenizer?")
    assert "changed the status to closed" in details
    assert "No open discussions" in git(hub, tmp_path, "list_discussions").content


def test_missing_discussion_points_to_the_lists(hub, tmp_path):
    result = git(hub, tmp_path, "get_pr", num=7)
    assert result.is_error
    assert "#7" in result.content and "list_prs" in result.content


def test_create_repo_is_private_by_default(hub, tmp_path):
    result = git(hub, tmp_path, "create_repo", repo_id="my-model")
    assert result.content.startswith("Created private model testuser/my-model")
    assert hub.repo("testuser/my-model").private
    body = hub.requests_to("/api/repos/create")[0]
    assert body.method == "POST"
    public = git(
        hub,
        tmp_path,
        "create_repo",
        repo_id="acme/demo",
        repo_type="space",
        space_sdk="gradio",
        private=False,
    )
    assert "public space acme/demo" in public.content
    assert not hub.repo("acme/demo", "space").private


def test_create_space_needs_an_sdk(hub, tmp_path):
    result = git(hub, tmp_path, "create_repo", repo_id="acme/demo", repo_type="space")
    assert result.is_error
    assert "space_sdk" in result.content


def test_update_repo_visibility_and_gating(hub, tmp_path):
    assert not git(hub, tmp_path, "update_repo", private=True, gated="manual").is_error
    repo = hub.repo(MODEL)
    assert repo.private and repo.gated == "manual"
    git(hub, tmp_path, "update_repo", gated="off")
    assert repo.gated is False
    assert git(hub, tmp_path, "update_repo").is_error


def test_write_without_token_or_rights(hub, tmp_path):
    anonymous = git(hub, tmp_path, "create_branch", token=None, branch="dev")
    assert anonymous.is_error
    assert "HF_TOKEN" in anonymous.content
    other = run(
        hub,
        tmp_path,
        "hf_repo_git",
        {"operation": "create_branch", "repo_id": "google-bert/bert-base-uncased", "branch": "x"},
    )
    assert other.is_error and "403" in other.content
    outsider = git(hub, tmp_path, "create_repo", repo_id="meta-llama/mine")
    assert outsider.is_error and "403" in outsider.content


def test_rate_limit_is_retried_once_then_reported(hub, tmp_path):
    hub.fail_next(f"/api/models/{MODEL}/refs", 429, headers={"Retry-After": "0"})
    assert not git(hub, tmp_path, "list_refs").is_error
    hub.fail_next(f"/api/models/{MODEL}/refs", 429, headers={"RateLimit": '"api";r=0;t=0'}, times=2)
    result = git(hub, tmp_path, "list_refs")
    assert result.is_error
    assert "rate limited" in result.content
    assert len(hub.requests_to(f"/api/models/{MODEL}/refs")) == 4
