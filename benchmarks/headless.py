"""Start-up and headless figures, each next to its floor measured in the same run.

    uv run python benchmarks/headless.py

Prints: `python -c pass`, `ml-intern --help`, `import litellm`, a headless one-shot
with 3 tool calls against the loopback fake model (wall and peak memory; the shipped
config, whose HF MCP server cannot be reached here), the same with MCP off, one whose MCP
server never answers, and the wall time per iteration over 30 `bash echo` iterations.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.cli import llm_env  # noqa: E402
from tests.fakes import llm_server as llm  # noqa: E402

ENV = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True", "NO_COLOR": "1"}


class Run(NamedTuple):
    wall: float  # seconds
    rss: float  # peak MiB
    cpu: float  # user + system seconds: steadier than wall on a busy machine


def run(argv: list[str], env: dict[str, str] | None = None, cwd: str | None = None) -> Run:
    """Wall seconds, peak RSS (MiB) and CPU seconds of one child process."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        argv,
        env=env or ENV,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{argv} failed: {proc.stderr.read().decode()[-2000:]}")
    proc.stderr.close()
    return Run(wall, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime)


def median(argv: list[str], times: int, **kw) -> tuple[float, float]:
    runs = [run(argv, **kw) for _ in range(times)]
    return statistics.median(r[0] for r in runs), max(r[1] for r in runs)


def headless(tool_calls: int, mcp: bool = True) -> Run:
    """A one-shot with the shipped config: its HF MCP server (unreachable without a
    network, as on a cluster node) on, or turned off in the user config."""
    steps = [llm.tool_call("bash", {"command": f"echo {i}"}) for i in range(tool_calls)]
    with llm.FakeLLM(*steps, llm.text("done")) as fake, tempfile.TemporaryDirectory() as cwd:
        env = {**ENV, **llm_env(fake.url), "HOME": cwd, "XDG_DATA_HOME": cwd}
        env["XDG_CONFIG_HOME"] = str(Path(cwd) / ".config")
        if not mcp:
            config = Path(cwd) / ".config" / "ml-intern" / "cli_agent_config.json"
            config.parent.mkdir(parents=True)
            config.write_text(json.dumps({"mcpServers": {"hf-mcp-server": {"enabled": False}}}))
        result = run([sys.executable, "-m", "agent", "-n", "-1", "do it"], env=env, cwd=cwd)
        fake.assert_done()
    return result


def headless_with_silent_mcp() -> Run:
    """A one-shot whose only MCP server accepts connections and never answers, as
    huggingface.co looks from a node with no route to it (its timeout is the default)."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []

    def accept() -> None:
        with contextlib.suppress(OSError):
            while True:
                held.append(listener.accept()[0])

    threading.Thread(target=accept, daemon=True).start()
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/mcp"
    with llm.FakeLLM(llm.text("done")) as fake, tempfile.TemporaryDirectory() as cwd:
        config = Path(cwd) / ".config" / "ml-intern" / "cli_agent_config.json"
        config.parent.mkdir(parents=True)
        config.write_text(json.dumps({"mcpServers": {"hf-mcp-server": {"url": url}}}))
        env = {**ENV, **llm_env(fake.url), "HOME": cwd, "XDG_DATA_HOME": cwd}
        env["XDG_CONFIG_HOME"] = str(Path(cwd) / ".config")
        result = run([sys.executable, "-m", "agent", "do it"], env=env, cwd=cwd)
        fake.assert_done()
    listener.close()
    for conn in held:
        conn.close()
    return result


ONE_CALL = """
import litellm
for _ in litellm.completion(model="openai/x", api_key="k", mock_response="ok", stream=True,
                           messages=[{"role": "user", "content": "hi"}]):
    pass
"""

LITELLM_FLOOR = """
import asyncio, os, sys, time
sys.path.insert(0, {root!r})
from agent.core import llm as core_llm
from agent.core.builtin_tools import create_builtin_tools
from agent.context.system_prompt import render_system_prompt
from pathlib import Path
from tests.fakes import llm_server as llm
lib = core_llm.litellm()
tools = [spec.schema() for spec in create_builtin_tools()]
system = render_system_prompt("m", Path.cwd(), [t["function"]["name"] for t in tools])
messages = [{{"role": "system", "content": system}}, {{"role": "user", "content": "hi"}}]
with llm.FakeLLM(repeat=llm.tool_call("bash", {{"command": "echo 1"}})) as fake:
    async def go():
        for _ in range(3):
            await one()
        started = time.perf_counter()
        for _ in range(30):
            await one()
        print((time.perf_counter() - started) / 30)
    async def one():
        stream = await lib.acompletion(model="openai/x", api_base=fake.url, api_key="k",
            messages=messages, tools=tools, stream=True, stream_options={{"include_usage": True}})
        async for _ in stream:
            pass
    asyncio.run(go())
"""


def litellm_call_floor() -> float:
    """litellm alone: one streamed call with the agent's real prompt and tool schemas."""
    code = LITELLM_FLOOR.format(root=str(ROOT))
    out = subprocess.run(
        [sys.executable, "-c", code], env=ENV, capture_output=True, text=True, check=True
    ).stdout
    return float(out.strip().splitlines()[-1])


def row(name: str, value: str, floor: str = "", budget: str = "") -> None:
    print(f"{name:<44} {value:>12}  {floor:<28} {budget}")


def main() -> None:
    py = sys.executable
    floor_pass, _ = median([py, "-c", "pass"], 5)
    help_wall, _ = median([py, "-m", "agent", "--help"], 5)
    litellm_wall, litellm_rss = median([py, "-c", "import litellm"], 3)
    _, one_call_rss = median([py, "-c", ONE_CALL], 1)
    one_shot = [headless(3) for _ in range(3)]
    one_wall = statistics.median(r.wall for r in one_shot)
    one_rss = max(r.rss for r in one_shot)
    one_cpu = statistics.median(r.cpu for r in one_shot)
    no_mcp = [headless(3, mcp=False) for _ in range(3)]
    no_mcp_wall = statistics.median(r.wall for r in no_mcp)
    no_mcp_cpu = statistics.median(r.cpu for r in no_mcp)
    zero_wall = statistics.median(headless(0)[0] for _ in range(2))
    silent_mcp_wall = statistics.median(headless_with_silent_mcp()[0] for _ in range(2))
    thirty_wall = statistics.median(headless(30)[0] for _ in range(2))
    per_iteration = (thirty_wall - zero_wall) / 30
    call_floor = litellm_call_floor()

    row("figure", "measured", "floor (same run)", "budget")
    row("python -c pass", f"{floor_pass * 1000:.0f} ms")
    row(
        "ml-intern --help",
        f"{help_wall * 1000:.0f} ms",
        f"pass: {floor_pass * 1000:.0f} ms",
        "< 300 ms",
    )
    row("import litellm", f"{litellm_wall:.2f} s", f"rss {litellm_rss:.0f} MiB")
    row(
        "headless one-shot, 3 tool calls",
        f"{one_wall:.2f} s",
        f"litellm + {one_wall - litellm_wall:.2f} s",
        "< litellm + 0.5 s",
    )
    row(
        "headless one-shot, 3 tool calls, MCP off",
        f"{no_mcp_wall:.2f} s",
        f"shipped config: {one_wall - no_mcp_wall:+.2f} s",
        "shipped config: no slower",
    )
    row(
        "  the same, CPU seconds",
        f"{no_mcp_cpu:.2f} s",
        f"shipped config: {one_cpu - no_mcp_cpu:+.2f} s",
        "shipped config: no more",
    )
    row(
        "headless one-shot, an MCP server that hangs",
        f"{silent_mcp_wall:.2f} s",
        f"without it: {zero_wall:.2f} s",
        "< without it + 1.5 s",
    )
    row(
        "headless one-shot, peak memory",
        f"{one_rss:.0f} MiB",
        f"litellm + first call: {one_call_rss:.0f} MiB",
        f"< floor + 40 MiB: {one_rss - one_call_rss:+.0f} MiB",
    )
    row(
        "wall per iteration (30 x bash echo)",
        f"{per_iteration * 1000:.1f} ms",
        f"litellm call alone: {call_floor * 1000:.1f} ms",
        f"< floor + 10 ms: {(per_iteration - call_floor) * 1000:+.1f} ms",
    )


if __name__ == "__main__":
    main()
