"""The remote sandbox: its server for real on loopback (token, commands, files, paths), and the
client's Space flow against the loopback Hub, ending in a server built from the uploaded files."""

from __future__ import annotations

import ast
import asyncio
import contextlib
import hashlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
import uvicorn

from agent.config import Settings
from agent.tools.router import ToolRouter
from agent.tools.space_sandbox.client import SECRET, STATE, sandbox_at_exit, sandbox_tools
from agent.tools.space_sandbox.remote import routed_tools
from agent.tools.space_sandbox.server import create_app, space_files
from agent.tools.spec import ToolContext
from tests import secret_corpus as corpus
from tests.fakes.hub_jobs import JobsHub, free_port

TOKEN = "sandbox-token-for-tests"
HF_TOKEN = "hf_test"


class LoopbackSettings(Settings):
    """Settings whose sandbox address points at a loopback server."""

    sandbox_url_template: str = "http://{domain}"
    sandbox_on_exit: str = "remind"


@contextlib.contextmanager
def serve(app):
    """Run an ASGI app with uvicorn on a loopback socket, for real."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@pytest.fixture
def sandbox(tmp_path):
    workdir = tmp_path / "work"
    digest = hashlib.sha256(TOKEN.encode()).hexdigest()
    with serve(create_app(token_sha256=digest, workdir=workdir)) as url:
        yield url, workdir


def post(url, path, body, token=TOKEN):
    headers = {"X-Sandbox-Token": token} if token is not None else {}
    return httpx.post(f"{url}{path}", json=body, headers=headers, timeout=30)


def run(url, command, timeout=20):
    """The NDJSON records of one /exec call."""
    reply = post(url, "/exec", {"command": command, "timeout": timeout})
    assert reply.status_code == 200, reply.text
    records = [json.loads(line) for line in reply.text.splitlines() if line]
    logs = [r["log"] for r in records if "log" in r]
    return logs, records[-1]["result"]


# -- the server ---------------------------------------------------------------------------


def test_every_request_needs_the_right_token(sandbox):
    url, workdir = sandbox
    marker = workdir / "ran"
    for token in (None, "wrong-token"):
        reply = post(url, "/exec", {"command": f"touch {marker}"}, token=token)
        assert reply.status_code == 401
        assert post(url, "/read", {"path": "x"}, token=token).status_code == 401
        headers = {"X-Sandbox-Token": token} if token else {}
        assert httpx.get(f"{url}/health", headers=headers).status_code == 401
    assert not marker.exists()
    ok = httpx.get(f"{url}/health", headers={"X-Sandbox-Token": TOKEN})
    assert ok.status_code == 200 and ok.json()["workdir"] == str(workdir.resolve())


def test_a_server_without_a_token_refuses_everything(tmp_path, monkeypatch):
    monkeypatch.delenv("SANDBOX_TOKEN_SHA256", raising=False)
    with serve(create_app(workdir=tmp_path)) as url:
        assert httpx.get(f"{url}/health", headers={"X-Sandbox-Token": ""}).status_code == 503


def test_commands_stream_output_with_exit_code_timeout_and_caps(sandbox):
    url, workdir = sandbox
    logs, result = run(url, "echo one; echo two >&2; pwd")
    assert "\n".join(logs).split("\n") == ["one", "two", str(workdir.resolve())]
    assert result == {
        "output": f"one\ntwo\n{workdir.resolve()}",
        "exit_code": 0,
        "timed_out": False,
        "is_error": False,
    }
    _, failed = run(url, "echo broken; exit 3")
    assert failed["exit_code"] == 3 and failed["is_error"] and "exit code 3" in failed["output"]
    _, slow = run(url, "echo start; sleep 30", timeout=1)
    assert slow["timed_out"] and "timed out after 1 s" in slow["output"]
    _, big = run(url, "python3 -c \"print('\\n'.join('line %d' % i for i in range(20000)))\"")
    assert len(big["output"]) <= 31_000
    assert "line 0" in big["output"] and "line 19999" in big["output"]
    assert "lines" in big["output"] and "omitted" in big["output"]
    bad = post(url, "/exec", {"command": "true", "timeout": "soon"}).text
    assert "Invalid arguments: timeout" in bad


def test_output_is_scrubbed_of_secrets(sandbox):
    url, _ = sandbox
    secret = "hf_" + "x1" * 20
    logs, result = run(url, f"echo token={secret}")
    assert secret not in result["output"] and "[REDACTED:hf_token]" in result["output"]
    assert all(secret not in line for line in logs)
    post(url, "/write", {"path": "cfg.txt", "content": f"key: {secret}\n"})
    shown = post(url, "/read", {"path": "cfg.txt"}).json()
    assert secret not in shown["content"] and "[REDACTED:hf_token]" in shown["content"]


def test_every_secret_shape_is_scrubbed_from_the_stream(sandbox):
    url, workdir = sandbox
    (workdir / "corpus.txt").write_text(corpus.TEXT + "\n")
    logs, result = run(url, "cat corpus.txt")
    assert corpus.leaked("\n".join(logs)) == [] and corpus.leaked(result["output"]) == []
    assert "[REDACTED:jwt]" in result["output"] and "[REDACTED:private_key]" in result["output"]


PEM_BODY = ["MIIEowIBAAKCAQEAsandboxKEYline1", "c2FuZGJveEtFWWxpbmUyAAAAB3NzaC1yc2E="]


def test_a_private_key_printed_over_many_lines_is_scrubbed_whole(sandbox, tmp_path):
    url, workdir = sandbox
    key = "\n".join(["-----BEGIN RSA PRIVATE KEY-----", *PEM_BODY, "-----END RSA PRIVATE KEY-----"])
    (workdir / "id_rsa").write_text(key + "\n")
    logs, result = run(url, "echo before; cat id_rsa; echo after")
    assert "\n".join(logs).split("\n") == ["before", "[REDACTED:private_key]", "after"]
    for body_line in PEM_BODY:
        assert body_line not in result["output"]
    (workdir / "cut").write_text("-----BEGIN PRIVATE KEY-----\n" + "\n".join(PEM_BODY) + "\n")
    logs, _ = run(url, "cat cut; echo all done")  # no END: the first other line ends it
    assert "\n".join(logs).split("\n") == ["[REDACTED:private_key]", "all done"]
    logs, _ = run(url, "cat cut")  # nothing after it: let go at the end, scrubbed
    assert logs == ["[REDACTED:private_key]"]


def test_request_bodies_over_the_limit_are_refused_with_413(tmp_path):
    digest = hashlib.sha256(TOKEN.encode()).hexdigest()
    app = create_app(token_sha256=digest, workdir=tmp_path, max_body_bytes=4096)
    with serve(app) as url:
        big = post(url, "/write", {"path": "big.txt", "content": "x" * 5000})
        assert big.status_code == 413
        assert not (tmp_path / "big.txt").exists()

        def chunks():  # no Content-Length: the server counts what arrives
            yield b'{"path": "streamed.txt", "content": "'
            for _ in range(10):
                yield b"y" * 1000
            yield b'"}'

        headers = {"X-Sandbox-Token": TOKEN}
        streamed = httpx.post(f"{url}/write", content=chunks(), headers=headers, timeout=30)
        assert streamed.status_code == 413
        assert not (tmp_path / "streamed.txt").exists()
        small = post(url, "/write", {"path": "small.txt", "content": "fits"})
        assert small.status_code == 200 and not small.json()["is_error"]
        assert (tmp_path / "small.txt").read_text() == "fits"
        assert post(url, "/exec", {"command": "echo ok"}).status_code == 200


def test_the_body_limit_comes_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("SANDBOX_MAX_BODY_BYTES", "100")
    digest = hashlib.sha256(TOKEN.encode()).hexdigest()
    with serve(create_app(token_sha256=digest, workdir=tmp_path)) as url:
        assert post(url, "/write", {"path": "a", "content": "z" * 200}).status_code == 413
        assert post(url, "/write", {"path": "a", "content": "z"}).status_code == 200


def test_file_operations_follow_the_local_rules(sandbox):
    url, workdir = sandbox
    created = post(url, "/write", {"path": "pkg/train.py", "content": "lr = 1e-3\nepochs = 3\n"})
    assert created.json()["is_error"] is False
    assert (workdir / "pkg/train.py").read_text() == "lr = 1e-3\nepochs = 3\n"
    (workdir / "notes.txt").write_text("old\n")
    refused = post(url, "/write", {"path": "notes.txt", "content": "new\n"}).json()
    assert refused["is_error"] and "has not been read yet" in refused["content"]
    shown = post(url, "/read", {"path": str(workdir / "pkg/train.py")}).json()
    assert shown["content"] == "     1\tlr = 1e-3\n     2\tepochs = 3"
    edited = post(
        url, "/edit", {"path": "pkg/train.py", "old_str": "epochs = 3", "new_str": "epochs = 5"}
    ).json()
    assert not edited["is_error"] and "+epochs = 5" in edited["content"]
    assert (workdir / "pkg/train.py").read_text() == "lr = 1e-3\nepochs = 5\n"
    folder = post(url, "/read", {"path": "pkg"}).json()
    assert folder["is_error"] and "is a directory" in folder["content"]
    missing = post(url, "/read", {"path": "pkg/trian.py"}).json()
    assert "File not found" in missing["content"] and "train.py" in missing["content"]
    wrong = post(url, "/edit", {"path": "pkg/train.py"}).json()
    assert wrong["is_error"] and "Invalid arguments: old_str" in wrong["content"]
    _, listed = run(url, "ls", timeout=5)
    assert listed["output"] == "notes.txt\npkg"
    inside = post(url, "/exec", {"command": "pwd", "work_dir": "pkg"}).text
    assert json.loads(inside.splitlines()[-1])["result"]["output"] == str(workdir.resolve() / "pkg")
    nowhere = json.loads(post(url, "/exec", {"command": "pwd", "work_dir": "nope"}).text)
    assert (
        nowhere["result"]["is_error"] and "not an existing directory" in nowhere["result"]["output"]
    )
    home = post(url, "/read", {"path": "~/missing.txt"}).json()
    assert f"File not found: {Path.home() / 'missing.txt'}" in home["content"]


def speaking(spec_version, app):
    """`app` behind a server that speaks the given ASGI spec version (Starlette listens
    for a disconnect itself only below 2.4)."""

    async def server(scope, receive, send):
        if scope["type"] == "http":
            scope = {**scope, "asgi": {**scope.get("asgi", {}), "spec_version": spec_version}}
        await app(scope, receive, send)

    return server


@pytest.mark.parametrize("spec_version", ["2.3", "2.4"])
@pytest.mark.parametrize("command", ["exec sleep 60", "while true; do echo tick; sleep 0.05; done"])
def test_a_dropped_connection_stops_the_command(tmp_path, spec_version, command):
    digest = hashlib.sha256(TOKEN.encode()).hexdigest()
    app = create_app(token_sha256=digest, workdir=tmp_path / "work")
    with serve(speaking(spec_version, app)) as url:
        headers = {"X-Sandbox-Token": TOKEN}
        body = {"command": f"echo $$; {command}", "timeout": 120}
        with httpx.stream("POST", f"{url}/exec", json=body, headers=headers, timeout=30) as reply:
            pid = int(json.loads(next(reply.iter_lines()))["log"].split("\n")[0])
        try:
            _wait_gone(pid)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, 9)


def _wait_gone(pid: int) -> None:
    deadline = time.monotonic() + 10
    while Path(f"/proc/{pid}").exists() and "Z" not in _proc_state(pid):
        assert time.monotonic() < deadline, "the command outlived its client"
        time.sleep(0.05)


def _proc_state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return "Z"


def test_the_image_installs_every_package_the_uploaded_modules_import():
    files = space_files()
    dockerfile = files["Dockerfile"].decode()
    installed = {"pydantic", "starlette", "uvicorn"}
    assert all(f'"{name}' in dockerfile for name in installed)
    imported: set[str] = set()
    for path, data in files.items():
        if path.endswith(".py"):
            for node in ast.walk(ast.parse(data)):
                if isinstance(node, ast.Import):
                    imported.update(a.name.split(".")[0] for a in node.names)
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    imported.add(node.module.split(".")[0])
    third_party = imported - set(sys.stdlib_module_names) - {"agent", "__future__"}
    assert third_party <= installed | {"dotenv"}  # dotenv: only when loading config files


# -- the client and the Space flow ------------------------------------------------------


@pytest.fixture
def hub():
    with JobsHub() as fake:
        yield fake


def make_ctx(hub, tmp_path, **settings):
    config = LoopbackSettings(hf_endpoint=hub.url, hf_token=HF_TOKEN, **settings)
    lines: list[str] = []
    return ToolContext(settings=config, cwd=tmp_path, log=lines.append), lines


def tools():
    return ToolRouter([*sandbox_tools(), *routed_tools()])


def call(ctx, tool, /, **args):
    return asyncio.run(tools().call(tool, args, ctx))


SITE_DIRS = os.pathsep.join(p for p in sys.path if p.endswith("site-packages"))


def _isolated(argv: list[str]) -> list[str]:
    """Python without `site`: the packages it needs, but not this checkout of agent."""
    return [sys.executable, "-S", *argv[1:]] if argv[0].startswith("python") else argv


def _dockerfile_cmd(dockerfile: str, port: int) -> list[str]:
    line = next(x for x in dockerfile.splitlines() if x.startswith("CMD "))
    argv = json.loads(line[4:])
    argv[argv.index("--port") + 1] = str(port)
    argv[argv.index("--host") + 1] = "127.0.0.1"
    return _isolated(argv)


@pytest.fixture
def uploaded_server(hub, tmp_path):
    """When the client requests hardware, run the Space's files as the Dockerfile says."""
    port = free_port()
    hub.space_domain = f"127.0.0.1:{port}"
    app_dir, work = tmp_path / "space", tmp_path / "space-work"
    processes: list[subprocess.Popen] = []

    def start(space_id, run):
        for path, data in hub.repo(space_id, "space").files("main").items():
            (app_dir / path).parent.mkdir(parents=True, exist_ok=True)
            (app_dir / path).write_bytes(data)
        env = {**os.environ, "PYTHONPATH": SITE_DIRS}
        env.update(SANDBOX_TOKEN_SHA256=run.secrets[SECRET], SANDBOX_WORKDIR=str(work))
        argv = _dockerfile_cmd((app_dir / "Dockerfile").read_text(), port)
        processes.append(
            subprocess.Popen(
                argv, cwd=app_dir, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
        )

    hub.on_space_start = start
    yield app_dir, work
    for process in processes:
        process.terminate()
        process.wait(10)


def test_create_use_and_delete_a_sandbox_built_from_the_uploaded_files(
    hub, tmp_path, uploaded_server
):
    _, work = uploaded_server
    ctx, lines = make_ctx(hub, tmp_path)
    created = call(ctx, "sandbox_create", flavor="cpu-basic")
    assert not created.is_error, created.content
    box = ctx.state[STATE]
    space_id = box.space_id
    assert space_id.startswith("testuser/ml-intern-sandbox-")
    assert f"Sandbox ready: {space_id} on cpu-basic" in created.content
    assert [x for x in lines if x.startswith("sandbox ")] == [
        f"sandbox {space_id}: BUILDING",
        f"sandbox {space_id}: APP_STARTING",
        f"sandbox {space_id}: RUNNING",
    ]
    repo = hub.repo(space_id, "space")
    assert repo.private
    files = repo.files("main")
    assert set(space_files()) <= set(files)
    assert b"sdk: docker" in files["README.md"] and b"app_port: 7860" in files["README.md"]
    assert all(HF_TOKEN.encode() not in data for data in files.values())
    secrets = hub.spaces[space_id].secrets
    assert secrets == {SECRET: hashlib.sha256(box.token.encode()).hexdigest()}
    assert hub.spaces[space_id].hardware == "cpu-basic"

    # the server ran from the uploaded files alone: this checkout is out of its reach
    isolated = subprocess.run(
        [*_isolated(["python"]), "-c", "import agent.tools.local.bash"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": SITE_DIRS},
        capture_output=True,
    )
    assert isolated.returncode != 0
    env = call(ctx, "bash", command="env").content
    assert HF_TOKEN not in env and "SANDBOX_TOKEN" not in env and box.token not in env
    where = call(ctx, "bash", command="pwd")
    assert where.content == str(work.resolve())

    assert not call(ctx, "write", path="train.py", content="print('hi')\n").is_error
    assert (work / "train.py").read_text() == "print('hi')\n"
    assert "1\tprint('hi')" in call(ctx, "read", path="train.py").content
    edited = call(ctx, "edit", path="train.py", old_str="'hi'", new_str="'hello'")
    assert not edited.is_error and (work / "train.py").read_text() == "print('hello')\n"
    ran = call(ctx, "bash", command="python3 train.py")
    assert ran.content == "hello" and ran.data["exit_code"] == 0
    background = call(ctx, "bash", command="sleep 1", run_in_background=True)
    assert background.is_error and "nohup" in background.content
    assert not (tmp_path / "train.py").exists()  # nothing happened on this machine

    deleted = call(ctx, "sandbox_delete")
    assert f"Deleted the sandbox {space_id}" in deleted.content
    assert ("space", space_id) not in hub.repos and STATE not in ctx.state
    assert "sandbox_delete" not in call(ctx, "sandbox_delete").content
    local = call(ctx, "bash", command="pwd")
    assert local.content == str(tmp_path)  # back on this machine


def test_gpu_sandbox_sleeps_when_idle_and_never_sends_the_hf_token(hub, tmp_path):
    seen: list[dict[str, str]] = []
    built: list = []
    hub.space_stages = ["RUNNING"]

    async def space(scope, receive, send):
        """The Space's server, built on first use from the secret the client set."""
        if scope["type"] == "http":
            seen.append({k.decode(): v.decode() for k, v in scope["headers"]})
        if not built:
            digest = hub.spaces["testuser/my-box"].secrets[SECRET]
            built.append(create_app(token_sha256=digest, workdir=tmp_path / "gpu"))
        await built[0](scope, receive, send)

    with serve(space) as url:
        hub.space_domain = url.removeprefix("http://")
        ctx, _ = make_ctx(hub, tmp_path)
        created = call(ctx, "sandbox_create", flavor="t4-small", name="my-box")
        assert not created.is_error, created.content
        assert call(ctx, "bash", command="echo gpu").content == "gpu"
    box = ctx.state[STATE]
    assert box.space_id == "testuser/my-box"
    assert hub.spaces["testuser/my-box"].hardware == "t4-small"
    assert hub.spaces["testuser/my-box"].sleep_time == 3600
    assert seen
    for headers in seen:
        assert HF_TOKEN not in json.dumps(headers)
        assert headers["x-sandbox-token"] == box.token
        assert headers["authorization"] == "Bearer jwt-for-testuser-my-box"
    reminder = asyncio.run(sandbox_at_exit(ctx))
    assert "testuser/my-box is still running on t4-small ($0.60/h" in reminder


def test_build_failure_is_reported_and_the_space_can_be_deleted(hub, tmp_path):
    hub.space_stages = ["BUILDING", "BUILD_ERROR"]
    ctx, _ = make_ctx(hub, tmp_path)
    result = call(ctx, "sandbox_create")
    assert result.is_error
    assert "did not start: BUILD_ERROR" in result.content and "?logs=build" in result.content
    space_id = ctx.state[STATE].space_id
    assert "sandbox_delete" in result.content
    again = call(ctx, "sandbox_create")
    assert again.is_error and "sandbox_delete it first" in again.content
    call(ctx, "sandbox_delete")
    assert ("space", space_id) not in hub.repos


def test_unknown_flavor_and_missing_login(hub, tmp_path):
    ctx, _ = make_ctx(hub, tmp_path)
    wrong = call(ctx, "sandbox_create", flavor="tpu-v5")
    assert (
        wrong.is_error
        and "unknown flavor 'tpu-v5'" in wrong.content
        and "t4-small" in wrong.content
    )
    ctx, _ = make_ctx(hub, tmp_path)
    ctx.settings = LoopbackSettings(hf_endpoint=hub.url, hf_token=None)
    anonymous = call(ctx, "sandbox_create")
    assert anonymous.is_error and "HF_TOKEN" in anonymous.content
    assert hub.repos == {}


def test_tools_without_a_sandbox(hub, tmp_path):
    ctx, _ = make_ctx(hub, tmp_path, tool_runtime="sandbox")
    refused = call(ctx, "bash", command="echo hi")
    assert refused.is_error and "sandbox_create" in refused.content
    ctx, _ = make_ctx(hub, tmp_path)
    assert call(ctx, "bash", command="echo hi").content == "hi"


def test_at_exit_the_sandbox_is_paused_when_configured(hub, tmp_path, uploaded_server):
    ctx, _ = make_ctx(hub, tmp_path, sandbox_on_exit="pause")
    assert asyncio.run(sandbox_at_exit(ctx)) is None
    assert not call(ctx, "sandbox_create").is_error
    space_id = ctx.state[STATE].space_id
    message = asyncio.run(sandbox_at_exit(ctx))
    assert message.startswith(f"Paused the sandbox {space_id}")
    assert hub.spaces[space_id].stage == "PAUSED" and STATE not in ctx.state
    assert f"sandbox:{space_id}" in ctx.usage.outside_items
