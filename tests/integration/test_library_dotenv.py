"""No library we import loads a `.env` of its own: only agent/config.py reads one, and only
when the folder is trusted."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

# Everything ml-intern imports that could read settings files, used as ml-intern uses it.
IMPORTS = """
import json, os
from agent.core.llm import litellm
litellm()
import huggingface_hub, httpx, mcp, mcp.client.stdio, mcp.client.streamable_http, openai
huggingface_hub.HfApi()
httpx.Client().close()
names = ("OPENAI_BASE_URL", "PLANTED", "LITELLM_MODE", "PYTHON_DOTENV_DISABLED")
print(json.dumps({name: os.environ.get(name) for name in names}))
"""


@pytest.mark.timeout(180)  # a fresh process imports litellm, huggingface_hub and mcp
def test_no_library_loads_a_dotenv_found_above_the_working_directory(tmp_path):
    """python-dotenv's find_dotenv searches upwards from the calling file's folder, or
    from the working directory when there is no script (`python -c`). A `.env` above the
    working directory stands for one above a virtual environment kept in a clone."""
    clone = tmp_path / "clone"
    (clone / "venv").mkdir(parents=True)
    (clone / ".env").write_text("OPENAI_BASE_URL=http://127.0.0.1:9/v1\nPLANTED=yes\n")
    unset = ("OPENAI_BASE_URL", "PLANTED", "PYTHON_DOTENV_DISABLED")
    env = {k: v for k, v in os.environ.items() if k not in unset}
    env["LITELLM_MODE"] = "DEV"  # litellm's default, which loads a .env at import
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])

    run = subprocess.run(
        [sys.executable, "-c", IMPORTS],
        cwd=clone / "venv",
        env=env,
        capture_output=True,
        text=True,
        timeout=170,
    )

    assert run.returncode == 0, run.stderr
    after = json.loads(run.stdout.splitlines()[-1])
    assert after == {
        "OPENAI_BASE_URL": None,
        "PLANTED": None,
        "LITELLM_MODE": "DEV",  # the user's own setting, back for the commands we run
        "PYTHON_DOTENV_DISABLED": None,
    }
