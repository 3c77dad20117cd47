"""Tests that need a working bubblewrap: skipped locally without one, failed under CI."""

from __future__ import annotations

import os

import pytest

from agent.tools.local import sandbox as confine


def require_sandbox(allow_network: bool = False) -> None:
    """Skip (or, with CI=true, fail) unless bubblewrap can build a sandbox here."""
    problem = confine.sandbox_problem(allow_network)
    if problem is None:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI must run the sandbox tests, but {problem}")
    pytest.skip(problem)
