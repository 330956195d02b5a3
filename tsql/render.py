"""Text tables for the REPL and the command line."""

from __future__ import annotations

import unicodedata


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int, right: bool) -> str:
    fill = " " * (width - _width(text))
    return fill + text if right else text + fill


def format_table(names: list[str], rows: list[list[str]], right_align: list[bool] | None = None) -> str:
    """An aligned table: a header, a rule, one line per row (cells already text)."""
    cells = [[c.replace("\n", "\\n") for c in r] for r in rows]
    widths = [_width(n) for n in names]
    for r in cells:
        for i, c in enumerate(r):
            widths[i] = max(widths[i], _width(c))
    right = right_align or [False] * len(names)
    lines = [" " + " | ".join(_pad(n, w, False) for n, w in zip(names, widths)).rstrip()]
    lines.append("-" + "-+-".join("-" * w for w in widths) + "-")
    for r in cells:
        lines.append(" " + " | ".join(_pad(c, w, a) for c, w, a in zip(r, widths, right)).rstrip())
    return "\n".join(lines)
