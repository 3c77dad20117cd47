"""Every test runs with isolated state: its own config/data dirs and no keys."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest

_SECRET_VARS = (
    "OPENAI_API_KEY",
    "ANTHROPIC_API_KEY",
    "HF_TOKEN",
    "HUGGING_FACE_HUB_TOKEN",
    "GITHUB_TOKEN",
    "GEMINI_API_KEY",
    "OPENROUTER_API_KEY",
    "SLACK_BOT_TOKEN",
    "OPENAI_BASE_URL",
    "OPENAI_API_BASE",
    "HF_ENDPOINT",
    "GITHUB_API_URL",
    "ML_INTERN_CLI_CONFIG",
)


# what makes a run's wake-up show a real notification on a developer's desktop
_DESKTOP_VARS = (
    "DISPLAY",
    "WAYLAND_DISPLAY",
    "TERM_PROGRAM",
    "KITTY_WINDOW_ID",
    "WEZTERM_PANE",
)


_SHORT_TEMP = "PYTEST_SHORT_BASETEMP"


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """A pytest-xdist worker's temporary folders go one level deeper (…/pytest-N/popen-gw0/),
    and the chat tests show paths in a 100-column terminal (the trust question, an edit's
    line): the run makes one short folder, each worker works in its own below it, and the
    run removes it at the end (the workers inherit its name through the environment)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker:
        if (root := os.environ.get(_SHORT_TEMP)) and config.option.basetemp:
            config.option.basetemp = str(Path(root) / worker)
    elif getattr(config.option, "numprocesses", None) and not config.option.basetemp:
        root = tempfile.mkdtemp(prefix="pytest-")
        os.environ[_SHORT_TEMP] = root
        config.add_cleanup(lambda: shutil.rmtree(root, ignore_errors=True))


@pytest.fixture(autouse=True)
def isolated_env(tmp_path, monkeypatch):
    """Point XDG paths at tmp_path, drop keys and ML_INTERN_* settings, work in a temp cwd.

    Whatever a test's run loaded into the environment (a `.env`) is gone afterwards.
    """
    saved = dict(os.environ)
    for var in list(os.environ):
        if var in _SECRET_VARS or var in _DESKTOP_VARS or var.startswith("ML_INTERN_"):
            monkeypatch.delenv(var, raising=False)
    for var in ("COLUMNS", "LINES"):  # a pytest-xdist worker's 80x24: a child asks its terminal
        monkeypatch.delenv(var, raising=False)
    home = tmp_path / "home"
    for sub in ("config", "data", "cache"):
        (home / sub).mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))
    monkeypatch.setenv("HF_HOME", str(home / "cache" / "huggingface"))
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    monkeypatch.setenv("NO_COLOR", "1")
    user_config = home / "config" / "ml-intern" / "cli_agent_config.json"
    user_config.parent.mkdir(parents=True)
    user_config.write_text(json.dumps({"mcpServers": {"hf-mcp-server": {"enabled": False}}}))
    (user_config.parent / "hf-token-offered").touch()  # past the chat's first-launch offer
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    yield work
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture
def trusted_work(isolated_env):
    """The test's working folder is trusted, as `ml-intern trust` records it: its own
    configs/ and .env count."""
    from agent.trust import add_trusted

    add_trusted(isolated_env)
    return isolated_env


@pytest.fixture
def fake_llm(monkeypatch):
    """A strict fake model server; ml-intern is pointed at it through the environment."""
    from tests.cli import llm_env
    from tests.fakes.llm_server import FakeLLM

    server = FakeLLM().start()
    for key, value in llm_env(server.url).items():
        monkeypatch.setenv(key, value)
    yield server
    server.stop()
    server.assert_done()


@pytest.fixture
def cli(capsys):
    """Run ml-intern in-process: cli("--max-iterations", "2", "do it")."""
    from tests.cli import run_in_process

    return lambda *args: run_in_process(capsys, *args)


@pytest.fixture
def repo(isolated_env, monkeypatch):
    """A cloned checkout (not trusted); the run starts in a folder below its root."""
    root = isolated_env / "repo"
    (root / ".git").mkdir(parents=True)
    (root / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (root / "src").mkdir()
    monkeypatch.chdir(root / "src")
    return root


@pytest.fixture
def user_endpoint(fake_llm, monkeypatch):
    """The model endpoint as a user sets it in the environment (litellm's own variable),
    so that a project's `api_base` would win over it once the folder is trusted."""
    monkeypatch.delenv("ML_INTERN_API_BASE")
    monkeypatch.setenv("OPENAI_BASE_URL", fake_llm.url)
    monkeypatch.setenv("ML_INTERN_LLM_MAX_ATTEMPTS", "1")
    return fake_llm


@pytest.fixture
def call_tool(isolated_env):
    """call_tool(tools, name, args, **settings) -> ToolResult, run in the test's work dir."""
    from tests.tools import call_tool

    return lambda tools, name, args, **kwargs: call_tool(
        tools, name, args, **{"cwd": isolated_env, **kwargs}
    )


@pytest.fixture(params=[True, False], ids=["streamed", "whole"])
def stream_flags(request) -> list[str]:
    """Run a behaviour test over streamed and whole answers: the assembly paths differ."""
    return [] if request.param else ["--no-stream"]


@pytest.fixture(scope="session")
def slurm_cluster():
    """A real one-node Slurm cluster, started once for the test run (see tests/slurm.py)."""
    from tests.slurm import one_node_cluster, require_cluster

    require_cluster()
    with one_node_cluster() as cluster:
        yield cluster


@pytest.fixture
def slurm(slurm_cluster, monkeypatch):
    """The cluster, with SLURM_CONF pointing the Slurm commands (and ml-intern) at it."""
    monkeypatch.setenv("SLURM_CONF", str(slurm_cluster.conf))
    return slurm_cluster
