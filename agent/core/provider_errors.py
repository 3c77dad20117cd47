"""Provider failures, classified once: litellm's exception types become our typed errors.

`provider_errors` wraps only litellm's call and the reading of its stream, so a failure in
our own callbacks stays our bug and is never read as the model's. The module reaches litellm
only through `agent.core.llm.litellm`, which has imported it by the time anything fails.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

from agent.core.model_ids import ModelTarget
from agent.errors import (
    AgentStop,
    AuthError,
    BadRequest,
    ContextOverflow,
    LLMError,
    OutOfCredits,
    RateLimited,
    StaleReasoning,
    TransientLLMError,
)
from agent.retry_after import retry_after_seconds


@contextlib.contextmanager
def provider_errors(target: ModelTarget) -> Iterator[None]:
    """Classify what the provider raises. It wraps litellm's call and the reading of its
    stream only: a failure in our own callbacks is our bug, never a provider error."""
    try:
        yield
    except LLMError:
        raise
    except Exception as exc:
        raise classify(exc, target) from exc


async def classified_stream(response: Any, target: ModelTarget) -> AsyncIterator[Any]:
    """The stream's chunks, with only the reading of each one under `provider_errors`."""
    chunks = aiter(response)
    while True:
        with provider_errors(target):
            try:
                chunk = await anext(chunks)
            except StopAsyncIteration:
                return
        yield chunk


def classify(exc: Exception, target: ModelTarget) -> AgentStop:
    """One place that knows litellm's exception types; the loop sees only ours."""
    from agent.core.llm import litellm

    lib = litellm()
    error = _provider_error(exc)
    text = error.get("message") or _provider_message(exc)
    status = getattr(exc, "status_code", 0)
    if out_of_credits(status, error, text):
        return OutOfCredits(
            f"{_provider_label(target)} says the account is out of credits ({text}). Add "
            f"credits there, or pick another model with --model (in the chat: /model)."
        )
    if isinstance(exc, lib.ContextWindowExceededError):
        return ContextOverflow(f"the conversation does not fit the model's context: {text}")
    if isinstance(exc, lib.AuthenticationError):
        return AuthError(f"{target.name} refused the API key: {text}")
    if isinstance(exc, lib.RateLimitError):
        return RateLimited(f"rate limited: {text}", _retry_after(exc))
    if isinstance(exc, lib.Timeout):
        return TransientLLMError(f"the model did not answer in time: {text}")
    if _caused_by(exc, (RecursionError,)):
        return LLMError(
            "the model's answer is nested too deeply to read (the same request would "
            "fail again); ask again in other words, or try another model with --model"
        )
    if _caused_by(exc, _connection_errors(lib)):
        return TransientLLMError(_connection_failed(target, text))
    transient = (lib.InternalServerError, lib.ServiceUnavailableError)
    if isinstance(exc, transient) or status in (500, 502, 503, 504, 529):
        return TransientLLMError(f"the model provider failed: {text}")
    if isinstance(exc, lib.BadRequestError) and _STALE_SIGNATURE.search(text):
        return StaleReasoning(f"the provider refused the saved reasoning: {text}")
    if isinstance(exc, lib.BadRequestError | lib.NotFoundError | lib.UnprocessableEntityError):
        return BadRequest(f"the provider refused the request: {text}")
    if status:
        return LLMError(f"the model provider failed (HTTP {status}): {text}")
    return LLMError(f"the model call failed: {text}")


# The only words read from provider errors, where no type or status tells them apart:
# a refused reasoning signature (Anthropic's thinking blocks, Gemini's thought signatures)
# and an exhausted balance sent with a status that also means something else.
_STALE_SIGNATURE = re.compile(r"(thinking|thought).{0,40}signature|signature.{0,40}thinking", re.I)
_NO_CREDITS = re.compile(r"credits? (are |is )?exhausted|credit balance is too low", re.I)


def out_of_credits(status: int, error: dict[str, Any], text: str) -> bool:
    """402 Payment Required, OpenAI's `insufficient_quota`, or a balance said to be empty."""
    codes = {str(error.get("code") or ""), str(error.get("type") or "")}
    return status == 402 or "insufficient_quota" in codes or bool(_NO_CREDITS.search(text))


def _provider_label(target: ModelTarget) -> str:
    """The provider as the person knows it: the id's prefix, and the host when redirected."""
    if target.api_base and not target.local:
        host = target.api_base.split("://", 1)[-1].split("/", 1)[0]
        return f"{target.provider} ({host})"
    return target.provider


def _connection_failed(target: ModelTarget, text: str) -> str:
    """Which address was tried and what set it, so the person knows what to fix."""
    message = f"connection to the model failed: {text}"
    if target.api_base:
        source = f" ({target.base_source})" if target.base_source else ""
        message += f" It tried {target.api_base}{source}: is the server running there?"
    return message


def _provider_error(exc: Exception) -> dict[str, Any]:
    """The provider's own error object (message, type, code), wherever litellm kept it:
    the parsed body, the HTTP response, or the JSON quoted in the exception's text."""
    candidates: list[Any] = [getattr(exc, "body", None)]
    response = getattr(exc, "response", None)
    with contextlib.suppress(Exception):
        candidates.append(json.loads(response.content))  # type: ignore[union-attr]
    text = str(getattr(exc, "message", "") or exc)
    if (start := text.find("{")) >= 0:
        with contextlib.suppress(ValueError):
            candidates.append(json.JSONDecoder().raw_decode(text, start)[0])
    for candidate in candidates:
        error = candidate.get("error", candidate) if isinstance(candidate, dict) else None
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return error
    return {}


def _connection_errors(lib: Any) -> tuple[type[BaseException], ...]:
    """The SDK's own "could not talk to the server" type, and litellm's.

    litellm maps a connection the server dropped onto InternalServerError (a 500 it
    never received) with the SDK's APIConnectionError as the cause, so the cause is
    what tells a dropped connection from a real server error.
    """
    import openai

    return (openai.APIConnectionError, lib.APIConnectionError)


def _caused_by(exc: BaseException, types: tuple[type[BaseException], ...]) -> bool:
    """Whether `exc` or anything in its cause chain is one of `types`."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, types):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


_NOISE = re.compile(r"\s*Handle with `[\w.]+`\.?|litellm\.|LiteLLM |ssl:<[^>]*>\s*")
_CLASS_NAMES = re.compile(r"^(\s*\w+(Error|Exception)( -|:))+\s*")  # "APIError: OpenAIException -"


def _provider_message(exc: Exception) -> str:
    """The provider's words, without litellm's advice to programmers or class names."""
    text = str(getattr(exc, "message", "") or exc).strip()
    return _CLASS_NAMES.sub("", _NOISE.sub("", text).strip())[:500]


def _retry_after(exc: Exception) -> float | None:
    response = getattr(exc, "response", None)
    return retry_after_seconds(getattr(response, "headers", None))
