"""A model library whose import starts and never ends, to catch the moments while it loads."""

from __future__ import annotations

from pathlib import Path

import pytest

# Stands in for litellm: says that its import started, then never finishes it.
NEVER_LOADS = """
import os, threading
open(os.environ["ML_INTERN_TEST_IMPORT_MARKER"], "w").close()
threading.Event().wait()
"""


def litellm_never_loads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """ml-intern processes started from now on find this litellm first; returns the file
    that appears once one of them has begun importing it."""
    stand_in = tmp_path / "stand-in" / "litellm"
    stand_in.mkdir(parents=True)
    (stand_in / "__init__.py").write_text(NEVER_LOADS)
    marker = tmp_path / "import-started"
    monkeypatch.setenv("ML_INTERN_TEST_IMPORT_MARKER", str(marker))
    monkeypatch.setenv("PYTHONPATH", str(stand_in.parent))
    return marker


# Stands in for a library: notes that something imported it, then fails the import.
NOTED = """
import os
open(os.environ["ML_INTERN_TEST_NOTED_IMPORT"], "w").close()
raise ImportError("a stand-in: this run was not meant to import it")
"""


def import_noted(package: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """ml-intern processes started from now on find this stand-in for `package` first;
    returns the file that appears if one of them imports it."""
    stand_in = tmp_path / "noted" / package
    stand_in.mkdir(parents=True)
    (stand_in / "__init__.py").write_text(NOTED)
    marker = tmp_path / f"{package}-imported"
    monkeypatch.setenv("ML_INTERN_TEST_NOTED_IMPORT", str(marker))
    monkeypatch.setenv("PYTHONPATH", str(stand_in.parent))
    return marker
