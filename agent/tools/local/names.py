"""Which names take effect at the next, unconfined launch, wherever they are.

`.git` (hooks and config run by every git command, a shell prompt's included), `.env*`
and `configs/` (read by ml-intern at start-up), `AGENTS.md`, `CLAUDE.md`, `ML_INTERN.md`,
`.agents/` and `.claude/` (instructions and extensions read by ml-intern and other agents). The
sandbox keeps existing ones read-only and refuses to create new ones. Standard library
only: the supervisor of a confined MCP server imports it in a bare interpreter.
"""

from __future__ import annotations

PROTECTED_DIRS = (".git", "configs", ".agents", ".claude")
PROTECTED_FILES = ("AGENTS.md", "CLAUDE.md", "ML_INTERN.md")
ENV_PREFIX = ".env"

# Folders of installed or generated files, not the project's own: walking them before every
# command would cost more than the command (a virtual environment holds thousands of folders).
NOT_LOOKED_INTO = frozenset(
    (
        ".venv",
        "venv",
        "node_modules",
        "__pycache__",
        "site-packages",
        ".tox",
        ".nox",
        ".mypy_cache",
        ".ruff_cache",
        ".pytest_cache",
        ".cache",
        "wandb",
        ".ipynb_checkpoints",
    )
)


def is_protected_name(name: str) -> bool:
    """Whether a file or folder called `name` would take effect at the next launch."""
    return name in PROTECTED_DIRS or name in PROTECTED_FILES or name.startswith(ENV_PREFIX)
