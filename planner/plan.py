"""Logical plan nodes: small frozen dataclasses with their children and output schema.

`str(plan)` is the indented outline EXPLAIN prints. A node says *what* (scan these
series and times, filter, aggregate, ...); the executor decides *how*.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field, replace

from tsql.types import Type

from .expressions import AggregateCall, Expr, SortKey, WindowCall


@dataclass(frozen=True)
class Field:
    """An output column: its name, type and the relation name that qualifies it."""

    name: str
    type: Type
    qualifier: str | None = None
    hidden: bool = False  # helper columns that `*` does not expand to


class Plan:
    schema: tuple

    def children(self) -> tuple:
        return ()

    def with_children(self, children: tuple) -> "Plan":
        return self

    def describe(self) -> str:
        return type(self).__name__

    def __str__(self) -> str:
        return "\n".join(self._lines(0))

    def _lines(self, depth: int):
        yield "  " * depth + self.describe()
        for sub in self.subqueries():
            yield "  " * (depth + 1) + f"Subquery {sub.plan_id}:"
            yield from sub.plan._lines(depth + 2)
        for child in self.children():
            yield from child._lines(depth + 1)

    def expressions(self):
        """Every expression this node holds (not its children's), found through its fields."""
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, Plan):
                yield from _exprs_in(value)

    def subqueries(self):
        """The subqueries in this node's expressions, outermost first."""
        from .expressions import Subquery

        for e in self.expressions():
            for x in e.walk():
                if isinstance(x, Subquery):
                    yield x

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.schema]


@dataclass(frozen=True)
class TableRef:
    database: str
    table: str

    def __str__(self) -> str:
        return f'"{self.database}"."{self.table}"'


@dataclass(frozen=True)
class TableColumn:
    """A column of a stored table: `kind` is dimension, measure_name, time, measure_value or multi."""

    name: str
    type: Type
    kind: str
    measure_type: str | None = None  # DOUBLE, ... for value columns


@dataclass(frozen=True)
class Scan(Plan):
    """Read a table. `table_columns` are all its columns; the scan produces those at
    `projection`. Only series passing `series_filter` (an expression over dimension and
    measure_name columns, as positions in `table_columns`) and only times in
    [time_lo, time_hi) are read. With `series_rows` "first" or "last", only each
    series' earliest or latest row in that range is needed (see rules/series_extremes.py)."""

    table: TableRef
    table_columns: tuple  # TableColumns of the whole table
    projection: tuple  # positions in table_columns, in output order
    qualifier: str | None = None
    time_lo: int | None = None
    time_hi: int | None = None
    series_filter: Expr | None = None
    series_rows: str | None = None

    @property
    def schema(self) -> tuple:
        return tuple(Field(self.table_columns[i].name, self.table_columns[i].type, self.qualifier)
                     for i in self.projection)

    @property
    def columns(self) -> tuple:
        return tuple(self.table_columns[i] for i in self.projection)

    def describe(self) -> str:
        text = f"Scan {self.table} columns=[{', '.join(c.name for c in self.columns)}]"
        if self.time_lo is not None or self.time_hi is not None:
            text += f" time=[{_ts(self.time_lo, '-inf')}, {_ts(self.time_hi, '+inf')})"
        if self.series_filter is not None:
            names = [c.name for c in self.table_columns]
            text += f" series={_named(self.series_filter, names)}"
        if self.series_rows is not None:
            text += f" rows={self.series_rows} per series"
        return text


def _named(expr, names) -> str:
    from .expressions import ColumnRef, remap_columns

    return str(remap_columns(expr, lambda c: ColumnRef(c.index, c.type, names[c.index])))


def _ts(ns, unbounded: str) -> str:
    if ns is None:
        return unbounded
    import numpy as np

    return str(np.datetime64(int(ns), "ns")).replace("T", " ")


@dataclass(frozen=True)
class Values(Plan):
    rows: tuple  # tuples of Exprs (constants)
    schema: tuple

    def describe(self) -> str:
        return f"Values rows={len(self.rows)}"


@dataclass(frozen=True)
class Filter(Plan):
    input: Plan
    predicate: Expr

    @property
    def schema(self) -> tuple:
        return self.input.schema

    def children(self):
        return (self.input,)

    def with_children(self, children):
        return replace(self, input=children[0])

    def describe(self) -> str:
        return f"Filter {self.predicate}"


@dataclass(frozen=True)
class Project(Plan):
    input: Plan
    exprs: tuple
    schema: tuple

    def children(self):
        return (self.input,)

    def with_children(self, children):
        return replace(self, input=children[0])

    def describe(self) -> str:
        items = ", ".join(
            str(e) if str(e) == f.name else f"{e} AS {f.name}" for e, f in zip(self.exprs, self.schema)
        )
        return f"Project {items}"


@dataclass(frozen=True)
class Aggregate(Plan):
    """Group by `keys`, compute `aggregates`; output: keys, then aggregates.

    `grouping_sets` (tuples of key positions) when GROUPING SETS/ROLLUP/CUBE are used:
    absent keys read NULL, and a last column `$grouping_set` holds the index of the set
    each row comes from (grouping() reads it).
    """

    input: Plan
    keys: tuple
    aggregates: tuple
    schema: tuple
    grouping_sets: tuple | None = None

    def children(self):
        return (self.input,)

    def with_children(self, children):
        return replace(self, input=children[0])

    def describe(self) -> str:
        text = f"Aggregate keys=[{', '.join(map(str, self.keys))}] aggregates=[{', '.join(map(str, self.aggregates))}]"
        if self.grouping_sets is not None:
            text += f" sets={[list(s) for s in self.grouping_sets]}"
        return text


@dataclass(frozen=True)
class Window(Plan):
    """Append one column per window function to the input rows."""

    input: Plan
    functions: tuple  # WindowCalls
    schema: tuple

    def children(self):
        return (self.input,)

    def with_children(self, children):
        return replace(self, input=children[0])

    def describe(self) -> str:
        return f"Window {', '.join(map(str, self.functions))}"


@dataclass(frozen=True)
class Sort(Plan):
    input: Plan
    keys: tuple  # SortKeys
    limit: int | None = None  # top-k when a LIMIT follows directly

    @property
    def schema(self) -> tuple:
        return self.input.schema

    def children(self):
        return (self.input,)

    def with_children(self, children):
        return replace(self, input=children[0])

    def describe(self) -> str:
        text = f"Sort {', '.join(map(str, self.keys))}"
        return text + (f" limit={self.limit}" if self.limit is not None else "")


@dataclass(frozen=True)
class Limit(Plan):
    input: Plan
    limit: int | None
    offset: int = 0

    @property
    def schema(self) -> tuple:
        return self.input.schema

    def children(self):
        return (self.input,)

    def with_children(self, children):
        return replace(self, input=children[0])

    def describe(self) -> str:
        return f"Limit {self.limit if self.limit is not None else 'ALL'}" + (f" offset={self.offset}" if self.offset else "")


@dataclass(frozen=True)
class Join(Plan):
    """kind: inner, left, right, full or cross; `condition` over left + right columns."""

    left: Plan
    right: Plan
    kind: str
    condition: Expr | None
    schema: tuple

    def children(self):
        return (self.left, self.right)

    def with_children(self, children):
        return replace(self, left=children[0], right=children[1])

    def describe(self) -> str:
        return f"Join {self.kind}" + (f" on {self.condition}" if self.condition is not None else "")


@dataclass(frozen=True)
class Unnest(Plan):
    """For each input row, the rows of its arrays (zipped) appended to it (CROSS JOIN UNNEST)."""

    input: Plan
    exprs: tuple
    ordinality: bool
    schema: tuple
    outer: bool = False  # LEFT JOIN UNNEST: keep rows whose arrays are empty

    def children(self):
        return (self.input,)

    def with_children(self, children):
        return replace(self, input=children[0])

    def describe(self) -> str:
        return f"Unnest {', '.join(map(str, self.exprs))}" + (" WITH ORDINALITY" if self.ordinality else "")


@dataclass(frozen=True)
class SetOp(Plan):
    kind: str  # union, intersect, except
    distinct: bool
    left: Plan
    right: Plan
    schema: tuple

    def children(self):
        return (self.left, self.right)

    def with_children(self, children):
        return replace(self, left=children[0], right=children[1])

    def describe(self) -> str:
        return f"{self.kind.capitalize()}{'' if self.distinct else ' ALL'}"


@dataclass(frozen=True)
class Explain(Plan):
    input: Plan
    analyze: bool
    schema: tuple = field(default=())

    def children(self):
        return (self.input,)

    def with_children(self, children):
        return replace(self, input=children[0])


def _exprs_in(value):
    if isinstance(value, Expr):
        yield value
    elif isinstance(value, (tuple, list)):
        for x in value:
            yield from _exprs_in(x)
    elif dataclasses.is_dataclass(value) and not isinstance(value, (type, Field, TableRef, TableColumn)):
        for f in dataclasses.fields(value):  # AggregateCall, WindowCall, SortKey, WindowFrame
            yield from _exprs_in(getattr(value, f.name))


def transform_up(plan: Plan, fn) -> Plan:
    """Rebuild a plan bottom-up, applying fn to every node."""
    children = tuple(transform_up(c, fn) for c in plan.children())
    if any(new is not old for new, old in zip(children, plan.children())):
        plan = plan.with_children(children)
    return fn(plan)


__all__ = [
    "Field", "Plan", "TableRef", "TableColumn", "Scan", "Values", "Filter", "Project", "Aggregate",
    "Window", "Sort", "Limit", "Join", "Unnest", "SetOp", "Explain", "transform_up",
    "AggregateCall", "SortKey", "WindowCall",
]
