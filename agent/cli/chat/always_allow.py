"""An "always" answer kept for the project, in its `configs/cli_agent_config.json`.

Offered only in a trusted folder: an untrusted checkout's config is never read, so
an answer saved there would do nothing (and would change someone else's files).
"""

from __future__ import annotations

import json
from pathlib import Path

from rich.text import Text

from agent.core.approval.scopes import scope_to_save
from agent.core.session import Session
from agent.paths import shipped_config_dir, write_json
from agent.trust import is_trusted, project_root

CONFIG_NAME = "cli_agent_config.json"


def project_config(cwd: Path) -> Path | None:
    """Where an answer for this project is kept; None where none can be."""
    root = project_root(cwd)
    configs = root / "configs"
    if not is_trusted(root) or configs.resolve() == shipped_config_dir().resolve():
        return None
    return configs / CONFIG_NAME


def save_always(session: Session, scope: str) -> Text:
    """Add `scope` to the project's `approval.always_allow` (and to this run's settings,
    so it outlives `/new`); the line that says what happened."""
    path = project_config(session.cwd)
    if path is None:
        return Text("· not saved: this folder is not trusted", "yellow")
    entry = scope_to_save(scope, session.cwd, project_root(session.cwd))
    try:
        data = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
        if not isinstance(data, dict) or not isinstance(data.get("approval", {}), dict):
            raise ValueError("expected a JSON object with an `approval` object")
        approval = data.setdefault("approval", {})
        saved = approval.setdefault("always_allow", [])
        if not isinstance(saved, list):
            raise ValueError("`approval.always_allow` is not a list")
        if entry not in saved:
            saved.append(entry)
        write_json(path, data)
    except (OSError, ValueError) as exc:
        return Text(f"· not saved to {path}: {exc} (allowed for this session only)", "yellow")
    kept = session.settings.approval.always_allow
    if entry not in kept:
        kept.append(entry)
    shown = path.relative_to(session.cwd) if path.is_relative_to(session.cwd) else path
    return Text(f"· saved in {shown}: always allow {entry}", "dim")
