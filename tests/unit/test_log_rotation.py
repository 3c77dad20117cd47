"""ml-intern.log stays bounded however long ml-intern is used."""

from __future__ import annotations

import logging

import pytest

from agent.cli import logs
from agent.config import data_home


@pytest.fixture
def file_logging(isolated_env):
    root = logging.getLogger()
    level = root.level
    logs.log_to_file()
    yield data_home() / "logs"
    for handler in [h for h in root.handlers if h.get_name() == "ml-intern-file"]:
        root.removeHandler(handler)
        handler.close()
    root.setLevel(level)


def test_the_log_file_is_rotated_and_old_ones_are_dropped(file_logging):
    log = logging.getLogger("agent.test")
    line = "x" * 1000
    for number in range(12_000):  # about 12 MB of diagnostics
        log.info("%d %s", number, line)
    names = sorted(p.name for p in file_logging.iterdir())
    assert names == ["ml-intern.log", "ml-intern.log.1", "ml-intern.log.2", "ml-intern.log.3"]
    for path in file_logging.iterdir():
        assert path.stat().st_size <= 2 * 1024 * 1024
    assert (file_logging / "ml-intern.log").read_text().rstrip().endswith(f"11999 {line}")
