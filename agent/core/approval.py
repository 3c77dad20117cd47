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

import os
import re
import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent.core.shell_words import (
    ROOT,
    SHELLS,
    STATE_BUILTINS,
    SUBSTITUTION,
    Segment,
    command_words,
    effective_commands,
    find_execs,
    inner_command,
    operands,
    options,
    plain,
    split_segments,
    strip_assignments,
)
from agent.tools.local.files import resolve_path

if TYPE_CHECKING:
    from agent.config import ApprovalPolicy, Settings
    from agent.tools.spec import ToolSpec

READ_ONLY_TOOLS = frozenset({"read", "bash_output"})
FILE_TOOLS = frozenset({"write", "edit"})
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
# What an "always" prefix may be extended by (nothing the shell expands or splits),
# where a covered command may send output, and `set` options that change no meaning.
SAFE_EXTENSION = re.compile(r"[A-Za-z0-9_@%+=:,./-]+")
HARMLESS_TARGET = re.compile(r"\d+|-|/dev/null")
SET_HARMLESS = re.compile(r"[-+][euxo]+|pipefail|errexit|nounset|xtrace")
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
        return "approval.bash_always_ask is on" if policy.bash_always_ask else _fallback(command)
    untrusted = [s for s in segments if not _matching_prefix(s.words, policy.allow_commands)]
    if not untrusted:
        return None
    if policy.bash_always_ask:
        return "approval.bash_always_ask is on"
    return _segments_reason(untrusted) or _inline_fetch(command)


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


def is_destructive_command(command: str) -> str | None:
    """Why a shell command is destructive, or None when it looks safe to run unasked."""
    segments = split_segments(command)
    if segments is None:
        return _fallback(command.replace("\\\n", " "))
    return _segments_reason(segments) or _inline_fetch(command)


def _fallback(command: str) -> str | None:
    """For commands shlex cannot parse: coarse patterns, better a question too many."""
    for pattern, reason in _FALLBACK:
        if re.search(pattern, command):
            return reason
    return None


def _inline_fetch(command: str) -> str | None:
    return "runs a downloaded script" if _INLINE_FETCH.search(command) else None


def _segments_reason(segments: list[Segment]) -> str | None:
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


def always_scope(name: str, args: dict[str, Any], cwd: Path) -> str:
    """What answering "always" to this call allows for the rest of the session; "" when
    no scope narrow enough can be named, and "always" is not offered.

    Never a whole tool that can do harm: a bash command prefix (`bash: rm -rf ./build*`,
    the star extending the last word only), or a directory for file changes
    (`edits in src/`); other tools by name. No prefix is offered for a command whose
    words depend on anything but their letters (expansions, globs, redirections, what
    the line did before), nor one whose last word is a directory as wide as `.`, `..`,
    `/` or `~`; no folder as wide as `/` or the home folder.
    """
    if name == "bash":
        command = str(args.get("command") or "")
        segments = split_segments(command)
        if not segments:
            return f"bash: {command.strip()}"
        if not _scopes_apply(command, segments, cwd):
            return ""
        asking = [s for s in segments if _segments_reason([s])] or segments
        words = asking[0].words
        if not _coverable(asking[0], cwd) or _wide(words[-1]):
            return ""
        return f"bash: {shlex.join(words)}*"
    if name in FILE_TOOLS and isinstance(args.get("path"), str) and args["path"]:
        folder = resolve_path(args["path"], cwd).parent
        home = Path.home().resolve()
        if folder == home or folder in home.parents:
            return ""
        root = cwd.resolve()
        shown = str(folder.relative_to(root)) if folder.is_relative_to(root) else str(folder)
        return "edits in ./" if shown == "." else f"edits in {shown.rstrip('/')}/"
    return f"tool: {name}"


def configured_scopes(saved: list[str], project_root: Path) -> set[str]:
    """`approval.always_allow` as session scopes: folders there are the project's
    (taken as written: a folder that turns out to be a symlink covers nothing)."""
    scopes = set()
    for scope in saved:
        if scope.startswith("edits in "):
            folder = os.path.normpath(project_root.resolve() / scope[len("edits in ") :])
            scope = f"edits in {folder.rstrip('/')}/"
        scopes.add(scope)
    return scopes


def scope_to_save(scope: str, cwd: Path, project_root: Path) -> str:
    """A session scope as `approval.always_allow` keeps it: folders relative to the
    project root where they are inside it."""
    if not scope.startswith("edits in "):
        return scope
    folder = (cwd / scope[len("edits in ") :]).resolve()
    root = project_root.resolve()
    if not folder.is_relative_to(root):
        return f"edits in {str(folder).rstrip('/')}/"
    inside = str(folder.relative_to(root))
    return "edits in ./" if inside == "." else f"edits in {inside}/"


def allowed_always(
    name: str, args: dict[str, Any], scopes: set[str], cwd: Path, every_part: bool = False
) -> bool:
    """Whether an earlier "always" answer covers this call.

    A bash command is covered when each part that would ask (each part at all with
    `every_part`, as under approval.bash_always_ask) extends an allowed prefix; a file
    change when the path, as written and as it resolves, stays in an allowed folder.
    """
    if not scopes:
        return False
    if name == "bash":
        return _command_allowed(str(args.get("command") or ""), scopes, cwd, every_part)
    if name in FILE_TOOLS and isinstance(args.get("path"), str) and args["path"]:
        root = cwd.resolve()
        written = Path(os.path.normpath(root / Path(args["path"]).expanduser()))
        target = resolve_path(args["path"], cwd)
        for scope in scopes:
            if scope.startswith("edits in "):
                folder = Path(os.path.normpath(root / scope[len("edits in ") :]))
                inside = written.is_relative_to(folder) and target.is_relative_to(folder)
                if inside and folder.resolve() == folder:
                    return True
        return False
    return f"tool: {name}" in scopes


def _command_allowed(command: str, scopes: set[str], cwd: Path, every_part: bool) -> bool:
    segments = split_segments(command)
    if not segments:
        return f"bash: {command.strip()}" in scopes
    prefixes = []
    for scope in scopes:
        if scope.startswith("bash: ") and scope.endswith("*"):
            try:
                prefixes.append(shlex.split(scope[len("bash: ") : -1]))
            except ValueError:
                continue
    if not _scopes_apply(command, segments, cwd):
        return False
    asking = [s for s in segments if every_part or _segments_reason([s])]
    # nothing asks on its own: the line as a whole does (`bash <(curl ...)`), no prefix fits
    return bool(asking) and all(
        _coverable(s, cwd) and any(_extends(s.words, p) for p in prefixes if p) for s in asking
    )


def _scopes_apply(command: str, segments: list[Segment], cwd: Path) -> bool:
    """Whether a prefix means here what it meant when allowed: no substitution whose
    output joins a word (`./build$(...)`, ``./build`...` ``), and nothing in the line
    that changes the folder, variables, aliases or functions a later part sees."""
    return not SUBSTITUTION.search(command) and not any(
        _changes_state(s.words, cwd) for s in segments
    )


def _changes_state(words: list[str], cwd: Path) -> bool:
    run = command_words(words)
    if not run:
        return bool(words)  # only assignments: variables for the rest of the line
    if run[0] == "cd" and len(run) == 2 and plain(run[1]):
        return (cwd / run[1]).resolve() != cwd.resolve()  # `cd <this folder>` is no change
    if run[0] == "set":
        return not all(SET_HARMLESS.fullmatch(w) for w in run[1:])
    return run[0] in STATE_BUILTINS


def _coverable(segment: Segment, cwd: Path) -> bool:
    """Whether the words of a part say all it does, so a prefix of them can stand for
    it: nothing expands, no path leaves through a symlink, no input from a file, a
    here-document or a pipe into a shell, no words from input (xargs), output only to
    other descriptors or /dev/null."""
    words = segment.words
    run = command_words(words)
    if segment.heredoc or segment.inputs or "xargs" in words or "parallel" in words:
        return False
    if segment.piped and run and run[0] in SHELLS:
        return False
    if not all(HARMLESS_TARGET.fullmatch(t) for t in segment.targets):
        return False
    return bool(words) and all(plain(w) and not _through_symlink(w, cwd) for w in words)


def _through_symlink(word: str, cwd: Path) -> bool:
    """Whether the word, read as a path, goes through a symlink (and may lead anywhere)."""
    lexical = os.path.normpath(cwd.resolve() / word)
    return os.path.realpath(lexical) != lexical


def _wide(word: str) -> bool:
    """A word like `.`, `..`, `/`, `~`, `./` or `../..`: extended, it could name anything."""
    return set(word) <= set("./~")


def _extends(words: list[str], prefix: list[str]) -> bool:
    """`words` are the prefix with its last word extended, never with a word added, and
    the extension names nothing outside it: plain letters, no `..`; a last word as wide
    as `.`, `/` or `~` is not extended at all."""
    if len(words) != len(prefix) or words[:-1] != prefix[:-1]:
        return False
    last, given = prefix[-1], words[-1]
    extension = given[len(last) :]
    if not given.startswith(last) or not extension:
        return given == last
    if _wide(last):
        return False
    return bool(SAFE_EXTENSION.fullmatch(extension)) and ".." not in last[-1:] + extension
