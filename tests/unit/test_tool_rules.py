"""Claude Code's `allowed-tools` rules read as approvals for one turn: what each form
pre-approves, and which rules pre-approve nothing."""

from __future__ import annotations

from pathlib import Path

from agent.core.approval.tool_rules import split_rules, turn_rules

TOOLS = ["bash", "read", "write", "edit", "fetch_url", "mcp__hub__search"]


def test_rules_split_on_commas_and_spaces_outside_parentheses():
    text = "Bash(git commit -m:*), Read Edit(src/**),mcp__hub__search"
    assert split_rules(text) == [
        "Bash(git commit -m:*)",
        "Read",
        "Edit(src/**)",
        "mcp__hub__search",
    ]


def test_each_rule_allows_its_scope_and_nothing_more(tmp_path: Path):
    (tmp_path / "src").mkdir()
    rules = turn_rules(
        "Bash(git status:*), Bash(npm test), Edit(src/**), WebFetch, mcp__hub__search",
        TOOLS,
        tmp_path,
    )

    def allows(name: str, **args: str) -> bool:
        return rules.allows(name, args, tmp_path, every_part=True)

    assert allows("bash", command="git status --short")
    assert allows("bash", command="git status && npm test")
    assert not allows("bash", command="git statusx")
    assert not allows("bash", command="npm test --watch")
    assert not allows("bash", command="git status; rm -rf src")
    assert not allows("bash", command="git status $(rm -rf src)")
    assert allows("edit", path="src/train.py")
    assert not allows("edit", path="train.py")
    assert allows("fetch_url") and allows("mcp__hub__search")
    assert not allows("mcp__hub__delete")
    assert rules.left_out == []


def test_rules_too_wide_or_unknown_pre_approve_nothing_and_are_named(tmp_path: Path):
    rules = turn_rules("Bash, Bash(*), Grep, WebFetch(domain:hf.co), Edit(~/**)", TOOLS, tmp_path)

    assert not rules.allows("bash", {"command": "ls"}, tmp_path, every_part=True)
    assert not rules.scopes and not rules.commands
    assert [entry.split(" (")[0] for entry in rules.left_out] == [
        "Bash", "Bash(*)", "Grep", "WebFetch(domain:hf.co)", "Edit(~/**)",
    ]  # fmt: skip
