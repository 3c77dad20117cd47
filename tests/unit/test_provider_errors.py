"""Failures that retrying cannot fix are not classified as transient."""

from __future__ import annotations

from agent.config import Settings
from agent.core.model_ids import resolve_model
from agent.core.provider_errors import classify


def test_an_answer_too_deep_to_read_is_not_retried():
    """litellm reports its own parser's stack overflow as a server error (HTTP 500): the
    same answer would overflow again, so it is not worth another request."""
    from agent.core.llm import litellm

    lib = litellm()
    try:
        try:
            raise RecursionError("maximum recursion depth exceeded while decoding a JSON array")
        except RecursionError as cause:
            raise lib.InternalServerError("Invalid response object", "openai", "x") from cause
    except Exception as exc:
        error = classify(exc, resolve_model("openai/x", Settings()))
    assert not getattr(error, "retryable", False)
    assert "nested too deeply" in error.message
