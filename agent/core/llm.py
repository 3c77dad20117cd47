"""The only module that imports litellm.

It turns one request into one `LLMReply`: streamed or not, retried with backoff
where retrying is right, with provider failures classified into the typed errors
of `agent.core.errors`, and usage and cost collected per call.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from agent.core.errors import (
    AuthError,
    BadRequest,
    ContextOverflow,
    LLMError,
    RateLimited,
    TransientLLMError,
)

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


@dataclass
class TokenUsage:
    input_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int = 0


@dataclass
class LLMReply:
    """One assistant answer, assembled."""

    content: str = ""
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    reasoning: str = ""
    thinking_blocks: list[dict[str, Any]] | None = None
    finish_reason: str | None = None
    usage: TokenUsage = field(default_factory=TokenUsage)
    cost_usd: float | None = None

    def message(self) -> dict[str, Any]:
        """The assistant message for the history, in OpenAI chat format."""
        msg: dict[str, Any] = {"role": "assistant", "content": self.content or None}
        if self.tool_calls:
            msg["tool_calls"] = self.tool_calls
        if self.thinking_blocks:
            msg["thinking_blocks"] = self.thinking_blocks
        if self.reasoning:
            msg["reasoning_content"] = self.reasoning
        return msg


@dataclass
class StreamCallbacks:
    """Where streamed pieces go while the answer is being assembled."""

    on_text: Callable[[str], None] = lambda text: None
    on_thinking: Callable[[str], None] = lambda text: None
    on_retry: Callable[[int, int, float, str], None] = lambda attempt, total, delay, why: None
    on_discard: Callable[[], None] = lambda: None
    on_notice: Callable[[str], None] = lambda message: None


def check_credentials(target: ModelTarget) -> None:
    """Fail early, naming the variable, when the model's key is missing."""
    if target.local or target.api_key:
        return
    env = litellm().validate_environment(model=target.model)
    missing = env.get("missing_keys") or []
    if not env.get("keys_in_environment", True) and missing:
        names = " or ".join(missing)
        raise AuthError(
            f"No API key for {target.model}: set {names} in your environment or in a .env "
            f"file (in this directory or ~/.config/ml-intern/.env), or pick another model "
            f"with --model."
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
                reply = await _assemble_stream(response, callbacks, deadline, settings)
            else:
                reply = _from_response(response)
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
        elif target.model not in _effort_warned:
            _effort_warned.add(target.model)
            callbacks.on_notice(f"--effort is ignored: {target.model} has no reasoning setting.")
    if target.model.startswith("anthropic/") and _supports(
        lib.supports_prompt_caching, target.model
    ):
        features["cache_control_injection_points"] = [
            {"location": "message", "role": "system"},
            {"location": "message", "index": -1},
        ]
    return features


def _supports(check: Callable[[str], bool], model: str) -> bool:
    try:
        return bool(check(model))
    except Exception:
        return False


async def _assemble_stream(
    response: Any, callbacks: StreamCallbacks, deadline: Any, settings: Settings
) -> LLMReply:
    reply = LLMReply()
    text: list[str] = []
    reasoning: list[str] = []
    calls: dict[int, dict[str, Any]] = {}
    loop = asyncio.get_running_loop()
    try:
        async for chunk in response:
            deadline.reschedule(loop.time() + settings.llm_timeout_s)
            if usage := getattr(chunk, "usage", None):
                reply.usage = _usage(usage)
            if not chunk.choices:
                continue
            choice = chunk.choices[0]
            delta = choice.delta
            if piece := getattr(delta, "reasoning_content", None):
                reasoning.append(piece)
                callbacks.on_thinking(piece)
            if blocks := getattr(delta, "thinking_blocks", None):
                reply.thinking_blocks = _merge_thinking(reply.thinking_blocks, blocks)
            if piece := delta.content:
                text.append(piece)
                callbacks.on_text(piece)
            for tc in getattr(delta, "tool_calls", None) or []:
                _merge_tool_call(calls, tc)
            if choice.finish_reason:
                reply.finish_reason = choice.finish_reason
    except Exception:
        if text or reasoning:
            callbacks.on_discard()
        raise
    if reply.finish_reason is None:
        if text or reasoning:
            callbacks.on_discard()
        raise TransientLLMError("the stream ended before the model finished its answer")
    reply.content = "".join(text)
    reply.reasoning = "".join(reasoning)
    reply.tool_calls = [calls[i] for i in sorted(calls)]
    return reply


def _merge_tool_call(calls: dict[int, dict[str, Any]], delta: Any) -> None:
    index = getattr(delta, "index", None) or 0
    call = calls.setdefault(
        index, {"id": "", "type": "function", "function": {"name": "", "arguments": ""}}
    )
    if delta.id:
        call["id"] = delta.id
    fn = delta.function
    if fn is not None:
        if fn.name:
            call["function"]["name"] += fn.name
        if fn.arguments:
            call["function"]["arguments"] += fn.arguments


def _merge_thinking(
    existing: list[dict[str, Any]] | None, blocks: list[Any]
) -> list[dict[str, Any]]:
    """Anthropic thinking blocks arrive in pieces; keep them whole, signature included."""
    merged = list(existing or [])
    for block in blocks:
        block = dict(block)
        if (
            merged
            and not merged[-1].get("signature")
            and block.get("type") == merged[-1].get("type")
        ):
            last = merged[-1]
            last["thinking"] = (last.get("thinking") or "") + (block.get("thinking") or "")
            if block.get("signature"):
                last["signature"] = block["signature"]
        else:
            merged.append(block)
    return merged


def _from_response(response: Any) -> LLMReply:
    choice = response.choices[0]
    msg = choice.message
    reply = LLMReply(
        content=msg.content or "",
        reasoning=getattr(msg, "reasoning_content", None) or "",
        finish_reason=choice.finish_reason,
    )
    if blocks := getattr(msg, "thinking_blocks", None):
        reply.thinking_blocks = [dict(b) for b in blocks]
    for tc in msg.tool_calls or []:
        reply.tool_calls.append(
            {
                "id": tc.id,
                "type": "function",
                "function": {"name": tc.function.name, "arguments": tc.function.arguments or ""},
            }
        )
    if usage := getattr(response, "usage", None):
        reply.usage = _usage(usage)
    return reply


def _usage(usage: Any) -> TokenUsage:
    details = getattr(usage, "prompt_tokens_details", None)
    cached = getattr(details, "cached_tokens", None) if details else None
    cached = cached or getattr(usage, "cache_read_input_tokens", 0) or 0
    return TokenUsage(
        input_tokens=getattr(usage, "prompt_tokens", 0) or 0,
        output_tokens=getattr(usage, "completion_tokens", 0) or 0,
        cached_tokens=cached,
    )


def _cost(model: str, usage: TokenUsage) -> float | None:
    """Cost from litellm's bundled price map; None when the price is unknown."""
    try:
        prompt, completion = litellm().cost_per_token(
            model=model,
            prompt_tokens=usage.input_tokens,
            completion_tokens=usage.output_tokens,
        )
    except Exception:
        return None
    return prompt + completion


def classify(exc: Exception, target: ModelTarget) -> LLMError:
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


def _provider_message(exc: Exception) -> str:
    text = str(getattr(exc, "message", "") or exc).strip()
    for noise in ("litellm.", "LiteLLM "):
        text = text.replace(noise, "")
    return text[:500]


def _retry_after(exc: Exception) -> float | None:
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None) or {}
    with contextlib.suppress(TypeError, ValueError):
        return float(headers.get("retry-after"))
    return None
