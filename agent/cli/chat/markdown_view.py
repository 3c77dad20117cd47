"""How the chat draws Markdown and code: rich's renderers, fitted to model answers.

Imported by the chat only; markdown-it, pygments and the Markdown classes load on
first use, since none of them is needed to show the prompt.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, ClassVar

from rich.console import Console, ConsoleOptions, RenderableType, RenderResult

if TYPE_CHECKING:
    from rich.markdown import Markdown
    from rich.table import Table

CODE_THEME = "monokai"
_NARROWEST_COLUMN = 4  # a table whose columns would get less is shown one row at a time


def markdown_block(text: str) -> RenderableType:
    """Imported on first use: markdown-it and pygments are not needed to show the prompt."""
    return _answer_markdown()(text)


@functools.cache
def _answer_markdown() -> type[Markdown]:
    """rich's Markdown with two changes, defined on first use (see markdown_block).

    - HTML is off: rich drops every HTML token, so `<your token>`, `--out <dir>` or
      `std::vector<int>` vanished from answers; without HTML they are plain text.
    - Table cells fold instead of being cut with "…", see `_fit_table`.
    """
    from markdown_it import MarkdownIt
    from rich.markdown import Markdown, MarkdownElement, TableElement
    from rich.table import Table

    parser = MarkdownIt("commonmark", {"html": False}).enable("strikethrough").enable("table")

    class AnswerTable(TableElement):
        def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
            for table in super().__rich_console__(console, options):
                assert isinstance(table, Table)
                yield _fit_table(table, console, options)

    class AnswerMarkdown(Markdown):
        elements: ClassVar[dict[str, type[MarkdownElement]]] = {
            **Markdown.elements,
            "table_open": AnswerTable,
        }

        def __init__(self, markup: str) -> None:
            super().__init__("", code_theme=CODE_THEME)  # rich's own parser gets nothing to parse
            self.markup = markup
            self.parsed = parser.parse(markup)

    return AnswerMarkdown


def _fit_table(table: Table, console: Console, options: ConsoleOptions) -> RenderableType:
    """The table with every character of every cell on screen at this width.

    rich squeezes all columns alike and cuts cells with "…". Here columns get fixed
    widths that keep short cells (numbers, names) whole first, long cells wrap and then
    fold; a table too wide for columns of _NARROWEST_COLUMN is shown a row at a time.
    """
    from rich.measure import Measurement

    columns = table.columns
    sizes = [
        [Measurement.get(console, options, cell) for cell in (c.header, *c.cells)] for c in columns
    ]
    words = [max(size.minimum for size in column) for column in sizes]  # longest word
    lines = [max(size.maximum for size in column) for column in sizes]  # longest cell
    padding = sum(table._get_padding_width(i) for i in range(len(columns)))
    room = options.max_width - table._extra_width - padding
    narrowest = [min(width, _NARROWEST_COLUMN) for width in words]
    if sum(narrowest) > room:
        return _one_row_at_a_time(table)
    widths = _widen(narrowest, words, room)
    if sum(words) < room:
        widths = _widen(words, lines, room)
    for column, width in zip(columns, widths, strict=True):
        column.width, column.overflow = width, "fold"
    return table


def _widen(widths: list[int], wanted: list[int], room: int) -> list[int]:
    """Widths raised towards the wanted ones within room: the columns wanting least
    more get all of it first, the rest share what is left evenly."""
    room -= sum(widths)
    widths = list(widths)
    by_need = sorted(range(len(widths)), key=lambda i: wanted[i] - widths[i])
    for done, column in enumerate(by_need):
        need = wanted[column] - widths[column]
        if need > room:
            even, odd = divmod(room, len(by_need) - done)
            for rank, other in enumerate(by_need[done:]):
                widths[other] += even + (rank < odd)
            break
        widths[column] += need
        room -= need
    return widths


def _one_row_at_a_time(table: Table) -> RenderableType:
    """The rows of a table too wide for the screen, each as lines of "header  value"."""
    from rich.table import Table

    grid = Table.grid(padding=(0, 2))
    grid.add_column(overflow="fold")
    grid.add_column(overflow="fold")
    headers = [column.header for column in table.columns]
    for number, row in enumerate(zip(*(column.cells for column in table.columns), strict=True)):
        if number:
            grid.add_row()
        for header, cell in zip(headers, row, strict=True):
            grid.add_row(header, cell)
    return grid


def code_block(text: str, language: str) -> RenderableType:
    from rich.syntax import Syntax

    return Syntax(text, language, theme=CODE_THEME)
