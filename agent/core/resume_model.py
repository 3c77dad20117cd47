"""Whether a resumed session can go back to the model it was saved with.

A saved model id can stop working: it was mistyped, its provider is unknown, or
its key is gone from this machine. Resuming then keeps the current model (with a
notice) rather than failing the run. The checks need no litellm import: the ids
litellm knows are consulted only when it is already loaded.
"""

from __future__ import annotations

import os
import sys

from agent.core.llm import LOCAL_PROVIDERS

# Providers whose key variable is known without litellm.
KEY_VARIABLES = {
    "anthropic": ("ANTHROPIC_API_KEY",),
    "openai": ("OPENAI_API_KEY",),
    "gemini": ("GEMINI_API_KEY",),
    "openrouter": ("OPENROUTER_API_KEY",),
    "huggingface": ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"),
    "mistral": ("MISTRAL_API_KEY",),
    "groq": ("GROQ_API_KEY",),
    "deepseek": ("DEEPSEEK_API_KEY",),
    "xai": ("XAI_API_KEY",),
    "together_ai": ("TOGETHERAI_API_KEY", "TOGETHER_API_KEY"),
}
OTHER_PROVIDERS = frozenset(
    "azure azure_ai vertex_ai vertex_ai_beta bedrock sagemaker cohere cohere_chat replicate "
    "fireworks_ai perplexity cerebras sambanova nvidia_nim deepinfra anyscale databricks "
    "watsonx cloudflare ai21 ai21_chat novita nebius featherless_ai github github_copilot "
    "moonshot dashscope hosted_vllm ollama_chat text-completion-openai openai_like "
    "custom_openai litellm_proxy friendliai volcengine nscale lambda_ai hyperbolic".split()
)


def model_problem(model: str, api_base: str | None = None) -> str:
    """Why `model` cannot be used here, or "" when it looks usable."""
    if not model.strip():
        return "is empty"
    if any(c.isspace() for c in model):
        return "contains whitespace"
    prefix, slash, rest = model.partition("/")
    if slash and not rest:
        return f"names no model after '{prefix}/'"
    if not slash or prefix in LOCAL_PROVIDERS:
        return ""
    if prefix not in KEY_VARIABLES and prefix not in _known_providers():
        return f"has an unknown provider '{prefix}'"
    names = KEY_VARIABLES.get(prefix, ())
    custom_endpoint = prefix == "openai" and api_base  # may need no key at all
    if names and not any(os.environ.get(n) for n in names) and not custom_endpoint:
        return f"has no key on this machine (set {' or '.join(names)})"
    return ""


def _known_providers() -> frozenset[str]:
    lib = sys.modules.get("litellm")
    listed = getattr(lib, "provider_list", None) if lib is not None else None
    if listed:
        return OTHER_PROVIDERS | {str(getattr(p, "value", p)) for p in listed}
    return OTHER_PROVIDERS
