"""No confined command can create what takes effect at the next launch, in any way.

Real bubblewrap, real processes, as root where the tests run as root. Without a working
bubblewrap these tests skip locally and fail under CI (CI=true).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from agent.config import Settings
from agent.errors import ConfigError
from agent.tools.local import sandbox as confine
from agent.tools.local import seccomp, supervisor
from agent.tools.local.local_tools import local_tools
from agent.tools.local.names import is_protected_name
from agent.tools.router import ToolRouter
from agent.tools.spec import ToolContext, ToolResult
from tests.bubblewrap import require_sandbox
from tests.fakes import llm_server as llm

ROUTER = ToolRouter(local_tools())
PYTHON = sys.executable


@pytest.fixture
def workspace(isolated_env: Path) -> Path:
    require_sandbox()
    return isolated_env


def call(ctx: ToolContext, tool: str, **args: object) -> ToolResult:
    return asyncio.run(ROUTER.call(tool, args, ctx))


def confined_ctx(cwd: Path) -> ToolContext:
    return ToolContext(settings=Settings(sandbox="workspace-write"), cwd=cwd, turn=1)


def protected_in(folder: Path) -> list[str]:
    """Every protected name below `folder`, links included, without following them."""
    found = []
    for root, dirs, files in os.walk(folder):
        found += [str(Path(root, n)) for n in dirs + files if is_protected_name(n)]
    return sorted(found)


def py(code: str) -> str:
    return f"{PYTHON} -c '{code}'"


# One attempt per way a name comes into being, each at a place where it did not exist.
ATTEMPTS = [
    "mkdir sub/.git",
    "printf 'gitdir: /elsewhere' > sub/.git",  # a .git file
    "ln -s elsewhere sub/.git",  # a symlink named .git
    "mkdir made && mv made sub/.git",  # rename
    "touch plain && mv plain .env.local",
    "touch linked && ln linked sub/.env",  # hard link
    py('import os; os.open("sub/AGENTS.md", os.O_CREAT | os.O_WRONLY, 0o644)'),
    py('import os; os.open(".claude", os.O_CREAT | os.O_EXCL | os.O_RDWR)'),
    "mkfifo sub/CLAUDE.md",  # mknod
    "echo x > .env.local",
    "echo 'export X=1' > .envrc",
    "mkdir -p sub/configs && echo '{}' > sub/configs/cli_agent_config.json",
    "echo KEY=x > sub/.env",
    "mkdir -p deep/er/.agents/skills",
    "ln -s .git dangling && echo '[core]' > dangling",  # through a dangling symlink
    "git init -q cloned",
]


def test_no_protected_name_can_be_created_in_any_way(cli, fake_llm, workspace, tmp_path):
    script = "; ".join(
        f"(mkdir -p try{i}/sub && cd try{i} && {attempt}) || echo refused"
        for i, attempt in enumerate(ATTEMPTS)
    )
    script += "; echo ok > try0/sub/ordinary"
    fake_llm.script(llm.tool_call("bash", {"command": script}), llm.text("tried"))
    result = cli("--sandbox", "workspace-write", "--yolo", "plant the next launch")
    assert result.exit_code == 0, result.stderr
    assert protected_in(workspace) == []
    assert (workspace / "try0" / "sub" / "ordinary").read_text() == "ok\n"
    seen = fake_llm.requests[-1]["messages"][-1]["content"]
    assert seen.count("refused") >= len(ATTEMPTS), seen
    assert "Operation not permitted" in seen
    assert f"The sandbox refused to create {workspace}/try0/sub/.git" in seen
    assert "`git clone` and `git init` fail inside the sandbox" in seen

    off = tmp_path / "off"
    off.mkdir()
    unconfined = call(ToolContext(settings=Settings(), cwd=off, turn=1), "bash", command=script)
    assert "refused" not in unconfined.content, unconfined.content  # the sandbox did it
    assert len(protected_in(off)) >= len(ATTEMPTS)


RACE_C = r"""
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
static char path[8] = "foo";
static volatile int done;
static void *flip(void *name) {
    while (!done) memcpy(path, name, strlen(name) + 1);
    return NULL;
}
int main(void) {
    pthread_t a, b;
    pthread_create(&a, NULL, flip, "foo");
    pthread_create(&b, NULL, flip, ".git");
    int made = 0;
    for (int i = 0; i < 2000; i++) {
        if (mkdir(path, 0755) == 0) {
            made++;
            if (access(".git", F_OK) == 0) { puts("planted"); return 1; }
            rmdir("foo");
        }
    }
    done = 1;
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    printf("made %d\n", made);
    return 0;
}
"""

RACE_PY = r"""
import ctypes, os, threading
libc = ctypes.CDLL(None, use_errno=True)
path = ctypes.create_string_buffer(b"foo", 8)
done = False
def flip(name):
    while not done:
        ctypes.memmove(path, name, len(name) + 1)
threads = [threading.Thread(target=flip, args=(n,)) for n in (b"foo", b".git")]
for t in threads: t.start()
made = 0
for _ in range(2000):
    if libc.mkdir(path, 0o755) == 0:
        made += 1
        if os.path.exists(".git"): print("planted"); raise SystemExit(1)
        os.rmdir("foo")
done = True
for t in threads: t.join()
print("made", made)
"""


def test_a_path_flipped_by_other_threads_never_becomes_git(workspace, tmp_path):
    """Two threads flip the path buffer between `foo` and `.git` while a third calls mkdir
    on it: the supervisor checks and uses one copy, so `.git` never appears. In C when a
    compiler is here (a real race); else Python threads (the GIL makes it a weaker one)."""
    if shutil.which("gcc"):
        source = tmp_path / "race.c"
        source.write_text(RACE_C)
        binary = tmp_path / "race"
        subprocess.run(["gcc", "-O2", "-pthread", "-o", binary, source], check=True)
        command = str(binary)
    else:
        (tmp_path / "race.py").write_text(RACE_PY)
        command = f"{PYTHON} {tmp_path / 'race.py'}"
    (workspace / "sub").mkdir()
    ctx = confined_ctx(workspace)
    result = call(ctx, "bash", command=command, work_dir="sub", timeout=300)
    assert not result.is_error, result.content
    assert "planted" not in result.content
    assert int(result.content.split("made ")[1].split()[0]) > 0  # `foo` was created: it raced
    assert not (workspace / "sub" / ".git").exists()


ORDINARY = r"""
import os, stat
os.umask(0o027)
os.mkdir("d")
for i in range(300):
    with open(f"d/f{i}", "w") as f:
        f.write(str(i))
    os.rename(f"d/f{i}", f"d/g{i}")
os.link("d/g0", "d/hard")
os.symlink("g1", "d/soft")
os.mkfifo("d/fifo")
fd = os.open("d/inherited", os.O_CREAT | os.O_WRONLY, 0o666)  # Python adds O_CLOEXEC
print("close-on-exec", not os.get_inheritable(fd))
os.write(fd, b"x")
"""


def test_ordinary_creates_keep_working_with_their_modes_and_owner(workspace):
    (workspace / "ordinary.py").write_text(ORDINARY)
    ctx = confined_ctx(workspace)
    command = (
        f"{PYTHON} ordinary.py && exec 3>plain && grep flags /proc/self/fdinfo/3 && "
        "echo 'x' > 'with space' && echo a > /dev/stdout && echo b > /dev/fd/2 && "
        "echo c > /proc/self/fd/1 && echo d > /proc/$$/fd/1"
    )
    result = call(ctx, "bash", command=command)
    assert not result.is_error, result.content
    folder = workspace / "d"
    assert [(folder / f"g{i}").read_text() for i in range(300)] == [str(i) for i in range(300)]
    assert not list(folder.glob("f[0-9]*"))
    assert stat.S_IMODE(folder.stat().st_mode) == 0o750  # 0o777 less the command's umask
    assert stat.S_IMODE((folder / "g0").stat().st_mode) == 0o640
    assert stat.S_IMODE((folder / "inherited").stat().st_mode) == 0o640
    assert (folder / "hard").samefile(folder / "g0")
    assert (folder / "soft").readlink() == Path("g1")
    assert stat.S_ISFIFO((folder / "fifo").lstat().st_mode)
    assert (folder / "inherited").read_text() == "x"
    assert {p.lstat().st_uid for p in folder.iterdir()} == {os.getuid()}
    assert {p.lstat().st_gid for p in folder.iterdir()} == {os.getgid()}
    # descriptors arrive as the command asked: close-on-exec with O_CLOEXEC, else not
    assert "close-on-exec True" in result.content
    flags = next(line for line in result.content.splitlines() if line.startswith("flags"))
    assert not int(flags.split()[-1], 8) & os.O_CLOEXEC, result.content
    assert (workspace / "with space").read_text() == "x\n"
    assert result.content.split()[-4:] == ["a", "b", "c", "d"]  # its own output, reopened


def test_a_background_job_stays_supervised_after_its_command_returns(workspace):
    go = workspace / "go"
    os.mkfifo(go)
    ctx = confined_ctx(workspace)
    command = "read _ < go; mkdir -p sub/later; mkdir sub/.git; echo $? > finished"
    started = call(ctx, "bash", command=command, run_in_background=True)
    assert not started.is_error, started.content
    with go.open("w") as fifo:  # the tool call has returned; now the job creates
        fifo.write("now\n")
    deadline = time.monotonic() + 30
    while not (workspace / "finished").exists() or not (workspace / "finished").read_text():
        assert time.monotonic() < deadline, "the job did not finish"
        time.sleep(0.02)
    assert (workspace / "sub" / "later").is_dir()
    assert not (workspace / "sub" / ".git").exists()
    assert (workspace / "finished").read_text().strip() == "1"
    looked = call(ctx, "bash_output", job_id=started.data["job_id"])
    assert f"The sandbox refused to create {workspace}/sub/.git" in looked.content


def test_without_a_supervisor_creating_calls_fail(workspace):
    """Fail closed: once the listener is gone, the calls it would answer return ENOSYS."""
    ours, theirs = socket.socketpair()
    code = 'import os,sys; sys.stdin.readline(); os.mkdir("made")'
    inside = supervisor.inside_argv(theirs.fileno(), [PYTHON, "-c", code])
    options, _ = confine._bwrap_options(workspace, allow_network=False)
    argv = [shutil.which("bwrap") or "bwrap", *options, "--", *inside]
    proc = subprocess.Popen(
        argv, pass_fds=(theirs.fileno(),), stdin=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, cwd=workspace,
    )  # fmt: skip
    theirs.close()
    _, fds, _, _ = socket.recv_fds(ours, 1, 1)
    os.close(fds[0])  # the supervisor is gone
    _, err = proc.communicate("go\n", timeout=30)
    assert proc.returncode != 0
    assert "Function not implemented" in err, err
    assert not (workspace / "made").exists()


def test_a_confined_program_cannot_install_a_listener_of_its_own(workspace):
    """A second listener would be asked first and could let a call through unseen."""
    code = (
        "import ctypes, os; libc = ctypes.CDLL(None, use_errno=True); "
        "prog = (ctypes.c_ushort * 8)(1, 0, 0, 0, 0, 0, 0, 0); "
        "insn = (ctypes.c_uint64 * 1)(0x7FFF000000000006); "
        "ctypes.memmove(ctypes.addressof(prog) + 8, ctypes.byref(ctypes.c_void_p(ctypes.addressof(insn))), 8); "
        "nr = {'x86_64': 317, 'aarch64': 277}[os.uname().machine]; "
        "rc = libc.syscall(nr, 1, 8, prog); print('rc', rc, os.strerror(ctypes.get_errno()))"
    )
    result = call(confined_ctx(workspace), "bash", command=f'{PYTHON} -c "{code}"')
    assert "rc -1 Operation not permitted" in result.content, result.content


def test_a_folder_moved_out_of_a_venv_cannot_bring_a_git_along(workspace):
    """Protected names inside `.venv` and the like are not mounted read-only (they are not
    searched); moving such a folder into the project would plant them there."""
    checkout = workspace / ".venv" / "src" / "pkg"
    (checkout / ".git").mkdir(parents=True)  # as `pip install -e git+...` leaves it
    ctx = confined_ctx(workspace)
    command = (
        "echo '[core] fsmonitor = evil' > .venv/src/pkg/.git/config; "
        "mv .venv/src/pkg sub || echo refused; mv .venv/src/pkg .venv/src/moved && echo moved"
    )
    result = call(ctx, "bash", command=command)
    assert "refused" in result.content and "moved" in result.content, result.content
    assert not (workspace / "sub").exists()
    assert (workspace / ".venv" / "src" / "moved" / ".git").is_dir()
    assert f"{workspace}/.venv/src/pkg/.git" in result.content


def test_a_writer_waiting_on_a_fifo_does_not_hold_up_the_reader(workspace):
    """`echo > fifo` opens with O_CREAT, so ml-intern makes that open, which waits for a
    reader; the reader's own files (here one it writes first) must still be created."""
    syscall = 257 if seccomp.machine_arch().has_x32 else 56  # openat
    command = (
        "mkfifo pipe; echo hello > pipe & "
        f"until grep -q '^{syscall} ' /proc/$!/syscall 2>/dev/null; do :; done; "
        f'{PYTHON} -c \'open("made", "w").close(); print(open("pipe").read())\''
    )
    result = call(confined_ctx(workspace), "bash", command=command, timeout=60)
    assert not result.is_error, result.content
    assert result.content.strip() == "hello"
    assert (workspace / "made").exists()


def test_a_supervisor_that_cannot_act_is_reported_at_start_up(workspace, monkeypatch):
    """Where ml-intern may not act for confined commands (say a kernel forbidding it to
    read their memory), the start-up check says so, instead of every new file failing."""

    def forbidden(*args: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(supervisor, "perform", forbidden)
    confine._probe.cache_clear()
    try:
        with pytest.raises(ConfigError, match=r"cannot create a sandbox here: .*Permission denied"):
            confine.check_available()
    finally:
        confine._probe.cache_clear()
