"""read, edit and write refuse what is not a regular file, without opening it.

Opening a named pipe blocks until someone writes to it, and a device such as
/dev/zero never ends: either would stall the whole run, so the model gets an
error it can read instead.
"""

from __future__ import annotations

import os

from tests.cli import spawn
from tests.fakes import llm_server as llm


def calls_on(path: str) -> llm.Step:
    return llm.tool_calls(
        [
            ("read", {"path": path}),
            ("edit", {"path": path, "old_str": "a", "new_str": "b"}),
            ("write", {"path": path, "content": "text\n"}),
        ]
    )


def answers(request: dict) -> list[str]:
    return [m["content"] for m in request["messages"] if m["role"] == "tool"]


def test_a_named_pipe_is_refused_not_opened(fake_llm, isolated_env):
    fifo = isolated_env / "fifo"
    os.mkfifo(fifo)
    fake_llm.script(calls_on("fifo"), llm.text("done"))
    # A process of its own: opening the pipe would block it for good, signals included.
    result = spawn("look at the pipe", timeout=30)
    assert result.exit_code == 0, result.stderr
    contents = answers(fake_llm.requests[1])
    assert len(contents) == 3
    for content in contents:
        assert f"not a regular file: {fifo} is a named pipe (FIFO)" in content
    assert fifo.exists() and not fifo.is_file()  # write did not replace it
    fake_llm.assert_done()


def test_a_device_is_refused_not_read(cli, fake_llm):
    fake_llm.script(calls_on("/dev/zero"), llm.text("done"))
    result = cli("look at the device")
    assert result.exit_code == 0, result.stderr
    contents = answers(fake_llm.requests[1])
    assert len(contents) == 3
    for content in contents:
        assert "not a regular file: /dev/zero is a character device" in content
    fake_llm.assert_done()
