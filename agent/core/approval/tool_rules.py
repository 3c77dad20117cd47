"""A custom command's `allowed-tools` (Claude Code's permission rules) as approvals for
the one turn the command starts.

`Bash(git status:*)` allows commands that start with those words, `Bash(npm test)` that
command exactly; `Edit` and `Write` allow file changes in the working directory,
`Edit(src/**)` in `src/`; any other tool by its name, Claude Code's (`WebFetch`) or ours
(`hf_jobs`, `mcp__server__tool`). What a rule allows is what an "always" answer for
that scope would: the deny lists, the spend budget and every other call still ask or
refuse as usual. A rule too wide for an "always" answer (`Bash`, `Bash(*)`) or in a form
not understood here is left out, and said.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent.core.approval.scopes import allowed_always, words_allowed
from agent.extensions.hooks.tool_names import CLAUDE_NAMES

OURS = {claude: ours for ours, claude in CLAUDE_NAMES.items()} | {"MultiEdit": "edit"}
RULE = re.compile(r"([A-Za-z0-9_.-]+)(?:\((.*)\))?", re.DOTALL)
FOLDER = re.compile(r"(.*?)/?(\*\*?)?/?")  # `src/**`, `src/*`, `src/`, `src`


@dataclass
class TurnRules:
    """The approvals one command brings to its turn, and the rules left out (with why)."""

    scopes: set[str] = field(default_factory=set)
    commands: list[tuple[list[str], bool]] = field(default_factory=list)  # (words, exact)
    left_out: list[str] = field(default_factory=list)

    def allows(self, name: str, args: dict[str, Any], cwd: Path, every_part: bool) -> bool:
        """Whether this turn's rules pre-approve the call."""
        if name == "bash" and self.commands:
            command = str(args.get("command") or "")
            if words_allowed(command, self.commands, cwd, every_part):
                return True
        return allowed_always(name, args, self.scopes, cwd, every_part)


def split_rules(text: str) -> list[str]:
    """The rules in an `allowed-tools` value: separated by commas or spaces, except
    inside parentheses (`Bash(git commit -m:*), Read`)."""
    rules, current, depth = [], "", 0
    for char in text:
        if char in ", \t\n" and depth == 0:
            rules.append(current)
            current = ""
            continue
        depth += (char == "(") - (char == ")")
        current += char
    return [rule for rule in (*rules, current) if rule]


def turn_rules(text: str, tools: list[str], cwd: Path) -> TurnRules:
    """`allowed-tools` as approvals for tools offered at this launch (`tools`)."""
    rules = TurnRules()
    for rule in split_rules(text):
        if why := _add(rules, rule, tools, cwd):
            rules.left_out.append(f"{rule} ({why})")
    return rules


def _add(rules: TurnRules, rule: str, tools: list[str], cwd: Path) -> str:
    """Add one rule; what is wrong with it, or ""."""
    match = RULE.fullmatch(rule)
    if match is None:
        return "not a tool name"
    name, spec = OURS.get(match.group(1), match.group(1)), match.group(2)
    if name not in tools:
        return "no such tool here"
    if name == "bash":
        return _add_command(rules, spec)
    if name in ("write", "edit"):
        return _add_folder(rules, spec, cwd)
    if spec is not None:
        return "only Bash, Edit and Write take a pattern here"
    rules.scopes.add(f"tool: {name}")
    return ""


def _add_command(rules: TurnRules, spec: str | None) -> str:
    """`git status:*` (those words first), `npm test` (exactly that)."""
    text = (spec or "").strip()
    exact = not text.endswith(":*")
    try:
        words = shlex.split(text if exact else text[:-2])
    except ValueError:
        return "unbalanced quotes"
    if not words or words == ["*"]:
        return "every command: name the commands, e.g. Bash(git status:*)"
    rules.commands.append((words, exact))
    return ""


def _add_folder(rules: TurnRules, spec: str | None, cwd: Path) -> str:
    """Bare `Edit`: the working directory; `Edit(src/**)`: that folder."""
    if spec is None:
        rules.scopes.add("edits in ./")
        return ""
    match = FOLDER.fullmatch(spec.strip())
    folder = match.group(1) if match else ""
    if not match or not folder or any(c in folder for c in "*?[{"):
        return "only a folder, as in Edit(src/**), is understood"
    if folder.startswith("/"):  # Claude Code's `//abs/path` is an absolute one
        folder = "/" + folder.lstrip("/")
    resolved = (cwd / Path(folder).expanduser()).resolve()
    home = Path.home().resolve()
    if resolved == home or resolved in home.parents:
        return "a folder this wide is never pre-approved"
    rules.scopes.add(f"edits in {resolved}/")
    return ""
