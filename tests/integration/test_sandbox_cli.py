"""--sandbox workspace-write through the real CLI: bash is confined for real."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.bubblewrap import require_sandbox
from tests.fakes import llm_server as llm


@pytest.fixture(autouse=True)
def _bubblewrap() -> None:
    require_sandbox()


def test_confined_bash_can_write_the_workspace_but_nothing_else(cli, fake_llm, tmp_path):
    outside = Path("/var/tmp") / f"ml-intern-confinement-{tmp_path.name}.txt"  # not the temp dir
    fake_llm.script(
        llm.tool_call("bash", {"command": f"echo in > inside.txt; echo out > {outside}"}),
        llm.text("tried"),
    )
    result = cli("--sandbox", "workspace-write", "write two files")
    assert result.exit_code == 0, result.stderr
    assert Path("inside.txt").read_text() == "in\n"
    exists = outside.exists()
    outside.unlink(missing_ok=True)
    assert not exists
    tool_result = fake_llm.requests[1]["messages"][-1]["content"]
    assert "Read-only file system" in tool_result
