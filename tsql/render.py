"""Query results and errors as text: aligned tables for people, CSV and JSON for programs.

Values print as Timestream's text forms (the Query API's ScalarValue: `2.5`, `35.0`,
`2024-01-01 00:00:00.000000000`, `true`), so what the shell shows is what a Timestream
client would receive.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
import traceback
import unicodedata

import numpy as np
import pandas as pd

from .errors import Error
from .formatting import format_timestamps, format_value
from .types import (
    BIGINT, DATE, DOUBLE, INTEGER, INTERVAL_DAY_TO_SECOND, INTERVAL_YEAR_TO_MONTH, TIME, TIMESTAMP, ArrayType,
    MapType, RowType, TimeSeriesType, Type,
)

NUMERIC = (BIGINT, INTEGER, DOUBLE)
MAX_CELL_WIDTH = 60  # wider cells are cut in tables (CSV and JSON are never cut)
ELLIPSIS = "..."
FORMATS = ("table", "csv", "json")


# --- values ---------------------------------------------------------------------------------

def text(value, t: Type) -> str | None:
    """A result value (as `Result.rows` holds it) in Timestream's text form; None for NULL."""
    if value is None:
        return None
    if isinstance(t, (ArrayType, TimeSeriesType, RowType, MapType)):
        return json.dumps(json_value(value, t), ensure_ascii=False)
    if t == TIMESTAMP:
        return format_value(value.value if isinstance(value, pd.Timestamp) else value, "timestamp")
    if t == DATE:
        return value.isoformat()
    if t == TIME:
        if isinstance(value, _dt.time):  # Result.rows holds microseconds
            return f"{value:%H:%M:%S}.{value.microsecond * 1000:09d}"
        return format_value(value, "time")
    if t == INTERVAL_DAY_TO_SECOND:
        return format_value(value.value if isinstance(value, pd.Timedelta) else value, "interval day to second")
    if t == INTERVAL_YEAR_TO_MONTH:
        return format_value(value, "interval year to month")
    return format_value(value, t.name)


def text_column(values: list, t: Type) -> list:
    """`text` of each value of a column; timestamps are formatted in one numpy call."""
    if t != TIMESTAMP:
        return [text(v, t) for v in values]
    present = [v is not None for v in values]
    ns = np.array([v.value if isinstance(v, pd.Timestamp) else v for v in values if v is not None], dtype=np.int64)
    texts = iter(format_timestamps(ns).tolist())
    return [next(texts) if p else None for p in present]


def _columns(result, rows: list[tuple], convert) -> list[list]:
    """The rows' values column by column, converted by `convert(values, type)`."""
    values = list(zip(*rows)) if rows else [()] * len(result.columns)
    return [convert(list(v), c.type) for v, c in zip(values, result.columns)]


def _json_column(values: list, t: Type) -> list:
    return text_column(values, t) if t == TIMESTAMP else [json_value(v, t) for v in values]


def json_value(value, t: Type):
    """A result value for JSON: numbers and booleans as JSON numbers and booleans (doubles
    that JSON cannot hold, NaN and the infinities, as the strings Timestream prints), NULL
    as null, arrays as arrays, rows as objects (arrays when fields are unnamed), timeseries
    as arrays of {"time", "value"}, and everything else as its Timestream text."""
    if value is None:
        return None
    if isinstance(t, ArrayType):
        return [json_value(v, t.element) for v in value]
    if isinstance(t, TimeSeriesType):
        return [{"time": text(when, TIMESTAMP), "value": json_value(v, t.element)} for when, v in value]
    if isinstance(t, RowType):
        names = [name for name, _ in t.fields]
        values = [json_value(v, ft) for v, (_, ft) in zip(value, t.fields)]
        if all(names) and len(set(names)) == len(names):
            return dict(zip(names, values))
        return values
    if isinstance(t, MapType):
        return {text(k, t.key): json_value(v, t.value) for k, v in value.items()}
    if t in (BIGINT, INTEGER):
        return int(value)
    if t == DOUBLE:
        return float(value) if math.isfinite(value) else format_value(value, "double")
    if isinstance(value, bool):
        return value
    return text(value, t)


# --- tables ---------------------------------------------------------------------------------

def _width(s: str) -> int:
    if s.isascii():
        return len(s)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in s)


def _cut(s: str, limit: int) -> str:
    if _width(s) <= limit:
        return s
    out, used = [], 0
    for ch in s:
        w = _width(ch)
        if used + w > limit - len(ELLIPSIS):
            break
        out.append(ch)
        used += w
    return "".join(out) + ELLIPSIS


def _pad(s: str, width: int, right: bool) -> str:
    fill = " " * (width - _width(s))
    return fill + s if right else s + fill


def format_table(
    names: list[str], rows: list[list[str]], right_align: list[bool] | None = None, max_width: int = MAX_CELL_WIDTH,
) -> str:
    """An aligned table: a header, a rule, one line per row (cells already text).
    Cells wider than `max_width` are cut with '...'; line breaks show as '\\n'."""
    header = [_cut(n.replace("\n", "\\n"), max_width) for n in names]
    cells = [[_cut(c.replace("\n", "\\n").replace("\r", "\\r"), max_width) for c in r] for r in rows]
    widths = [_width(n) for n in header]
    for r in cells:
        for i, c in enumerate(r):
            widths[i] = max(widths[i], _width(c))
    right = right_align or [False] * len(names)
    lines = [" " + " | ".join(_pad(n, w, False) for n, w in zip(header, widths)).rstrip()]
    lines.append("-" + "-+-".join("-" * w for w in widths) + "-")
    for r in cells:
        lines.append(" " + " | ".join(_pad(c, w, a) for c, w, a in zip(r, widths, right)).rstrip())
    return "\n".join(lines)


def row_count(n: int) -> str:
    return f"{n} row" if n == 1 else f"{n} rows"


def format_bytes(n: int) -> str:
    for unit, size in (("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} B"


def result_table(result, max_rows: int | None = None, seconds: float | None = None) -> str:
    """A result as the shell prints it: the table, then `(N rows)`; with `seconds`, also
    the elapsed time and the bytes the query scanned. Only the first `max_rows` rows are
    drawn when given."""
    rows = result.rows if max_rows is None else result.rows[:max_rows]
    types = [c.type for c in result.columns]
    columns = _columns(result, rows, text_column)
    cells = [["NULL" if v is None else v for v in r] for r in zip(*columns)] if rows else []
    table = format_table(result.names, cells, [t in NUMERIC for t in types]) if result.columns else ""
    footer = row_count(len(result))
    if len(rows) < len(result):
        footer += f", showing the first {len(rows)}"
    if seconds is not None:
        footer += f", {format_seconds(seconds)}"
        scanned = result.status.bytes_scanned
        if scanned:
            footer += f", {format_bytes(scanned)} scanned"
    return f"{table}\n({footer})" if table else f"({footer})"


def format_seconds(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms" if seconds < 10 else f"{seconds:.2f} s"


# --- CSV and JSON ---------------------------------------------------------------------------

def _csv_field(s: str | None) -> str:
    # RFC 4180; an empty string is quoted so that it differs from NULL (an empty field)
    if s is None:
        return ""
    if s == "" or any(ch in s for ch in ',"\r\n'):
        return '"' + s.replace('"', '""') + '"'
    return s


def result_csv(result) -> str:
    """RFC 4180 CSV: a header row, then one record per row, CRLF line ends. Values are
    Timestream's text forms; NULL is an empty field, an empty string is `""`."""
    columns = _columns(result, result.rows, text_column)
    lines = [",".join(_csv_field(n) for n in result.names)]
    lines.extend(",".join(_csv_field(v) for v in r) for r in zip(*columns))
    return "\r\n".join(lines) + "\r\n"


def result_json(result) -> str:
    """A JSON array with one object per row (one row a line), keyed by column name;
    values as `json_value` makes them."""
    names = result.names
    columns = _columns(result, result.rows, _json_column)
    rows = [json.dumps(dict(zip(names, r)), ensure_ascii=False) for r in zip(*columns)]
    return "[\n" + ",\n".join(rows) + "\n]\n" if rows else "[]\n"


def render(result, fmt: str = "table") -> str:
    """A result in one of FORMATS, ending with a newline."""
    if fmt == "csv":
        return result_csv(result)
    if fmt == "json":
        return result_json(result)
    return result_table(result) + "\n"


# --- errors ---------------------------------------------------------------------------------

def format_error(error: BaseException, sql: str | None = None) -> str:
    """An error as the shell and the commands print it: one line with the message (which
    carries `line L:C:` when the position is known), then the query's line with a caret
    under that column. An exception that is not a tsql.Error is a bug: one line says so,
    with the traceback only when TSQL_DEBUG is set."""
    if not isinstance(error, Error):
        message = (
            f"Internal error: {type(error).__name__}: {error}. This is a bug in tsql; please report it "
            f"with the statement that caused it (TSQL_DEBUG=1 prints the traceback)."
        )
        if os.environ.get("TSQL_DEBUG"):
            message = "".join(traceback.format_exception(error)).rstrip() + "\n" + message
        return message
    lines = [f"{error.aws_type}: {error.message}"]  # as a Timestream client reports it
    line, column = getattr(error, "line", None), getattr(error, "column", None)
    if sql is not None and line is not None and column is not None:
        source = sql.split("\n")
        if 1 <= line <= len(source):
            text_line = source[line - 1].expandtabs(1).rstrip()
            lines.append("  " + text_line)
            lines.append("  " + " " * _width(text_line[: max(column - 1, 0)]) + "^")
    return "\n".join(lines)
