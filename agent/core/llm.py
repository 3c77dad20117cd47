"""The only module that imports litellm.

It turns one request into one `LLMReply`: streamed or not, retried with backoff
where retrying is right, with provider failures classified into the typed errors
of `agent.core.errors`, and usage and cost collected per call.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import random
import re
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from typing import TYPE_CHECKING, Any

from agent.core.errors import (
    AgentStop,
    AuthError,
    BadRequest,
    ContextOverflow,
    LLMError,
    OutOfCredits,
    RateLimited,
    StaleReasoning,
    TransientLLMError,
    UsageError,
)
from agent.core.model_ids import ModelTarget, missing_key, no_key_message, resolve_model
from agent.core.replies import (
    LLMReply,
    StreamCallbacks,
    TokenUsage,
    assemble_stream,
    from_response,
    unsigned_tool_turn,
)
from agent.retry_after import retry_after_seconds

if TYPE_CHECKING:
    from agent.config import Settings

MAX_RETRY_DELAY_S = 60.0
PROBE_TIMEOUT_S = 30.0

_litellm_lock = threading.Lock()


def litellm() -> Any:
    """Import litellm once, configured to stay offline and quiet."""
    with _litellm_lock:
        os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
        os.environ.setdefault("LITELLM_LOG", "CRITICAL")
        import litellm as lib

        lib.suppress_debug_info = True
        lib.drop_params = True
        for name in ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy", "litellm"):
            logging.getLogger(name).setLevel(logging.CRITICAL)
        return lib


def warm_up() -> None:
    """Import litellm and run one offline mock call, so the first real call is quick.

    litellm loads a tokenizer and a few dozen modules on its first completion; a
    `mock_response` call does all of that without touching the network.
    """
    lib = litellm()
    try:
        stream = lib.completion(
            model="openai/warm-up",
            api_key="none",
            messages=[{"role": "user", "content": "hi"}],
            mock_response="ok",
            stream=True,
            stream_options={"include_usage": True},
        )
        for _ in stream:
            pass
    except Exception:
        logging.getLogger(__name__).debug("warm-up call failed", exc_info=True)


def preload_in_background() -> threading.Thread:
    """Start loading litellm while the person types (or while the session starts)."""
    thread = threading.Thread(target=warm_up, name="litellm-warm-up", daemon=True)
    thread.start()
    return thread


def check_credentials(target: ModelTarget) -> None:
    """Fail before any request, naming the variable, when the model's key is missing."""
    if names := missing_keys(target):
        raise AuthError(no_key_message(target, names))


def missing_keys(target: ModelTarget) -> list[str]:
    """The variables the model needs and does not have: from the static table where the
    provider is in it, else from litellm (which also says when it knows no such provider)."""
    known = missing_key(target)
    if known is not None:
        return known
    lib = litellm()
    try:
        lib.get_llm_provider(target.model)
    except Exception:
        raise UsageError(
            f"{target.name}: no provider for this id. Start it with one, "
            f"e.g. openai/{target.model} or ollama/{target.model}."
        ) from None
    env = lib.validate_environment(model=target.model)
    if env.get("keys_in_environment", True):
        return []
    return [str(name) for name in env.get("missing_keys") or []]


async def complete(
    messages: list[dict[str, Any]],
    tools: list[dict[str, Any]],
    settings: Settings,
    callbacks: StreamCallbacks | None = None,
    model_name: str | None = None,
) -> LLMReply:
    """Ask the model once, retrying transient failures with backoff and jitter."""
    callbacks = callbacks or StreamCallbacks()
    target = resolve_model(model_name or settings.model_name, settings)
    check_credentials(target)
    attempts = max(1, settings.llm_max_attempts)
    for attempt in range(1, attempts + 1):
        try:
            return await _request(messages, tools, settings, target, callbacks)
        except LLMError as exc:
            if not exc.retryable or attempt == attempts:
                raise
            delay = _retry_delay(exc, attempt, settings.retry_base_delay_s)
            callbacks.on_retry(attempt, attempts, delay, exc.message)
            await asyncio.sleep(delay)
    raise AssertionError("unreachable")


def _retry_delay(exc: LLMError, attempt: int, base: float) -> float:
    if isinstance(exc, RateLimited) and exc.retry_after is not None:
        return min(exc.retry_after, MAX_RETRY_DELAY_S)
    return min(base * 2 ** (attempt - 1) * random.uniform(0.5, 1.5), MAX_RETRY_DELAY_S)


async def probe(model_name: str, settings: Settings) -> None:
    """One request for a single token: does this model answer, with the key we have?"""
    target = resolve_model(model_name, settings)
    await asyncio.to_thread(check_credentials, target)  # may wait for litellm to load
    timeout = min(settings.llm_timeout_s, PROBE_TIMEOUT_S)
    kwargs = _target_kwargs(target) | {
        "messages": [{"role": "user", "content": "Say OK."}],
        "max_tokens": 1,
        "timeout": timeout,
        "num_retries": 0,
        "max_retries": 0,
    }
    try:
        async with asyncio.timeout(timeout):
            await litellm().acompletion(**kwargs)
    except TimeoutError:
        raise TransientLLMError(f"it sent nothing for {timeout:g} s") from None
    except Exception as exc:
        raise classify(exc, target) from exc


def _target_kwargs(target: ModelTarget) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"model": target.model}
    if target.api_base:
        kwargs["api_base"] = target.api_base
    if target.api_key:
        kwargs["api_key"] = target.api_key
    return kwargs


async def _request(
    messages: list[dict[str, Any]],
    tools: list[dict[str, Any]],
    settings: Settings,
    target: ModelTarget,
    callbacks: StreamCallbacks,
) -> LLMReply:
    lib = litellm()
    kwargs = _target_kwargs(target) | {
        "messages": messages,
        "stream": settings.stream,
        "timeout": settings.llm_timeout_s,
        "num_retries": 0,
        "max_retries": 0,
    }
    if tools:
        kwargs["tools"] = tools
    if settings.stream:
        kwargs["stream_options"] = {"include_usage": True}
    kwargs.update(_provider_features(lib, target, settings, callbacks, messages))
    deadline = asyncio.timeout(settings.llm_timeout_s)
    try:
        async with deadline:
            with provider_errors(target):
                response = await lib.acompletion(**kwargs)
            if settings.stream:
                chunks = _classified(response, target)
                reply = await assemble_stream(chunks, callbacks, deadline, settings)
            else:
                with provider_errors(target):
                    reply = from_response(response)
                if reply.reasoning:
                    callbacks.on_thinking(reply.reasoning)
    except TimeoutError:
        if not deadline.expired():
            raise
        raise TransientLLMError(
            f"the model sent nothing for {settings.llm_timeout_s:g} s"
        ) from None
    reply.cost_usd = _cost(target.model, reply.usage)
    return reply


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


async def _classified(response: Any, target: ModelTarget) -> AsyncIterator[Any]:
    """The stream's chunks, with only the reading of each one under `provider_errors`."""
    chunks = aiter(response)
    while True:
        with provider_errors(target):
            try:
                chunk = await anext(chunks)
            except StopAsyncIteration:
                return
        yield chunk


_effort_told: set[str] = set()


def effort_ignored(model_name: str, settings: Settings) -> bool:
    """True when the model has no reasoning setting and the person has not been told yet:
    whoever asks first (the chat's /effort, or the request) tells them, once per model."""
    target = resolve_model(model_name, settings)
    if model_name in _effort_told or _supports(litellm().supports_reasoning, target.model):
        return False
    _effort_told.add(model_name)
    return True


def _provider_features(
    lib: Any,
    target: ModelTarget,
    settings: Settings,
    callbacks: StreamCallbacks,
    messages: list[dict[str, Any]],
) -> dict[str, Any]:
    """Reasoning effort and prompt caching, where the model supports them."""
    features: dict[str, Any] = {}
    anthropic = target.model.startswith("anthropic/")
    if settings.effort and not (anthropic and unsigned_tool_turn(messages)):
        if _supports(lib.supports_reasoning, target.model):
            features["reasoning_effort"] = settings.effort
            # litellm otherwise caps output at a few thousand tokens once thinking is on
            if limit := settings.max_output_tokens or _max_output_tokens(lib, target.model):
                features["max_tokens"] = limit
        elif effort_ignored(target.name, settings):
            callbacks.on_notice(
                f"The reasoning effort is ignored: {target.name} has no reasoning setting."
            )
    from litellm.utils import supports_prompt_caching  # not exported at the top level

    if anthropic and _supports(supports_prompt_caching, target.model):
        features["cache_control_injection_points"] = [
            {"location": "message", "role": "system"},
            {"location": "message", "index": -1},
        ]
    return features


def _max_output_tokens(lib: Any, model: str) -> int | None:
    try:
        return lib.get_model_info(model).get("max_output_tokens")
    except Exception:
        return None


def _supports(check: Callable[[str], bool], model: str) -> bool:
    try:
        return bool(check(model))
    except Exception:
        return False


def _cost(model: str, usage: TokenUsage) -> float | None:
    """Cost from litellm's bundled price map; None when the price is unknown."""
    try:
        prompt, completion = litellm().cost_per_token(
            model=model,
            prompt_tokens=usage.input_tokens,
            completion_tokens=usage.output_tokens,
            cache_read_input_tokens=usage.cached_tokens,
        )
    except Exception:
        return None
    return prompt + completion


def classify(exc: Exception, target: ModelTarget) -> AgentStop:
    """One place that knows litellm's exception types; the loop sees only ours."""
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
    if _caused_by(exc, _connection_errors(lib)):
        return TransientLLMError(f"connection to the model failed: {text}")
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


_NOISE = re.compile(r"litellm\.|LiteLLM |\s*Handle with `\w+`\.?|ssl:<[^>]*>\s*")
_CLASS_NAMES = re.compile(r"^(\s*\w+(Error|Exception)( -|:))+\s*")  # "APIError: OpenAIException -"


def _provider_message(exc: Exception) -> str:
    """The provider's words, without litellm's advice to programmers or class names."""
    text = str(getattr(exc, "message", "") or exc).strip()
    return _CLASS_NAMES.sub("", _NOISE.sub("", text).strip())[:500]


def _retry_after(exc: Exception) -> float | None:
    response = getattr(exc, "response", None)
    return retry_after_seconds(getattr(response, "headers", None))
