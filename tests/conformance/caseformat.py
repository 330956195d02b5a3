"""The conformance case format (see README.md): parsing `.test` files, and rendering a
Query API response as the text lines a case expects.

A file is a sequence of directives and cases; a case is a query, `----`, then either
the expected column line and rows, or `error <Class>: <message>`. Responses are
rendered from `Result.to_timestream()`, so what a case checks is exactly what a
Timestream client would receive.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Table:
    """An inline table: `table db.name` followed by CSV lines (header first)."""

    database: str
    name: str
    header: list
    rows: list
    line: int


@dataclass
class Case:
    name: str
    sql: str
    path: Path
    line: int
    dataset: str | None
    tables: tuple  # the inline Tables in force for this case
    ordered: bool = False
    columns: str | None = None  # the expected column line
    rows: list = field(default_factory=list)  # expected row lines
    error: str | None = None  # "Class: message"

    @property
    def id(self) -> str:
        return f"{self.path.stem}::{self.name}"

    @property
    def data_key(self) -> tuple:
        """Cases with the same key share one database."""
        return (self.dataset, self.tables)


class FormatError(ValueError):
    pass


def parse_file(path: Path) -> list[Case]:
    lines = path.read_text().split("\n")
    cases: list[Case] = []
    dataset: str | None = None
    tables: list[Table] = []
    names: set[str] = set()
    i = 0

    def fail(message: str, at: int):
        raise FormatError(f"{path}:{at + 1}: {message}")

    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            i += 1
            continue
        word, _, rest = stripped.partition(" ")
        if word == "dataset":
            dataset = None if rest.strip() == "none" else rest.strip()
            tables = []
            i += 1
        elif word == "table":
            qualified = rest.strip()
            if qualified.count(".") != 1:
                fail("a table is named db.table", i)
            db, name = qualified.split(".")
            start = i
            i += 1
            block = []
            while i < len(lines) and lines[i].strip():
                block.append(lines[i])
                i += 1
            parsed = list(csv.reader(io.StringIO("\n".join(block))))
            if not parsed:
                fail("a table needs a CSV header line", start)
            tables = [t for t in tables if (t.database, t.name) != (db, name)]
            tables.append(Table(db, name, parsed[0], tuple(tuple(r) for r in parsed[1:]), start + 1))
        elif word == "query":
            parts = rest.split()
            if not parts:
                fail("a query needs a name", i)
            name, flags = parts[0], parts[1:]
            if name in names:
                fail(f"duplicate case name {name}", i)
            names.add(name)
            unknown = set(flags) - {"ordered"}
            if unknown:
                fail(f"unknown flags {sorted(unknown)}", i)
            start = i
            i += 1
            sql = []
            while i < len(lines) and lines[i].strip() != "----":
                if not lines[i].strip():
                    fail("a blank line inside a query (missing ----?)", i)
                sql.append(lines[i])
                i += 1
            if i >= len(lines):
                fail("a query without ----", start)
            i += 1
            expected = []
            while i < len(lines) and lines[i].strip():
                expected.append(lines[i].rstrip())
                i += 1
            case = Case(name, "\n".join(sql), path, start + 1, dataset, tuple(_frozen(t) for t in tables),
                        ordered="ordered" in flags)
            if expected and expected[0].startswith("error "):
                if len(expected) != 1:
                    fail("an error case has one expected line", start)
                case.error = expected[0][len("error "):]
            elif expected:
                case.columns, case.rows = expected[0], expected[1:]
            else:
                fail("a case needs its columns line and rows, or an error", start)
            cases.append(case)
        else:
            fail(f"unknown directive {word!r}", i)
    return cases


def _frozen(t: Table) -> tuple:
    return (t.database, t.name, tuple(t.header), t.rows)


# --- rendering a response ----------------------------------------------------------------------

def render_type(t: dict) -> str:
    """A ColumnInfo Type as text: BIGINT, ARRAY(DOUBLE), ROW(a BIGINT, b VARCHAR), TIMESERIES(DOUBLE)."""
    if "ScalarType" in t:
        return t["ScalarType"]
    if "ArrayColumnInfo" in t:
        return f"ARRAY({render_type(t['ArrayColumnInfo']['Type'])})"
    if "TimeSeriesMeasureValueColumnInfo" in t:
        return f"TIMESERIES({render_type(t['TimeSeriesMeasureValueColumnInfo']['Type'])})"
    fields = [f"{c['Name']} {render_type(c['Type'])}" if c.get("Name") else render_type(c["Type"])
              for c in t["RowColumnInfo"]]
    return f"ROW({', '.join(fields)})"


def render_columns(column_info: list) -> str:
    return " | ".join(f"{c['Name']} {render_type(c['Type'])}" for c in column_info)


def render_datum(d: dict) -> str:
    if d.get("NullValue"):
        return "NULL"
    if "ScalarValue" in d:
        text = d["ScalarValue"]
        return "(empty)" if text == "" else text
    if "ArrayValue" in d:
        return "[" + ", ".join(render_datum(x) for x in d["ArrayValue"]) + "]"
    if "RowValue" in d:
        return "(" + ", ".join(render_datum(x) for x in d["RowValue"]["Data"]) + ")"
    return "[" + ", ".join(f"({p['Time']}, {render_datum(p['Value'])})" for p in d["TimeSeriesValue"]) + "]"


def render_rows(rows: list) -> list[str]:
    return [" | ".join(render_datum(d) for d in row["Data"]) for row in rows]
