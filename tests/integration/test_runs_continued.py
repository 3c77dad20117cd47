"""Runs across the life of a session: a continued session takes back its monitors and
follows its jobs from where they were read; a torn ledger is named; `/new` starts a
ledger of its own."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import time

import pytest

from agent.core import ops
from tests.fakes import llm_server as llm
from tests.integration.test_runs import woken_with
from tests.integration.test_session_log import Driver

pytestmark = pytest.mark.timeout(150)

JOB = (
    "echo 'Traceback (most recent call last):'; echo 'ValueError: bad batch'; "
    "until [ -e stop ]; do sleep 0.02; done; echo 'checkpoint saved at step 10'; "
    "until [ -e never ]; do sleep 0.02; done"
)


@pytest.fixture(autouse=True)
def model_library_loaded() -> None:
    """Loaded before the engine runs: its import may take longer than an event wait."""
    from agent.core import llm as model_library

    model_library.litellm()


async def turns_completed(driver: Driver, count: int) -> None:
    """Wait until `count` turns in all have completed (wake-up turns included)."""
    while sum(e.type == "turn_complete" for e in driver.events) < count:
        await asyncio.wait_for(driver._seen.get(), timeout=30)


def not_woken_by_the_old_traceback(body: dict) -> None:
    woken_with(r"bg1: printed a line matching /checkpoint saved/")(body)
    assert "printed a Python traceback" not in body["messages"][-1]["content"]


def test_a_continued_session_keeps_its_monitors_and_reads_its_job_on_from_where_it_was(
    cli, fake_llm
):
    fake_llm.script(
        llm.tool_call("bash", {"command": JOB, "run_in_background": True}),
        llm.text("Started; I will wait."),
        llm.tool_call(
            "monitor",
            {"regex": "checkpoint saved", "run_id": "bg1"},
            expect=woken_with("bg1: printed a Python traceback"),
        ),
        llm.text("Only a warning; watching for the checkpoint."),
    )

    async def first_session() -> None:
        driver = Driver()
        await driver.start()
        await driver.perform(ops.UserInput(text="train"), "turn_complete")
        await turns_completed(driver, 2)  # the traceback woke it once
        await driver.stop()  # the job is left running, as after a chat ends

    asyncio.run(first_session())
    started = fake_llm.requests[1]["messages"][-1]["content"]
    pid = int(started.split("(pid ")[1].split(")")[0])
    try:
        fake_llm.script(
            llm.tool_call("monitor", {"action": "list"}),
            llm.tool_call("bash", {"command": "touch stop"}),
            llm.text("Waiting for the checkpoint."),
            llm.tool_call(
                "kill_background", {"job_id": "bg1"}, expect=not_woken_by_the_old_traceback
            ),
            llm.text("The checkpoint is saved; stopped the run."),
        )
        continued = cli("--continue", "-o", "json", "go on")
        assert continued.exit_code == 0, continued.stderr
        assert "Background jobs still running from before: bg1" in continued.stderr
        listed = fake_llm.requests[5]["messages"][-1]["content"]
        assert listed.endswith(": output matches /checkpoint saved/ (run bg1)"), listed
        assert len(fake_llm.requests) == 9
        # the first process's traceback is still part of the run's record
        (entry,) = json.loads(cli("runs", "--json").stdout)
        assert "ValueError: bad batch" in entry["tail"]
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)


def test_a_torn_ledger_of_the_continued_session_is_named(cli, fake_llm):
    from agent.runs.ledger import ledger_dir

    fake_llm.script(llm.text("Hello."), llm.text("Still here."))
    first = cli("-o", "json", "hi")
    session_id = json.loads(first.stdout)["session_id"]
    ledger_dir().mkdir(parents=True, exist_ok=True)
    torn = ledger_dir() / f"{session_id}.json"
    torn.write_text('{"runs": [{"id": "bg1", "kind"')

    continued = cli("--continue", "-o", "json", "and now?")

    assert continued.exit_code == 0, continued.stderr
    assert f"The run ledger of this session could not be read: {torn}: " in continued.stderr
    assert f"(kept as {torn}.torn)" in continued.stderr
    assert (ledger_dir() / f"{session_id}.json.torn").read_text().startswith('{"runs"')


def test_runs_started_after_new_go_to_the_new_conversations_ledger(fake_llm):
    from agent.runs.ledger import ledger_dir

    fake_llm.script(
        llm.tool_call("bash", {"command": "echo first run", "run_in_background": True}),
        llm.text("Started."),
        llm.text("The first run ended.", expect=woken_with("bg1: ended")),
        llm.tool_call("bash", {"command": "echo second run", "run_in_background": True}),
        llm.text("Started."),
        llm.text("The second run ended.", expect=woken_with("ended")),
    )

    async def chat() -> tuple[str, str]:
        driver = Driver()
        await driver.start()
        await driver.perform(ops.UserInput(text="run one"), "turn_complete")
        await turns_completed(driver, 2)
        old = driver.session.id
        await driver.perform(ops.NewSession(), "notice")  # /new
        await driver.perform(ops.UserInput(text="run another"), "turn_complete")
        await turns_completed(driver, 4)
        await driver.stop()
        return old, driver.session.id

    old, new = asyncio.run(chat())

    def commands(session_id: str) -> list[str]:
        saved = json.loads((ledger_dir() / f"{session_id}.json").read_text())
        return [run["command"] for run in saved["runs"]]

    assert commands(old) == ["echo first run"]
    assert commands(new) == ["echo second run"]


def test_an_hf_job_that_ended_after_the_session_wakes_the_continued_one_once(
    cli, fake_llm, monkeypatch
):
    from tests.fakes.hub_jobs import JobScript, JobsHub, now_iso

    launch = {"operation": "run", "command": ["python", "train.py"], "flavor": "a10g-large"}
    before = ["{'loss': 3.0, 'epoch': 0.25}", "{'loss': 2.5, 'epoch': 0.5}"]
    traceback = ["Traceback (most recent call last):", "ValueError: bad batch"]
    after = ["{'loss': 2.0, 'epoch': 0.75}", "{'loss': 1.5, 'epoch': 1.0}", "saved org/tiny"]
    with JobsHub() as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        monkeypatch.setenv("HF_TOKEN", "hf_test")
        hub.scripts.append(JobScript(lines=[*before, *traceback], final=None))
        fake_llm.script(
            llm.tool_call("hf_jobs", launch),
            llm.text("The job runs; I will wait."),
            llm.text("Only a warning.", expect=woken_with(": printed a Python traceback")),
        )

        async def first_session() -> None:
            driver = Driver()
            await driver.start()
            asked = await driver.perform(ops.UserInput(text="train on GPU"), "approval_required")
            await driver.perform(
                ops.Approval(tool_call_id=asked.tool_call_id, decision="approve"), "turn_complete"
            )
            await turns_completed(driver, 2)  # the traceback woke it once
            await driver.stop()  # the job goes on on the Hub

        asyncio.run(first_session())
        job = hub.only_job()
        with hub.changed:
            job.logs += [{"data": line, "timestamp": now_iso()} for line in after]
        hub.finish(job.id)  # while no session follows it

        def woken_once_with_its_end(body: dict) -> None:
            woken_with(f"{job.id}: ended: COMPLETED on the Hub", "Last metrics: epoch 1: loss=1.5")(
                body
            )
            text = body["messages"][-1]["content"]
            assert "traceback" not in text.split("\n\n")[0], text
            assert text.count("{'loss': 2.5, 'epoch': 0.5}") == 1, text
            assert "saved org/tiny" in text, text

        fake_llm.script(
            llm.text("Waiting for the job."),
            llm.text("It finished: loss 1.5.", expect=woken_once_with_its_end),
        )
        continued = cli("--continue", "-o", "json", "go on")
        assert continued.exit_code == 0, continued.stderr
        assert f"HF jobs followed again from before: {job.id}." in continued.stderr
        assert continued.result()["final_text"] == "It finished: loss 1.5."
    assert len(fake_llm.requests) == 5
    (entry,) = json.loads(cli("runs", "--json").stdout)
    assert entry["status"] == "succeeded"
    assert entry["metrics"]["loss"]["curve"] == [3.0, 2.5, 2.0, 1.5]
    assert entry["cost_usd"] == pytest.approx(1.8 * 90 / 3600)


def test_an_hf_job_still_running_is_followed_on_until_its_end(cli, fake_llm, monkeypatch):
    from tests.fakes.hub_jobs import JobScript, JobsHub, now_iso

    launch = {"operation": "run", "command": ["python", "train.py"], "flavor": "a10g-large"}
    before = ["{'loss': 3.0, 'epoch': 0.5}"]
    after = ["{'loss': 2.0, 'epoch': 1.0}", "run finished"]
    with JobsHub() as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        monkeypatch.setenv("HF_TOKEN", "hf_test")
        monkeypatch.setenv("ML_INTERN_SHARE_TRACES", "false")
        hub.scripts.append(JobScript(lines=before, final=None))

        def its_log_is_open(body: dict) -> None:
            deadline = time.monotonic() + 30
            with hub.changed:
                while not any(job.script_started for job in hub.jobs.values()):
                    assert time.monotonic() < deadline, "the job's log was never opened"
                    hub.changed.wait(0.05)

        fake_llm.script(
            llm.tool_call("hf_jobs", launch), llm.text("The job runs.", expect=its_log_is_open)
        )
        first = cli("-o", "json", "--max-budget-usd", "10", "--no-wait", "train on a GPU")
        assert first.exit_code == 0, first.stderr
        job = hub.only_job()

        def the_job_goes_on_and_ends(body: dict) -> None:
            with hub.changed:
                job.logs += [{"data": line, "timestamp": now_iso()} for line in after]
            hub.finish(job.id)

        fake_llm.script(
            llm.text("Waiting for the job.", expect=the_job_goes_on_and_ends),
            llm.text(
                "It finished.",
                expect=woken_with(
                    f"{job.id}: ended: COMPLETED on the Hub",
                    "Last metrics: epoch 1: loss=2",
                    "run finished",
                ),
            ),
        )
        continued = cli("--continue", "-o", "json", "go on")
        assert continued.exit_code == 0, continued.stderr
    assert len(fake_llm.requests) == 4
    (entry,) = json.loads(cli("runs", "--json").stdout)
    assert entry["metrics"]["loss"]["curve"] == [3.0, 2.0]
