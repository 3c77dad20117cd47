"""Where ml-intern keeps the user's own files, and how it writes them.

Kept apart from the settings so that the trust store and the config loader can
both use it without importing each other.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

# At each level the legacy name is read first, so `cli_agent_config.json` wins.
CONFIG_NAMES = ("main_agent_config.json", "cli_agent_config.json")


def config_home() -> Path:
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "ml-intern"


def data_home() -> Path:
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local/share") / "ml-intern"


def user_config_path() -> Path:
    return config_home() / "cli_agent_config.json"


def user_dotenv_path() -> Path:
    return config_home() / ".env"


def shipped_config_dir() -> Path:
    """configs/ as shipped: inside the package when installed, beside it in a checkout."""
    here = Path(__file__).resolve().parent
    installed = here / "_configs"
    return installed if installed.is_dir() else here.parent / "configs"


def write_json(path: Path, data: Any) -> None:
    """Replace the file in one step, keeping its permissions (it may hold tokens):
    a crash never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    tmp = Path(name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2, ensure_ascii=False)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        if path.exists():
            tmp.chmod(path.stat().st_mode & 0o777)
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
