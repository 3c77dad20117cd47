"""`ml-intern skills list|add|remove`, from a local folder and from a git repository."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.integration.test_skills import user_skills, write_skill


def installed() -> Path:
    return Path.home() / "config" / "ml-intern" / "skills"


def git(*args: str, cwd: Path) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
    )


def bare_repository_with_skills(base: Path) -> Path:
    """A bare repository (as on a git host) holding skills/ with two skills, pushed to."""
    bare, work = base / "skills.git", base / "checkout"
    git("init", "--bare", "--quiet", str(bare), cwd=base)
    work.mkdir()
    git("init", "--quiet", "-b", "main", cwd=work)
    write_skill(work / "skills", "data-audit", "Audit a dataset for leaks.", "Check splits.")
    folder = write_skill(work / "skills", "ckpt-merge", "Merge checkpoints.", "Average them.")
    (folder / "scripts").mkdir()
    (folder / "scripts" / "merge.py").write_text("print('merge')\n")
    (work / "README.md").write_text("Skills for tests.\n")
    git("add", ".", cwd=work)
    git("commit", "--quiet", "-m", "skills", cwd=work)
    git("push", "--quiet", str(bare), "main", cwd=work)
    git("symbolic-ref", "HEAD", "refs/heads/main", cwd=bare)
    return bare


def test_list_shows_source_and_which_one_counts(cli, repo):
    write_skill(user_skills(), "train", "User way.", "body")
    write_skill(repo / ".agents" / "skills", "train", "Project way.", "body")
    write_skill(user_skills(), "eval", "Evaluate.", "body")
    assert cli("trust").exit_code == 0

    result = cli("skills", "list", "--json")

    assert result.exit_code == 0, result.stderr
    rows = {(r["name"], r["source"]): r for r in json.loads(result.stdout)}
    assert rows["train", "project"]["active"] is True
    assert rows["train", "project"]["path"] == str(repo / ".agents" / "skills" / "train")
    assert rows["train", "user"]["active"] is False
    assert rows["eval", "user"] == {
        "name": "eval",
        "description": "Evaluate.",
        "source": "user",
        "path": str((user_skills() / "eval").resolve()),
        "active": True,
    }
    text = cli("skills", "list")
    assert "train  [user]" in text.stdout and "(overridden)" in text.stdout


def test_list_in_an_untrusted_project_says_what_it_skipped(cli, repo):
    write_skill(repo / ".claude" / "skills", "sneaky", "Sneaky.", "body")

    result = cli("skills", "list", "--json")

    assert result.exit_code == 0
    assert json.loads(result.stdout) == []
    assert "ignored the project skills" in result.stderr


def test_add_from_a_git_url_installs_all_or_the_named_ones(cli, isolated_env):
    bare = bare_repository_with_skills(isolated_env.parent)

    one = cli("skills", "add", bare.as_uri(), "ckpt-merge")

    assert one.exit_code == 0, one.stderr
    assert f"Installing 1 skill(s) into {installed()}" in one.stdout
    assert "ckpt-merge: Merge checkpoints." in one.stdout
    assert (installed() / "ckpt-merge" / "scripts" / "merge.py").read_text() == "print('merge')\n"
    assert not (installed() / "data-audit").exists()
    assert not (installed() / "ckpt-merge" / ".git").exists()

    again = cli("skills", "add", bare.as_uri())
    assert again.exit_code == 2
    assert "already installed" in again.stderr and "ckpt-merge" in again.stderr
    forced = cli("skills", "add", str(bare), "--force")
    assert forced.exit_code == 0, forced.stderr
    listed = {r["name"] for r in json.loads(cli("skills", "list", "--json").stdout)}
    assert listed == {"ckpt-merge", "data-audit"}


def test_add_names_what_the_source_lacks(cli, isolated_env):
    source = isolated_env.parent / "src-skills"
    write_skill(source, "only-one", "The only one.", "body")

    result = cli("skills", "add", str(source), "missing-one")

    assert result.exit_code == 2
    assert "not in the source: missing-one (it offers: only-one)" in result.stderr
    assert not installed().exists()


def test_add_from_a_broken_url_says_what_git_said(cli, isolated_env):
    result = cli("skills", "add", (isolated_env.parent / "nothing.git").as_uri())

    assert result.exit_code == 2
    assert "git clone failed" in result.stderr
    assert "Traceback" not in result.stderr


def test_add_a_single_local_skill_then_remove_it(cli, isolated_env):
    folder = write_skill(isolated_env.parent, "one-skill", "Just one.", "body")

    assert cli("skills", "add", str(folder)).exit_code == 0
    assert (installed() / "one-skill" / "SKILL.md").is_file()
    removed = cli("skills", "remove", "one-skill")
    assert removed.exit_code == 0, removed.stderr
    assert not (installed() / "one-skill").exists()
    gone = cli("skills", "remove", "one-skill")
    assert gone.exit_code == 2 and "no skill named 'one-skill'" in gone.stderr


def test_remove_does_not_touch_skills_it_did_not_install(cli):
    write_skill(user_skills(), "hand-made", "Mine.", "body")

    result = cli("skills", "remove", "hand-made")

    assert result.exit_code == 2
    assert "not installed by ml-intern" in result.stderr
    assert (user_skills() / "hand-made" / "SKILL.md").is_file()
