"""What the hooks of one event decided, read the way Claude Code reads them.

Exit 0: stdout may hold a JSON object (`continue`, `stopReason`, `systemMessage`,
`decision`/`reason`, `hookSpecificOutput`); plain text is extra context for
UserPromptSubmit and SessionStart and ignored elsewhere. Exit 2: a block, its stderr the
reason. Any other exit, a timeout, or JSON that does not parse: an error the person sees,
which blocks nothing. Among parallel hooks deny wins over ask, ask over allow.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from agent.extensions.hooks.runner import Run

CONTEXT_EVENTS = frozenset({"UserPromptSubmit", "SessionStart"})
PERMISSION_EVENTS = frozenset({"PreToolUse", "PermissionRequest"})  # exit 2 denies the call
_RANK = {"allow": 1, "ask": 2, "deny": 3}
CONTEXT_MAX = 10_000  # characters one hook may add to what the model reads, as Claude Code caps it


@dataclass
class Judged:
    """One run, read: what it decided (for the `hook` event) and why."""

    run: Run
    decision: str = ""  # block, deny, ask, allow, stop, error or ""
    reason: str = ""


@dataclass
class Verdict:
    judged: list[Judged] = field(default_factory=list)
    blocks: list[tuple[str, str]] = field(default_factory=list)  # (command, reason)
    permission: str = ""  # deny, ask or allow ("" when no hook said)
    permission_reason: str = ""
    updated_input: dict[str, Any] | None = None
    stop_reason: str | None = None  # a hook said `continue: false`
    context: list[str] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)  # systemMessage: for the person

    @property
    def blocked(self) -> bool:
        return bool(self.blocks)

    def reason(self) -> str:
        return "\n".join(reason for _, reason in self.blocks)


def judge(event: str, runs: list[Run], scrub: Callable[[str], str]) -> Verdict:
    """Every run's result, scrubbed of secrets, folded into one verdict."""
    verdict = Verdict()
    for run in runs:
        run.stdout, run.stderr = scrub(run.stdout), scrub(run.stderr)
        judged = Judged(run)
        verdict.judged.append(judged)
        if (problem := _failure(run)) is not None:
            judged.decision, judged.reason = "error", problem
        elif run.exit_code == 2:
            reason = run.stderr.strip() or f"blocked by the {event} hook `{run.hook.command}`"
            _block(verdict, judged, reason, "deny" if event in PERMISSION_EVENTS else "block")
        else:
            _read_stdout(event, run, judged, verdict)
    return verdict


def _failure(run: Run) -> str | None:
    if run.failed_to_start:
        return f"could not start: {run.failed_to_start}"
    if run.timed_out:
        return f"did not finish within {run.hook.timeout_s:g} s and was stopped"
    if run.exit_code not in (0, 2):
        said = run.stderr.strip().splitlines()
        return f"failed (exit {run.exit_code})" + (f": {said[-1]}" if said else "")
    return None


def _block(verdict: Verdict, judged: Judged, reason: str, decision: str) -> None:
    judged.decision, judged.reason = decision, reason
    verdict.blocks.append((judged.run.hook.command, reason))
    if decision == "deny":
        _permission(verdict, "deny", reason)


def _permission(verdict: Verdict, decision: str, reason: str) -> None:
    if _RANK[decision] > _RANK.get(verdict.permission, 0):
        verdict.permission, verdict.permission_reason = decision, reason


def _read_stdout(event: str, run: Run, judged: Judged, verdict: Verdict) -> None:
    text = run.stdout.strip()
    if not text.startswith("{"):
        if text and event in CONTEXT_EVENTS:
            verdict.context.append(_capped(text))
        return
    try:
        output = json.loads(text)
    except ValueError as exc:
        judged.decision, judged.reason = "error", f"printed invalid JSON ({exc})"
        return
    if not isinstance(output, dict):
        return
    if isinstance(message := output.get("systemMessage"), str) and message:
        verdict.messages.append(message)
    specific = output.get("hookSpecificOutput")
    specific = specific if isinstance(specific, dict) else {}
    if isinstance(extra := specific.get("additionalContext"), str) and extra:
        verdict.context.append(_capped(extra))
    reason = str(output.get("reason") or "")
    if event == "PreToolUse":
        _pre_tool_use(output, specific, judged, verdict)
    elif event == "PermissionRequest":
        _permission_request(specific, judged, verdict)
    elif output.get("decision") == "block":
        _block(verdict, judged, reason or f"blocked by `{run.hook.command}`", "block")
    if output.get("continue") is False:
        stop = str(output.get("stopReason") or f"stopped by the {event} hook")
        verdict.stop_reason = verdict.stop_reason or stop
        judged.decision, judged.reason = "stop", stop


def _capped(text: str) -> str:
    if len(text) <= CONTEXT_MAX:
        return text
    return text[:CONTEXT_MAX] + f"\n[{len(text) - CONTEXT_MAX} more characters cut]"


def _pre_tool_use(
    output: dict[str, Any], specific: dict[str, Any], judged: Judged, verdict: Verdict
) -> None:
    decision = specific.get("permissionDecision")
    reason = str(specific.get("permissionDecisionReason") or output.get("reason") or "")
    if decision is None:  # the older spelling: decision approve / block
        decision = {"approve": "allow", "block": "deny"}.get(str(output.get("decision")))
    if isinstance(updated := specific.get("updatedInput"), dict):
        verdict.updated_input = {**(verdict.updated_input or {}), **updated}
    if decision == "deny":
        _block(verdict, judged, reason or f"denied by `{judged.run.hook.command}`", "deny")
    elif decision in ("allow", "ask"):
        judged.decision, judged.reason = decision, reason
        _permission(verdict, decision, reason)


def _permission_request(specific: dict[str, Any], judged: Judged, verdict: Verdict) -> None:
    decision = specific.get("decision")
    if not isinstance(decision, dict):
        return
    behavior = decision.get("behavior")
    if isinstance(updated := decision.get("updatedInput"), dict):
        verdict.updated_input = {**(verdict.updated_input or {}), **updated}
    if behavior == "deny":
        reason = str(decision.get("message") or f"denied by `{judged.run.hook.command}`")
        _block(verdict, judged, reason, "deny")
    elif behavior == "allow":
        judged.decision = "allow"
        _permission(verdict, "allow", "")
