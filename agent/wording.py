"""Counts in messages a person reads: "1 turn", "2 turns", never "1 turns"."""

from __future__ import annotations


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """`n` and the noun, singular for exactly one; thousands separated (12,345 lines)."""
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"


def line_count(text: str) -> int:
    """Lines as an editor counts them: a final newline ends the last line, opens none."""
    return len(text.splitlines()) or 1
