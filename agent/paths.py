"""Where ml-intern keeps the user's own files, how it writes them, and what a path holds.

Kept apart from the settings so that the trust store and the config loader can
both use it without importing each other.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

# At each level the legacy name is read first, so `cli_agent_config.json` wins.
CONFIG_NAMES = ("main_agent_config.json", "cli_agent_config.json")
_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


def config_home() -> Path:
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "ml-intern"


def data_home() -> Path:
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local/share") / "ml-intern"


def home_relative(path: Path) -> str:
    """`path` as a person writes it: `~/...` under the home folder."""
    home = Path.home()
    return f"~/{path.relative_to(home)}" if path.is_relative_to(home) else str(path)


def user_config_path() -> Path:
    return config_home() / "cli_agent_config.json"


def user_dotenv_path() -> Path:
    return config_home() / ".env"


def shipped_config_dir() -> Path:
    """configs/ as shipped: inside the package when installed, beside it in a checkout."""
    here = Path(__file__).resolve().parent
    installed = here / "_configs"
    return installed if installed.is_dir() else here.parent / "configs"


def not_a_file(path: Path) -> str | None:
    """What is at `path` when it is not a regular file ("a directory", "a named pipe
    (FIFO)", "a broken symlink"...); None for a regular file or nothing at all.

    Decided from `stat`, without opening: opening a pipe blocks until someone writes to
    it, and a device can be endless."""
    try:
        mode = path.stat().st_mode
    except (FileNotFoundError, NotADirectoryError):
        return f"a broken symlink to {path.readlink()}" if path.is_symlink() else None
    if stat.S_ISREG(mode):
        return None
    return next((kind for test, kind in _KINDS if test(mode)), "a special file")


def write_json(path: Path, data: Any) -> None:
    """Replace the file in one step, flushed to disk, keeping its permissions (a new one is
    private: it may hold tokens): a crash or a power cut never leaves half a file."""
    from agent.atomic import write_file

    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    write_file(path, text.encode("utf-8"), new_mode=0o600)
