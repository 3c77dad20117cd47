"""The local tools, through the router, on real files and real processes."""

from __future__ import annotations

import asyncio
import json
import os
import pickle
import re
import struct
import sys
import time
from pathlib import Path

import pytest

from agent.config import Settings
from agent.tools.local.local_tools import local_tools
from agent.tools.router import ToolRouter
from agent.tools.spec import ToolContext, ToolResult

ROUTER = ToolRouter(local_tools())


@pytest.fixture
def ctx(isolated_env: Path) -> ToolContext:
    return ToolContext(settings=Settings(), cwd=isolated_env, session_id="s1")


def call(ctx: ToolContext, name: str, **args: object) -> ToolResult:
    return asyncio.run(ROUTER.call(name, args, ctx))


def alive(pid: int) -> bool:
    """A process that has exited but is not reaped yet (a zombie) counts as gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def pid_in(text: str, name: str = "child") -> int:
    match = re.search(rf"{name}=(\d+)", text)
    assert match, text
    return int(match.group(1))


# ---------------------------------------------------------------- schemas


def test_tools_keep_the_original_parameter_names_and_describe_every_field():
    specs = {spec.name: spec for spec in local_tools()}
    assert list(specs) == ["bash", "bash_output", "kill_background", "read", "write", "edit"]
    props = {name: spec.parameters["properties"] for name, spec in specs.items()}
    assert set(props["bash"]) == {
        "command",
        "description",
        "work_dir",
        "timeout",
        "run_in_background",
    }
    assert set(props["read"]) == {"path", "offset", "limit"}
    assert set(props["write"]) == {"path", "content"}
    assert {"path", "old_str", "new_str", "replace_all"} <= set(props["edit"])
    for name, fields in props.items():
        for field, schema in fields.items():
            assert schema.get("description"), f"{name}.{field} has no description"
    assert {n for n, s in specs.items() if s.read_only} == {"read", "bash_output"}
    assert specs["bash"].timeout_s > 600


# ---------------------------------------------------------------- bash


def test_write_a_python_file_then_run_it_with_bash(ctx):
    wrote = call(ctx, "write", path="train.py", content="import sys\nprint('loss', 0.25)\n")
    assert not wrote.is_error, wrote.content
    result = call(ctx, "bash", command=f"{sys.executable} train.py")
    assert not result.is_error
    assert result.content.strip() == "loss 0.25"


def test_bash_reports_a_failing_exit_code_with_both_streams(ctx):
    result = call(ctx, "bash", command="echo to-stdout; echo to-stderr >&2; exit 3")
    assert result.is_error
    assert "to-stdout" in result.content
    assert "to-stderr" in result.content
    assert result.content.rstrip().endswith("exit code 3")


def test_bash_runs_in_work_dir_relative_to_cwd(ctx):
    (ctx.cwd / "sub").mkdir()
    result = call(ctx, "bash", command="pwd", work_dir="sub")
    assert result.content.strip() == str(ctx.cwd / "sub")
    missing = call(ctx, "bash", command="pwd", work_dir="nope")
    assert missing.is_error
    assert "work_dir" in missing.content


def test_long_output_keeps_head_and_tail(ctx):
    result = call(ctx, "bash", command="seq 1 300000")
    assert not result.is_error
    assert len(result.content) <= ROUTER.get("bash").max_output_chars
    assert result.content.startswith("1\n2\n3\n")
    assert result.content.rstrip().endswith("299999\n300000")
    head, marker, tail = re.split(r"\n(\[\.\.\. .* omitted \.\.\.\])\n", result.content)
    lines, size = (int(n.replace(",", "")) for n in re.findall(r"[\d,]+", marker))
    shown = head.split("\n") + tail.split("\n")
    assert lines + len(shown) == 300000
    assert size + sum(len(x) + 1 for x in shown) == len("".join(f"{i}\n" for i in range(1, 300001)))
    assert shown[len(head.split("\n"))] == f"{300000 - len(tail.split()) + 1}"


def test_timeout_stops_the_whole_process_group(ctx):
    command = "sleep 60 & echo child=$!; sleep 60"
    result = call(ctx, "bash", command=command, timeout=1)
    assert result.is_error
    assert "timed out after 1 s" in result.content
    assert not alive(pid_in(result.content))


def test_cancellation_kills_children_at_once(ctx):
    """Ctrl-C ends the command and its children, even those that ignore SIGTERM."""
    seen: list[str] = []

    async def scenario() -> None:
        started = asyncio.Event()

        def log(line: str) -> None:
            seen.append(line)
            started.set()

        ctx.log = log
        command = "trap '' TERM; sleep 100 & echo child=$! shell=$$; wait"
        task = asyncio.create_task(ROUTER.call("bash", {"command": command}, ctx))
        await asyncio.wait_for(started.wait(), 10)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(scenario())
    assert not alive(pid_in(seen[0], "child"))
    assert not alive(pid_in(seen[0], "shell"))


def test_output_is_streamed_to_the_log_while_the_command_runs(ctx):
    """The command waits for a file the log callback creates: it only ends if lines stream."""
    lines: list[str] = []

    def log(line: str) -> None:
        lines.append(line)
        if line == "first":
            (ctx.cwd / "go").touch()

    ctx.log = log
    command = "echo first; while [ ! -e go ]; do sleep 0.02; done; echo second"
    result = call(ctx, "bash", command=command, timeout=20)
    assert not result.is_error, result.content
    assert lines == ["first", "second"]


def test_progress_bars_and_colours_are_cleaned(ctx):
    command = r"printf '\033[32mgreen\033[0m\n10%%\r50%%\r100%%\n'"
    result = call(ctx, "bash", command=command)
    assert result.content == "green\n100%"


def test_a_progress_bar_streams_as_a_line_that_its_next_redraw_replaces(ctx):
    chunks: list[str] = []
    ctx.log = lambda text, omitted_lines=0: chunks.append(text)
    bar = "for i in $(seq 1 25); do printf '\\rstep %d/25' $i; sleep 0.1; done; echo; echo done"
    result = call(ctx, "bash", command=bar, timeout=30)
    assert result.content == "step 25/25\ndone"
    redraws = [line for chunk in chunks for line in chunk.split("\n") if line.startswith("\r")]
    assert redraws, chunks  # at least one second of bar: its state was shown
    assert all(line.startswith("\rstep ") for line in redraws)


# ---------------------------------------------------------------- background jobs


def poll_output(ctx: ToolContext, job_id: str, until: str, deadline_s: float = 10) -> str:
    seen = ""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        seen += call(ctx, "bash_output", job_id=job_id).content + "\n"
        if until in seen:
            return seen
        time.sleep(0.05)
    raise AssertionError(f"{until!r} never appeared in:\n{seen}")


def test_background_job_lifecycle(ctx, isolated_env):
    started = call(
        ctx, "bash", command="echo hello-bg; echo child=$!; sleep 100", run_in_background=True
    )
    assert not started.is_error
    job_id, pid, log_path = (started.data[k] for k in ("job_id", "pid", "log_path"))
    assert job_id in started.content
    assert str(pid) in started.content
    data_home = Path(os.environ["XDG_DATA_HOME"])
    assert Path(log_path) == data_home / "ml-intern" / "bg" / "s1" / f"{job_id}.log"

    seen = poll_output(ctx, job_id, "hello-bg")
    assert "running" in seen
    assert "(no new output)" in call(ctx, "bash_output", job_id=job_id).content

    stopped = call(ctx, "kill_background", job_id=job_id)
    assert not stopped.is_error
    assert "Stopped" in stopped.content
    assert not alive(pid)
    assert "running" not in call(ctx, "bash_output", job_id=job_id).content
    assert "hello-bg" in Path(log_path).read_text()


def test_background_job_exit_status_and_tail(ctx):
    command = "seq 1 500; while [ ! -e done ]; do sleep 0.02; done; echo bye; exit 4"
    started = call(ctx, "bash", command=command, run_in_background=True).data
    job_id, log_path = started["job_id"], Path(started["log_path"])
    deadline = time.monotonic() + 10
    while "\n500\n" not in log_path.read_text():  # the first look must see all 500 lines
        assert time.monotonic() < deadline, log_path.read_text()[-200:]
        time.sleep(0.02)
    first = call(ctx, "bash_output", job_id=job_id, tail_lines=3)
    assert "running" in first.content
    assert "499\n500" in first.content
    assert "\n1\n" not in first.content
    assert "not shown" in first.content
    (ctx.cwd / "done").touch()
    poll_output(ctx, job_id, "exited 4")
    assert "not running (exited 4)" in call(ctx, "kill_background", job_id=job_id).content


def test_unknown_background_job(ctx):
    result = call(ctx, "bash_output", job_id="bg99")
    assert result.is_error
    assert "bg99" in result.content


# ---------------------------------------------------------------- read


def test_read_numbers_lines_and_pages_long_files(ctx):
    (ctx.cwd / "big.txt").write_text("".join(f"line {i}\n" for i in range(1, 3001)))
    first = call(ctx, "read", path="big.txt")
    assert first.content.startswith("     1\tline 1\n     2\tline 2\n")
    assert "  2000\tline 2000" in first.content
    assert "line 2001" not in first.content
    assert "showing lines 1-2000 of 3000; call read with offset=2001" in first.content
    rest = call(ctx, "read", path="big.txt", offset=2001)
    assert rest.content.startswith("  2001\tline 2001")
    assert "  3000\tline 3000" in rest.content
    window = call(ctx, "read", path=str(ctx.cwd / "big.txt"), offset=10, limit=3)
    assert window.content.splitlines()[:3] == [
        "    10\tline 10",
        "    11\tline 11",
        "    12\tline 12",
    ]
    past = call(ctx, "read", path="big.txt", offset=5000)
    assert past.is_error
    assert "3000 lines" in past.content


def test_read_pages_by_size_and_cuts_long_lines(ctx):
    (ctx.cwd / "wide.txt").write_text("".join(f"{i:04d}" + "x" * 1500 + "\n" for i in range(300)))
    (ctx.cwd / "one.txt").write_text("y" * 5000 + "\nshort\n")
    long_line = call(ctx, "read", path="one.txt").content
    assert "[... 3000 more characters on this line]" in long_line
    assert "     2\tshort" in long_line

    offset, seen = 1, []
    for _ in range(20):
        page = call(ctx, "read", path="wide.txt", offset=offset).content
        assert len(page) < ROUTER.get("read").max_output_chars
        seen += re.findall(r"^\s+(\d+)\t", page, re.MULTILINE)
        more = re.search(r"call read with offset=(\d+)", page)
        if not more:
            break
        offset = int(more.group(1))
    assert [int(n) for n in seen] == list(range(1, 301))
    assert offset > 1


def test_read_errors_say_what_to_do(ctx):
    (ctx.cwd / "config.yaml").write_text("a: 1\n")
    missing = call(ctx, "read", path="config.yml")
    assert missing.is_error
    assert "File not found" in missing.content
    assert "config.yaml" in missing.content
    (ctx.cwd / "folder").mkdir()
    folder = call(ctx, "read", path="folder")
    assert folder.is_error
    assert "ls" in folder.content
    (ctx.cwd / "empty.txt").write_text("")
    assert "empty" in call(ctx, "read", path="empty.txt").content


def test_read_renders_notebooks(ctx):
    notebook = {
        "cells": [
            {"cell_type": "markdown", "source": ["# Training notes\n", "Use lr 3e-4"]},
            {
                "cell_type": "code",
                "execution_count": 3,
                "source": ["import torch\n", "print(torch.__version__)"],
                "outputs": [
                    {"output_type": "stream", "name": "stdout", "text": ["2.5.0\n"]},
                    {"output_type": "execute_result", "data": {"text/plain": ["42"]}},
                    {
                        "output_type": "display_data",
                        "data": {"image/png": "iVBORw0KGgo" * 500, "text/plain": ["<Figure>"]},
                    },
                    {
                        "output_type": "error",
                        "ename": "ValueError",
                        "evalue": "bad shape",
                        "traceback": ["\u001b[0;31mValueError\u001b[0m: bad shape"],
                    },
                ],
            },
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    (ctx.cwd / "nb.ipynb").write_text(json.dumps(notebook))
    result = call(ctx, "read", path="nb.ipynb")
    assert not result.is_error
    text = result.content
    assert "cell 1 (markdown)" in text
    assert "Use lr 3e-4" in text
    assert "cell 2 (code) [3]" in text
    assert "print(torch.__version__)" in text
    assert "2.5.0" in text
    assert "42" in text
    assert "[image/png output" in text
    assert "iVBORw0KGgo" not in text
    assert "ValueError: bad shape" in text
    assert "\u001b" not in text


@pytest.mark.parametrize(
    ("name", "data", "kind"),
    [
        ("plot.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 200, "PNG image"),
        ("photo.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 100, "JPEG image"),
        ("paper.pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "PDF document"),
        (
            "model.safetensors",
            struct.pack("<Q", 20) + b'{"__metadata__":{}}' + b"\x00" * 64,
            "safetensors",
        ),
        ("state.pkl", pickle.dumps({"w": [1.0] * 10}, protocol=4), "pickle"),
        ("tool", b"\x7fELF\x02\x01\x01" + b"\x00" * 64, "ELF executable"),
        ("data.zip", b"PK\x03\x04" + b"\x00" * 64, "ZIP archive"),
    ],
)
def test_read_refuses_binary_files_naming_the_type(ctx, name, data, kind):
    (ctx.cwd / name).write_bytes(data)
    result = call(ctx, "read", path=name)
    assert result.is_error
    assert kind in result.content
    assert f"{len(data)} bytes" in result.content


# ---------------------------------------------------------------- write


def test_write_creates_parents_and_refuses_unread_overwrites(ctx):
    created = call(ctx, "write", path="out/nested/a.txt", content="one\ntwo\n")
    assert created.content == f"Wrote 2 lines to {ctx.cwd / 'out/nested/a.txt'} (created)"
    again = call(ctx, "write", path="out/nested/a.txt", content="three\n")
    assert not again.is_error, "a file the agent wrote counts as read"

    (ctx.cwd / "user.txt").write_text("the user's work\n")
    refused = call(ctx, "write", path="user.txt", content="clobbered\n")
    assert refused.is_error
    assert "read it first" in refused.content
    assert (ctx.cwd / "user.txt").read_text() == "the user's work\n"

    call(ctx, "read", path="user.txt")
    overwritten = call(ctx, "write", path="user.txt", content="new\n")
    assert overwritten.content.endswith("(overwritten)")


def test_write_refuses_a_file_changed_on_disk_since_read(ctx):
    target = ctx.cwd / "notes.md"
    target.write_text("v1\n")
    call(ctx, "read", path="notes.md")
    target.write_text("v2 from the user, longer\n")
    refused = call(ctx, "write", path="notes.md", content="agent\n")
    assert refused.is_error
    assert "changed on disk" in refused.content
    assert target.read_text() == "v2 from the user, longer\n"


def test_write_expands_home(ctx):
    result = call(ctx, "write", path="~/notes.txt", content="hi")
    assert not result.is_error
    assert (Path(os.environ["HOME"]) / "notes.txt").read_text() == "hi"


def test_write_warns_about_python_syntax_errors(ctx):
    result = call(ctx, "write", path="bad.py", content="def f(:\n    pass\n")
    assert not result.is_error
    assert "does not parse" in result.content


# ---------------------------------------------------------------- edit


def read_then_edit(ctx: ToolContext, path: str, **args: object) -> ToolResult:
    call(ctx, "read", path=path)
    return call(ctx, "edit", path=path, **args)


def test_edit_exact_match_returns_a_diff(ctx):
    (ctx.cwd / "cfg.py").write_text("lr = 1e-3\nepochs = 3\n")
    result = read_then_edit(ctx, "cfg.py", old_str="lr = 1e-3", new_str="lr = 3e-4")
    assert not result.is_error, result.content
    assert (ctx.cwd / "cfg.py").read_text() == "lr = 3e-4\nepochs = 3\n"
    assert "-lr = 1e-3" in result.content
    assert "+lr = 3e-4" in result.content
    assert "1 replacement" in result.content


def test_edit_requires_a_read_first(ctx):
    (ctx.cwd / "cfg.py").write_text("lr = 1e-3\n")
    result = call(ctx, "edit", path="cfg.py", old_str="lr", new_str="learning_rate")
    assert result.is_error
    assert "read it first" in result.content
    assert (ctx.cwd / "cfg.py").read_text() == "lr = 1e-3\n"


def test_edit_tolerates_whitespace_and_keeps_the_file_indentation(ctx):
    source = "class Model:\n    def forward(self, x):\n        y = x * 2   \n        return y\n"
    (ctx.cwd / "model.py").write_text(source)
    result = read_then_edit(
        ctx,
        "model.py",
        old_str="y = x * 2\nreturn y",
        new_str="y = x * 3\nif y.sum() > 0:\n    y = -y\nreturn y",
    )
    assert not result.is_error, result.content
    assert "whitespace" in result.content
    assert (ctx.cwd / "model.py").read_text() == (
        "class Model:\n    def forward(self, x):\n        y = x * 3\n"
        "        if y.sum() > 0:\n            y = -y\n        return y\n"
    )


def test_edit_not_found_shows_the_closest_lines(ctx):
    lines = [f"value_{i} = {i}" for i in range(40)]
    lines[24] = "learning_rate = 0.001  # tuned"
    (ctx.cwd / "train.py").write_text("\n".join(lines) + "\n")
    result = read_then_edit(ctx, "train.py", old_str="learning_rte = 0.001", new_str="x = 1")
    assert result.is_error
    assert "not found" in result.content
    assert "lines 25-25" in result.content
    assert "    25\tlearning_rate = 0.001  # tuned" in result.content


def test_edit_ambiguous_match_names_count_and_lines(ctx):
    (ctx.cwd / "a.txt").write_text("x = 1\ny = 2\nx = 1\nz = 3\nx = 1\n")
    result = read_then_edit(ctx, "a.txt", old_str="x = 1", new_str="x = 9")
    assert result.is_error
    assert "3 times" in result.content
    assert "1, 3, 5" in result.content
    assert (ctx.cwd / "a.txt").read_text().count("x = 1") == 3


def test_edit_replace_all(ctx):
    (ctx.cwd / "a.txt").write_text("x = 1\ny = 2\nx = 1\n")
    result = read_then_edit(ctx, "a.txt", old_str="x = 1", new_str="x = 9", replace_all=True)
    assert not result.is_error
    assert "2 replacements" in result.content
    assert (ctx.cwd / "a.txt").read_text() == "x = 9\ny = 2\nx = 9\n"


def test_edit_keeps_windows_line_endings_and_can_insert_after(ctx):
    (ctx.cwd / "w.txt").write_bytes(b"a\r\nb\r\n")
    result = read_then_edit(
        ctx, "w.txt", old_str="a\r\n", new_str="inserted\r\n", mode="append_after"
    )
    assert not result.is_error, result.content
    assert (ctx.cwd / "w.txt").read_bytes() == b"a\r\ninserted\r\nb\r\n"


def test_consecutive_edits_without_rereading(ctx):
    (ctx.cwd / "a.txt").write_text("one\ntwo\n")
    assert not read_then_edit(ctx, "a.txt", old_str="one", new_str="1").is_error
    second = call(ctx, "edit", path="a.txt", old_str="two", new_str="2")
    assert not second.is_error, second.content
    assert (ctx.cwd / "a.txt").read_text() == "1\n2\n"


def test_process_group_helpers_leave_no_survivors(ctx):
    """kill_background also stops what the job started, and SIGTERM-ignoring children."""
    command = "trap '' TERM; sleep 100 & echo child=$!; wait"
    started = call(ctx, "bash", command=command, run_in_background=True)
    job_id = started.data["job_id"]
    child = pid_in(poll_output(ctx, job_id, "child="))
    call(ctx, "kill_background", job_id=job_id)
    assert not alive(child)
    assert not alive(started.data["pid"])
