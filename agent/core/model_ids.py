"""Model ids: which ones can work, what they resolve to, and which key they need.

Everything here is known without importing litellm, so a bad id or a missing key
stops the run at once, before MCP servers start or litellm loads (seconds on a
small machine). `tests/unit/test_model_ids.py` holds the static tables against
litellm's own, so they cannot drift apart silently.
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agent.config import Settings


@dataclass(frozen=True)
class LocalServer:
    """A local OpenAI-compatible server: its variable stems (first wins) and default URL."""

    stems: tuple[str, ...]
    default_url: str

    def variable(self, suffix: str) -> str | None:
        """`<STEM>_<suffix>` for the first stem that is set, then `LOCAL_LLM_<suffix>`."""
        found = self.setting(suffix)
        return found[1] if found else None

    def setting(self, suffix: str) -> tuple[str, str] | None:
        """(name, value) of the variable `variable` reads."""
        for stem in (*self.stems, "LOCAL_LLM"):
            if value := os.environ.get(f"{stem}_{suffix}"):
                return f"{stem}_{suffix}", value
        return None


# The original's prefixes; LMSTUDIO_* is the original's spelling of LM_STUDIO_*.
LOCAL_SERVERS = {
    "ollama": LocalServer(("OLLAMA",), "http://localhost:11434/v1"),
    "vllm": LocalServer(("VLLM",), "http://localhost:8000/v1"),
    "lm_studio": LocalServer(("LM_STUDIO", "LMSTUDIO"), "http://localhost:1234/v1"),
    "llamacpp": LocalServer(("LLAMACPP",), "http://localhost:8080/v1"),
}

# litellm's provider prefixes (`litellm.provider_list`), copied so that checking an id
# does not import litellm; a test fails when litellm's list changes.
KNOWN_PROVIDERS = frozenset(
    """
    a2a a2a_agent abliteration ai21 ai21_chat aiand aiml aiohttp_openai amazon_nova anthropic
    anthropic_text apertis assemblyai auto_router aws_polly aws_textract azure azure_ai
    azure_speech azure_text baseten bedrock bedrock_mantle bespoke bigmodel black_forest_labs
    bytez cerebras charity_engine chatgpt chutes clarifai clf_ai_gateway cloudflare codestral
    cognition cohere cohere_chat cometapi compactifai coralbricks cortecs cursor custom
    custom_openai darkbloom dashscope databricks databricks_agent datarobot deepgram deepinfra
    deepseek docker_model_runner dotprompt edenai elevenlabs empiriolabs empower eu_jev fal_ai
    featherless_ai fireworks_ai friendliai galadriel gdc gemini gigachat github github_copilot
    gradient_ai groq helicone heroku hosted_vllm hostinger_router huggingface humanloop
    hyperbolic inception inferenceapis infinity jina_ai kyma lambda_ai langflow langfuse
    langgraph laya lemonade libertai litellm_agent litellm_proxy llamafile lm_studio manus
    maritalk meta meta_llama microsoft_365_copilot milvus minimax mistral modelscope mongodb
    moonshot morph nace nadir nano-gpt nebius neosantara nlp_cloud novita nscale nvidia_nim
    nvidia_riva oci ollama ollama_chat oobabooga openai openai_like opencode_go openinfer
    openrouter opensearch ovhcloud parallel_ai parasail perplexity petals pg_vector pinstripes
    poe predibase prism publicai qwen_ai_platform qwencloud ragflow recraft reducto refuseless
    reka replicate runwayml s3_vectors sagemaker sagemaker_chat sagemaker_nova sail sambanova
    sap scaledown scaleway scx-ai snowflake soniox stability strands_decider streamlake
    synthetic tencent tensormesh text-completion-codestral text-completion-inception
    text-completion-openai together_ai topaz transcribe triton typesafe v0 valkey
    vercel_ai_gateway vertex_ai vertex_ai_beta vllm volcengine voyage wally wandb watsonx
    watsonx_text xai xiaomi_mimo xinference zai zerogpu
    """.split()
)

# Providers whose key variable is known without litellm: the one to set comes first,
# the others are read as well. Providers not listed here are checked by litellm.
PROVIDER_KEYS: dict[str, tuple[str, ...]] = {
    "anthropic": ("ANTHROPIC_API_KEY",),
    "openai": ("OPENAI_API_KEY",),
    "gemini": ("GEMINI_API_KEY", "GOOGLE_API_KEY"),
    "huggingface": ("HF_TOKEN", "HUGGINGFACE_API_KEY", "HUGGING_FACE_HUB_TOKEN"),
    "openrouter": ("OPENROUTER_API_KEY",),
    "mistral": ("MISTRAL_API_KEY",),
    "groq": ("GROQ_API_KEY",),
    "deepseek": ("DEEPSEEK_API_KEY",),
    "xai": ("XAI_API_KEY",),
    "together_ai": ("TOGETHERAI_API_KEY",),
    "cohere": ("COHERE_API_KEY",),
    "fireworks_ai": ("FIREWORKS_AI_API_KEY",),
    "cerebras": ("CEREBRAS_API_KEY",),
    "perplexity": ("PERPLEXITYAI_API_KEY",),
    "deepinfra": ("DEEPINFRA_API_KEY",),
    "moonshot": ("MOONSHOT_API_KEY",),
    "nebius": ("NEBIUS_API_KEY",),
    "novita": ("NOVITA_API_KEY",),
}
OPENAI_BASE_VARIABLES = ("OPENAI_BASE_URL", "OPENAI_API_BASE")  # litellm reads these


def key_home() -> str:
    """Where a key may go, with the user's .env where it really is (XDG_CONFIG_HOME)."""
    from agent.paths import home_relative, user_dotenv_path

    dotenv = home_relative(user_dotenv_path())
    return (
        f"in your environment or in {dotenv} (or this folder's .env once trusted "
        "with `ml-intern trust`)"
    )


@dataclass
class ModelTarget:
    """What litellm needs to reach a model; `name` is the id as the person wrote it."""

    model: str
    api_base: str | None = None
    api_key: str | None = None
    local: bool = False
    name: str = ""
    base_source: str = ""  # where api_base came from, for messages ("LLAMACPP_BASE_URL")

    def __post_init__(self) -> None:
        self.name = self.name or self.model

    @property
    def provider(self) -> str:
        """The provider as the person named it (`lm_studio`, not litellm's `openai`)."""
        return self.name.partition("/")[0]


def resolve_model(model_name: str, settings: Settings) -> ModelTarget:
    """Map ml-intern's model ids onto litellm's, including the local-server prefixes."""
    prefix, _, rest = model_name.partition("/")
    if (server := LOCAL_SERVERS.get(prefix)) and rest:
        stem = server.stems[0]
        source, url = server.setting("BASE_URL") or (
            f"the default; set {stem}_BASE_URL or LOCAL_LLM_BASE_URL",
            server.default_url,
        )
        key = server.variable("API_KEY") or "none"
        target = ModelTarget(f"openai/{rest}", _with_v1(url), key, local=True, name=model_name)
        target.base_source = source
        return target
    hf_token = settings.hf_token if prefix == "huggingface" else None  # also from config
    target = ModelTarget(model_name, settings.api_base, hf_token, name=model_name)
    target.base_source = "the api_base setting, env ML_INTERN_API_BASE" if settings.api_base else ""
    if prefix == "openai":
        _custom_openai_endpoint(target)
    return target


def _custom_openai_endpoint(target: ModelTarget) -> None:
    """`openai/` pointed at another server (a local one needs no key): without a key
    litellm's client refuses to start, so a placeholder goes in its place."""
    if not target.api_base:
        found = [(name, os.environ[name]) for name in OPENAI_BASE_VARIABLES if os.environ.get(name)]
        if not found:
            return
        target.base_source, target.api_base = found[0]
    if not os.environ.get("OPENAI_API_KEY"):
        target.api_key = "none"


def _with_v1(url: str) -> str:
    url = url.rstrip("/")
    return url if url.endswith("/v1") else f"{url}/v1"


def id_problem(model_id: str) -> str | None:
    """Why this id cannot work, or None. Ids without a provider prefix are left to litellm."""
    example = "e.g. anthropic/claude-sonnet-4-5 or ollama/llama3.1"
    if not model_id.strip():
        return f"the model id is empty ({example})"
    if any(char.isspace() for char in model_id):
        return f"a model id has no spaces ({example})"
    prefix, slash, rest = model_id.partition("/")
    if not rest and (slash or prefix in LOCAL_SERVERS or prefix in KNOWN_PROVIDERS):
        return f"'{prefix}/' names a provider but no model (e.g. {prefix}/<model>)"
    if slash and prefix not in LOCAL_SERVERS and prefix not in KNOWN_PROVIDERS:
        return _unknown_provider(prefix)
    return None


def _unknown_provider(prefix: str) -> str:
    known = [*LOCAL_SERVERS, *KNOWN_PROVIDERS]
    close = difflib.get_close_matches(prefix, known, n=1, cutoff=0.75)
    hint = f"did you mean {close[0]}/? " if close else ""
    return (
        f"unknown provider '{prefix}/': {hint}Start the id with a provider (anthropic/, "
        "openai/, gemini/, huggingface/, openrouter/, ...) or a local server (ollama/, vllm/, "
        "lm_studio/, llamacpp/); any other OpenAI-compatible endpoint is openai/<model> "
        "with ML_INTERN_API_BASE"
    )


def missing_key(target: ModelTarget) -> list[str] | None:
    """The variable to set when the provider's key is known to be missing; [] when the
    key is there or none is needed; None when only litellm knows the provider's keys."""
    if target.local or target.api_key:
        return []
    names = PROVIDER_KEYS.get(target.provider)
    if names is None:
        return None
    return [] if any(os.environ.get(name) for name in names) else [names[0]]


def no_key_message(target: ModelTarget, names: list[str]) -> str:
    return (
        f"No API key for {target.name}: set {' or '.join(names)} {key_home()}, "
        "or pick another model (--model, or /model in the chat)."
    )
