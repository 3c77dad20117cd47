"""Settings, merged in one place.

Layers, lowest precedence first: built-in defaults, the shipped config, the
project's configs/ (its root, then the working directory) when the folder is
trusted, the user file, the file named by ML_INTERN_CLI_CONFIG, the environment,
command-line flags. At each file level the legacy name `main_agent_config.json` is
read before `cli_agent_config.json`. `${VAR}` in any config string is replaced from
the environment (after `.env`: the project's when trusted, then the user's).
"""

from __future__ import annotations

import difflib
import json
import logging
import os
import re
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator

from agent import trust
from agent.errors import ConfigError
from agent.extensions.hooks.schema import HooksBlock
from agent.paths import CONFIG_NAMES as CONFIG_NAMES
from agent.paths import config_home as config_home
from agent.paths import data_home as data_home
from agent.paths import not_a_file, user_dotenv_path
from agent.paths import shipped_config_dir as shipped_config_dir
from agent.paths import user_config_path as user_config_path

log = logging.getLogger(__name__)
MAX_DEPTH = 32  # no setting nests deeper than a few levels; a deeper file is a mistake
SAVED_SCOPE = re.compile(r"bash: \S.*|edits in \S(?:.*\S)?/|tool: [\w.-]+")


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
    timeout_s: float = Field(default=30.0, gt=0, allow_inf_nan=False)
    enabled: bool = True


class ApprovalPolicy(BaseModel):
    """Which tool calls need a person's yes (see agent/core/approval/policy.py)."""

    allow_tools: list[str] = []
    deny_tools: list[str] = []
    allow_commands: list[str] = []
    deny_commands: list[str] = []
    bash_always_ask: bool = False
    edits_in_cwd_ask: bool = False
    # "always" answers kept for a project: `bash: <prefix>*`, `edits in <dir>/` (relative
    # to the project root), `tool: <name>`.
    always_allow: list[str] = []

    @field_validator("always_allow")
    @classmethod
    def _scopes(cls, scopes: list[str]) -> list[str]:
        for scope in scopes:
            if not SAVED_SCOPE.fullmatch(scope):
                raise ValueError(
                    f"{scope!r} is not an approval scope: use `bash: <command prefix>*`, "
                    "`edits in <folder>/` or `tool: <name>`"
                )
        return scopes


class ModelPrice(BaseModel):
    """What the model costs, in USD per million tokens, for models litellm has no price for
    (local servers, fine-tunes, some routers): without it a spend budget cannot be enforced."""

    input: float = Field(ge=0, allow_inf_nan=False)
    output: float = Field(ge=0, allow_inf_nan=False)


def parse_price(value: Any) -> Any:
    """`"IN,OUT"` (the flag's and the environment's spelling) as a price; the rest as given."""
    if not isinstance(value, str):
        return value
    parts = value.split(",")
    if len(parts) != 2:
        raise ValueError("give two prices, USD per million input and output tokens: e.g. 3,15")
    try:
        prices = [float(part) for part in parts]
    except ValueError:
        raise ValueError(f"{value!r} is not two numbers: e.g. 3,15") from None
    return {"input": prices[0], "output": prices[1]}


AutoEvent = Literal["approval_required", "error", "turn_complete", "goal", "run_wake"]
ALL_AUTO_EVENTS: tuple[AutoEvent, ...] = (
    "approval_required",
    "error",
    "turn_complete",
    "goal",
    "run_wake",
)


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


class SkillsConfig(BaseModel):
    """Agent Skills (agent/extensions/skills.py): extra folders to read, or none at all."""

    enabled: bool = True
    paths: list[str] = []


class CommandsConfig(BaseModel):
    """Custom slash commands (agent/extensions/commands.py): extra folders, or none at all."""

    enabled: bool = True
    paths: list[str] = []


class SlurmConfig(BaseModel):
    """The `slurm` block: where the cluster's commands run. Without `host` they run here
    (this machine has the Slurm client commands); with it, over `ssh host` on a login node."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool | None = None  # None: when `host` is set or `sbatch` is on PATH
    host: str | None = Field(default=None, min_length=1)  # e.g. "login.cluster" or "me@login"
    ssh_options: list[str] = []  # e.g. ["-p", "2222"]; BatchMode is always on
    # One GPU's memory in GB, for sizing jobs whose GPU type neither the job nor the
    # partition names, or names a type the GPU table does not know or sells in several sizes
    gpu_memory_gb: float | None = Field(default=None, gt=0)

    @field_validator("host")
    @classmethod
    def _host(cls, value: str | None) -> str | None:
        if value is not None and (value.startswith("-") or any(c.isspace() for c in value)):
            raise ValueError("a host name for ssh, e.g. 'login.cluster' or 'me@login'")
        return value


class MemoryConfig(BaseModel):
    """Project memory (agent/extensions/memory.py): on or off (`"memory": false` says it
    short), and how much of it may reach the model, every file and import together."""

    enabled: bool = True
    max_bytes: int = Field(default=40_000, gt=0)  # about 10k tokens


class PluginsConfig(BaseModel):
    """Installed plugins (agent/extensions/plugins.py), or none at all."""

    enabled: bool = True


class NotificationsConfig(BaseModel):
    """When Notification hooks hear that the chat waits for the person (`idle_prompt`)."""

    idle_seconds: float = Field(default=60.0, gt=0, allow_inf_nan=False)


class Settings(BaseModel):
    """Every setting, with its default. Secrets are excluded from dumps."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    model_name: str = "anthropic/claude-sonnet-4-5"
    max_iterations: int = 300  # -1: no limit
    stream: bool = True
    tool_runtime: Literal["local", "sandbox"] = "local"
    mcp_servers: dict[str, McpServer] = Field(default_factory=dict, alias="mcpServers")
    compaction_threshold_tokens: int = Field(default=170_000, gt=0)
    max_budget_usd: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    price_per_mtok: ModelPrice | None = None  # overrides litellm's price map for every model
    llm_timeout_s: float = Field(default=600.0, gt=0, allow_inf_nan=False)
    llm_max_attempts: int = Field(default=5, ge=1)
    retry_base_delay_s: float = Field(default=1.0, ge=0, allow_inf_nan=False)
    doom_loop_extra_detections: int = Field(default=2, ge=0)
    # The limits of a goal (/goal, --goal): turns, and minutes (None: no time limit).
    goal_max_turns: int = Field(default=20, ge=1)
    goal_max_minutes: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    yolo: bool = False
    approval_mode: Literal["ask", "auto", "deny"] = "ask"
    approval: ApprovalPolicy = Field(default_factory=ApprovalPolicy)
    sandbox: Literal["off", "workspace-write"] = "off"
    allow_network: bool = False  # only read when the sandbox is on
    share_traces: bool = True
    traces_repo: str = "{hf_user}/ml-intern-sessions"
    traces_private: bool = True  # false once the person made the dataset public on purpose
    # how long the exit waits for a trace upload (0: not at all)
    upload_grace_s: float = Field(default=15.0, ge=0, allow_inf_nan=False)
    # how long a headless run's first request waits for MCP servers, past the model
    # library's load (which it waits for anyway)
    mcp_wait_s: float = Field(default=1.5, ge=0, allow_inf_nan=False)
    # keys this soon after an Enter make it a new line of a paste, not a send (the chat);
    # a link that delivers a paste in slow pieces (ssh far away) needs more
    paste_gap_s: float = Field(default=0.03, gt=0, le=2, allow_inf_nan=False)
    messaging: MessagingConfig = Field(default_factory=MessagingConfig)
    slack_notifications: bool = True  # false: SLACK_BOT_TOKEN/SLACK_CHANNEL_ID are ignored
    research_max_iterations: int = Field(default=30, ge=1)
    research_max_tokens: int = Field(default=400_000, gt=0)
    research_model: str | None = None
    jobs_pass_hf_token: bool = False  # give HF Jobs your token as a secret
    sandbox_on_exit: Literal["remind", "pause", "delete"] = "remind"
    sandbox_url_template: str = "https://{domain}"
    effort: Literal["low", "medium", "high"] | None = None
    max_output_tokens: int | None = Field(
        default=None, gt=0
    )  # default: the model's own limit when thinking is on
    api_base: str | None = None
    # The model's context window when its server does not say (or says wrong).
    context_window_tokens: int | None = Field(default=None, gt=0)
    tool_set: Literal["full", "lean"] = "full"  # lean: bash, read, write, edit only
    skills: SkillsConfig = Field(default_factory=SkillsConfig)
    commands: CommandsConfig = Field(default_factory=CommandsConfig)
    plugins: PluginsConfig = Field(default_factory=PluginsConfig)
    slurm: SlurmConfig = Field(default_factory=SlurmConfig)
    # AGENTS.md files (yours, and a trusted project's) reach the model
    memory: MemoryConfig = Field(default_factory=MemoryConfig)
    # Claude Code's hooks block (agent/extensions/hooks/); every file's hooks run.
    hooks: HooksBlock = Field(default_factory=dict)
    disable_all_hooks: bool = Field(default=False, alias="disableAllHooks")
    notifications: NotificationsConfig = Field(default_factory=NotificationsConfig)
    _hook_files: list[tuple[Path, dict[str, Any]]] = PrivateAttr(default_factory=list)
    # headless: wait for the watched background runs before exiting, at most this long
    wait_for_runs: bool = True
    wait_limit_s: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    # the chat calls the person (bell, Slack) about a run only after this long without a key
    notify_away_after_s: float = Field(default=60.0, ge=0, allow_inf_nan=False)
    # with the bell, a desktop notification where the terminal or the desktop can show one
    notify_desktop: bool = True

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

    @property
    def hook_files(self) -> list[tuple[Path, dict[str, Any]]]:
        """(file, its hooks block as written) for each settings file with hooks."""
        return self._hook_files

    @field_validator("model_name")
    @classmethod
    def _model_named(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the model id must not be empty (e.g. anthropic/claude-sonnet-4-5)")
        return value

    @field_validator("memory", mode="before")
    @classmethod
    def _memory_switch(cls, value: Any) -> Any:
        return {"enabled": value} if isinstance(value, bool) else value

    @field_validator("price_per_mtok", mode="before")
    @classmethod
    def _price(cls, value: Any) -> Any:
        return parse_price(value)

    @field_validator("max_iterations")
    @classmethod
    def _iterations(cls, value: int) -> int:
        if value != -1 and value < 1:
            raise ValueError("must be -1 (no limit) or at least 1")
        return value


# Environment variables the ecosystem already names; everything else is ML_INTERN_<FIELD>.
_ENV_ALIASES = {
    "hf_endpoint": ("HF_ENDPOINT",),
    "github_api_url": ("GITHUB_API_URL",),
    "hf_token": ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"),
    "github_token": ("GITHUB_TOKEN",),
    "model_name": ("ML_INTERN_MODEL",),
}
EXTENSION_KEYS = ("skills", "commands", "plugins")
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def load_dotenv_files(files: list[Path]) -> None:
    """The honoured project `.env` files, then the user's, never overriding the environment."""
    from dotenv import load_dotenv

    for path in [*files, user_dotenv_path()]:
        if _present(path, ".env file"):
            try:
                load_dotenv(path, override=False)
            except (OSError, UnicodeDecodeError) as exc:
                raise ConfigError(f"{path}: cannot read .env file ({exc})") from None


def config_files(project: list[Path]) -> list[Path]:
    """Every config file that applies, lowest precedence first."""
    shipped = [shipped_config_dir() / name for name in CONFIG_NAMES]
    files = [f for f in [*shipped, *project, user_config_path()] if _present(f, "config file")]
    if explicit := os.environ.get("ML_INTERN_CLI_CONFIG"):
        # Named on purpose: missing is an error, and a pipe is read (`<(...)` in a shell).
        files.append(Path(explicit).expanduser())
    return files


def _present(path: Path, what: str) -> bool:
    """Whether a settings file is there to read. Something else in its place (a directory,
    a broken symlink, a pipe) is a mistake to report, never skipped and never opened."""
    if kind := not_a_file(path):
        raise ConfigError(
            f"{path}: expected a {what}, found {kind}: remove it or replace it with a file"
        )
    return path.exists()


def substitute(value: Any) -> Any:
    """Replace ${VAR} in every string of a config value, recursively."""
    if isinstance(value, str):
        return _VAR.sub(lambda m: os.environ.get(m.group(1), ""), value)
    if isinstance(value, dict):
        return {k: substitute(v) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute(v) for v in value]
    return value


Warn = Callable[[str], None]


def read_config_file(path: Path, warn: Warn | None = None) -> dict[str, Any]:
    """One config file, parsed and checked on its own so errors name the file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read config file ({exc})") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: invalid JSON at line {exc.lineno}: {exc.msg}") from None
    except RecursionError:
        raise ConfigError(f"{path}: nested deeper than {MAX_DEPTH} levels") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a JSON object at the top level")
    if nesting_depth(data) > MAX_DEPTH:
        raise ConfigError(f"{path}: nested deeper than {MAX_DEPTH} levels")
    for key, close in unknown_keys(data, Settings):
        hint = f" — did you mean `{close}`?" if close else ""
        (warn or log.warning)(f"unknown setting `{key}` in {path} (ignored){hint}")
    # ${VAR} in a hook's command is the shell's to expand when it runs (CLAUDE_PROJECT_DIR).
    data = {k: v if k == "hooks" else substitute(v) for k, v in data.items()}
    _validate(data, source=str(path))
    return data


def nesting_depth(value: Any) -> int:
    """How deep containers nest, counted without recursion (so any depth is safe)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            item = list(item.values())
        if isinstance(item, list):
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in item)
    return deepest


def unknown_keys(data: dict[str, Any], model: type[BaseModel]) -> Iterator[tuple[str, str | None]]:
    """Keys no setting reads, with the closest known key (dotted for nested blocks)."""
    fields = {f.alias or name: name for name, f in model.model_fields.items()}
    fields.update({name: name for name in model.model_fields})
    for key, value in data.items():
        if key not in fields:
            if model.model_config.get("extra") != "allow":
                close = difflib.get_close_matches(key, list(fields), n=1)
                yield key, close[0] if close else None
            continue
        inner, keyed = _nested_model(model.model_fields[fields[key]].annotation)
        if inner is None or not isinstance(value, dict):
            continue
        blocks = value.items() if keyed else [("", value)]
        for name, block in blocks:
            if isinstance(block, dict):
                prefix = f"{key}.{name}." if keyed else f"{key}."
                for sub, sub_close in unknown_keys(block, inner):
                    yield prefix + sub, prefix + sub_close if sub_close else None


def _nested_model(annotation: Any) -> tuple[type[BaseModel] | None, bool]:
    """(model, keyed) for a field holding a settings block or a dict of them."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, False
    if get_origin(annotation) is dict:
        inner = get_args(annotation)[1]
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            return inner, True
    if get_origin(annotation) in (Union, types.UnionType):
        for arg in get_args(annotation):
            found = _nested_model(arg)
            if found[0] is not None:
                return found
    return None, False


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
    """Later layers win; MCP server tables merge by server name, `approval`, `slurm`, `memory`
    and the extension blocks by key."""
    merged: dict[str, Any] = {}
    for layer in layers:
        for key, value in layer.items():
            key = "mcp_servers" if key == "mcpServers" else key
            if key == "memory" and isinstance(value, bool):  # `"memory": false` for short
                value = {"enabled": value}
            if key in ("mcp_servers", "approval", "slurm", "memory", *EXTENSION_KEYS) and (
                isinstance(value, dict)
            ):
                merged[key] = {**merged.get(key, {}), **value}
            elif key == "hooks" and isinstance(value, dict):  # every file's hooks run
                hooks = merged.setdefault(key, {})
                for event, groups in value.items():
                    hooks[event] = [*hooks.get(event, []), *groups]
            else:
                merged[key] = value
    return merged


def load_settings(
    cwd: Path | None = None, flags: dict[str, Any] | None = None, warn: Warn | None = None
) -> Settings:
    """Build Settings from every layer. Flags left as None were not given and are skipped.

    The project's own files count only in a trusted folder (see agent/trust.py);
    `warn` receives one line per unknown setting.
    """
    honoured, _ = trust.split_by_trust(trust.project_files(cwd or Path.cwd()))
    load_dotenv_files([f.path for f in reversed(honoured) if f.is_dotenv])
    project = [f.path for f in honoured if f.is_config]
    files = config_files(project)
    layers = [read_config_file(path, warn) for path in files]
    hook_files = [(path, layer.get("hooks")) for path, layer in zip(files, layers, strict=True)]
    layers.append(_validate(env_layer(), source="environment"))
    layers.append({k: v for k, v in (flags or {}).items() if v is not None})
    settings: Settings = _validate(merge(layers), source="configuration")
    settings._hook_files = [(path, hooks) for path, hooks in hook_files if hooks]
    return settings


def first_problem(exc: ValidationError) -> tuple[str, str]:
    """(field, message) of a validation error's first complaint, in plain words."""
    first = exc.errors()[0]
    field = ".".join(str(p) for p in first["loc"]) or "(top level)"
    return field, first["msg"].removeprefix("Value error, ")


def _validate(data: dict[str, Any], source: str) -> Any:
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        field, message = first_problem(exc)
        raise ConfigError(f"{source}: invalid value for '{field}': {message}") from None
    return settings if source == "configuration" else data
