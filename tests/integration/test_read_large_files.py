"""read on the files ML work is made of: gigabytes, one huge line, binary look-alikes.

A page must cost the same whatever the file's size: the read happens off the
event loop, holds only a window of a line, and stops counting lines past a
bound (the timing itself is measured by benchmarks/read_page.py).
"""

from __future__ import annotations

import asyncio
import io
import pickle
import re
import threading
import tracemalloc
import zipfile
from pathlib import Path

import pytest

from agent.config import Settings
from agent.tools.local import files as files_module
from agent.tools.local import paging
from agent.tools.local.local_tools import local_tools
from agent.tools.router import ToolRouter
from agent.tools.spec import ToolContext, ToolResult

ROUTER = ToolRouter(local_tools())
MIB = 1024 * 1024


def read(cwd: Path, **args: object) -> ToolResult:
    ctx = ToolContext(settings=Settings(), cwd=cwd)
    return asyncio.run(ROUTER.call("read", args, ctx))


def test_read_leaves_the_event_loop_free_while_it_works(isolated_env, monkeypatch):
    (isolated_env / "data.txt").write_text("a\nb\n")
    loops: list[asyncio.AbstractEventLoop] = []
    answered: list[bool] = []
    real = files_module.binary_kind

    def sniff_waiting_for_the_loop(head: bytes, path: Path) -> str | None:
        """Ask the event loop for a callback: it can only answer if it is not busy here."""
        loop_ran = threading.Event()
        loops[0].call_soon_threadsafe(loop_ran.set)
        answered.append(loop_ran.wait(timeout=10))
        return real(head, path)

    monkeypatch.setattr(files_module, "binary_kind", sniff_waiting_for_the_loop)

    async def main() -> ToolResult:
        loops.append(asyncio.get_running_loop())
        ctx = ToolContext(settings=Settings(), cwd=isolated_env)
        return await ROUTER.call("read", {"path": "data.txt"}, ctx)

    result = asyncio.run(main())
    assert not result.is_error, result.content
    assert answered == [True]


def test_one_huge_line_is_read_through_a_bounded_window(isolated_env):
    size = 64 * MIB
    with (isolated_env / "one.json").open("wb") as file:
        file.write(b'{"text": "' + b"x" * size + b'"}\nsecond line\n')
    tracemalloc.start()
    try:
        result = read(isolated_env, path="one.json", limit=1)
        read(isolated_env, path="one.json", offset=2)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert not result.is_error, result.content
    first = result.content.splitlines()[0]
    assert first.startswith('     1\t{"text": "xxx')
    assert "more bytes on this line]" in first  # its end was not looked for past a bound
    assert "of more than 1 (the file is 64.0 MB); call read with offset=2 to continue)" in (
        result.content
    )
    second = read(isolated_env, path="one.json", offset=2)
    assert second.content.startswith("     2\tsecond line")
    assert "(showing lines 2-2 of 2)" in second.content
    assert peak < 8 * MIB, f"peak {peak / MIB:.1f} MiB while reading one page"


def test_a_page_of_a_large_file_stops_counting_past_a_bound(isolated_env, monkeypatch):
    monkeypatch.setattr(paging, "COUNT_BYTES", 2 * paging.CHUNK)
    line = b"0123456789" * 9 + b"\n"  # 100 bytes
    lines = 8 * paging.CHUNK // len(line)
    (isolated_env / "big.csv").write_bytes(line * lines)
    first = read(isolated_env, path="big.csv", limit=10)
    assert not first.is_error, first.content
    assert re.findall(r"^ +(\d+)\t", first.content, re.MULTILINE) == [str(n) for n in range(1, 11)]
    more = re.search(
        r"\(showing lines 1-10 of more than (\d+) \(the file is 8.0 MB\); "
        r"call read with offset=11 to continue\)$",
        first.content,
    )
    assert more, first.content
    assert 10 < int(more.group(1)) < lines
    last = read(isolated_env, path="big.csv", offset=lines - 1)
    assert f"(showing lines {lines - 1}-{lines} of {lines})" in last.content
    past = read(isolated_env, path="big.csv", offset=lines + 1)
    assert past.is_error
    assert f"past the end of {isolated_env / 'big.csv'}, which has {lines} lines" in past.content


def _torch_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("archive/data.pkl", pickle.dumps({"w": 1}))
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "data", "kind"),
    [
        ("zeros.pt", b"\x00" * 1000, "binary data"),
        ("latin.ckpt", "caf\xe9 ".encode("latin-1") * 100, "non-UTF-8 data"),
        ("model.pt", _torch_zip(), "a PyTorch checkpoint"),
        ("legacy.pth", pickle.dumps({"w": [1.0]}, protocol=2), "a PyTorch checkpoint"),
    ],
)
def test_a_checkpoint_is_named_by_its_content_not_its_name(isolated_env, name, data, kind):
    (isolated_env / name).write_bytes(data)
    result = read(isolated_env, path=name)
    assert result.is_error
    assert f"it is {kind} ({len(data)} bytes)" in result.content
