"""Hub tools through the real CLI: the model inspects a dataset before writing code."""

from __future__ import annotations

from tests.fakes import llm_server as llm
from tests.fakes.hub_server import FakeHub


def test_dataset_inspection_reaches_the_model_with_real_columns(cli, fake_llm, monkeypatch):
    with FakeHub() as hub:
        hub.seed_demo()
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        monkeypatch.setenv("ML_INTERN_DATASETS_SERVER_URL", hub.url)
        monkeypatch.setenv("ML_INTERN_SHARE_TRACES", "false")
        fake_llm.script(
            llm.tool_call("hf_inspect_dataset", {"dataset": "acme/sentiment-prompts"}),
            llm.text("The columns are prompt, completion and label."),
        )
        result = cli("-o", "json", "what columns does acme/sentiment-prompts have?")
        assert result.exit_code == 0, result.stderr
        seen = fake_llm.requests[1]["messages"][-1]
        assert seen["role"] == "tool"
        for column in ("prompt", "completion", "label"):
            assert column in seen["content"]
        assert hub.requests_to("/splits") or hub.requests_to("/info")
