"""Which trackio projects a run's command logs to, read from the scripts it runs."""

from __future__ import annotations

from pathlib import Path

from agent.runs.trackio_store import projects_in


def test_a_trainer_reporting_to_trackio_logs_to_its_project_or_the_default(
    tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.delenv("TRACKIO_PROJECT_NAME", raising=False)
    (tmp_path / "init.py").write_text('import trackio\ntrackio.init(project="sweep")\n')
    (tmp_path / "named.py").write_text(
        'args = TrainingArguments(report_to="trackio", project="llama-sft")\n'
    )
    (tmp_path / "plain.py").write_text('args = SFTConfig(report_to=["trackio"])\n')
    (tmp_path / "wandb.py").write_text('args = SFTConfig(report_to="wandb")  # not trackio\n')

    assert projects_in("python init.py", tmp_path) == ["sweep"]
    assert projects_in("python named.py", tmp_path) == ["llama-sft"]
    assert projects_in("python plain.py", tmp_path) == ["huggingface"]
    assert projects_in("python wandb.py", tmp_path) == []
    assert projects_in("trl sft --report_to trackio --output_dir out", tmp_path) == ["huggingface"]
    monkeypatch.setenv("TRACKIO_PROJECT_NAME", "from-env")
    assert projects_in("python plain.py", tmp_path) == ["from-env"]
