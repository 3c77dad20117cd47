"""Every third-party module the agent imports is a dependency it declares.

A module that only arrives through another package's dependencies can vanish when that
package changes its own: the install then breaks for users with an ImportError.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def declared() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return {
        _normalized(re.split(r"[\s<>=!~;\[]", spec, maxsplit=1)[0])
        for spec in project["dependencies"]
    }


def imported_top_level_modules() -> dict[str, str]:
    """Each top-level module imported anywhere under agent/, with one file that imports it."""
    found: dict[str, str] = {}
    for path in sorted((ROOT / "agent").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.split(".")[0], str(path.relative_to(ROOT)))
    return found


def test_every_third_party_import_of_the_agent_is_declared():
    distributions = packages_distributions()
    wanted = declared()
    missing = []
    for module, where in imported_top_level_modules().items():
        if module in sys.stdlib_module_names or module in ("agent", "__future__"):
            continue
        owners = {_normalized(d) for d in distributions.get(module, [])}
        if not owners & wanted:
            missing.append(f"{module} (from {where}; installed by {sorted(owners) or 'nothing'})")
    assert not missing, "imported but not declared in pyproject.toml: " + ", ".join(missing)
