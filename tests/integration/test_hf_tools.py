"""The Hub tool family as the agent sees it: names, policies, authentication, reachability."""

from __future__ import annotations

import subprocess
import sys

import pytest

from agent.config import Settings
from agent.hf_token import find_hf_token, saved_login_path
from agent.tools.hub.hub_tools import hub_tools
from tests.fakes.hub_server import FakeHub
from tests.tools import call_tool

READS = {"explore_hf_docs", "fetch_hf_docs", "find_hf_api", "hf_search", "hf_inspect_dataset"}


@pytest.fixture
def hub():
    with FakeHub() as fake:
        yield fake.seed_demo()


def run(settings, tmp_path, name, args):
    return call_tool(hub_tools(), name, args, cwd=tmp_path, settings=settings)


def test_the_seven_tools_and_their_policies():
    specs = {spec.name: spec for spec in hub_tools()}
    assert list(specs) == [
        "explore_hf_docs",
        "fetch_hf_docs",
        "find_hf_api",
        "hf_search",
        "hf_inspect_dataset",
        "hf_repo_files",
        "hf_repo_git",
    ]
    assert {name for name, spec in specs.items() if spec.read_only} == READS
    for name, spec in specs.items():
        schema = spec.schema()["function"]
        assert schema["parameters"]["type"] == "object"
        assert len(schema["description"]) > 80, name
        if name in READS:
            assert spec.needs_approval is None


def test_writes_need_approval_and_reads_do_not():
    specs = {spec.name: spec for spec in hub_tools()}
    settings = Settings()
    files = specs["hf_repo_files"]
    assert [
        op
        for op in ("list", "read", "upload", "delete")
        if files.needs_approval({"operation": op}, settings)
    ] == [
        "upload",
        "delete",
    ]
    git = specs["hf_repo_git"]
    operations = git.parameters["properties"]["operation"]["enum"]
    free = [op for op in operations if not git.needs_approval({"operation": op}, settings)]
    assert free == ["list_refs", "list_prs", "list_discussions", "get_pr"]
    assert len(operations) == 15


def test_token_comes_from_the_saved_login_when_not_configured(hub, tmp_path):
    """`hf auth login` keeps the token in $HF_HOME/token; the tools find it there."""
    token_file = saved_login_path()
    token_file.parent.mkdir(parents=True, exist_ok=True)
    token_file.write_text("hf_test\n")
    settings = Settings(hf_endpoint=hub.url, datasets_server_url=hub.url)
    args = {"operation": "read", "repo_id": "acme/internal-model", "path": "config.json"}
    assert not run(settings, tmp_path, "hf_repo_files", args).is_error
    refs = {"operation": "list_refs", "repo_id": "acme/internal-model"}
    assert not run(settings, tmp_path, "hf_repo_git", refs).is_error
    assert {r.headers.get("authorization") for r in hub.requests} == {"Bearer hf_test"}


def test_settings_then_environment_then_saved_login(monkeypatch):
    saved_login_path().parent.mkdir(parents=True, exist_ok=True)
    saved_login_path().write_text("hf_saved\n")
    assert find_hf_token(Settings()) == "hf_saved"
    monkeypatch.setenv("HUGGING_FACE_HUB_TOKEN", "hf_legacy_env")
    assert find_hf_token(Settings()) == "hf_legacy_env"
    monkeypatch.setenv("HF_TOKEN", "hf_env")
    assert find_hf_token(Settings()) == "hf_env"
    assert find_hf_token(Settings(hf_token="hf_settings")) == "hf_settings"
    monkeypatch.setenv("HF_TOKEN_PATH", str(saved_login_path().with_name("elsewhere")))
    monkeypatch.delenv("HF_TOKEN")
    monkeypatch.delenv("HUGGING_FACE_HUB_TOKEN")
    assert find_hf_token(Settings()) is None  # HF_TOKEN_PATH names a file that is not there


def test_docs_requests_carry_no_token(hub, tmp_path):
    settings = Settings(hf_endpoint=hub.url, datasets_server_url=hub.url, hf_token="hf_test")
    run(settings, tmp_path, "explore_hf_docs", {"library": "trl"})
    assert all("authorization" not in r.headers for r in hub.requests)


def test_unreachable_hub_is_reported(tmp_path):
    settings = Settings(
        hf_endpoint="http://127.0.0.1:9", datasets_server_url="http://127.0.0.1:9", hf_token="hf_x"
    )
    search = run(settings, tmp_path, "hf_search", {"query": "bert"})
    assert search.is_error
    assert "could not reach the Hugging Face Hub at 127.0.0.1:9" in search.content
    refs = run(settings, tmp_path, "hf_repo_git", {"operation": "list_refs", "repo_id": "acme/x"})
    assert refs.is_error
    assert "could not reach the Hugging Face Hub" in refs.content


def test_importing_the_tools_does_not_import_heavy_libraries():
    code = (
        "import sys, agent.tools.hub.hub_tools as h; h.hub_tools(); "
        "print(sorted(m for m in ('huggingface_hub', 'bs4', 'markdownify') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
