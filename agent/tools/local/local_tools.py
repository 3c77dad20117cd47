"""The tools that act on the user's machine: bash, background jobs, read, write, edit.

Names and parameters follow the original ml-intern, so habits carry over.
"""

from __future__ import annotations

from agent.tools.local import background as jobs
from agent.tools.local import bash as sh
from agent.tools.local import edit as ed
from agent.tools.local import files as fs
from agent.tools.local import paging
from agent.tools.local import terminal as term
from agent.tools.spec import ToolContext, ToolError, ToolResult, ToolSpec

BASH = """\
Run a shell command with bash on the user's machine, in the working directory. Returns the \
output (stdout and stderr together; head and tail kept when long) and the exit code when it \
is not 0.

- Use the file tools instead of shell for files: read (not cat/head/tail), edit (not sed/awk), \
write (not echo > or heredocs).
- Each call is a fresh shell: cd does not carry over; pass work_dir or chain steps with &&. \
Independent commands can be separate calls.
- There is no stdin: use non-interactive flags (-y, --yes, --no-input).
- Timeout: default 120 s, max 600 s. For training, servers and anything slower set \
run_in_background=true, then check it with bash_output and stop it with kill_background.
"""

BASH_OUTPUT = """\
Show a background job's status (running, or exited with its code) and the output it wrote \
since you last looked (the newest tail_lines lines). The full log stays in the file named \
when the job started.
"""

KILL_BACKGROUND = """\
Stop a background job started with bash run_in_background=true, together with every process \
it started (SIGTERM, then SIGKILL after a few seconds).
"""

READ = f"""\
Read a text file, with line numbers (cat -n style, starting at 1).

- Shows up to {fs.DEFAULT_LIMIT} lines from offset (default: the first line); long files \
come in pages and the result says which offset to ask for next.
- Lines longer than {paging.MAX_LINE_CHARS} characters are cut, with a marker.
- Jupyter notebooks (.ipynb) are shown as cells with their outputs.
- Binary files (images, PDFs, archives, weights) are refused with their type: inspect them \
with bash. For a directory, use bash ls.
- Read a file before you edit or overwrite it: edit and write refuse files you have not read.
"""

WRITE = """\
Write a file, replacing it if it exists; parent folders are created.

- An existing file must have been read first, and not changed on disk since.
- Prefer edit for changes to an existing file: it is shorter and safer.
"""

EDIT = """\
Replace text in a file you have read: old_str must occur exactly once (or set replace_all), \
and is replaced by new_str. Returns a unified diff of the change.

- Copy old_str from the file exactly, without read's line-number prefixes; include a few \
surrounding lines to make it unique. If only whitespace differs, a unique match is still \
accepted and new_str is re-indented to fit.
- Set new_str to "" to delete; use mode=append_after or prepend_before to insert next to \
old_str.
"""


async def bash(args: sh.BashArgs, ctx: ToolContext) -> ToolResult:
    if not args.command.strip():
        raise ToolError("command is empty; give the shell command to run")
    if args.run_in_background:
        return jobs.start_background(args, ctx)
    if terminal := term.delegated(args, ctx):
        return await term.run_in_terminal(args, ctx, terminal)
    return await sh.run_foreground(args, ctx)


def local_tools() -> list[ToolSpec]:
    """bash, bash_output, kill_background, read, write and edit, in that order."""
    page = paging.PAGE_CHARS + 10_000
    output = sh.OUTPUT_LIMIT + 1_000
    return [
        ToolSpec(
            "bash",
            BASH,
            bash,
            args_model=sh.BashArgs,
            timeout_s=sh.MAX_TIMEOUT_S + 20,
            max_output_chars=output,
        ),
        ToolSpec(
            "bash_output",
            BASH_OUTPUT,
            jobs.bash_output,
            args_model=jobs.BashOutputArgs,
            read_only=True,
            max_output_chars=output,
        ),
        ToolSpec(
            "kill_background",
            KILL_BACKGROUND,
            jobs.kill_background,
            args_model=jobs.KillBackgroundArgs,
        ),
        ToolSpec(
            "read", READ, fs.read, args_model=fs.ReadArgs, read_only=True, max_output_chars=page
        ),
        ToolSpec("write", WRITE, fs.write, args_model=fs.WriteArgs),
        ToolSpec("edit", EDIT, ed.edit, args_model=ed.EditArgs),
    ]
