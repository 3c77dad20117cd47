"""Which of a workspace's entries the sandbox keeps read-only: found at any depth, at a
bounded cost whatever the workspace holds."""

from pathlib import Path

from agent.tools.local import roots
from agent.tools.local.roots import protected_paths


def test_protected_names_are_found_at_any_depth_but_not_in_installed_folders(tmp_path: Path):
    (tmp_path / "a" / "b" / ".git").mkdir(parents=True)
    (tmp_path / "a" / ".env.local").touch()
    (tmp_path / "a" / "b" / "configs").mkdir()
    (tmp_path / ".venv" / "lib" / "configs").mkdir(parents=True)
    (tmp_path / "node_modules" / "x" / ".git").mkdir(parents=True)
    found = {str(p.relative_to(tmp_path)) for p in protected_paths(tmp_path)}
    assert found == {"a/b/.git", "a/.env.local", "a/b/configs"}


def test_the_search_stops_after_a_bounded_number_of_folders_nearest_first(tmp_path, monkeypatch):
    monkeypatch.setattr(roots, "MAX_FOLDERS_LOOKED_INTO", 3)
    (tmp_path / "configs").mkdir()
    deep = tmp_path / "d1" / "d2" / "d3" / "d4"
    deep.mkdir(parents=True)
    (deep / ".git").mkdir()
    (tmp_path / "d1" / "AGENTS.md").touch()
    found = {str(p.relative_to(tmp_path)) for p in protected_paths(tmp_path)}
    assert found == {"configs", "d1/AGENTS.md"}
