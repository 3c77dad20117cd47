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
