"""The model's context window: asked of a local server, set by the person, or from litellm.

A local server (llama.cpp, vLLM, ollama, LM Studio) is often loaded with a window far
smaller than the model's own, and says so only on its own endpoint; litellm's price map
knows nothing of it. A prompt over that window is answered with an error, an empty
stream or an answer that breaks off, so the agent learns the window before the first
request: compaction then starts in time, the output limit fits the room left, and a
system prompt with tools too big for it is said at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import urllib.request
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any

from agent.context.manager import content_chars
from agent.core.model_ids import ModelTarget, resolve_model

if TYPE_CHECKING:
    from agent.config import Settings

log = logging.getLogger(__name__)

ASK_TIMEOUT_S = 3.0
MAX_ANSWER_BYTES = 1_000_000  # a model list or a model card; more is not an answer
CHARS_PER_TOKEN = 3.5  # a little under what tokenizers average: room is never overstated
FRAMING_TOKENS = 4  # per message and per tool, as chat templates add them

# (base url, model) -> the window the server reported, or None when it said nothing.
_asked: dict[tuple[str, str], int | None] = {}


def estimate(messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> int:
    """The tokens a request takes, tool schemas included, erring on the high side."""
    chars = sum(_chars(m.get("content") or "") for m in messages)
    chars += sum(len(json.dumps(m.get("tool_calls") or "")) for m in messages)
    chars += len(json.dumps(tools)) if tools else 0
    return int(chars / CHARS_PER_TOKEN) + FRAMING_TOKENS * (len(messages) + len(tools))


def _chars(content: Any) -> int:
    """As JSON, except that an image counts as what it costs, not as its base64."""
    return content_chars(content) if isinstance(content, list) else len(json.dumps(content))


def window_for(model_name: str, settings: Settings) -> int | None:
    """The window to plan with: the `context_window_tokens` setting, else what the
    server said, else litellm's map (for providers whose models it knows)."""
    if settings.context_window_tokens:
        return settings.context_window_tokens
    target = resolve_model(model_name, settings)
    if target.api_base:
        told = _asked.get(_key(target))
        if told or target.local:
            return told
    return litellm_window(target.model)


def served_window(target: ModelTarget, settings: Settings) -> int | None:
    """The window of this deployment (the setting, or what its server said): the one the
    output limit is fitted to. litellm's map is about the model, not the server."""
    return settings.context_window_tokens or _asked.get(_key(target))


def source_of(model_name: str, settings: Settings) -> str:
    """Where the window came from, for messages."""
    if settings.context_window_tokens:
        return "the context_window_tokens setting"
    target = resolve_model(model_name, settings)
    if target.api_base and _asked.get(_key(target)):
        return f"reported by the server at {target.api_base}"
    return "litellm's model map"


@cache
def litellm_window(model: str) -> int | None:
    """The model's input window from litellm's bundled map, when known."""
    from agent.core.llm import litellm

    try:
        info = litellm().get_model_info(model)
    except Exception:
        return None
    return info.get("max_input_tokens") or info.get("max_tokens")


async def learn(model_name: str, settings: Settings) -> int | None:
    """Ask the model's server for its window, once per server and model; the window
    to plan with. Servers without such an endpoint answer 404 at once."""
    target = resolve_model(model_name, settings)
    if target.api_base and not settings.context_window_tokens and _key(target) not in _asked:
        _asked[_key(target)] = await ask_server(target)
    # litellm's map may still be loading (in the background): wait for it off the loop
    return await asyncio.to_thread(window_for, model_name, settings)


def forget() -> None:
    """Drop what servers said (a server restarted with another window; tests)."""
    _asked.clear()


def _key(target: ModelTarget) -> tuple[str, str]:
    return (target.api_base or "", target.model)


async def ask_server(target: ModelTarget) -> int | None:
    """The window the server reports on its own endpoint, trying the one its kind uses
    first; None when none answers with one. Plain blocking HTTP in a thread: an HTTP
    client library would cost a second of imports and TLS set-up on the way to the
    first answer, for a few requests to a local server."""
    return await asyncio.to_thread(_ask_server, target)


def _ask_server(target: ModelTarget) -> int | None:
    assert target.api_base is not None
    base = target.api_base.rstrip("/")
    model = target.model.partition("/")[2]
    headers = {"Authorization": f"Bearer {target.api_key}"} if target.api_key else {}
    # Its own kind first, then the kinds that only read (the one POST is ollama's alone).
    for name in dict.fromkeys([target.provider, "llamacpp", "vllm", "lm_studio"]):
        if name not in _PROBES:
            continue
        try:
            window = _PROBES[name](Client(headers), base, model)
        except (OSError, ValueError, TypeError, AttributeError, KeyError):
            log.debug("no window from the %s endpoint at %s", name, base, exc_info=True)
            continue
        if isinstance(window, int) and window > 0:
            return window
    return None


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """urllib sends the key on to wherever a redirect points, another host included;
    a probe answered with a redirect has no window to give."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


class Client:
    """GET and POST of JSON, with the server's key, for the probes below."""

    def __init__(self, headers: dict[str, str]) -> None:
        self.headers = headers

    def get(self, url: str) -> Any:
        return self._send(urllib.request.Request(url, headers=self.headers))

    def post(self, url: str, body: dict[str, Any]) -> Any:
        headers = {**self.headers, "Content-Type": "application/json"}
        data = json.dumps(body).encode()
        return self._send(urllib.request.Request(url, data, headers, method="POST"))

    def _send(self, request: urllib.request.Request) -> Any:
        with _OPENER.open(request, timeout=ASK_TIMEOUT_S) as response:
            return json.loads(response.read(MAX_ANSWER_BYTES))


def _root(base: str) -> str:
    return base.removesuffix("/v1")


def _llamacpp(client: Client, base: str, model: str) -> int | None:
    """llama.cpp's server: GET /props, `default_generation_settings.n_ctx`."""
    props = client.get(f"{_root(base)}/props")
    settings = props.get("default_generation_settings") or {}
    return _int(settings.get("n_ctx") or props.get("n_ctx"))


def _vllm(client: Client, base: str, model: str) -> int | None:
    """vLLM: GET /v1/models, `max_model_len` of the model (or of the only one)."""
    return _of_model(client.get(f"{base}/models").get("data") or [], model, "max_model_len")


def _ollama(client: Client, base: str, model: str) -> int | None:
    """ollama: POST /api/show; `num_ctx` among the parameters is what it loads the model
    with, else the model's own `<architecture>.context_length`."""
    shown = client.post(f"{_root(base)}/api/show", {"model": model, "name": model})
    if found := re.search(r"^num_ctx\s+(\d+)", shown.get("parameters") or "", re.M):
        return int(found.group(1))
    info = shown.get("model_info") or {}
    arch = info.get("general.architecture")
    return _int(info.get(f"{arch}.context_length")) if arch else None


def _lm_studio(client: Client, base: str, model: str) -> int | None:
    """LM Studio: GET /api/v0/models, the loaded window or `max_context_length`."""
    models = client.get(f"{_root(base)}/api/v0/models").get("data") or []
    return _of_model(models, model, "loaded_context_length") or _of_model(
        models, model, "max_context_length"
    )


def _of_model(models: list[dict[str, Any]], model: str, field: str) -> int | None:
    chosen = [m for m in models if m.get("id") == model] or (models if len(models) == 1 else [])
    return _int(chosen[0].get(field)) if chosen else None


def _int(value: Any) -> int | None:
    with contextlib.suppress(TypeError, ValueError):
        return int(value) if value is not None else None
    return None


Probe = Callable[[Client, str, str], int | None]
_PROBES: dict[str, Probe] = {
    "llamacpp": _llamacpp,
    "vllm": _vllm,
    "ollama": _ollama,
    "lm_studio": _lm_studio,
}
