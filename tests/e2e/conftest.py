"""The pseudo-terminal every chat test types into."""

from __future__ import annotations

import pytest

from tests.e2e.test_interactive import Terminal


@pytest.fixture
def terminal(isolated_env):
    """terminal(*flags) opens ml-intern in a pseudo-terminal; each is closed at teardown."""
    opened: list[Terminal] = []

    def open_terminal(*args: str, answer_cpr: bool = False) -> Terminal:
        opened.append(Terminal(isolated_env, *args, answer_cpr=answer_cpr))
        return opened[-1]

    yield open_terminal
    for term in opened:
        term.stop()
