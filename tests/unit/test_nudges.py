import pytest

from agent.core.llm import LLMReply
from agent.core.nudges import FollowUps, announces_action


def test_announcing_an_action_is_detected():
    assert announces_action("The data looks fine.\n\nI'll now run the training script.")
    assert announces_action("Next, let me check the logs:")
    assert not announces_action("Training finished with accuracy 0.91.")
    assert not announces_action("I'll be happy to help with anything else. Done: all tests pass!")


def test_one_nudge_and_one_empty_retry_per_turn():
    follow_ups = FollowUps()
    assert follow_ups.after_answer(LLMReply(content="")) == "retry"
    assert follow_ups.after_answer(LLMReply(content="")) == "done"
    assert follow_ups.after_answer(LLMReply(content="Let me run it now.")) == "nudge"
    assert follow_ups.after_answer(LLMReply(content="Let me run it now.")) == "done"


def test_tool_calls_without_ids_get_unique_ones():
    from agent.core.replies import with_ids

    calls = [
        {"id": "", "type": "function", "function": {"name": "a", "arguments": "{}"}},
        {"id": None, "type": "function", "function": {"name": "b", "arguments": "{}"}},
        {"id": "x", "type": "function", "function": {"name": "c", "arguments": "{}"}},
        {"id": "x", "type": "function", "function": {"name": "d", "arguments": "{}"}},
    ]
    ids = [c["id"] for c in with_ids(calls)]
    assert len(set(ids)) == 4
    assert ids[2] == "x"


@pytest.mark.parametrize("advice", ["`litellm.InternalServerError`", "`InternalServerError`"])
def test_provider_messages_lose_litellm_advice_and_class_names(advice):
    from agent.core.provider_errors import _provider_message

    raw = (
        "litellm.InternalServerError: AnthropicException - Cannot connect to host "
        "api.anthropic.com:443 ssl:<ssl.SSLContext object at 0x7f0> [Name or service not known]."
        f" Handle with {advice}."
    )
    assert _provider_message(Exception(raw)) == (
        "Cannot connect to host api.anthropic.com:443 [Name or service not known]."
    )
