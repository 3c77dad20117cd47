"""Model ids are judged without litellm; the static tables must agree with litellm's own."""

from __future__ import annotations

import pytest

from agent.config import Settings
from agent.core.model_ids import (
    KNOWN_PROVIDERS,
    PROVIDER_KEYS,
    id_problem,
    missing_key,
    resolve_model,
)
from agent.core.replies import without_reasoning


def test_the_provider_list_is_litellms():
    from agent.core.llm import litellm

    theirs = {getattr(p, "value", p) for p in litellm().provider_list}
    assert set(KNOWN_PROVIDERS) == theirs, (
        "litellm's providers changed: update KNOWN_PROVIDERS in agent/core/model_ids.py "
        f"(added: {sorted(theirs - KNOWN_PROVIDERS)}, gone: {sorted(KNOWN_PROVIDERS - theirs)})"
    )


@pytest.mark.parametrize("provider", sorted(PROVIDER_KEYS))
def test_each_known_key_variable_is_one_litellm_reads(provider, monkeypatch):
    from agent.core.llm import litellm

    lib = litellm()
    model = f"{provider}/some-model"
    for name in PROVIDER_KEYS[provider]:
        monkeypatch.delenv(name, raising=False)
    missing = lib.validate_environment(model=model)
    assert not missing["keys_in_environment"]
    assert set(missing["missing_keys"]) <= set(PROVIDER_KEYS[provider])
    for name in PROVIDER_KEYS[provider]:
        if provider == "huggingface" and name != "HUGGINGFACE_API_KEY":
            continue  # these reach litellm as api_key (resolve_model), not from the environment
        monkeypatch.setenv(name, "k")
        assert lib.validate_environment(model=model)["keys_in_environment"], name
        monkeypatch.delenv(name)


@pytest.mark.parametrize(
    ("model_id", "reason"),
    [
        ("ollama/", "names a provider but no model"),
        ("vllm/", "names a provider but no model"),
        ("lm_studio", "names a provider but no model"),
        ("llamacpp/", "names a provider but no model"),
        ("ollama/llama 3.1", "no spaces"),
        ("openai/gpt-5\t", "no spaces"),
        ("", "empty"),
        ("openai-compat/x", "unknown provider 'openai-compat/'"),
        ("antropic/claude-sonnet-4-5", "did you mean anthropic/?"),
    ],
)
def test_ids_that_cannot_work_are_refused_with_the_reason(model_id, reason):
    problem = id_problem(model_id)
    assert problem is not None and reason in problem


@pytest.mark.parametrize(
    "model_id",
    [
        "anthropic/claude-sonnet-4-5",
        "huggingface/moonshotai/Kimi-K2-Instruct",
        "openrouter/anthropic/claude-sonnet-4.5",
        "ollama/llama3.1:8b",
        "llamacpp/qwen",
        "gpt-4o",  # no prefix: litellm decides
    ],
)
def test_ids_that_can_work_pass(model_id):
    assert id_problem(model_id) is None


def test_missing_keys_are_known_without_litellm_for_listed_providers(monkeypatch):
    settings = Settings()
    monkeypatch.delenv("GEMINI_API_KEY", raising=False)
    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)
    assert missing_key(resolve_model("anthropic/claude-sonnet-4-5", settings)) == [
        "ANTHROPIC_API_KEY"
    ]
    assert missing_key(resolve_model("gemini/gemini-2.5-pro", settings)) == ["GEMINI_API_KEY"]
    monkeypatch.setenv("GOOGLE_API_KEY", "k")
    assert missing_key(resolve_model("gemini/gemini-2.5-pro", settings)) == []
    assert missing_key(resolve_model("ollama/llama3.1", settings)) == []  # local: no key
    assert missing_key(resolve_model("bedrock/some-model", settings)) is None  # litellm knows


def test_a_hugging_face_token_from_settings_is_the_key(monkeypatch):
    target = resolve_model("huggingface/org/model", Settings(hf_token="hf_from_config"))
    assert target.api_key == "hf_from_config"
    assert missing_key(target) == []
    assert missing_key(resolve_model("huggingface/org/model", Settings())) == ["HF_TOKEN"]


def test_lm_studio_reads_the_original_variable_names_before_local_llm(monkeypatch):
    monkeypatch.setenv("LOCAL_LLM_BASE_URL", "http://generic:1")
    monkeypatch.setenv("LMSTUDIO_BASE_URL", "http://lmstudio:2")
    target = resolve_model("lm_studio/qwen", Settings())
    assert (target.model, target.api_base, target.name) == (
        "openai/qwen",
        "http://lmstudio:2/v1",
        "lm_studio/qwen",
    )
    monkeypatch.setenv("LM_STUDIO_BASE_URL", "http://lm-studio:3/v1")
    assert resolve_model("lm_studio/qwen", Settings()).api_base == "http://lm-studio:3/v1"


def test_stripping_reasoning_keeps_every_word_and_pairs_results_by_id():
    signed = "call_1__thought__c2lnbmF0dXJl"
    history = [
        {"role": "system", "content": "s"},
        {"role": "user", "content": "go"},
        {
            "role": "assistant",
            "content": "Listing.",
            "reasoning_content": "I should list.",
            "thinking_blocks": [{"type": "thinking", "thinking": "t", "signature": "s"}],
            "tool_calls": [
                {"id": signed, "type": "function", "function": {"name": "bash", "arguments": "{}"}}
            ],
        },
        {"role": "tool", "tool_call_id": signed, "name": "bash", "content": "a.txt"},
    ]
    stripped = without_reasoning(history)
    assert stripped is not None
    assert stripped[2] == {
        "role": "assistant",
        "content": "Listing.",
        "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "bash", "arguments": "{}"}}
        ],
    }
    assert stripped[3]["tool_call_id"] == "call_1"
    assert history[2]["thinking_blocks"]  # the original is left alone
    assert without_reasoning(stripped) is None
