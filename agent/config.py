"""Settings, merged in one place.

Layers, lowest precedence first: built-in defaults, the shipped config, the
project's configs/ in the working directory, the user file, the file named by
ML_INTERN_CLI_CONFIG, the environment, command-line flags. At each file level the
legacy name `main_agent_config.json` is read before `cli_agent_config.json`.
`${VAR}` in any config string is replaced from the environment (after `.env`).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from agent.core.errors import ConfigError

CONFIG_NAMES = ("main_agent_config.json", "cli_agent_config.json")


class McpServer(BaseModel):
    """One MCP server, in the shape Claude Code and the original ml-intern use."""

    model_config = ConfigDict(extra="allow")

    transport: Literal["stdio", "http", "streamable-http", "sse"] | None = None
    command: str | None = None
    args: list[str] = []
    env: dict[str, str] = {}
    cwd: str | None = None
    url: str | None = None
    headers: dict[str, str] = {}
    timeout_s: float = 30.0
    enabled: bool = True


class ApprovalPolicy(BaseModel):
    """Which tool calls need a person's yes (see agent/core/approval.py)."""

    allow_tools: list[str] = []
    deny_tools: list[str] = []
    allow_commands: list[str] = []
    deny_commands: list[str] = []
    bash_always_ask: bool = False
    edits_in_cwd_ask: bool = False


AutoEvent = Literal["approval_required", "error", "turn_complete"]
ALL_AUTO_EVENTS: tuple[AutoEvent, ...] = ("approval_required", "error", "turn_complete")


class SlackDestination(BaseModel):
    """One Slack channel and what may post to it."""

    provider: Literal["slack"] = "slack"
    token: str = Field(min_length=1, exclude=True, repr=False)
    channel: str = Field(min_length=1)
    allow_agent_tool: bool = False
    allow_auto_events: bool = False
    username: str | None = None
    icon_emoji: str | None = None


class MessagingConfig(BaseModel):
    """The `messaging` block: destinations by name and the events sent automatically."""

    enabled: bool = True
    auto_event_types: list[AutoEvent] = Field(default_factory=lambda: list(ALL_AUTO_EVENTS))
    destinations: dict[str, SlackDestination] = Field(default_factory=dict)

    @field_validator("destinations")
    @classmethod
    def _names(cls, value: dict[str, SlackDestination]) -> dict[str, SlackDestination]:
        for name in value:
            if not name or not all(c.isalnum() or c in "._-" for c in name):
                raise ValueError(f"destination name {name!r}: use letters, digits, '.', '_', '-'")
        return value


class Settings(BaseModel):
    """Every setting, with its default. Secrets are excluded from dumps."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    model_name: str = "anthropic/claude-sonnet-4-5"
    max_iterations: int = 300
    stream: bool = True
    tool_runtime: Literal["local", "sandbox"] = "local"
    mcp_servers: dict[str, McpServer] = Field(default_factory=dict, alias="mcpServers")
    compaction_threshold_tokens: int = 170_000
    max_budget_usd: float | None = None
    llm_timeout_s: float = 600.0
    llm_max_attempts: int = 5
    retry_base_delay_s: float = 1.0
    doom_loop_extra_detections: int = 2
    yolo: bool = False
    approval_mode: Literal["ask", "auto", "deny"] = "ask"
    approval: ApprovalPolicy = Field(default_factory=ApprovalPolicy)
    sandbox: Literal["off", "workspace-write"] = "off"
    allow_network: bool = False  # only read when the sandbox is on
    share_traces: bool = True
    traces_repo: str = "{hf_user}/ml-intern-sessions"
    traces_private: bool = True  # false once the person made the dataset public on purpose
    upload_grace_s: float = 15.0  # how long the exit waits for a trace upload
    messaging: MessagingConfig = Field(default_factory=MessagingConfig)
    research_max_iterations: int = 30
    research_max_tokens: int = 400_000
    research_model: str | None = None
    jobs_pass_hf_token: bool = False  # give HF Jobs your token as a secret
    sandbox_on_exit: Literal["remind", "pause", "delete"] = "remind"
    sandbox_url_template: str = "https://{domain}"
    effort: Literal["low", "medium", "high"] | None = None
    max_output_tokens: int | None = None  # default: the model's own limit when thinking is on
    api_base: str | None = None

    # External services: every base URL is a setting so tests can point at loopback.
    hf_endpoint: str = "https://huggingface.co"
    github_api_url: str = "https://api.github.com"
    datasets_server_url: str = "https://datasets-server.huggingface.co"
    papers_url: str = "https://huggingface.co"
    arxiv_url: str = "https://arxiv.org"
    semantic_scholar_url: str = "https://api.semanticscholar.org"
    web_search_url: str = "https://html.duckduckgo.com"
    slack_url: str = "https://slack.com/api"

    hf_token: str | None = Field(default=None, exclude=True, repr=False)
    github_token: str | None = Field(default=None, exclude=True, repr=False)


# Environment variables the ecosystem already names; everything else is ML_INTERN_<FIELD>.
_ENV_ALIASES = {
    "hf_endpoint": ("HF_ENDPOINT",),
    "github_api_url": ("GITHUB_API_URL",),
    "hf_token": ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"),
    "github_token": ("GITHUB_TOKEN",),
    "model_name": ("ML_INTERN_MODEL",),
}
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def config_home() -> Path:
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "ml-intern"


def data_home() -> Path:
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local/share") / "ml-intern"


def user_config_path() -> Path:
    return config_home() / "cli_agent_config.json"


def shipped_config_dir() -> Path:
    """configs/ as shipped: inside the package when installed, beside it in a checkout."""
    here = Path(__file__).resolve().parent
    installed = here / "_configs"
    return installed if installed.is_dir() else here.parent / "configs"


def load_dotenv_files(cwd: Path) -> None:
    """`.env` in the working directory, then the user's, never overriding the environment."""
    from dotenv import load_dotenv

    for path in (cwd / ".env", config_home() / ".env"):
        if path.is_file():
            load_dotenv(path, override=False)


def config_files(cwd: Path) -> list[Path]:
    """Every config file that applies, lowest precedence first."""
    dirs = [shipped_config_dir()]
    project = cwd / "configs"
    if project.resolve() != dirs[0].resolve():
        dirs.append(project)
    files = [d / name for d in dirs for name in CONFIG_NAMES]
    files = [f for f in [*files, user_config_path()] if f.is_file()]
    if explicit := os.environ.get("ML_INTERN_CLI_CONFIG"):
        files.append(Path(explicit).expanduser())  # named on purpose: missing is an error
    return files


def substitute(value: Any) -> Any:
    """Replace ${VAR} in every string of a config value, recursively."""
    if isinstance(value, str):
        return _VAR.sub(lambda m: os.environ.get(m.group(1), ""), value)
    if isinstance(value, dict):
        return {k: substitute(v) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute(v) for v in value]
    return value


def read_config_file(path: Path) -> dict[str, Any]:
    """One config file, parsed and checked on its own so errors name the file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read config file ({exc})") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: invalid JSON at line {exc.lineno}: {exc.msg}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a JSON object at the top level")
    data = substitute(data)
    _validate(data, source=str(path))
    return data


def env_layer() -> dict[str, Any]:
    """Settings given as environment variables."""
    layer: dict[str, Any] = {}
    for name in Settings.model_fields:
        for var in (*_ENV_ALIASES.get(name, ()), f"ML_INTERN_{name.upper()}"):
            if (value := os.environ.get(var)) not in (None, ""):
                layer[name] = value
                break
    return layer


def merge(layers: list[dict[str, Any]]) -> dict[str, Any]:
    """Later layers win; MCP server tables merge by server name."""
    merged: dict[str, Any] = {}
    for layer in layers:
        for key, value in layer.items():
            key = "mcp_servers" if key == "mcpServers" else key
            if key in ("mcp_servers", "approval") and isinstance(value, dict):
                merged[key] = {**merged.get(key, {}), **value}
            else:
                merged[key] = value
    return merged


def load_settings(cwd: Path | None = None, flags: dict[str, Any] | None = None) -> Settings:
    """Build Settings from every layer. Flags left as None were not given and are skipped."""
    cwd = cwd or Path.cwd()
    load_dotenv_files(cwd)
    layers = [read_config_file(path) for path in config_files(cwd)]
    layers.append(_validate(env_layer(), source="environment"))
    layers.append({k: v for k, v in (flags or {}).items() if v is not None})
    return _validate(merge(layers), source="configuration")


def _validate(data: dict[str, Any], source: str) -> Any:
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise ConfigError(f"{source}: invalid value for '{field}': {first['msg']}") from None
    return settings if source == "configuration" else data
