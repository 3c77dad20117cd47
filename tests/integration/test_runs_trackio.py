"""A run that logs with trackio locally and prints no metric is followed through trackio's
SQLite store: its curve, its last values, and a loss that becomes NaN wake the agent."""

from __future__ import annotations

import json
import sys

import pytest

from tests.fakes import llm_server as llm
from tests.integration.test_runs import woken_with

pytestmark = pytest.mark.timeout(150)

# What trackio.init/log write locally, in trackio's schema (trackio/sqlite_storage.py,
# init_db and bulk_log): one SQLite file per project under TRACKIO_DIR, in WAL mode, a row
# of `metrics` per log call with the values as JSON (NaN written as "NaN"). The script
# names its project the way a training script does, with `trackio.init(project=...)`.
TRACKIO = '''\
import json, os, sqlite3, time
from datetime import datetime, timezone


class LocalTrackio:
    def init(self, project, name):
        folder = os.environ["TRACKIO_DIR"]
        os.makedirs(folder, exist_ok=True)
        self.db = sqlite3.connect(os.path.join(folder, project + ".db"))
        self.db.execute("PRAGMA journal_mode = WAL")
        self.db.execute("""CREATE TABLE IF NOT EXISTS metrics (
            id INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL,
            timestamp TEXT NOT NULL, run_name TEXT NOT NULL, step INTEGER NOT NULL,
            metrics TEXT NOT NULL)""")
        self.db.execute("""CREATE TABLE IF NOT EXISTS configs (
            id INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL,
            run_name TEXT NOT NULL, config TEXT NOT NULL, created_at TEXT NOT NULL,
            UNIQUE(run_id))""")
        self.name = name
        return self

    def log(self, values, step):
        clean = {k: "NaN" if v != v else v for k, v in values.items()}
        now = datetime.now(timezone.utc).isoformat()
        self.db.execute(
            "INSERT INTO metrics (timestamp, run_id, run_name, step, metrics) VALUES (?, ?, ?, ?, ?)",
            (now, self.name, self.name, step, json.dumps(clean).encode()),
        )
        self.db.commit()


trackio = LocalTrackio()
'''
EARLIER = """
trackio.init(project="cifar-tune", name="baseline")
trackio.log({"loss": 2.0, "accuracy": 0.5}, step=0)
"""
TRAIN = """
trackio.init(project="cifar-tune", name="lr-sweep")
for step in range(1, 4):
    trackio.log({"loss": 2.0 - step * 0.5, "accuracy": 0.5 + step * 0.1}, step=step)
    time.sleep(0.01)
trackio.log({"loss": float("nan"), "accuracy": 0.8}, step=4)
while True:
    time.sleep(0.05)
"""


def test_metrics_logged_to_trackio_are_followed_and_a_nan_loss_wakes_the_agent(
    cli, fake_llm, isolated_env, monkeypatch
):
    monkeypatch.setenv("TRACKIO_DIR", str(isolated_env.parent / "trackio"))
    (isolated_env / "earlier.py").write_text(TRACKIO + EARLIER)  # an earlier run of the project
    (isolated_env / "train.py").write_text(TRACKIO + TRAIN)
    fake_llm.script(
        llm.tool_call("bash", {"command": f"{sys.executable} earlier.py"}),
        llm.tool_call("bash", {"command": f"{sys.executable} train.py", "run_in_background": True}),
        llm.text("Training; I will wait."),
        llm.tool_call(
            "kill_background",
            {"job_id": "bg1"},
            expect=woken_with("bg1: loss became nan", "step 4: loss=nan accuracy=0.8"),
        ),
        llm.text("The loss became NaN at step 4; stopped."),
    )

    result = cli("-o", "json", "train and report")

    assert result.exit_code == 0, result.stderr
    assert len(fake_llm.requests) == 5
    (entry,) = json.loads(cli("runs", "--json").stdout)
    loss = entry["metrics"]["loss"]
    assert loss["curve"] == [1.5, 1.0, 0.5, "nan"]  # not the earlier run's 2.0
    assert loss["best"] == 0.5
    assert entry["metrics"]["accuracy"]["last"] == 0.8
