"""hf_repo_files against the loopback Hub: listing, reading, uploading and deleting."""

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


def files(hub, tmp_path, args, token="hf_test"):
    settings = Settings(hf_endpoint=hub.url, datasets_server_url=hub.url, hf_token=token)
    args = {"repo_id": MODEL, **args}
    return call_tool(hub_tools(), "hf_repo_files", args, cwd=tmp_path, settings=settings)


def listed(result):
    return [
        line.split()[-1] if not line.endswith("[LFS]") else line.split()[-2]
        for line in result.content.splitlines()[1:]
    ]


# -- list -----------------------------------------------------------------------------


def test_list_shows_every_file_with_its_size(hub, tmp_path):
    result = files(hub, tmp_path, {"operation": "list"})
    assert not result.is_error, result.content
    lines = result.content.splitlines()
    assert lines[0] == "model acme/tiny-bert-sentiment @ main: 7 files, 10.0 kB"
    assert "training/train.py" in listed(result)
    assert any(line.endswith("model.safetensors  [LFS]") and "4.1 kB" in line for line in lines)


def test_list_follows_pagination(hub, tmp_path):
    hub.page_size = 2
    result = files(hub, tmp_path, {"operation": "list"})
    assert "7 files" in result.content
    assert len(hub.requests_to(f"/api/models/{MODEL}/tree/")) == 4


def test_list_a_folder_without_recursion_and_with_patterns(hub, tmp_path):
    result = files(hub, tmp_path, {"operation": "list", "path": "training", "recursive": False})
    assert listed(result) == ["training/args.yaml", "training/train.py"]
    result = files(hub, tmp_path, {"operation": "list", "patterns": ["*.json"]})
    assert listed(result) == ["config.json", "tokenizer.json"]


def test_list_at_a_revision(hub, tmp_path):
    repo = hub.repo(MODEL)
    repo.tags["v0"] = repo.branches["main"]
    files(hub, tmp_path, {"operation": "upload", "path": "new.txt", "content": "new"})
    assert "new.txt" in listed(files(hub, tmp_path, {"operation": "list"}))
    assert "new.txt" not in listed(files(hub, tmp_path, {"operation": "list", "revision": "v0"}))


def test_list_unknown_revision_points_to_list_refs(hub, tmp_path):
    result = files(hub, tmp_path, {"operation": "list", "revision": "v9"})
    assert result.is_error
    assert "revision 'v9' was not found" in result.content
    assert "list_refs" in result.content


# -- read -----------------------------------------------------------------------------


def test_read_pages_a_text_file_by_lines(hub, tmp_path):
    result = files(
        hub, tmp_path, {"operation": "read", "path": "training/train.py", "offset": 2, "limit": 3}
    )
    assert not result.is_error, result.content
    lines = result.content.splitlines()
    assert lines[0] == "model acme/tiny-bert-sentiment @ main: training/train.py (lines 2-4 of 121)"
    assert lines[1:4] == [f"# step {i}: adjust the learning rate schedule" for i in (1, 2, 3)]
    assert lines[-1] == "[call again with offset=5 for more]"


def test_read_whole_small_file(hub, tmp_path):
    result = files(hub, tmp_path, {"operation": "read", "path": "config.json"})
    assert '"BertForSequenceClassification"' in result.content
    assert "call again" not in result.content


def test_read_refuses_binaries_with_their_size(hub, tmp_path):
    result = files(hub, tmp_path, {"operation": "read", "path": "model.safetensors"})
    assert result.is_error
    assert "binary file (4.1 kB)" in result.content
    hub.repo(MODEL).commit(
        "main",
        "add blob",
        [
            {
                "key": "file",
                "value": {"path": "blob.dat", "content": "AAECAw==", "encoding": "base64"},
            }
        ],
    )
    result = files(hub, tmp_path, {"operation": "read", "path": "blob.dat"})
    assert result.is_error
    assert "binary file (4 B)" in result.content


def test_read_from_a_pull_request_ref(hub, tmp_path):
    files(
        hub,
        tmp_path,
        {"operation": "upload", "path": "config.json", "content": "{}\n", "create_pr": True},
    )
    result = files(
        hub, tmp_path, {"operation": "read", "path": "config.json", "revision": "refs/pr/1"}
    )
    assert result.content.splitlines()[1] == "{}"
    main = files(hub, tmp_path, {"operation": "read", "path": "config.json"})
    assert "architectures" in main.content


def test_read_missing_file_says_how_to_list(hub, tmp_path):
    result = files(hub, tmp_path, {"operation": "read", "path": "nope.txt"})
    assert result.is_error
    assert "'nope.txt' was not found" in result.content
    assert "operation='list'" in result.content


def test_read_gated_file_says_how_to_request_access(hub, tmp_path):
    args = {"operation": "read", "repo_id": "meta-llama/Llama-3.2-1B", "path": "config.json"}
    result = files(hub, tmp_path, args)
    assert result.is_error
    assert "is gated" in result.content
    assert f"{hub.url}/meta-llama/Llama-3.2-1B" in result.content
    assert "accept the conditions" in result.content
    anonymous = files(hub, tmp_path, args, token=None)
    assert "HF_TOKEN" in anonymous.content


def test_read_private_repo_without_token_says_to_log_in(hub, tmp_path):
    args = {"operation": "read", "repo_id": "acme/internal-model", "path": "config.json"}
    result = files(hub, tmp_path, args, token=None)
    assert result.is_error
    assert "not logged in" in result.content
    assert "set HF_TOKEN in your environment or .env" in result.content
    assert files(hub, tmp_path, args).content.splitlines()[1] == "{}"


def test_read_rate_limit_retried_once(hub, tmp_path):
    hub.fail_next(f"/{MODEL}/resolve/", 429, headers={"Retry-After": "0"})
    result = files(hub, tmp_path, {"operation": "read", "path": "config.json"})
    assert not result.is_error, result.content


# -- upload -----------------------------------------------------------------------------


def test_upload_text_content_commits_it(hub, tmp_path):
    args = {
        "operation": "upload",
        "path": "docs/notes.md",
        "content": "# Notes\n",
        "commit_message": "Add notes",
    }
    result = files(hub, tmp_path, args)
    assert not result.is_error, result.content
    repo = hub.repo(MODEL)
    assert repo.files()["docs/notes.md"] == b"# Notes\n"
    assert repo.resolve("main").title == "Add notes"
    assert f"commit {repo.branches['main'][:10]}" in result.content
    commit = hub.requests_to(f"/api/models/{MODEL}/commit/main", "POST")[0]
    assert commit.headers["content-type"] == "application/x-ndjson"
    assert hub.requests_to(f"/api/models/{MODEL}/preupload/main", "POST")


def test_upload_local_file_and_folder(hub, tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "metrics.json").write_text('{"acc": 0.9}')
    (tmp_path / "out" / "log.txt").write_text("done")
    (tmp_path / "card.md").write_text("card")
    assert not files(hub, tmp_path, {"operation": "upload", "local_path": "card.md"}).is_error
    result = files(
        hub,
        tmp_path,
        {"operation": "upload", "local_path": "out", "path": "eval", "patterns": ["*.json"]},
    )
    assert not result.is_error, result.content
    stored = hub.repo(MODEL).files()
    assert stored["card.md"] == b"card"
    assert stored["eval/metrics.json"] == b'{"acc": 0.9}'
    assert "eval/log.txt" not in stored


def test_upload_to_a_dataset_branch(hub, tmp_path):
    repo = hub.repo("acme/sentiment-prompts", "dataset")
    repo.branches["dev"] = repo.branches["main"]
    args = {
        "operation": "upload",
        "repo_id": "acme/sentiment-prompts",
        "repo_type": "dataset",
        "revision": "dev",
        "path": "x.txt",
        "content": "x",
    }
    assert not files(hub, tmp_path, args).is_error
    assert "x.txt" in repo.files("dev") and "x.txt" not in repo.files("main")


def test_upload_as_pull_request(hub, tmp_path):
    args = {"operation": "upload", "path": "README.md", "content": "better card", "create_pr": True}
    result = files(hub, tmp_path, args)
    assert "Opened pull request" in result.content
    assert "revision='refs/pr/1'" in result.content
    repo = hub.repo(MODEL)
    assert repo.files("refs/pr/1")["README.md"] == b"better card"
    assert repo.files()["README.md"] != b"better card"


def test_upload_needs_something_to_upload(hub, tmp_path):
    result = files(hub, tmp_path, {"operation": "upload", "path": "a.txt"})
    assert result.is_error
    assert "content" in result.content and "local_path" in result.content
    missing = files(hub, tmp_path, {"operation": "upload", "local_path": "nowhere"})
    assert "does not exist" in missing.content


def test_upload_without_token_or_rights(hub, tmp_path):
    args = {"operation": "upload", "path": "a.txt", "content": "a"}
    anonymous = files(hub, tmp_path, args, token=None)
    assert anonymous.is_error
    assert "HF_TOKEN" in anonymous.content
    foreign = files(hub, tmp_path, {**args, "repo_id": "google-bert/bert-base-uncased"})
    assert foreign.is_error
    assert "403" in foreign.content and "write access" in foreign.content


# -- delete -----------------------------------------------------------------------------


def test_delete_a_file_a_folder_and_patterns(hub, tmp_path):
    assert not files(hub, tmp_path, {"operation": "delete", "path": "tokenizer.json"}).is_error
    result = files(hub, tmp_path, {"operation": "delete", "path": "training/"})
    assert "training/args.yaml, training/train.py" in result.content
    files(hub, tmp_path, {"operation": "delete", "patterns": ["*.json"]})
    assert sorted(hub.repo(MODEL).files()) == [".gitattributes", "README.md", "model.safetensors"]


def test_delete_nothing_matching_is_an_error(hub, tmp_path):
    result = files(hub, tmp_path, {"operation": "delete", "path": "missing.bin"})
    assert result.is_error
    assert "nothing in model acme/tiny-bert-sentiment @ main matches missing.bin" in result.content
    assert hub.requests_to(f"/api/models/{MODEL}/commit/", "POST") == []


def test_read_large_text_file_shows_its_beginning(hub, tmp_path, monkeypatch):
    from agent.tools.hub import repo_files as hf_repos

    monkeypatch.setattr(hf_repos, "MAX_READ_BYTES", 200)
    result = files(hub, tmp_path, {"operation": "read", "path": "training/train.py", "limit": 2})
    assert not result.is_error, result.content
    lines = result.content.splitlines()
    assert "(lines 1-2 of the first 4; only the first 165 B" in lines[0]
    assert "of 5.4 kB read" in lines[0]
    assert lines[-1] == "[call again with offset=3 for more]"
    beyond = files(hub, tmp_path, {"operation": "read", "path": "training/train.py", "offset": 50})
    assert beyond.is_error
    assert "past the part read" in beyond.content
