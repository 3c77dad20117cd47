"""The only module that imports litellm.

It turns one request into one `LLMReply`: streamed or not, retried with backoff
where retrying is right, with provider failures classified into the typed errors
of `agent.core.errors`, and usage and cost collected per call.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from agent.core.errors import (
    AgentStop,
    AuthError,
    BadRequest,
    ContextOverflow,
    LLMError,
    RateLimited,
    TransientLLMError,
)
from agent.core.replies import (
    LLMReply,
    StreamCallbacks,
    TokenUsage,
    assemble_stream,
    from_response,
)
from agent.retry_after import retry_after_seconds

if TYPE_CHECKING:
    from agent.config import Settings

# Local OpenAI-compatible servers, as the original named them: prefix -> (env stem, default URL).
LOCAL_PROVIDERS = {
    "ollama": ("OLLAMA", "http://localhost:11434/v1"),
    "vllm": ("VLLM", "http://localhost:8000/v1"),
    "lm_studio": ("LM_STUDIO", "http://localhost:1234/v1"),
    "llamacpp": ("LLAMACPP", "http://localhost:8080/v1"),
}
MAX_RETRY_DELAY_S = 60.0

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


@dataclass
class ModelTarget:
    """What litellm needs to reach a model."""

    model: str
    api_base: str | None = None
    api_key: str | None = None
    local: bool = False


def resolve_model(model_name: str, settings: Settings) -> ModelTarget:
    """Map ml-intern's model ids onto litellm's, including the local-server prefixes."""
    prefix, _, rest = model_name.partition("/")
    if prefix in LOCAL_PROVIDERS and rest:
        stem, default_url = LOCAL_PROVIDERS[prefix]
        base = os.environ.get(f"{stem}_BASE_URL") or os.environ.get("LOCAL_LLM_BASE_URL")
        key = os.environ.get(f"{stem}_API_KEY") or os.environ.get("LOCAL_LLM_API_KEY")
        return ModelTarget(f"openai/{rest}", _with_v1(base or default_url), key or "none", True)
    return ModelTarget(model_name, settings.api_base)


def _with_v1(url: str) -> str:
    url = url.rstrip("/")
    return url if url.endswith("/v1") else f"{url}/v1"


def check_credentials(target: ModelTarget) -> None:
    """Fail early, naming the variable, when the model's key is missing."""
    if target.local or target.api_key:
        return
    env = litellm().validate_environment(model=target.model)
    missing = env.get("missing_keys") or []
    if not env.get("keys_in_environment", True) and missing:
        names = " or ".join(missing)
        raise AuthError(
            f"No API key for {target.model}: set {names} in your environment or in "
            f"~/.config/ml-intern/.env (or this folder's .env once trusted with "
            f"`ml-intern trust`), or pick another model with --model."
        )


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


async def _request(
    messages: list[dict[str, Any]],
    tools: list[dict[str, Any]],
    settings: Settings,
    target: ModelTarget,
    callbacks: StreamCallbacks,
) -> LLMReply:
    lib = litellm()
    kwargs: dict[str, Any] = {
        "model": target.model,
        "messages": messages,
        "stream": settings.stream,
        "timeout": settings.llm_timeout_s,
        "num_retries": 0,
        "max_retries": 0,
    }
    if tools:
        kwargs["tools"] = tools
    if target.api_base:
        kwargs["api_base"] = target.api_base
    if target.api_key:
        kwargs["api_key"] = target.api_key
    if settings.stream:
        kwargs["stream_options"] = {"include_usage": True}
    kwargs.update(_provider_features(lib, target, settings, callbacks))
    try:
        async with asyncio.timeout(settings.llm_timeout_s) as deadline:
            response = await lib.acompletion(**kwargs)
            if settings.stream:
                reply = await assemble_stream(response, callbacks, deadline, settings)
            else:
                reply = from_response(response)
                if reply.reasoning:
                    callbacks.on_thinking(reply.reasoning)
    except LLMError:
        raise
    except TimeoutError:
        raise TransientLLMError(
            f"the model sent nothing for {settings.llm_timeout_s:g} s"
        ) from None
    except Exception as exc:
        raise classify(exc, target) from exc
    reply.cost_usd = _cost(target.model, reply.usage)
    return reply


_effort_warned: set[str] = set()


def _provider_features(
    lib: Any, target: ModelTarget, settings: Settings, callbacks: StreamCallbacks
) -> dict[str, Any]:
    """Reasoning effort and prompt caching, where the model supports them."""
    features: dict[str, Any] = {}
    if settings.effort:
        if _supports(lib.supports_reasoning, target.model):
            features["reasoning_effort"] = settings.effort
            # litellm otherwise caps output at a few thousand tokens once thinking is on
            if limit := settings.max_output_tokens or _max_output_tokens(lib, target.model):
                features["max_tokens"] = limit
        elif target.model not in _effort_warned:
            _effort_warned.add(target.model)
            callbacks.on_notice(f"--effort is ignored: {target.model} has no reasoning setting.")
    from litellm.utils import supports_prompt_caching  # not exported at the top level

    if target.model.startswith("anthropic/") and _supports(supports_prompt_caching, target.model):
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
    text = _provider_message(exc)
    if isinstance(exc, lib.ContextWindowExceededError):
        return ContextOverflow(f"the conversation does not fit the model's context: {text}")
    if isinstance(exc, lib.AuthenticationError):
        return AuthError(f"{target.model} refused the API key: {text}")
    if isinstance(exc, lib.RateLimitError):
        return RateLimited(f"rate limited: {text}", _retry_after(exc))
    transient = (
        lib.Timeout,
        lib.APIConnectionError,
        lib.InternalServerError,
        lib.ServiceUnavailableError,
    )
    if isinstance(exc, transient) or getattr(exc, "status_code", 0) in (500, 502, 503, 504, 529):
        return TransientLLMError(f"the model provider failed: {text}")
    if isinstance(exc, lib.BadRequestError | lib.NotFoundError | lib.UnprocessableEntityError):
        return BadRequest(f"the provider refused the request: {text}")
    import httpx

    if isinstance(exc, httpx.TransportError | ConnectionError):
        return TransientLLMError(f"connection to the model failed: {text}")
    return LLMError(f"{type(exc).__name__}: {text}")


_NOISE = re.compile(r"litellm\.|LiteLLM |\s*Handle with `\w+`\.?|ssl:<[^>]*>\s*")


def _provider_message(exc: Exception) -> str:
    """The provider's words, without litellm's advice to programmers."""
    text = str(getattr(exc, "message", "") or exc).strip()
    return _NOISE.sub("", text).strip()[:500]


def _retry_after(exc: Exception) -> float | None:
    response = getattr(exc, "response", None)
    return retry_after_seconds(getattr(response, "headers", None))
