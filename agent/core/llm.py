"""The only module that imports litellm.

It turns one request into one `LLMReply`: streamed or not, retried with backoff
where retrying is right, with provider failures classified (in `provider_errors.py`) into the typed errors
of `agent.errors`, and usage and cost collected per call.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from agent.core.model_ids import ModelTarget, missing_key, no_key_message, resolve_model
from agent.core.provider_errors import classified_stream, classify, provider_errors
from agent.core.replies import (
    LLMReply,
    StreamCallbacks,
    StreamCut,
    TokenUsage,
    assemble_stream,
    from_response,
    unsigned_tool_turn,
)
from agent.core.window import estimate, served_window
from agent.errors import (
    AuthError,
    ContextOverflow,
    EmptyStream,
    LLMError,
    RateLimited,
    TransientLLMError,
    UsageError,
)

if TYPE_CHECKING:
    from agent.config import Settings

MAX_RETRY_DELAY_S = 60.0
PROBE_TIMEOUT_S = 30.0
MIN_ANSWER_TOKENS = 256  # less room than this in the window is an overflow, not a request
FULL_SHARE = 0.8  # a stream cut with the window this full was cut by the window

_litellm_lock = threading.Lock()
_litellm_loaded = threading.Event()


def litellm() -> Any:
    """Import litellm once, configured to stay offline and quiet."""
    with _litellm_lock:
        os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
        os.environ.setdefault("LITELLM_LOG", "CRITICAL")
        lib = _import_without_dotenv()

        if not _litellm_loaded.is_set():
            lib.suppress_debug_info = True
            lib.drop_params = True
            for name in ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy", "litellm"):
                logging.getLogger(name).setLevel(logging.CRITICAL)
            _read_deep_arguments_as_text()
            _litellm_loaded.set()
        return lib


_PARALLEL_FIX = "handle_invalid_parallel_tool_calls"


def _read_deep_arguments_as_text() -> None:
    """Keep litellm from parsing tool-call arguments nested too deeply to parse.

    Reading a whole (not streamed) answer, litellm parses every call's arguments to undo
    one model's bogus `multi_tool_use.parallel` call; a 100,000-deep `[[[...]]]` overflows
    the stack there and the answer is lost as a provider failure. Calls like that are
    left as text, as in a stream, for the router to answer with an error the model reads.
    """
    from agent.tools.router import MAX_ARGUMENT_DEPTH, nesting_depth

    def too_deep(call: Any) -> bool:
        arguments = getattr(getattr(call, "function", None), "arguments", None)
        return isinstance(arguments, str) and nesting_depth(arguments) > MAX_ARGUMENT_DEPTH

    holders = [m for n, m in list(sys.modules.items()) if n.startswith("litellm.") and m]
    original = next((getattr(m, _PARALLEL_FIX) for m in holders if hasattr(m, _PARALLEL_FIX)), None)
    if original is None:
        return

    def guarded(tool_calls: Any) -> Any:
        if tool_calls and any(too_deep(call) for call in tool_calls):
            return tool_calls
        return original(tool_calls)

    for module in holders:
        if getattr(module, _PARALLEL_FIX, None) is original:
            setattr(module, _PARALLEL_FIX, guarded)


# For the import only: litellm's own switch (any mode but DEV loads no .env), and
# python-dotenv's, in case a later litellm calls load_dotenv() another way.
_NO_DOTENV = {"LITELLM_MODE": "PRODUCTION", "PYTHON_DOTENV_DISABLED": "1"}


def _import_without_dotenv() -> Any:
    """litellm, imported so that it loads no `.env`.

    In its default mode litellm calls python-dotenv's `load_dotenv()` at import, which
    searches upwards from litellm's install folder (a virtual environment inside a cloned
    repository) or from the working directory: a checkout's `.env` would set variables such
    as `OPENAI_BASE_URL` whatever its trust. The switches are set for the import and the
    user's own values put back afterwards, for the commands we run. Our own `.env` files
    are loaded before (agent/config.py), and MCP servers get an environment of their own.
    """
    before = {name: os.environ.get(name) for name in _NO_DOTENV}
    os.environ.update(_NO_DOTENV)
    try:
        import litellm as lib
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    return lib


async def load() -> None:
    """Wait for litellm without blocking the event loop: its import takes seconds (and
    the warm-up thread may hold it), and a loop stuck on the import lock answers no
    Ctrl-C. Cancelling the wait leaves the import to finish in its thread."""
    if not _litellm_loaded.is_set():
        await asyncio.to_thread(litellm)


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


def _output_limit(window: int, prompt: int, asked: int | None) -> int:
    """The answer's limit: what is left of the window (a server left without one writes
    until the window is full and then fails), within any limit already chosen."""
    room = window - prompt
    if room < MIN_ANSWER_TOKENS:
        raise ContextOverflow(
            f"the request (about {prompt:,} tokens) leaves no room for an answer in the "
            f"{window:,}-token context window"
        )
    return min(room, asked or room)


async def _assembled(
    chunks: Any,
    callbacks: StreamCallbacks,
    deadline: Any,
    settings: Settings,
    window: int | None,
    prompt: int,
) -> LLMReply:
    """The streamed answer; an empty stream or one cut where the window was full is an
    overflow (compaction may help, another try never does), said with the numbers."""
    try:
        return await assemble_stream(chunks, callbacks, deadline, settings)
    except EmptyStream as exc:
        size = f"{window:,}-token context window" if window else "context window"
        raise EmptyStream(
            f"{exc.message}: the prompt (about {prompt:,} tokens) is probably larger than "
            f"the server's {size}"
            + ("" if window else " (set context_window_tokens to the server's window)")
        ) from None
    except StreamCut as cut:
        if window and prompt + cut.chars / 4 >= window * FULL_SHARE:
            raise ContextOverflow(
                f"the answer broke off where the {window:,}-token context window was full"
            ) from None
        raise


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
        # Some servers (llama.cpp's among them) leave the tools out of the prompt unless asked.
        kwargs["tools"], kwargs["tool_choice"] = tools, "auto"
    if settings.stream:
        kwargs["stream_options"] = {"include_usage": True}
    kwargs.update(_provider_features(lib, target, settings, callbacks, messages))
    window = served_window(target, settings)
    prompt = estimate(messages, tools) if window else 0
    if window:
        asked = kwargs.get("max_tokens") or settings.max_output_tokens
        kwargs["max_tokens"] = _output_limit(
            window, prompt, asked or _max_output_tokens(lib, target.model)
        )
    deadline = asyncio.timeout(settings.llm_timeout_s)
    try:
        async with deadline:
            with provider_errors(target):
                response = await lib.acompletion(**kwargs)
            if settings.stream:
                chunks = classified_stream(response, target)
                reply = await _assembled(chunks, callbacks, deadline, settings, window, prompt)
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
    reply.cost_usd = token_cost(settings, target.model, reply.usage)
    return reply


_effort_told: set[str] = set()


def effort_ignored(model_name: str, settings: Settings) -> bool:
    """True when the model has no reasoning setting and the person has not been told yet:
    whoever asks first (the chat's /effort, or the request) tells them, once per model."""
    target = resolve_model(model_name, settings)
    if model_name in _effort_told or _supports(litellm().supports_reasoning, target.model):
        return False
    _effort_told.add(model_name)
    return True


def supports_vision(model_name: str, settings: Settings) -> bool:
    """Whether the model takes images, as litellm's model map says (unknown: no)."""
    return _supports(litellm().supports_vision, resolve_model(model_name, settings).model)


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


def token_cost(settings: Settings, model: str, usage: TokenUsage) -> float | None:
    """USD for these tokens: the person's `price_per_mtok` when given, else litellm's
    bundled price map; None when the price is unknown."""
    if (price := settings.price_per_mtok) is not None:
        return (usage.input_tokens * price.input + usage.output_tokens * price.output) / 1e6
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
