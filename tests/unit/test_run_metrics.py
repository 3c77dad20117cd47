"""Metrics are read from the logs training code prints, with nothing configured."""

from __future__ import annotations

import pytest

from agent.runs.metrics import MAX_POINTS, Metrics
from agent.runs.model import Run
from agent.runs.watch import metric_condition


def test_trainer_dict_lines_become_series():
    metrics = Metrics()
    metrics.feed(
        "{'loss': 2.31, 'grad_norm': 1.5, 'learning_rate': 5e-05, 'epoch': 0.5}\n"
        "{'loss': '2.1', 'grad_norm': '1.2', 'learning_rate': '4e-05', 'epoch': '1.0'}\n"
        "{'eval_loss': 2.2, 'eval_runtime': 3.1, 'epoch': 1.0}\n"
    )
    assert metrics.series["loss"].ys == [2.31, 2.1]
    assert metrics.series["learning_rate"].last == 4e-05
    assert metrics.series["eval_loss"].ys == [2.2]
    assert "epoch" not in metrics.series  # an axis next to the metrics, not a curve
    run = Run("bg1", "local", "python train.py")
    run.feed("{'loss': 2.31, 'grad_norm': 1.5, 'epoch': 0.5}\n")
    assert run.metrics_line() == "epoch 0.5: loss=2.31 grad_norm=1.5"


def test_key_value_pairs_next_to_a_step_use_it_as_x():
    metrics = Metrics()
    metrics.feed("step 10: loss=2.5 lr=1e-4\nstep=20 loss=2.25 lr=1e-4\nnothing=1 here\n")
    metrics.feed("Epoch: 1, step: 30, train_loss: 2.0, acc: 0.5\n")
    assert metrics.series["loss"].xs == [10, 20]
    assert metrics.series["loss"].ys == [2.5, 2.25]
    assert metrics.series["train_loss"].xs == [30]
    assert "nothing" not in metrics.series
    assert metrics.step == 30


def test_tqdm_gives_progress_and_eta():
    metrics = Metrics()
    metrics.feed(
        " 10%|#  | 100/1000 [00:10<01:30, 10.0it/s]\r 45%|####5 | 450/1000 [00:45<00:55, 10.0it/s]\n"
    )
    progress = metrics.progress
    assert progress is not None
    assert (progress.step, progress.total, progress.eta_s) == (450, 1000, 55)


@pytest.mark.parametrize(
    "line",
    [
        "{'loss': nan, 'epoch': 1.0}",
        "step 5: loss=inf",
        "{'eval_loss': '-inf'}",
        "step: 3 loss: NaN",
    ],
)
def test_a_loss_that_is_not_finite_is_seen(line):
    metrics = Metrics()
    metrics.feed("INFO starting\n{'loss': 1.0}\n" + line + "\n")
    assert metrics.bad_loss.split("=")[1] in ("nan", "inf", "-inf")


def test_nan_elsewhere_is_not_a_bad_loss():
    metrics = Metrics()
    metrics.feed("INFO info: grad_norm=nan at step 3\nloading nanogpt\n")
    assert metrics.bad_loss == ""


def test_series_stay_bounded_and_keep_last_and_best():
    metrics = Metrics()
    lines = [f"step {i}: loss={100 - i / 1000}" for i in range(20_000)]
    metrics.feed("\n".join(lines) + "\n")  # one chunk: a sample of it is read
    for start in range(0, 20_000, 50):  # then many small ones, all read
        metrics.feed("\n".join(lines[start : start + 50]) + "\n")
    series = metrics.series["loss"]
    assert len(series.ys) <= MAX_POINTS + 1
    assert series.last == 100 - 19_999 / 1000
    assert series.best == series.last
    assert series.xs[-1] == 19_999 or series.stride > 1  # x is the step printed


def test_metric_rules():
    run = Run("bg1", "local", "python train.py")
    rise = metric_condition("loss > 5", None)
    stall = metric_condition("eval_loss not improving for 2", None)
    run.feed("{'loss': 3.0}\n{'eval_loss': 2.0}\n")
    assert rise.check(run, "", 0) is None and stall.check(run, "", 0) is None
    run.feed("{'loss': 6.5}\n{'eval_loss': 2.1}\n{'eval_loss': 2.05}\n")
    assert rise.check(run, "", 0) == "loss = 6.5 (loss > 5)"
    assert "eval_loss has not improved for 2 evaluations (best 2" in (stall.check(run, "", 0) or "")
    with pytest.raises(ValueError, match="a metric rule looks like"):
        metric_condition("loss is high", None)
