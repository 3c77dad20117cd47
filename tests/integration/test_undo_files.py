"""Undoing a turn puts back the files its write and edit calls changed.

Driven through the real engine (fake model on loopback, real tools, real files),
plus the checkpoint store on its own for what the engine tests cannot reach
cheaply (large files, file modes).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from agent import events as ev
from agent.config import Settings, data_home
from agent.core import ops as op
from agent.core.loop import Agent
from agent.core.session import Session
from agent.tools.local.checkpoints import MEMORY_LIMIT, restore_turn
from agent.tools.local.local_tools import local_tools
from agent.tools.router import ToolRouter
from agent.tools.spec import ToolContext
from tests.fakes import llm_server as llm

WAIT_S = 30


class Engine:
    """An Agent running in the background, with the events it emits."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.agent = Agent(session)
        self.events: asyncio.Queue[ev.Event] = asyncio.Queue()
        session.subscribe(self.events.put_nowait)
        self.task = asyncio.create_task(self.agent.run())

    async def next(self, kind: str) -> ev.Event:
        """The next event of that type; an error event fails the test."""
        async with asyncio.timeout(WAIT_S):
            while True:
                event = await self.events.get()
                if event.type == "error":
                    raise AssertionError(f"engine error: {event.message}")
                if event.type == kind:
                    return event

    async def turn(self, text: str) -> None:
        self.agent.submit(op.UserInput(text=text))
        await self.next("turn_complete")

    async def undo(self, restore_files: bool) -> ev.UndoComplete:
        self.agent.submit(op.Undo(restore_files=restore_files))
        event = await self.next("undo_complete")
        assert isinstance(event, ev.UndoComplete)
        return event

    async def stop(self) -> None:
        self.agent.submit(op.Shutdown())
        await asyncio.wait_for(self.task, WAIT_S)


def run_engine(fake: llm.FakeLLM, cwd: Path, scenario) -> None:
    settings = Settings(model_name="openai/test-model", api_base=fake.url, retry_base_delay_s=0.01)

    async def main() -> None:
        engine = Engine(Session(settings, ToolRouter(local_tools()), cwd=cwd))
        try:
            await scenario(engine)
        finally:
            await engine.stop()

    asyncio.run(main())
    fake.assert_done()


def test_undo_restores_edited_files_and_removes_created_ones(fake_llm, isolated_env):
    notes = isolated_env / "notes.txt"
    notes.write_text("a draft\nsecond line\n")
    report = isolated_env / "out" / "new" / "report.md"
    fake_llm.script(
        llm.tool_call("read", {"path": "notes.txt"}),
        llm.tool_call("edit", {"path": "notes.txt", "old_str": "draft", "new_str": "final"}),
        llm.tool_call("write", {"path": "out/new/report.md", "content": "# Report\n"}),
        llm.text("Done."),
    )

    async def scenario(engine: Engine) -> None:
        await engine.turn("tidy up the notes")
        assert notes.read_text() == "a final\nsecond line\n"
        assert report.read_text() == "# Report\n"

        undone = await engine.undo(restore_files=True)
        assert undone.removed_messages > 0
        assert undone.restored_files == [str(report), str(notes)]
        assert engine.session.turns == 0
        assert [m for m in engine.session.context.messages if m["role"] == "user"] == []

    run_engine(fake_llm, isolated_env, scenario)
    assert notes.read_text() == "a draft\nsecond line\n"
    assert not (isolated_env / "out").exists()


def edit(old: str, new: str) -> llm.Step:
    return llm.tool_call("edit", {"path": "a.txt", "old_str": old, "new_str": new})


def test_undo_without_files_keeps_them_and_later_undos_respect_that(fake_llm, isolated_env):
    a_file, c_file = isolated_env / "a.txt", isolated_env / "c.txt"
    a_file.write_text("v0\n")
    fake_llm.script(
        llm.tool_call("read", {"path": "a.txt"}),
        edit("v0", "v1"),
        llm.text("Turn one done."),
        edit("v1", "v2"),
        llm.tool_call("write", {"path": "c.txt", "content": "kept\n"}),
        llm.text("Turn two done."),
        edit("v2", "v3"),
        llm.text("Turn two, again, done."),
    )

    async def scenario(engine: Engine) -> None:
        await engine.turn("one")
        await engine.turn("two")
        kept = await engine.undo(restore_files=False)
        assert kept.restored_files == []
        assert a_file.read_text() == "v2\n"
        assert c_file.exists()
        assert engine.session.turns == 1

        await engine.turn("two, again")
        assert a_file.read_text() == "v3\n"
        again = await engine.undo(restore_files=True)
        assert again.restored_files == [str(a_file)]
        assert a_file.read_text() == "v2\n"

        first = await engine.undo(restore_files=True)
        assert first.restored_files == [str(a_file)]
        assert engine.session.turns == 0

        nothing = await engine.undo(restore_files=True)
        assert (nothing.removed_messages, nothing.restored_files) == (0, [])

    run_engine(fake_llm, isolated_env, scenario)
    assert a_file.read_text() == "v0\n"
    assert c_file.read_text() == "kept\n"


def test_a_large_file_is_restored_from_disk_with_its_mode(isolated_env):
    router = ToolRouter(local_tools())
    state: dict[str, object] = {}
    big = isolated_env / "big.csv"
    original = b"header\n" + (b"x" * 99 + b"\n") * (MEMORY_LIMIT // 100 + 10)
    big.write_bytes(original)
    big.chmod(0o640)

    async def change(turn: int, old: str) -> None:
        ctx = ToolContext(Settings(), isolated_env, session_id="s1", state=state, turn=turn)
        assert not (await router.call("read", {"path": "big.csv", "limit": 1}, ctx)).is_error
        args = {"path": "big.csv", "old_str": old, "new_str": f"header{turn}"}
        result = await router.call("edit", args, ctx)
        assert not result.is_error, result.content

    asyncio.run(change(1, "header"))
    asyncio.run(change(2, "header1"))
    copies = data_home() / "checkpoints" / "s1"
    assert len(list(copies.iterdir())) == 2
    assert big.read_bytes().startswith(b"header2\n")

    assert restore_turn(state, 2) == [str(big)]
    assert big.read_bytes().startswith(b"header1\n")
    assert restore_turn(state, 1) == [str(big)]
    assert big.read_bytes() == original
    assert big.stat().st_mode & 0o777 == 0o640
    assert list(copies.iterdir()) == []


def test_a_file_that_cannot_be_restored_is_reported(isolated_env):
    router = ToolRouter(local_tools())
    state: dict[str, object] = {}
    folder = isolated_env / "d"
    folder.mkdir()
    (folder / "a.txt").write_text("old\n")
    ctx = ToolContext(Settings(), isolated_env, state=state, turn=1)
    asyncio.run(router.call("read", {"path": "d/a.txt"}, ctx))
    asyncio.run(router.call("write", {"path": "d/a.txt", "content": "new\n"}, ctx))
    (folder / "a.txt").unlink()
    folder.rmdir()
    folder.write_text("a file where the folder was\n")

    failures: list[str] = []
    assert restore_turn(state, 1, failures.append) == []
    assert len(failures) == 1
    assert failures[0].startswith(f"Could not restore {folder / 'a.txt'}:")


def _edit_each_turn(folder: Path, state: dict, turns: range) -> None:
    router = ToolRouter(local_tools())

    async def change(turn: int) -> None:
        ctx = ToolContext(Settings(), folder, session_id="s1", state=state, turn=turn)
        assert not (await router.call("read", {"path": "big.csv", "limit": 1}, ctx)).is_error
        args = {"path": "big.csv", "old_str": f"v{turn}", "new_str": f"v{turn + 1}"}
        assert not (await router.call("edit", args, ctx)).is_error

    for turn in turns:
        asyncio.run(change(turn))


def test_undo_copies_are_bounded_and_undoing_past_them_says_so(isolated_env, monkeypatch):
    from agent.tools.local import checkpoints

    monkeypatch.setattr(checkpoints, "MEMORY_LIMIT", 1024)  # 2 KB files are copied to disk
    monkeypatch.setattr(checkpoints, "KEEP_TURNS", 3)
    big = isolated_env / "big.csv"
    big.write_text("v1\n" + "x" * 2048 + "\n")
    state: dict = {}
    _edit_each_turn(isolated_env, state, range(1, 7))  # turns 1-6: v1 -> v7
    copies = data_home() / "checkpoints" / "s1"
    assert sorted(p.name.split("-")[0] for p in copies.iterdir()) == ["4", "5", "6"]

    monkeypatch.setattr(checkpoints, "DISK_BYTES", 5 * 1024)  # room for two copies
    _edit_each_turn(isolated_env, state, range(7, 8))
    assert sorted(p.name.split("-")[0] for p in copies.iterdir()) == ["6", "7"]

    failures: list[str] = []
    assert restore_turn(state, 6, failures.append) == [str(big)]
    assert failures == [] and big.read_text().startswith("v6\n")
    assert restore_turn(state, 2, failures.append) == []
    assert (
        len(failures) == 1 and "File changes of turns up to 5 could not be restored" in failures[0]
    )
    assert list(copies.iterdir()) == []


def test_copies_left_by_a_killed_session_are_removed_once_stale(isolated_env):
    import os
    import time

    parent = data_home() / "checkpoints"
    stale, recent = parent / "killed-long-ago", parent / "killed-yesterday"
    for folder in (stale, recent):
        folder.mkdir(parents=True)
        (folder / "1-x.bak").write_bytes(b"old copy")
    week_ago = time.time() - 8 * 86400
    os.utime(stale, (week_ago, week_ago))
    ctx = ToolContext(Settings(), isolated_env, session_id="s2", state={}, turn=1)
    router = ToolRouter(local_tools())
    result = asyncio.run(router.call("write", {"path": "a.txt", "content": "b\n"}, ctx))
    assert not result.is_error, result.content
    assert not stale.exists()
    assert (recent / "1-x.bak").read_bytes() == b"old copy"
