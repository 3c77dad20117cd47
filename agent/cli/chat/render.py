"""The chat's rich renderer: one small function per event type, dispatched by a dict.

Streamed answers are cut into Markdown blocks as they arrive. A block is rendered
once, when it is complete (a blank line after a paragraph or list, a closing code
fence, a heading); only the open tail is redrawn, in a live area that also holds
the spinner and the last lines a tool logged. The work per chunk stays constant,
so rendering grows linearly with the answer.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from typing import IO, Any

from rich.console import (
    Console,
    ConsoleOptions,
    Group,
    RenderableType,
    RenderResult,
)
from rich.pager import Pager
from rich.segment import Segment
from rich.text import Text

from agent import events as ev
from agent.cli.chat.live_area import LOG_TAIL_LINES, LiveArea
from agent.cli.chat.markdown_stream import MarkdownStream
from agent.cli.chat.markdown_view import markdown_block
from agent.cli.chat.tool_output import numbered, output_lines
from agent.cli.goal_line import goal_line
from agent.cli.run_views import live_line
from agent.cli.summary import hook_line, summarize_call
from agent.cli.visible import visible
from agent.wording import counted


class SafeConsole(Console):
    """A console whose text cannot drive the terminal: escape codes reach it only from
    styles and from the chat's own cursor moves (control segments)."""

    def render(
        self, renderable: RenderableType, options: ConsoleOptions | None = None
    ) -> Iterable[Segment]:
        for segment in super().render(renderable, options):
            if segment.control is None and (text := visible(segment.text)) is not segment.text:
                segment = Segment(text, segment.style)
            yield segment


class ColourPager(Pager):
    """$PAGER, else less, as rich's pager; less is told to show the colours (-R) unless
    LESS says how it should run, or it prints their codes as text."""

    def show(self, content: str) -> None:
        import pydoc

        if "LESS" in os.environ:
            pydoc.pager(content)
            return
        os.environ["LESS"] = "R"
        try:
            pydoc.pager(content)
        finally:
            os.environ.pop("LESS", None)


def make_console(file: IO[str] | None = None, width: int | None = None) -> Console:
    """A console that follows the terminal (its width, NO_COLOR when set) unless told otherwise."""
    return SafeConsole(
        file=file,
        width=width,
        no_color=bool(os.environ.get("NO_COLOR")),
        force_terminal=True if file is not None else None,
        highlight=False,
    )


class Trimmed:
    """A renderable without the blank lines and trailing spaces rich pads blocks with.

    Blocks are printed one at a time, so their spacing is ours to set; lines without
    padding also copy cleanly out of the terminal. Styled padding (code backgrounds)
    stays.
    """

    def __init__(self, renderable: RenderableType) -> None:
        self.renderable = renderable

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        coloured = console.color_system is not None and not console.no_color
        lines = console.render_lines(self.renderable, options, pad=False)
        while lines and _is_blank(lines[0], coloured):
            lines.pop(0)
        while lines and _is_blank(lines[-1], coloured):
            lines.pop()
        for line in lines:
            while line and _is_blank(line[-1:], coloured):
                line.pop()
            if line and not _background(line[-1], coloured):
                line[-1] = Segment(line[-1].text.rstrip(), line[-1].style)
            yield from line
            yield Segment.line()


def _background(segment: Segment, coloured: bool) -> bool:
    return bool(coloured and segment.style and segment.style.bgcolor)


def _is_blank(line: list[Segment], coloured: bool) -> bool:
    """Whitespace only, and no background colour that would make it visible."""
    return all(not s.text.strip() and not _background(s, coloured) for s in line)


class Renderer:
    """Turns the event stream into what the person sees. Never blocks, never asks.

    `_on_<event type>` handles that event type; types without one are not shown.
    """

    def __init__(self, console: Console) -> None:
        self.console = console
        self.stream = MarkdownStream()
        self.live = LiveArea(console, self.stream)
        self.leaving = False  # the chat is closing: no hints about what a key does next
        self.esc_stopped = False  # the turn was stopped by Esc, which never counts towards quitting
        self._streamed = False
        self._turn_started = 0.0
        self._last_usage: ev.Usage | None = None
        self.outputs: list[ev.ToolOutput] = []  # Ctrl-O steps back through these
        self._expanded = 0  # how far back the last Ctrl-O went (1: the newest)
        self._handlers: dict[str, Callable[[Any], None]] = {
            name.removeprefix("_on_"): getattr(self, name)
            for name in dir(self)
            if name.startswith("_on_")
        }

    def __call__(self, event: ev.Event) -> None:
        handler = self._handlers.get(event.type)
        if handler is not None:
            handler(event)

    def pause(self) -> None:
        """Stop everything live before a prompt."""
        self.live.stop_spinner()
        self.live.pause()

    def status(self, label: str) -> None:
        """A spinner for waits the engine does not announce (loading the model library)."""
        self.live.spin(label)

    def line(self, text: str | Text, style: str = "") -> None:
        """One line that never wraps: narrow terminals get an ellipsis instead of a mess."""
        out = text if isinstance(text, Text) else Text(text, style=style)
        self.console.print(out, no_wrap=True, overflow="ellipsis")

    def note(self, text: str, style: str = "dim") -> None:
        """A message the person should read whole, wrapped to the terminal."""
        self.console.print(Text(text, style=style))

    # -- the answer ---------------------------------------------------------------

    def _on_processing(self, event: ev.Processing) -> None:
        if event.iteration <= 1:
            self._turn_started = time.monotonic()
        self._streamed = False
        self.live.spin("Waiting for the model")

    def _on_thinking_chunk(self, event: ev.ThinkingChunk) -> None:
        self.live.spin("Thinking")

    def _on_assistant_chunk(self, event: ev.AssistantChunk) -> None:
        if not self._streamed:
            self._streamed = True
            self.live.stop_spinner()
            self.live.show_tail(True)
        for block in self.stream.feed(event.content):
            self._print_block(block)

    def _on_assistant_stream_end(self, event: ev.AssistantStreamEnd) -> None:
        blocks = self.stream.flush()
        if not event.discarded:
            for block in blocks:
                self._print_block(block)
        self.live.show_tail(False)
        if event.discarded:
            self._streamed = False

    def _on_assistant_message(self, event: ev.AssistantMessage) -> None:
        if event.content and not self._streamed:
            self._print_block(event.content)
        self._streamed = False

    def _print_block(self, block: str) -> None:
        self.console.print(Group(Text(), Trimmed(markdown_block(block))))

    # -- tools ----------------------------------------------------------------------

    def _on_tool_call(self, event: ev.ToolCall) -> None:
        self.live.stop_spinner()
        summary = summarize_call(event.name, event.arguments, width=max(20, self.console.width))
        name, _, detail = summary.partition(": ")
        self.console.print()
        self.line(Text.assemble(("● ", "cyan"), (name, "bold"), f": {detail}" if detail else ""))

    def _on_tool_state_change(self, event: ev.ToolStateChange) -> None:
        if event.state == "running":
            self.live.spin(f"Running {event.name}")

    def _on_tool_progress(self, event: ev.ToolProgress) -> None:
        self.live.progress(progress_text(event.progress, event.total, event.message))

    def _on_tool_log(self, event: ev.ToolLog) -> None:
        """A chunk may hold thousands of lines; only the newest few can be seen."""
        log = self.live.log
        lines = event.line.rsplit("\n", LOG_TAIL_LINES)[-LOG_TAIL_LINES:] if event.line else []
        for i, line in enumerate(lines):
            if log and log[-1].startswith("\r") and (i == 0 or line.startswith("\r")):
                log[-1] = line  # the progress bar's line, redrawn or finished: not another
            else:
                log.append(line)

    def _on_tool_output(self, event: ev.ToolOutput) -> None:
        self.live.stop_spinner()
        self.outputs.append(event)
        for line in numbered(output_lines(event.content, event.is_error, event.data)):
            self._output_line(line, wrap=event.is_error)

    def expand_output(self, again: bool = False) -> bool:
        """Show a tool output whole (Ctrl-O): the newest, or pressed `again`, the one
        before the last shown (after the oldest, the newest again). In place when it
        fits the window, else in the pager (`$PAGER`, else `less`); False when there is none."""
        if not self.outputs:
            return False
        self._expanded = self._expanded % len(self.outputs) + 1 if again else 1
        event = self.outputs[-self._expanded]
        where = f"{self._expanded} of {len(self.outputs)}, newest first"
        more = "; Ctrl-O again: the one before" if len(self.outputs) > 1 else ""
        header = Text.assemble(
            ("● ", "cyan"), (f"{event.name} output, in full", "bold"), (f" ({where}{more})", "dim")
        )
        lines = numbered(output_lines(event.content, event.is_error, event.data, full=True))
        width = max(1, self.console.width)
        rows = sum(max(1, -(-line.cell_len // width)) for line in lines)
        if rows + 2 <= self.console.height:
            self.console.print()
            self.line(header)
            for line in lines:
                self._output_line(line, wrap=True)
            return True
        with self.console.pager(ColourPager(), styles=True):
            self.console.print(header)
            for line in lines:
                self.console.print(line, overflow="fold")
        return True

    def _output_line(self, line: Text, wrap: bool) -> None:
        """Errors wrap so the whole message shows; other output keeps one row a line."""
        if wrap:
            self.console.print(line, overflow="fold")
        else:
            self.line(line)

    def _on_approval_required(self, event: ev.ApprovalRequired) -> None:
        self.pause()  # the chat asks the question

    # -- bookkeeping and notes --------------------------------------------------------

    def _on_usage(self, event: ev.Usage) -> None:
        self._last_usage = event

    def _on_turn_complete(self, event: ev.TurnComplete) -> None:
        self.pause()
        parts = [f"{time.monotonic() - self._turn_started:.1f}s"]
        if usage := self._last_usage:
            parts.append(f"{usage.total_input_tokens:,} in / {usage.total_output_tokens:,} out")
            if usage.total_cost_usd is not None:
                parts.append(f"${usage.total_cost_usd:.4f}")
        self.console.print()
        self.line("✓ " + " · ".join(parts), style="dim")

    def _on_retrying(self, event: ev.Retrying) -> None:
        self.note(
            f"↻ retry {event.attempt}/{event.max_attempts - 1} in {event.delay_s:.1f}s: "
            f"{event.reason}",
            style="yellow",
        )

    def _on_compacted(self, event: ev.Compacted) -> None:
        before, after = event.tokens_before, event.tokens_after
        self.line(f"· compacted the conversation: {before:,} → {after:,} tokens", style="dim")

    def _on_doom_loop(self, event: ev.DoomLoop) -> None:
        self.note(f"⚠ {event.message}", style="yellow")

    def _on_plan_update(self, event: ev.PlanUpdate) -> None:
        self.console.print()
        for line in plan_lines(event.todos):
            self.line(f"  {line}")

    def _on_goal(self, event: ev.GoalUpdate) -> None:
        """Each turn toward a goal starts with where it stands (kept live under the
        answer while the turn runs); its end says how it ended."""
        line = goal_line(event)
        active = event.status == "active"
        self.live.status_line = line if active else ""
        self.console.print()
        self.line(line, style="cyan" if active or event.status == "met" else "yellow")

    def _on_interrupted(self, event: ev.Interrupted) -> None:
        self.pause()
        quits = not (self.leaving or self.esc_stopped)
        hint = " (Ctrl-C again within a second quits.)" if quits else ""
        self.note(f"⏹ Interrupted.{hint}", style="yellow")

    def _on_undo_complete(self, event: ev.UndoComplete) -> None:
        if not event.removed_messages:
            self.line("· nothing to undo", style="dim")
            return
        self.line(
            f"· removed the last turn ({counted(event.removed_messages, 'message')})", style="dim"
        )
        for path in event.restored_files:
            self.line(f"  restored {path}", style="dim")

    def _on_hook(self, event: ev.HookRun) -> None:
        if line := hook_line(event):
            self.note(line, style="yellow")

    def _on_runs_update(self, event: ev.RunsUpdate) -> None:
        self.live.runs = [live_line(run) for run in event.runs]
        self.live.refresh()  # the engine sends at most two a second

    def _on_run_wake(self, event: ev.RunWake) -> None:
        self.console.print()
        self.note(f"⏰ woken: {event.summary}", style="cyan")

    def _on_notice(self, event: ev.Notice) -> None:
        self.note(f"· {event.message}")

    def _on_error(self, event: ev.Error) -> None:
        self.pause()
        self.note(f"✗ {event.message}", style="red")


def progress_text(done: float, total: float | None, message: str) -> str:
    """`42% · step 3/8`: the share when the total is known, then the tool's own words."""
    parts = []
    if total:
        parts.append(f"{100 * done / total:.0f}%")
    elif done:
        parts.append(f"{done:g}")
    if message:
        parts.append(message)
    return " · ".join(parts)


PLAN_MARKS = {"completed": "☑", "in_progress": "◐", "pending": "☐"}


def plan_lines(todos: list[dict[str, Any]]) -> list[str]:
    """The plan as the chat shows it: checked, current, open."""
    from agent.tools.plan import format_plan

    return format_plan(todos, PLAN_MARKS).splitlines()
