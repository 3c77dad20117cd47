"""What the user sees of a Markdown answer: text in angle brackets and wide tables."""

from __future__ import annotations

import io
import re

import pytest
from rich.console import Console

from agent.cli.chat.markdown_view import markdown_block

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def screen(markdown: str, width: int) -> list[str]:
    """The lines a terminal of this width shows, without colours."""
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=width, color_system=None)
    console.print(markdown_block(markdown))
    return [line.rstrip() for line in _ANSI.sub("", out.getvalue()).splitlines()]


def words(lines: list[str]) -> str:
    """The text as read, line breaks and runs of spaces made single spaces."""
    return " ".join(" ".join(lines).split())


@pytest.mark.parametrize(
    ("markdown", "expected"),
    [
        (
            "export HF_TOKEN=<your token> and run python train.py --out <dir> --model <model-id>",
            "export HF_TOKEN=<your token> and run python train.py --out <dir> --model <model-id>",
        ),
        (
            "std::vector<int> x; and compare a<b and c>d.",
            "std::vector<int> x; and compare a<b and c>d.",
        ),
        ("Replace\n\n<model-id>\n\nwith yours.", "Replace <model-id> with yours."),
        ("<div>\nkept *as typed*\n</div>", "<div> kept as typed </div>"),
    ],
)
def test_text_in_angle_brackets_is_shown_as_typed(markdown, expected):
    assert words(screen(markdown, 60)) == expected


def test_code_and_markdown_still_render_next_to_angle_brackets():
    answer = (
        "# Setup <step 1>\n\n"
        "Set **HF_TOKEN** to <your token>, then call `load<T>(x)`:\n\n"
        "- a list item with <placeholder>\n"
        "- see [the docs](https://huggingface.co/docs)\n\n"
        "```cpp\nstd::vector<int> v = f<a>(b);\n```\n"
    )
    shown = screen(answer, 60)
    text = words(shown)
    assert "Setup <step 1>" in text
    assert "Set HF_TOKEN to <your token>, then call load<T>(x):" in text
    assert "a list item with <placeholder>" in text
    assert "see the docs" in text
    assert any("std::vector<int> v = f<a>(b);" in line for line in shown)
    assert "**" not in text
    assert "[the docs]" not in text
    assert "#" not in text


RESULTS = [
    ["model", "acc", "f1", "prec", "recall", "loss", "epochs", "notes"],
    ["roberta-large", "0.9312", "0.9287", "0.9301", "0.9275", "0.2143", "3", "best overall run"],
    ["bert-base-uncased", "0.9105", "0.9088", "0.9093", "0.9084", "0.2518", "3", "baseline"],
    ["distilbert-base", "0.8977", "0.8951", "0.8960", "0.8942", "0.2871", "5", "fastest"],
]


def table(rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(row) + " |" for row in rows]
    lines.insert(1, "|" + "---|" * len(rows[0]))
    return "\n".join(lines)


def column_texts(shown: list[str]) -> tuple[list[str], list[str]]:
    """Each column's header and body text, read top to bottom within the column."""
    rule = next(i for i, line in enumerate(shown) if "───" in line)
    header, body = shown[:rule], shown[rule + 1 :]
    starts = [match.start() for match in re.finditer(r"\S+", body[0])]
    spans = list(zip(starts, [*starts[1:], None], strict=True))

    def read(lines: list[str]) -> list[str]:
        return ["".join(line[start:end].strip() for line in lines) for start, end in spans]

    return read(header), read(body)


def test_a_wide_table_keeps_short_cells_whole_and_folds_long_ones_in_their_column():
    shown = screen(table(RESULTS), 60)
    assert "…" not in "".join(shown)
    header, body = column_texts(shown)
    assert header == RESULTS[0]
    assert body == ["".join(row[i].replace(" ", "") for row in RESULTS[1:]) for i in range(8)]
    cells = {cell for line in shown for cell in line.split()}
    assert {cell for row in RESULTS[1:] for cell in row[1:7]} <= cells  # scores never split


@pytest.mark.parametrize("width", [40, 24])
def test_a_table_too_wide_for_its_columns_shows_each_row_in_full(width):
    header = [f"col{i}" for i in range(20)]
    rows = [[f"r{r}v{i}" for i in range(20)] for r in range(2)]
    for data in ([header, *rows], RESULTS):
        shown = screen(table(data), width)
        assert "…" not in "".join(shown)
        cells = {cell for line in shown for cell in line.split()}
        assert {cell for row in data for cell in row if len(cell) <= 8} <= cells
        unbroken = "".join("".join(shown).split())  # folded cells joined up again
        assert all(cell.replace(" ", "") in unbroken for row in data for cell in row)
