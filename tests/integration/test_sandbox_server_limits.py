"""The remote sandbox's server, run as its Space runs it (the Dockerfile's command), under
clients that connect and never finish: the person's own requests still get answers."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.fakes.hub_jobs import free_port

TOKEN = "sandbox-token-for-tests"
ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "agent" / "tools" / "space_sandbox" / "Dockerfile"


def dockerfile_command(port: int) -> list[str]:
    line = next(x for x in DOCKERFILE.read_text().splitlines() if x.startswith("CMD "))
    argv = json.loads(line[4:])
    argv[argv.index("--port") + 1] = str(port)
    argv[argv.index("--host") + 1] = "127.0.0.1"
    return [sys.executable, *argv[1:]]


@pytest.fixture
def server(tmp_path) -> Iterator[tuple[str, int]]:
    """The sandbox server on loopback with short deadlines and a cap of 50 connections."""
    port = free_port()
    env = {
        **os.environ,
        "SANDBOX_TOKEN_SHA256": hashlib.sha256(TOKEN.encode()).hexdigest(),
        "SANDBOX_WORKDIR": str(tmp_path / "work"),
        "SANDBOX_HEADER_TIMEOUT_S": "1",
        "SANDBOX_READ_TIMEOUT_S": "1",
        "SANDBOX_MAX_CONNECTIONS": "50",
    }
    process = subprocess.Popen(
        dockerfile_command(port),
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while not _answers(url):
            assert process.poll() is None, "the sandbox server exited"
            assert time.monotonic() < deadline, "the sandbox server did not start"
            time.sleep(0.05)
        yield url, port
    finally:
        process.terminate()
        process.wait(10)


def _answers(url: str) -> bool:
    with contextlib.suppress(httpx.TransportError):
        return health(url).status_code == 200
    return False


def health(url: str) -> httpx.Response:
    return httpx.get(f"{url}/health", headers={"X-Sandbox-Token": TOKEN}, timeout=10)


def closed_by_server(sock: socket.socket) -> bool:
    sock.setblocking(False)
    try:
        return sock.recv(1024) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


def test_half_open_connections_neither_lock_out_health_nor_stay_open(server):
    url, port = server
    half_open = []
    try:
        for _ in range(300):
            sock = socket.create_connection(("127.0.0.1", port))
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: sandbox\r\n")  # never finished
            half_open.append(sock)
        reply = health(url)
        assert reply.status_code == 200 and reply.json()["ok"] is True
        deadline = time.monotonic() + 15
        while not all(map(closed_by_server, half_open)):
            assert time.monotonic() < deadline, "half-open connections were kept open"
            time.sleep(0.1)
        assert health(url).status_code == 200
    finally:
        for sock in half_open:
            sock.close()


def test_a_stalled_request_body_is_answered_408(server):
    _, port = server
    with socket.create_connection(("127.0.0.1", port), timeout=15) as sock:
        sock.sendall(
            b"POST /read HTTP/1.1\r\nHost: sandbox\r\nX-Sandbox-Token: " + TOKEN.encode() + b"\r\n"
            b'Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"path": '
        )
        reply = b""
        while chunk := sock.recv(4096):  # the head and the body may come in separate packets
            reply += chunk
    assert reply.startswith(b"HTTP/1.1 408"), reply
    assert b"no request body for 1 s" in reply
