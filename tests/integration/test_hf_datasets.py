"""hf_inspect_dataset against the loopback Hub and its datasets viewer."""

from __future__ import annotations

import pytest

from agent.config import Settings
from agent.tools.hub.hub_tools import hub_tools
from tests.fakes.hub_server import FakeHub
from tests.tools import call_tool


@pytest.fixture
def hub():
    with FakeHub() as fake:
        yield fake.seed_demo()


def inspect(hub, tmp_path, args, token="hf_test", viewer_url=None):
    settings = Settings(
        hf_endpoint=hub.url, datasets_server_url=viewer_url or hub.url, hf_token=token
    )
    return call_tool(hub_tools(), "hf_inspect_dataset", args, cwd=tmp_path, settings=settings)


def test_columns_splits_and_rows_of_a_dataset(hub, tmp_path):
    result = inspect(hub, tmp_path, {"dataset": "acme/sentiment-prompts"})
    assert not result.is_error, result.content
    text = result.content
    assert "| default | train | 6 |" in text
    assert "| default | test | 2 |" in text
    assert "| prompt | string |" in text
    assert "| completion | string |" in text
    assert "| label | ClassLabel (0=negative, 1=positive) |" in text
    assert "label (class_label): negative 3, positive 3" in text
    assert "## Sample rows (default/train, first 3)" in text
    assert '- prompt: "Review: The battery lasts all day and charges fast.\\nSentiment:"' in text
    assert "- label: 1 (positive)" in text
    assert "Size of 'default':" in text
    assert "Warning" not in text


def test_long_cells_are_cut(hub, tmp_path):
    result = inspect(hub, tmp_path, {"dataset": "acme/sentiment-prompts", "sample_rows": 5})
    row = result.content.split("Row 4:")[1].split("Row")[0]
    assert "[cut, 1489 chars]" in row
    assert len(row) < 500


def test_config_and_split_are_chosen(hub, tmp_path):
    result = inspect(
        hub, tmp_path, {"dataset": "acme/multilingual-qa", "config": "en", "split": "validation"}
    )
    assert not result.is_error, result.content
    assert "| fr | train | 1 |" in result.content  # every config is listed
    assert "## Sample rows (en/validation, first 1)" in result.content
    assert '- question: "2+2?"' in result.content
    rows = hub.requests_to("/first-rows")[-1].query
    assert (rows["config"], rows["split"]) == (["en"], ["validation"])


def test_unknown_config_lists_the_available_ones(hub, tmp_path):
    result = inspect(hub, tmp_path, {"dataset": "acme/multilingual-qa", "config": "de"})
    assert result.is_error
    assert "available configs: en, fr" in result.content


def test_chat_messages_are_described(hub, tmp_path):
    result = inspect(hub, tmp_path, {"dataset": "acme/chat-sft"})
    assert "| messages | list<{role: string, content: string}> |" in result.content
    assert "Column 'messages' holds chat messages: roles assistant, user" in result.content


def test_dataset_without_viewer_is_flagged(hub, tmp_path):
    result = inspect(hub, tmp_path, {"dataset": "acme/raw-logs"})
    assert not result.is_error
    assert "Warning: the dataset viewer is not available" in result.content
    assert "hf_repo_files" in result.content
    assert hub.requests_to("/splits") == []


def test_gated_dataset_says_how_to_get_access(hub, tmp_path):
    result = inspect(hub, tmp_path, {"dataset": "meta-llama/eval-suite"})
    assert "gated" in result.content
    assert f"{hub.url}/datasets/meta-llama/eval-suite" in result.content
    assert "accept the conditions" in result.content
    assert "no access yet" in result.content


def test_gated_dataset_with_access_is_shown(hub, tmp_path):
    hub.repo("meta-llama/eval-suite", "dataset").granted.add("testuser")
    result = inspect(hub, tmp_path, {"dataset": "meta-llama/eval-suite"})
    assert "| default | test | 1 |" in result.content
    assert "this dataset is gated" in result.content
    assert "no access yet" not in result.content


def test_missing_dataset_suggests_search(hub, tmp_path):
    result = inspect(hub, tmp_path, {"dataset": "acme/does-not-exist"})
    assert result.is_error
    assert "'acme/does-not-exist' was not found" in result.content
    assert "hf_search" in result.content


def test_private_dataset_without_login_says_to_set_the_token(hub, tmp_path):
    hub.repo("acme/sentiment-prompts", "dataset").private = True
    result = inspect(hub, tmp_path, {"dataset": "acme/sentiment-prompts"}, token=None)
    assert result.is_error
    assert "not logged in" in result.content
    assert "HF_TOKEN" in result.content


def test_viewer_is_reached_at_its_own_url(hub, tmp_path):
    with FakeHub() as viewer:
        viewer.seed_demo()
        result = inspect(
            hub, tmp_path, {"dataset": "acme/sentiment-prompts"}, viewer_url=viewer.url
        )
        assert not result.is_error, result.content
        assert [r.path for r in viewer.requests if r.path.startswith("/api/")] == []
        assert viewer.requests_to("/splits") and not hub.requests_to("/splits")
        assert viewer.requests_to("/splits")[0].headers["authorization"] == "Bearer hf_test"


def test_viewer_rate_limit_is_retried(hub, tmp_path):
    hub.fail_next("/splits", 429, headers={"Retry-After": "0"})
    result = inspect(hub, tmp_path, {"dataset": "acme/sentiment-prompts"})
    assert not result.is_error, result.content
    assert len(hub.requests_to("/splits")) == 2


def test_a_preference_dataset_is_reported_as_fitting_dpo(hub, tmp_path):
    rows = [
        {"prompt": "Capital of France?", "chosen": "Paris.", "rejected": "Lyon."},
        {"prompt": "2+2?", "chosen": "4", "rejected": "5"},
    ]
    hub.add_repo("acme/prefs", "dataset", viewer={"default": {"train": rows}})
    result = inspect(hub, tmp_path, {"dataset": "acme/prefs"})
    assert not result.is_error, result.content
    fits = result.content.split("## Training formats")[1]
    assert "- fits DPO / reward modeling (explicit prompt: `prompt`, `chosen`, `rejected`)" in fits
    assert "GRPO" in fits  # a prompt column is all GRPO needs
    assert "SFT" not in fits


def test_chat_and_labelled_datasets_name_their_methods(hub, tmp_path):
    chat = inspect(hub, tmp_path, {"dataset": "acme/chat-sft"}).content
    assert "- fits SFT (conversational: `messages`)" in chat
    labelled = inspect(hub, tmp_path, {"dataset": "acme/sentiment-prompts"}).content
    assert "- fits SFT (prompt-completion: `prompt`, `completion`)" in labelled
    assert "KTO" not in labelled  # its label is a class id; KTO wants a bool


def test_columns_that_fit_nothing_say_so(hub, tmp_path):
    hub.add_repo("acme/raw", "dataset", viewer={"default": {"train": [{"q": "a", "a": "b"}]}})
    result = inspect(hub, tmp_path, {"dataset": "acme/raw"})
    assert "No known training format matches these columns" in result.content


def test_boolean_labels_fit_kto(hub, tmp_path):
    rows = [{"prompt": "Hi", "completion": "Hello!", "label": True}]
    hub.add_repo("acme/kto", "dataset", viewer={"default": {"train": rows}})
    result = inspect(hub, tmp_path, {"dataset": "acme/kto"})
    assert "- fits KTO (unpaired preference: `prompt`, `completion`, `label`)" in result.content
