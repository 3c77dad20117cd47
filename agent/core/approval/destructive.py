"""Which shell commands are destructive: the tables and the rules that read a
command's words (see `policy` for when this makes a call ask).
"""

from __future__ import annotations

import os
import re

from agent.core.approval.shell_words import (
    ROOT,
    SHELLS,
    Segment,
    command_words,
    find_execs,
    inner_command,
    operands,
    options,
    split_segments,
)

SYSTEM_DIRS = ("/etc", "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/boot", "/sys",
               "/proc", "/dev", "/root", "/var", "/opt")  # fmt: skip
HARMLESS_PATHS = ("/dev/null", "/dev/stdout", "/dev/stderr", "/dev/tty", "/dev/fd", "/var/tmp")
# Options of wrappers that take a value, so the value is not mistaken for the command.
DISKS = {"mkfs", "fdisk", "sfdisk", "parted", "wipefs", "shred", "shutdown", "reboot", "halt",
         "poweroff"}  # fmt: skip
PACKAGE_REMOVAL = {
    "pip": {"uninstall"},
    "pip3": {"uninstall"},
    "uv": {"remove"},
    "conda": {"remove", "uninstall"},
    "mamba": {"remove", "uninstall"},
    "apt": {"remove", "purge", "autoremove"},
    "apt-get": {"remove", "purge", "autoremove"},
    "dnf": {"remove", "erase"},
    "yum": {"remove", "erase"},
    "npm": {"uninstall", "remove", "rm", "un", "r"},
    "pnpm": {"uninstall", "remove", "rm", "un"},
    "yarn": {"remove"},
    "brew": {"uninstall", "remove", "rm"},
    "gem": {"uninstall"},
    "cargo": {"uninstall"},
}
DEST_WRITERS = {"cp", "ln", "install", "rsync", "scp"}
ALL_WRITERS = {"mv", "tee", "touch", "mkdir", "rm", "rmdir", "unlink", "truncate", "chmod",
               "chown", "chgrp"}  # fmt: skip
_INLINE_FETCH = re.compile(r"\b(?:ba|z|da|k)?sh\b[^|;&]*(?:<\(|\$\()\s*(?:curl|wget)\b")
_FALLBACK = (
    (r"\brm\s+(?:-\w*[rR]|--recursive)", "`rm -r` deletes whole directories"),
    (r"\bgit\s+(?:push|reset\s+--hard|clean)\b", "changes git history or deletes work"),
    (r"\b(?:chmod|chown|chgrp)\s+(?:-\w*R|--recursive)", "changes ownership or permissions recursively"),
    (r"\b(?:sudo|doas|pkexec)\b", "runs commands as root"),
    (r"\b(?:mkfs|fdisk|parted|wipefs|shred)\b|\bdd\b.*\bof=", "writes to disks"),
    (r"\b(?:curl|wget)\b[^|]*\|\s*(?:sudo\s+)?\w*sh\b", "pipes a downloaded script into a shell"),
    (r"\b(?:pip3?|uv|conda|apt(?:-get)?|npm|yarn|pnpm|brew)\s+(?:uninstall|remove|purge)\b",
     "removes packages"),
    (r"\bkill\s+-(?:9|KILL|SIGKILL)\b|\b(?:pkill|killall)\b", "kills processes"),
    (r">\s*/(?:etc|usr|bin|sbin|boot|sys|lib)\b", "writes to a system path"),
)  # fmt: skip


def is_destructive_command(command: str) -> str | None:
    """Why a shell command is destructive, or None when it looks safe to run unasked."""
    segments = split_segments(command)
    if segments is None:
        return fallback_reason(command.replace("\\\n", " "))
    return segments_reason(segments) or inline_fetch_reason(command)


def fallback_reason(command: str) -> str | None:
    """For commands shlex cannot parse: coarse patterns, better a question too many."""
    for pattern, reason in _FALLBACK:
        if re.search(pattern, command):
            return reason
    return None


def inline_fetch_reason(command: str) -> str | None:
    return "runs a downloaded script" if _INLINE_FETCH.search(command) else None


def segments_reason(segments: list[Segment]) -> str | None:
    for segment in segments:
        words = command_words(segment.words)
        if reason := _redirect_reason(segment.targets) or _words_reason(words):
            return reason
        if segment.heredoc and words and words[0] in SHELLS:
            if reason := is_destructive_command(segment.heredoc):
                return reason
        if segment.piped and _runs_stdin(words) and _fetches(segment.pipeline):
            return f"pipes a downloaded script into `{words[0]}`"
    return None


def _runs_stdin(words: list[str]) -> bool:
    """Whether a shell or interpreter takes its script from stdin."""
    if not words or words[0] not in SHELLS or {"-c", "-m"} & set(words):
        return False
    given = operands(words[1:])
    return not given or given[0] == "-" or "-s" in words


def _fetches(pipeline: list[str]) -> bool:
    return any(w in ("curl", "wget") for w in pipeline)


def _redirect_reason(targets: list[str]) -> str | None:
    for target in targets:
        if _is_system_path(target):
            return f"writes to a system path: {target}"
    return None


def _is_system_path(word: str) -> bool:
    if not word.startswith("/"):
        return False
    path = os.path.normpath(word)
    if any(path == p or path.startswith(p + "/") for p in HARMLESS_PATHS):
        return False
    return path == "/" or any(path == d or path.startswith(d + "/") for d in SYSTEM_DIRS)


def _recursive(words: list[str]) -> str | None:
    """The option that makes rm recursive, if any."""
    for word in options(words):
        if word == "--recursive" or (not word.startswith("--") and ("r" in word or "R" in word)):
            return word
    return None


def _words_reason(words: list[str]) -> str | None:
    """The rules that look at one command's words (see the module docstring)."""
    if not words:
        return None
    cmd, args = words[0], words[1:]
    if cmd in ROOT:
        return f"`{cmd}` runs commands as root"
    if cmd in DISKS or cmd.startswith("mkfs"):
        return f"`{cmd}` can destroy disks, files or the running machine"
    if cmd == "dd" and any(a.startswith("of=") for a in args):
        return "`dd of=` overwrites files or devices"
    if (inner := inner_command(words)) is not None:
        return is_destructive_command(inner)
    return _files_reason(cmd, args) or _tools_reason(cmd, args)


def _files_reason(cmd: str, args: list[str]) -> str | None:
    if cmd == "rm" and (flag := _recursive(args)):
        return f"`rm {flag}` deletes whole directories"
    if cmd in ("chmod", "chown", "chgrp") and ("-R" in args or "--recursive" in args):
        return f"`{cmd} -R` changes a whole tree"
    if cmd == "find":
        return _find_reason(args)
    given = operands(args)
    targets = given[-1:] if cmd in DEST_WRITERS and len(given) > 1 else []
    if cmd in ALL_WRITERS or (cmd == "sed" and any(a.startswith("-i") for a in args)):
        targets = given
    if system := next((t for t in targets if _is_system_path(t)), None):
        return f"`{cmd}` changes a system path: {system}"
    return None


def _find_reason(args: list[str]) -> str | None:
    if "-delete" in args:
        return "`find -delete` deletes files"
    for sub in find_execs(args):
        if reason := _words_reason(command_words(sub)):
            return reason
    return None


def _subcommand(args: list[str], skip_values: tuple[str, ...] = ()) -> tuple[str, list[str]]:
    """The first word that is not an option (nor an option's value), and what follows it."""
    i = 0
    while i < len(args) and args[i].startswith("-"):
        i += 2 if args[i] in skip_values else 1
    return (args[i], args[i + 1 :]) if i < len(args) else ("", [])


def _tools_reason(cmd: str, args: list[str]) -> str | None:
    if cmd == "git":
        return _git_reason(*_subcommand(args, ("-C", "-c")))
    if cmd in ("python", "python3") and args[:2] == ["-m", "pip"]:
        cmd, args = "pip", args[2:]
    sub, rest = _subcommand(args)
    if cmd == "uv" and sub == "pip":
        cmd, (sub, rest) = "pip", _subcommand(rest)
    if sub in PACKAGE_REMOVAL.get(cmd, ()):
        return f"`{cmd} {sub}` removes packages"
    if cmd == "kill" and any(a in ("-9", "-KILL", "-SIGKILL") for a in args):
        return "`kill -9` force-kills processes"
    if cmd in ("pkill", "killall"):
        return f"`{cmd}` kills processes by name"
    if cmd in ("hf", "huggingface-cli") and "delete" in operands(args)[:3]:
        return f"`{cmd} ... delete` deletes from the Hugging Face Hub"
    return None


def _git_reason(sub: str, rest: list[str]) -> str | None:
    if sub == "push":
        return "`git push` publishes to a remote"
    if sub == "reset" and "--hard" in rest:
        return "`git reset --hard` discards uncommitted changes"
    if sub == "clean" and not {"-n", "--dry-run"} & set(rest):
        return "`git clean` deletes untracked files"
    if sub == "checkout" and ("--" in rest or "." in rest):
        return "`git checkout -- <paths>` discards uncommitted changes"
    if sub == "restore" and rest and options(rest) != ["--staged"]:
        return "`git restore` discards uncommitted changes"
    if sub == "branch" and "-D" in rest:
        return "`git branch -D` deletes a branch"
    if sub == "stash" and rest[:1] in (["drop"], ["clear"]):
        return f"`git stash {rest[0]}` deletes stashed changes"
    return None
