"""hf_jobs against the loopback Hub: launching with approval and a budget, following a job's
logs, billing and permission failures, cancelling, and scheduled jobs."""

from __future__ import annotations

import asyncio
import base64
import math

import pytest

from agent.config import Settings
from agent.core.budget import spend_covered
from agent.tools.jobs.cost_check import (
    job_approval_reason,
    job_cost_estimate,
    load_job_prices,
    needs_approval,
)
from agent.tools.jobs.follow import cancel_job, interrupted_job
from agent.tools.jobs.tool import hf_jobs_tools
from agent.tools.router import ToolRouter
from agent.tools.spec import ToolContext
from tests.fakes.hub_jobs import JobScript, JobsHub


class TokenSettings(Settings):
    """Settings of a user whose configuration lets jobs receive the HF token."""

    jobs_pass_hf_token: bool = True


@pytest.fixture
def hub():
    with JobsHub(orgs={"testuser": ["acme"]}) as fake:
        fake.add_repo("other/private-model", private=True)
        yield fake


def context(hub, tmp_path, token="hf_test", settings_cls=Settings, **settings):
    config = settings_cls(hf_endpoint=hub.url, hf_token=token, **settings)
    lines: list[str] = []
    ctx = ToolContext(settings=config, cwd=tmp_path, log=lines.append)
    return ctx, lines


def call(ctx, **args):
    return asyncio.run(ToolRouter(hf_jobs_tools()).call("hf_jobs", args, ctx))


def test_launches_ask_with_flavor_price_timeout_and_worst_case(hub, tmp_path):
    settings = Settings(hf_endpoint=hub.url, hf_token="hf_test")
    launch = {
        "operation": "run",
        "command": ["nvidia-smi"],
        "flavor": "a10g-large",
        "timeout": "2h",
    }
    assert needs_approval(launch, settings)
    assert needs_approval({"operation": "uv", "script": "print(1)"}, settings)
    assert needs_approval({"operation": "scheduled run", "schedule": "@daily"}, settings)
    assert not needs_approval({"operation": "ps"}, settings)
    assert not needs_approval({"operation": "logs", "job_id": "x"}, settings)

    assert math.isinf(job_cost_estimate(launch, settings))  # prices not loaded: unknown
    assert asyncio.run(load_job_prices(settings))
    assert job_cost_estimate(launch, settings) == pytest.approx(3.6)
    assert job_cost_estimate({"operation": "ps"}, settings) is None
    reason = job_approval_reason(launch, settings)
    assert reason == (
        "starts a Hugging Face job on a10g-large at $1.80/h with a timeout of 2h 00m: "
        "worst case $3.60"
    )
    assert spend_covered(job_cost_estimate(launch, settings), spent_usd=1.0, budget_usd=5.0)
    assert not spend_covered(job_cost_estimate(launch, settings), spent_usd=2.0, budget_usd=5.0)
    assert not spend_covered(job_cost_estimate(launch, settings), spent_usd=0.0, budget_usd=None)
    assert not spend_covered(math.inf, spent_usd=0.0, budget_usd=1000.0)
    assert spend_covered(job_cost_estimate({"operation": "cancel"}, settings), 0.0, None)
    scheduled = {**launch, "operation": "scheduled run", "schedule": "@daily"}
    reason = job_approval_reason(scheduled, settings)
    assert "worst case $3.60 per run, on schedule '@daily'" in reason
    assert "no budget covers it" in reason
    assert math.isinf(job_cost_estimate(scheduled, settings))  # so no budget ever covers it


def test_run_starts_a_job_and_records_its_worst_case(hub, tmp_path):
    ctx, lines = context(hub, tmp_path)
    result = call(
        ctx,
        operation="run",
        image="pytorch/pytorch:latest",
        command=["python", "-c", "print(1)"],
        flavor="t4-small",
        timeout="1h",
        env={"EPOCHS": "3"},
    )
    assert not result.is_error, result.content
    job = hub.only_job()
    assert job.spec["dockerImage"] == "pytorch/pytorch:latest"
    assert job.spec["command"] == ["python", "-c", "print(1)"]
    assert job.spec["flavor"] == "t4-small"
    assert job.spec["timeoutSeconds"] == 3600
    assert job.spec["environment"]["EPOCHS"] == "3"
    assert "secrets" not in job.spec  # no token unless the configuration allows it
    assert f"Started job {job.id} on t4-small ($0.60/h" in result.content
    assert f"{hub.url}/jobs/testuser/{job.id}" in result.content
    assert ctx.usage.outside_cost_usd == pytest.approx(0.6)
    assert any(job.id in line for line in lines)


def test_wait_streams_status_and_logs_and_returns_the_end(hub, tmp_path):
    hub.scripts.append(JobScript(lines=["loading model", "epoch 1 loss=0.5", "saved"]))
    script = "# /// script\n# dependencies = ['numpy']\n# ///\nprint('hi')\n"
    ctx, lines = context(hub, tmp_path)
    result = call(ctx, operation="uv", script=script, flavor="a10g-small", wait=True)
    assert not result.is_error, result.content
    job = hub.only_job()
    assert job.spec["dockerImage"].startswith("ghcr.io/astral-sh/uv")
    shell = job.spec["command"][2]
    encoded = shell.split("echo ", 1)[1].split(" ", 1)[0]
    assert base64.b64decode(encoded).decode() == script
    assert "uv run /tmp/job_script.py" in shell

    log_lines = [line for line in lines if "job " not in line]
    assert log_lines == ["loading model", "epoch 1 loss=0.5", "saved"]
    stages = [line.rsplit(": ", 1)[1] for line in lines if f"job {job.id}: " in line]
    assert stages == ["SCHEDULING", "RUNNING", "COMPLETED"]
    assert f"Job {job.id} ended: COMPLETED" in result.content
    assert "Running time: 1m 30s" in result.content
    assert result.content.endswith("loading model\nepoch 1 loss=0.5\nsaved")
    assert f"{hub.url}/jobs/testuser/{job.id}" in result.content
    assert "Job started" not in result.content
    # the actual cost replaces the worst case once the job has ended: 90 s at $1.20/h
    assert ctx.usage.outside_cost_usd == pytest.approx(0.03)

    again = call(ctx, operation="logs", job_id=job.id, tail=2)
    assert again.content.endswith("epoch 1 loss=0.5\nsaved")


@pytest.mark.parametrize("framing", ["compact", "multiline"])
def test_log_events_are_read_however_the_stream_frames_them(hub, tmp_path, framing):
    """`data:` without a space and events split over several `data:` lines are standard SSE."""
    hub.scripts.append(JobScript(lines=["loading model", "epoch 1 loss=0.5"], framing=framing))
    ctx, lines = context(hub, tmp_path)
    result = call(ctx, operation="run", command=["python", "train.py"], wait=True)
    assert not result.is_error, result.content
    assert [line for line in lines if "job " not in line] == ["loading model", "epoch 1 loss=0.5"]
    assert result.content.endswith("Last 2 log lines:\nloading model\nepoch 1 loss=0.5")

    again = call(ctx, operation="logs", job_id=hub.only_job().id)
    assert again.content.endswith("loading model\nepoch 1 loss=0.5")


def test_payment_required_says_to_set_up_billing(hub, tmp_path):
    hub.unpayable.add("testuser")
    ctx, _ = context(hub, tmp_path)
    result = call(ctx, operation="run", command=["true"], flavor="a10g-small")
    assert result.is_error
    assert "payment required (402" in result.content
    assert f"{hub.url}/settings/billing" in result.content
    assert hub.jobs == {}
    org = call(ctx, operation="run", command=["true"], flavor="a10g-small", namespace="acme")
    assert not org.is_error  # another namespace with billing works


def test_bad_token_and_foreign_namespace(hub, tmp_path):
    ctx, _ = context(hub, tmp_path, token="hf_wrong")
    result = call(ctx, operation="ps")
    assert result.is_error and "401" in result.content and "HF_TOKEN" in result.content
    ctx, _ = context(hub, tmp_path)
    result = call(ctx, operation="ps", namespace="other")
    assert result.is_error
    assert "403" in result.content and "namespace 'other'" in result.content


def test_unknown_flavor_lists_the_valid_ones(hub, tmp_path):
    ctx, _ = context(hub, tmp_path)
    result = call(ctx, operation="run", command=["true"], flavor="h100x16")
    assert result.is_error
    assert "unknown flavor 'h100x16'" in result.content
    assert "a10g-large ($1.80/h)" in result.content and "h200 ($6.00/h)" in result.content
    assert hub.requests_to("/api/jobs/testuser", "POST") == []
    listing = call(ctx, operation="hardware")
    assert "t4-small" in listing.content and "$0.60" in listing.content


def test_hardware_lists_the_largest_model_each_flavor_fits(hub, tmp_path):
    ctx, _ = context(hub, tmp_path)
    rows = call(ctx, operation="hardware").content.splitlines()
    assert rows[1].endswith("largest model: full/LoRA/QLoRA/serve")
    row = {line.split()[0]: line for line in rows[2:-1]}
    assert row["cpu-basic"].endswith("15 GB")  # no GPU: nothing to fit
    assert row["a10g-large"].endswith(" 1B/7B/34B/7B")  # 24 GB: LoRA of 7B takes 16.4 GB
    assert row["a100-large"].endswith(" 3B/34B/70B/34B")
    assert row["a100x8"].endswith(" 34B/70B/70B/70B")


def test_image_pull_failure_is_explained(hub, tmp_path):
    hub.broken_images.add("nosuch/image:1")
    ctx, _ = context(hub, tmp_path)
    result = call(ctx, operation="run", image="nosuch/image:1", command=["true"], wait=True)
    assert result.is_error
    assert "ended: ERROR (Failed to pull image" in result.content
    assert "'nosuch/image:1' could not be pulled" in result.content


def test_ps_inspect_and_cancel(hub, tmp_path):
    hub.scripts.append(JobScript(lines=["step 1"], final=None))
    ctx, _ = context(hub, tmp_path)
    call(ctx, operation="run", command="python train.py && echo done", flavor="cpu-upgrade")
    job = hub.only_job()
    assert job.spec["command"] == ["/bin/sh", "-c", "python train.py && echo done"]
    details = call(ctx, operation="inspect", job_id=job.id)
    assert f"Job {job.id}: RUNNING" in details.content
    assert "Flavor: cpu-upgrade" in details.content
    listing = call(ctx, operation="ps")
    assert job.id in listing.content and "RUNNING" in listing.content
    cancelled = call(ctx, operation="cancel", job_id=job.id)
    assert f"Cancelled job {job.id}" in cancelled.content and "CANCELED" in cancelled.content
    assert hub.jobs[job.id].stage == "CANCELED"
    missing = call(ctx, operation="inspect", job_id="0" * 24)
    assert missing.is_error and "was not found" in missing.content


def test_ctrl_c_stops_following_at_once_and_leaves_the_job_running(hub, tmp_path):
    hub.scripts.append(JobScript(lines=["epoch 1"], final=None))

    async def scenario():
        seen = asyncio.Event()
        ctx, lines = context(hub, tmp_path)
        ctx.log = lambda line: (lines.append(line), line == "epoch 1" and seen.set())
        router = ToolRouter(hf_jobs_tools())
        args = {"operation": "run", "command": ["python", "train.py"], "wait": True}
        task = asyncio.create_task(router.call("hf_jobs", args, ctx))
        await asyncio.wait_for(seen.wait(), 10)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(task, 2)
        return ctx

    ctx = asyncio.run(scenario())
    job = hub.only_job()
    assert job.stage == "RUNNING"
    offer = interrupted_job(ctx.state)
    assert offer == {
        "job_id": job.id,
        "namespace": "testuser",
        "url": f"{hub.url}/jobs/testuser/{job.id}",
    }
    assert interrupted_job(ctx.state) is None
    asyncio.run(cancel_job(ctx.settings, offer["namespace"], offer["job_id"]))  # the user said yes
    assert job.stage == "CANCELED"


def test_scheduled_jobs(hub, tmp_path):
    ctx, _ = context(hub, tmp_path)
    created = call(
        ctx,
        operation="scheduled run",
        schedule="@daily",
        script="print('nightly eval')",
        flavor="t4-small",
        timeout="2h",
    )
    assert not created.is_error, created.content
    (sid,) = hub.scheduled
    assert f"Scheduled job {sid}: active" in created.content
    assert "Schedule: @daily" in created.content and "Timeout: 2h 00m" in created.content
    assert hub.scheduled[sid]["jobSpec"]["flavor"] == "t4-small"
    assert ctx.usage.outside_cost_usd == pytest.approx(1.2)
    assert sid in call(ctx, operation="scheduled ps").content
    suspended = call(ctx, operation="scheduled suspend", scheduled_job_id=sid)
    assert "suspended" in suspended.content and hub.scheduled[sid]["suspend"] is True
    resumed = call(ctx, operation="scheduled resume", scheduled_job_id=sid)
    assert "active" in resumed.content and hub.scheduled[sid]["suspend"] is False
    assert "Next run" in call(ctx, operation="scheduled inspect", scheduled_job_id=sid).content
    call(ctx, operation="scheduled delete", scheduled_job_id=sid)
    assert hub.scheduled == {}
    assert "No scheduled jobs" in call(ctx, operation="scheduled ps").content
    missing = call(ctx, operation="scheduled run", command=["true"])
    assert missing.is_error and "needs schedule" in missing.content


def test_budget_counts_the_worst_case_of_every_job(hub, tmp_path):
    ctx, _ = context(hub, tmp_path, max_budget_usd=1.0)
    big = call(ctx, operation="run", command=["true"], flavor="a10g-large", timeout="2h")
    assert big.is_error
    assert "up to $3.60" in big.content and "--max-budget-usd" in big.content
    assert hub.jobs == {}
    first = call(ctx, operation="run", command=["true"], flavor="t4-small", timeout="1h")
    assert not first.is_error
    second = call(ctx, operation="run", command=["true"], flavor="t4-small", timeout="1h")
    assert second.is_error and "$0.60 already spent" in second.content
    small = call(ctx, operation="run", command=["true"], flavor="t4-small", timeout="30m")
    assert not small.is_error  # $0.60 + $0.30 fits the $1 budget
    ctx.usage.model_cost_usd = 0.05  # the model's calls count too
    tiny = call(ctx, operation="run", command=["true"], flavor="t4-small", timeout="10m")
    assert tiny.is_error and "$0.95 already spent" in tiny.content
    assert len(hub.jobs) == 2


def test_secrets_are_references_and_the_token_needs_permission(hub, tmp_path, monkeypatch):
    monkeypatch.setenv("WANDB_API_KEY", "wandb-secret-value-123")
    ctx, _ = context(hub, tmp_path)
    refused = call(ctx, operation="run", command=["true"], secrets={"HF_TOKEN": "$HF_TOKEN"})
    assert refused.is_error and "jobs_pass_hf_token" in refused.content
    leaked = call(ctx, operation="run", command=["true"], env={"KEY": "hf_" + "a" * 34})
    assert leaked.is_error and "pass it in secrets" in leaked.content
    missing = call(ctx, operation="run", command=["true"], secrets={"X": "$NOT_SET_ANYWHERE"})
    assert missing.is_error and "$NOT_SET_ANYWHERE" in missing.content
    assert hub.jobs == {}

    ctx, _ = context(hub, tmp_path, settings_cls=TokenSettings)
    result = call(ctx, operation="run", command=["true"], secrets={"WANDB": "$WANDB_API_KEY"})
    assert not result.is_error, result.content
    secrets = hub.only_job().spec["secrets"]
    assert secrets == {"WANDB": "wandb-secret-value-123", "HF_TOKEN": "hf_test"}
    assert "wandb-secret-value-123" not in result.content and "hf_test" not in result.content


TRAINS = "from trl import SFTTrainer\ntrainer = SFTTrainer(model='m')\ntrainer.train()\n"
TRAINS_AND_PUSHES = TRAINS + "trainer.push_to_hub()\n"


def test_a_training_job_must_keep_its_model_and_choose_its_timeout(hub, tmp_path):
    ctx, _ = context(hub, tmp_path)
    lost = call(ctx, operation="uv", script=TRAINS, flavor="t4-small", timeout="2h")
    assert lost.is_error and "never saves to the Hub" in lost.content
    default = call(ctx, operation="uv", script=TRAINS_AND_PUSHES, flavor="t4-small")
    assert default.is_error and "default 30-minute timeout" in default.content
    assert "never saves" not in default.content
    assert hub.jobs == {}
    smoke = call(
        ctx, operation="uv", script=TRAINS, flavor="t4-small", timeout="30m", keep_nothing=True
    )
    assert not smoke.is_error, smoke.content
    assert len(hub.jobs) == 1


def test_a_local_script_is_sent_inline_and_a_missing_one_is_refused(hub, tmp_path):
    ctx, _ = context(hub, tmp_path)
    (tmp_path / "job.py").write_text("print('hello from the job')\n")
    sent = call(ctx, operation="uv", script="job.py")
    assert not sent.is_error, sent.content
    assert f"Sent the local file {tmp_path / 'job.py'} (1 line) inline" in sent.content
    missing = call(ctx, operation="uv", script="/nowhere/train.py")
    assert missing.is_error and "script file not found: /nowhere/train.py" in missing.content
    assert len(hub.jobs) == 1


def test_a_second_gpu_run_of_the_same_script_before_the_first_runs_gets_a_note(hub, tmp_path):
    ctx, _ = context(hub, tmp_path)
    hub.scripts.append(JobScript(queued_polls=1))  # the first run waits for hardware
    args = {"operation": "uv", "script": TRAINS_AND_PUSHES, "flavor": "t4-small", "timeout": "1h"}
    first = call(ctx, **args)
    assert "has not started running yet" not in first.content
    second = call(ctx, **args)
    assert not second.is_error, second.content
    first_id = first.data["job_id"]
    assert f"Note: job {first_id} runs the same script and has not started running yet" in (
        second.content
    )
    third = call(ctx, **args)  # by now the first one runs: no note
    assert "has not started running yet" not in third.content


def test_a_training_job_that_pushes_no_checkpoints_gets_a_note(hub, tmp_path):
    ctx, _ = context(hub, tmp_path)
    args = {"operation": "uv", "script": TRAINS_AND_PUSHES, "flavor": "t4-small", "timeout": "1h"}
    bare = call(ctx, **args)
    assert not bare.is_error, bare.content
    assert "Note: the script pushes no checkpoints (no hub_strategy='checkpoint')" in bare.content
    resumable = TRAINS.replace(
        "model='m'", "model='m', args=SFTConfig(push_to_hub=True, hub_strategy='checkpoint')"
    )
    checkpointed = call(ctx, **{**args, "script": resumable})
    assert not checkpointed.is_error, checkpointed.content
    assert "pushes no checkpoints" not in checkpointed.content
