"""How bash reads a command line, as far as deciding what it runs needs.

`split_segments` cuts a line into simple commands; `command_words` looks past
assignments and wrappers (env, nohup, timeout, xargs, ...) to the command that runs;
`effective_commands` also looks inside `bash -c`, eval, here-documents, sudo and
`find -exec`.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

ROOT = {"sudo", "doas", "su", "pkexec"}
SHELLS = frozenset({"sh", "bash", "zsh", "dash", "ksh", "fish", "python", "python3", "perl"})

WRAPPERS = frozenset({"env", "nohup", "nice", "ionice", "time", "timeout", "stdbuf", "xargs",
                      "exec", "command", "builtin", "then", "else", "do", "if", "elif", "while",
                      "until", "{", "}", "!", "$"})  # fmt: skip


WRAPPER_VALUES = {
    "env": {"-u", "--unset", "-C", "--chdir", "-S", "--split-string"},
    "timeout": {"-s", "--signal", "-k", "--kill-after"},
    "xargs": {"-a", "--arg-file", "-d", "--delimiter", "-E", "-e", "-I", "-i", "-L", "-l",
              "-n", "--max-args", "-P", "--max-procs", "-s", "--max-chars"},
    "nice": {"-n", "--adjustment"},
    "ionice": {"-c", "--class", "-n", "--classdata", "-t"},
    "stdbuf": {"-i", "-o", "-e"},
    "time": {"-f", "--format", "-o", "--output"},
}  # fmt: skip


SHELL_C = re.compile(r"^-[a-zA-Z]*c[a-zA-Z]*$")  # -c, -lc, -ec, -xc ...


SUDO_VALUES = {"-u", "--user", "-g", "--group", "-C", "-p", "--prompt", "-h", "--host"}


ASSIGN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")

# What makes bash read a word as something other than its letters: expansions, globs,
# braces, history, escapes, and control characters that hide what follows on screen.
EXPANDING = re.compile(r"[$`*?\[\]{}~!\\\x00-\x1f\x7f]")
# Command and process substitution: its output joins the words around it.
SUBSTITUTION = re.compile(r"`|[$<>]\(")
# Builtins that change what later commands of the same line mean: the directory,
# variables, options, aliases, functions, traps, or a whole other script.
STATE_BUILTINS = frozenset({"cd", "pushd", "popd", "alias", "unalias", "shopt", "set",
                            "export", "unset", "declare", "typeset", "readonly", "local",
                            "source", ".", "enable", "hash", "trap", "eval"})  # fmt: skip


@dataclass
class Segment:
    """One simple command: its words, where output is redirected, what input is
    redirected from, and if stdin is a pipe."""

    words: list[str] = field(default_factory=list)
    targets: list[str] = field(default_factory=list)
    inputs: list[str] = field(default_factory=list)
    heredoc: str = ""  # the body of a here-document (or here-string) fed to it
    piped: bool = False
    pipeline: list[str] = field(default_factory=list)


def effective_commands(command: str, depth: int = 0) -> list[list[str]] | None:
    """Every command a line would run, looking through wrappers, sudo, `bash -c`, eval,
    here-documents and `find -exec`; None when the line cannot be parsed."""
    segments = split_segments(command)
    if segments is None or depth > 3:
        return None
    found: list[list[str]] = []
    for segment in segments:
        words = command_words(segment.words)
        while words and words[0] in ROOT:  # sudo [-u user] cmd ...: what runs is cmd
            words = command_words(words[1 + options_end(words[1:], SUDO_VALUES) :])
        if not words:
            continue
        found.append(words)
        nested = [inner_command(words)]
        if segment.heredoc and words[0] in SHELLS:
            nested.append(segment.heredoc)
        if words[0] == "find":
            nested.extend(" ".join(sub) for sub in find_execs(words[1:]))
        for inner in filter(None, nested):
            found.extend(effective_commands(inner, depth + 1) or [])
    return found


def options_end(words: list[str], takes_value: set[str]) -> int:
    """Where the options (and their values) before an operand end."""
    i = 0
    while i < len(words) and words[i].startswith("-"):
        i += 2 if words[i] in takes_value else 1
    return i


def split_segments(command: str) -> list[Segment] | None:
    """The simple commands of a shell line, split on ; && || | & ( ) ` and newlines.

    As bash reads it: `\\`-newline joins lines, `#` starts a comment only at the start
    of a word, and a here-document's body is kept with the command that reads it.
    """
    lexer = shlex.shlex(command.replace("\\\n", " "), posix=True, punctuation_chars="();<>|&\n`")
    lexer.whitespace_split = True
    lexer.whitespace = " \t\r"
    lexer.commenters = ""
    try:
        tokens = without_comments(list(lexer))
    except ValueError:
        return None
    segments, current = [], Segment()
    heredoc: str | None = None
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if not is_operator(token):
            current.words.append(token)
        elif "(" in token or not ("<" in token or ">" in token):
            segments.append(current)
            piped = "|" in token and "||" not in token
            pipeline = [*current.pipeline, *command_words(current.words)[:1]] if piped else []
            current = Segment(piped=piped, pipeline=pipeline)
            if "\n" in token and heredoc is not None:
                end = skip_heredoc(tokens, i, heredoc)
                segments[-1].heredoc = " ".join(tokens[i + 1 : end])
                i, heredoc = end, None
        elif ">" in token:
            current.targets.extend(tokens[i + 1 : i + 2])
            i += 1
        else:
            if token == "<<" and i + 1 < len(tokens):
                heredoc = tokens[i + 1].lstrip("-")
            elif token == "<<<":
                current.heredoc = " ".join(tokens[i + 1 : i + 2])
            else:
                current.inputs.extend(tokens[i + 1 : i + 2])
            i += 1
        i += 1
    segments.append(current)
    return [s for s in segments if s.words or s.targets]


def without_comments(tokens: list[str]) -> list[str]:
    """Drop words from one that starts with `#` to the end of its line."""
    kept, skipping = [], False
    for token in tokens:
        if "\n" in token and is_operator(token):
            skipping = False
        elif token.startswith("#"):
            skipping = True
        if not skipping:
            kept.append(token)
    return kept


def is_operator(token: str) -> bool:
    return bool(token) and all(c in "();<>|&\n`" for c in token)


def skip_heredoc(tokens: list[str], i: int, delimiter: str) -> int:
    """The index of the delimiter that closes a heredoc whose body starts after token i."""
    for j in range(i + 1, len(tokens)):
        if tokens[j] == delimiter and "\n" in tokens[j - 1]:
            return j
    return len(tokens)


def plain(word: str) -> bool:
    """Whether bash passes this word on as it reads, expanding nothing in it."""
    return not EXPANDING.search(word)


def strip_assignments(words: list[str]) -> list[str]:
    i = 0
    while i < len(words) and ASSIGN.match(words[i]):
        i += 1
    return words[i:]


def command_words(words: list[str]) -> list[str]:
    """The words of the command that actually runs, past assignments and wrappers."""
    i = 0
    while i < len(words):
        word = words[i]
        if ASSIGN.match(word):
            i += 1
        elif word in WRAPPERS:
            takes_value = WRAPPER_VALUES.get(word, set())
            i += 1
            while i < len(words) and (words[i][:1] in ("-", "{") or words[i][:1].isdigit()):
                i += 2 if words[i] in takes_value else 1
        else:
            break
    rest = words[i:]
    return [rest[0].rsplit("/", 1)[-1], *rest[1:]] if rest else []


def inner_command(words: list[str]) -> str | None:
    """The command line a shell -c (-lc, -ec ...) or eval would run, if that is what this is."""
    if not words:
        return None
    cmd, args = words[0], words[1:]
    if cmd in ("bash", "sh", "zsh", "dash", "ksh", "fish"):
        flag = next((k for k, a in enumerate(args[:-1]) if SHELL_C.match(a)), None)
        return args[flag + 1] if flag is not None else None
    return " ".join(args) if cmd == "eval" else None


def options(words: list[str]) -> list[str]:
    return [w for w in words if w.startswith("-")]


def operands(words: list[str]) -> list[str]:
    return [w for w in words if not w.startswith("-")]


def find_execs(args: list[str]) -> list[list[str]]:
    """The commands `find -exec` (-execdir, -ok, -okdir) would run."""
    found = []
    for flag in ("-exec", "-execdir", "-ok", "-okdir"):
        if flag in args:
            sub = args[args.index(flag) + 1 :]
            end = next((k for k, w in enumerate(sub) if w in (";", "+")), len(sub))
            found.append(sub[:end])
    return found
