"""`ml-intern runs`: the experiment ledger of this project's sessions, after they ended.

Newest first, one line per run with its outcome, main metric and curve; `runs ID` shows
one run in full (its curve as a chart); `--json` and `--csv` export the ledger.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from agent.cli.app import make_app
from agent.cli.run_views import entry_details, entry_line
from agent.cli.visible import visible
from agent.errors import UsageError
from agent.runs.ledger import load_project

app = make_app("Background runs of this project's sessions (the experiment ledger).")
CSV_FIELDS = (
    "session_id",
    "id",
    "kind",
    "status",
    "outcome",
    "exit_code",
    "started_at",
    "ended_at",
    "hardware",
    "cost_usd",
    "command",
    "hyperparameters",
    "hub_ids",
    "metrics_final",
    "metrics_best",
    "links",
    "note",
    "resumed_from",
)


@app.command()
def runs_command(
    run_id: Annotated[
        str | None, typer.Argument(metavar="ID", help="Show this run in full.", show_default=False)
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="The entries as JSON.")] = False,
    as_csv: Annotated[
        bool, typer.Option("--csv", help="The ledger as CSV, one row a run.")
    ] = False,
    every: Annotated[bool, typer.Option("--all", help="Runs of every project.")] = False,
) -> None:
    """Runs of this project's sessions, newest first: outcome, metrics, curve, command."""
    unreadable: list[str] = []
    entries = load_project(Path.cwd(), every_project=every, unreadable=unreadable)
    for problem in unreadable:
        typer.echo(visible(f"ml-intern: a run ledger was left out: {problem}"), err=True)
    if run_id is not None:
        entries = [
            e for e in entries if e["id"] == run_id or f"{e['session_id']}/{e['id']}" == run_id
        ]
        if not entries:
            raise UsageError(f"no run '{run_id}' in this project's sessions (see `ml-intern runs`)")
        entries = entries[:1]  # the newest of that id; SESSION/ID picks an older one
    if as_json:
        typer.echo(json.dumps(entries, indent=2))
    elif as_csv:
        write_csv(entries)
    elif run_id is not None:
        for line in entry_details(entries[0]):
            typer.echo(visible(line))
    elif not entries:
        typer.echo("No background runs in this project's sessions yet.")
    else:
        for entry in entries:
            typer.echo(visible(f"{entry['session_id']}  {entry_line(entry)}"))


def write_csv(entries: list[dict[str, Any]]) -> None:
    writer = csv.DictWriter(sys.stdout, fieldnames=CSV_FIELDS, extrasaction="ignore")
    writer.writeheader()
    for entry in entries:
        metrics = entry.get("metrics") or {}
        writer.writerow(
            {
                **entry,
                "hyperparameters": json.dumps(entry.get("hyperparameters") or {}),
                "hub_ids": json.dumps(entry.get("hub_ids") or {}),
                "metrics_final": json.dumps({k: m.get("last") for k, m in metrics.items()}),
                "metrics_best": json.dumps({k: m.get("best") for k, m in metrics.items()}),
                "links": " ".join(entry.get("links") or []),
            }
        )
