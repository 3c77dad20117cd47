"""Whether a resumed session can go back to the model it was saved with.

A saved model id can stop working: it was mistyped, its provider is unknown, or
its key is gone from this machine. Resuming then keeps the current model (with a
notice) rather than failing the run. An id with a provider prefix is judged by the
static tables of `agent.core.model_ids`, with no litellm import; an id without one is
left to litellm, as for a run (README: "refused the same way when it cannot place it").
"""

from __future__ import annotations

import os

from agent.core.model_ids import KNOWN_PROVIDERS, LOCAL_SERVERS, PROVIDER_KEYS, ModelTarget


def model_problem(model: str, api_base: str | None = None) -> str:
    """Why `model` cannot be used here, or "" when it looks usable."""
    if not model.strip():
        return "is empty"
    if any(c.isspace() for c in model):
        return "contains whitespace"
    prefix, slash, rest = model.partition("/")
    if slash and not rest:
        return f"names no model after '{prefix}/'"
    if not slash:
        return _unprefixed_problem(model, api_base)
    if prefix in LOCAL_SERVERS:
        return ""
    if prefix not in KNOWN_PROVIDERS:
        return f"has an unknown provider '{prefix}'"
    names = PROVIDER_KEYS.get(prefix, ())
    custom_endpoint = prefix == "openai" and api_base  # may need no key at all
    if names and not any(os.environ.get(n) for n in names) and not custom_endpoint:
        return f"has no key on this machine (set {names[0]})"
    return ""


def _unprefixed_problem(model: str, api_base: str | None) -> str:
    """An id without a provider (`gpt-4o`) only litellm can place, so only litellm can
    say it cannot: asked as a run asks it before its first request. Saved ids like this
    are rare, so litellm is loaded here only for them."""
    from agent.core.llm import missing_keys
    from agent.errors import UsageError

    try:
        names = missing_keys(ModelTarget(model, api_base))
    except UsageError:
        return "has no provider litellm can place (it needs a prefix such as openai/)"
    if names and not api_base:  # a custom endpoint may need no key at all
        return f"has no key on this machine (set {names[0]})"
    return ""
