"""`ml-intern skills list|add|remove`: the skills found at launch, and installing them.

Installed skills go to `<config dir>/skills/<name>/` (~/.config/ml-intern/skills), one of the
user folders every launch reads. A source is a local folder or a git URL (cloned shallowly
with the git command); it may be one skill, a folder of skills, or a repository with a
`skills/` folder.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from agent.cli.app import make_app
from agent.cli.visible import quoted
from agent.errors import UsageError
from agent.extensions.skills import MARKER, Catalog, Skill, SkillError, load_skills, parse_skill
from agent.paths import config_home

app = make_app("List, add and remove Agent Skills (folders with a SKILL.md).")
CLONE_TIMEOUT_S = 300


def install_dir() -> Path:
    return config_home() / "skills"


def current_catalog() -> Catalog:
    """The skills a launch here would find, the installed plugins' included."""
    from agent.config import load_settings
    from agent.extensions.plugins import installed_plugins

    settings = load_settings(Path.cwd())
    return load_skills(settings, Path.cwd(), installed_plugins(settings).plugins)


def describe(skill: Skill, active: bool) -> dict[str, object]:
    return {
        "name": skill.name,
        "description": skill.description,
        "source": skill.source,
        "path": str(skill.folder),
        "active": active,
    }


def rows(catalog: Catalog) -> list[dict[str, object]]:
    """Every skill found: those in use, then those a same-named one overrides."""
    used = [describe(s, True) for s in catalog.skills.values()]
    return used + [describe(s, False) for s in catalog.shadowed]


@app.command("list")
def list_command(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON array on stdout.")] = False,
) -> None:
    """The skills found for this folder, with where they come from and whether they count."""
    catalog = current_catalog()
    found = rows(catalog)
    for note in catalog.notices:
        typer.echo(f"ml-intern: {quoted(note)}", err=True)
    if as_json:
        typer.echo(json.dumps(found, indent=2))
        return
    if not found:
        typer.echo(f"No skills. Add one with: ml-intern skills add SOURCE (into {install_dir()})")
    for row in found:
        state = "" if row["active"] else "  (overridden)"
        typer.echo(quoted(f"{row['name']}  [{row['source']}] {row['path']}{state}"))
        typer.echo(quoted(f"    {row['description']}"))


@app.command("add")
def add_command(
    source: Annotated[str, typer.Argument(help="A local folder or a git URL.")],
    names: Annotated[
        list[str] | None, typer.Argument(help="Only these skills (default: all).")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace installed ones.")] = False,
) -> None:
    """Install the skills in SOURCE (one skill, a folder of them, or a repository with a
    `skills/` folder) into your skills folder."""
    with tempfile.TemporaryDirectory(prefix="ml-intern-skills-") as tmp:
        folder = Path(source).expanduser()
        if not folder.is_dir() or is_bare_repository(folder):
            if not looks_like_git(source):
                raise UsageError(f"{source}: not a folder, nor a git URL")
            folder = clone(source, Path(tmp) / "clone")
        chosen = pick(offered(folder), names or [])
        install(chosen, force)


def looks_like_git(source: str) -> bool:
    return "://" in source or source.startswith("git@") or source.endswith(".git")


def is_bare_repository(folder: Path) -> bool:
    return (folder / "HEAD").is_file() and (folder / "objects").is_dir()


def clone(url: str, target: Path) -> Path:
    """A shallow clone of `url`, without its history; a failure says what git said."""
    typer.echo(f"Cloning {quoted(url)} ...", err=True)
    try:
        done = subprocess.run(
            ["git", "clone", "--depth", "1", "--quiet", "--", url, str(target)],
            capture_output=True,
            text=True,
            timeout=CLONE_TIMEOUT_S,
            check=False,
            env={**os.environ, "GIT_TERMINAL_PROMPT": "0"},  # never ask for a password
        )
    except FileNotFoundError:
        raise UsageError("git is not installed: install it, or give a local folder") from None
    except subprocess.TimeoutExpired:
        raise UsageError(f"{url}: git clone took over {CLONE_TIMEOUT_S} s") from None
    if done.returncode != 0:
        said = done.stderr.strip().splitlines()[-1:] or ["no message"]
        raise UsageError(f"{url}: git clone failed: {said[0]}")
    return target


def offered(folder: Path) -> list[Skill]:
    """The valid skills in `folder`; invalid ones are named and left out."""
    if (folder / MARKER).is_file():
        candidates = [folder]
    else:
        base = folder / "skills" if (folder / "skills").is_dir() else folder
        candidates = sorted(p for p in base.iterdir() if (p / MARKER).is_file())
    skills = []
    for candidate in candidates:
        try:
            skills.append(parse_skill(candidate / MARKER, "user"))
        except SkillError as exc:
            typer.echo(f"ml-intern: skipped {quoted(str(candidate / MARKER))}: {exc}", err=True)
    if not skills:
        raise UsageError(f"{folder}: no valid skill (a folder with a {MARKER}) found")
    return skills


def pick(skills: list[Skill], names: list[str]) -> list[Skill]:
    if not names:
        return skills
    by_name = {s.name: s for s in skills}
    if missing := [n for n in names if n not in by_name]:
        raise UsageError(
            f"not in the source: {', '.join(missing)} (it offers: {', '.join(by_name)})"
        )
    return [by_name[n] for n in dict.fromkeys(names)]


def install(skills: list[Skill], force: bool) -> None:
    """Copy each skill folder (links kept as links, no .git) into the skills folder."""
    target = install_dir()
    if not force and (taken := [s.name for s in skills if (target / s.name).exists()]):
        raise UsageError(
            f"already installed in {target}: {', '.join(taken)} (--force replaces them)"
        )
    typer.echo(f"Installing {len(skills)} skill(s) into {quoted(str(target))}:")
    for skill in skills:
        typer.echo(quoted(f"  {skill.name}: {skill.description}"))
        destination = target / skill.name
        if destination.exists():
            shutil.rmtree(destination)
        shutil.copytree(
            skill.folder, destination, symlinks=True, ignore=shutil.ignore_patterns(".git")
        )
    typer.echo("Done: they count from the next launch.")


@app.command("remove")
def remove_command(name: Annotated[str, typer.Argument(help="The skill's name.")]) -> None:
    """Remove a skill installed with `ml-intern skills add`."""
    folder = install_dir() / name
    if "/" in name or name in ("", ".", "..") or not (folder / MARKER).is_file():
        elsewhere = current_catalog().get(name)
        hint = f"; it is in {elsewhere.folder}, not installed by ml-intern" if elsewhere else ""
        raise UsageError(f"no skill named '{name}' in {install_dir()}{hint}")
    shutil.rmtree(folder)
    typer.echo(f"Removed the skill '{name}' ({folder}).")
