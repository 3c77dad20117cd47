"""Which tool calls need a person's yes, and the short reason shown when they do.

Pure policy: no I/O, no prompts. Whether to actually ask (yolo, headless
auto-approval, approval mode) is decided by the caller.

The rules, in order:

1. a tool in `approval.deny_tools`, or a bash command with a part that starts with an
   `approval.deny_commands` prefix, is refused outright (`denial`), whatever the mode;
   a tool in `approval.allow_tools` never asks;
2. read-only tools never ask;
3. `write` and `edit` ask outside the working directory, and inside it only when
   `approval.edits_in_cwd_ask` is on;
4. in `bash`, parts that start with an `approval.allow_commands` prefix are trusted; the
   rest ask when `approval.bash_always_ask` is on, or when they are destructive:

   - deleting recursively (`rm -r`, `find -delete`) or anything in a system directory
   - throwing work away or publishing it: `git push`, `git reset --hard`, `git clean`,
     `git checkout -- <paths>`, `git restore`, `git branch -D`, `git stash drop|clear`
   - recursive `chmod` / `chown` / `chgrp`
   - running as root: `sudo`, `doas`, `su`, `pkexec`
   - disks and machines: `mkfs`, `fdisk`, `parted`, `wipefs`, `shred`, `dd of=`,
     `shutdown`, `reboot`
   - writing into /etc, /usr, /bin, /sbin, /lib*, /boot, /sys, /proc, /dev, /root, /var,
     /opt (by redirection, `tee`, `cp`, `mv`, ...; /dev/null and /var/tmp are fine)
   - running a downloaded script: `curl ... | sh`, `bash <(wget ...)`
   - removing packages: `pip uninstall`, `uv remove`, `apt remove`, `npm uninstall`, ...
   - killing by force or by name: `kill -9`, `pkill`, `killall`
   - deleting on the Hub: `hf repo delete`, `huggingface-cli delete`
   `bash -c`, `sh -c`, `eval`, `xargs`, `find -exec` and `$(...)` are looked into;
5. any other tool asks when its own `needs_approval(args, settings)` hook says so.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent.core.approval.destructive import fallback_reason, inline_fetch_reason, segments_reason
from agent.core.approval.shell_words import (
    effective_commands,
    split_segments,
    strip_assignments,
)
from agent.tools.local.files import resolve_path

if TYPE_CHECKING:
    from agent.config import ApprovalPolicy, Settings
    from agent.tools.spec import ToolSpec

READ_ONLY_TOOLS = frozenset({"read", "bash_output"})
FILE_TOOLS = frozenset({"write", "edit"})


def denial(name: str, args: dict[str, Any], settings: Settings) -> str | None:
    """Why the person's config forbids this call outright, or None."""
    policy = settings.approval
    if name in policy.deny_tools:
        return f"`{name}` is listed in approval.deny_tools"
    if name != "bash" or not policy.deny_commands:
        return None
    command = str(args.get("command") or "").replace("\\\n", " ")
    commands = effective_commands(command)
    if commands is None:
        deny = next((p for p in policy.deny_commands if p.strip() in command), None)
    else:
        found = (_matching_prefix(words, policy.deny_commands) for words in commands)
        deny = next(filter(None, found), None)
    return f"matches approval.deny_commands: `{deny}`" if deny else None


def approval_reason(
    name: str, args: dict[str, Any], settings: Settings, cwd: Path, spec: ToolSpec | None = None
) -> str | None:
    """None when the call may run without asking, else a short reason for the person.

    Deny lists are not asked about: check `denial` first.
    """
    policy = settings.approval
    if name in policy.allow_tools:
        return None
    if spec.read_only if spec is not None else name in READ_ONLY_TOOLS:
        return None
    if name == "bash":
        return _bash_reason(str(args.get("command") or ""), policy)
    if name in FILE_TOOLS:
        return _file_reason(args.get("path"), cwd, policy)
    if spec is not None and spec.needs_approval is not None and spec.needs_approval(args, settings):
        return f"`{name}` asks for approval for this call"
    return None


def _file_reason(path: Any, cwd: Path, policy: ApprovalPolicy) -> str | None:
    if not isinstance(path, str) or not path:
        return None
    target = resolve_path(path, cwd)
    if not target.is_relative_to(cwd.resolve()):
        return f"writes outside the working directory: {target}"
    if policy.edits_in_cwd_ask:
        return f"changes {target} (approval.edits_in_cwd_ask is on)"
    return None


def _bash_reason(command: str, policy: ApprovalPolicy) -> str | None:
    segments = split_segments(command)
    if segments is None:
        return (
            "approval.bash_always_ask is on" if policy.bash_always_ask else fallback_reason(command)
        )
    untrusted = [s for s in segments if not _matching_prefix(s.words, policy.allow_commands)]
    if not untrusted:
        return None
    if policy.bash_always_ask:
        return "approval.bash_always_ask is on"
    return segments_reason(untrusted) or inline_fetch_reason(command)


def _matching_prefix(words: list[str], prefixes: list[str]) -> str | None:
    words = strip_assignments(words)
    for prefix in prefixes:
        try:
            wanted = shlex.split(prefix)
        except ValueError:
            wanted = prefix.split()
        if wanted and words[: len(wanted)] == wanted:
            return prefix
    return None
