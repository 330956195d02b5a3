"""Bound expressions: what the binder makes of sqlglot expressions.

Every node carries its resolved type; names are resolved to input column positions;
implicit coercions are explicit `Cast`s; operators are `Call`s of functions named
`$add`, `$eq`, ... so the executor evaluates one uniform tree. Nodes are frozen and
compare structurally, which is how GROUP BY keys are matched to SELECT expressions.
`str(expr)` prints SQL-like text for EXPLAIN.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from tsql.types import (
    DATE, INTERVAL_DAY_TO_SECOND, INTERVAL_YEAR_TO_MONTH, TIME, TIMESTAMP, Type, VARCHAR,
)


class Expr:
    type: Type

    def children(self) -> tuple:
        return ()

    def walk(self):
        yield self
        for c in self.children():
            yield from c.walk()

    def column_indexes(self) -> set[int]:
        return {e.index for e in self.walk() if isinstance(e, ColumnRef)}

    @property
    def is_constant(self) -> bool:
        return not any(isinstance(e, (ColumnRef, LambdaVar, OuterRef, Subquery)) for e in self.walk()) and all(
            not (isinstance(e, Call) and not e.deterministic) for e in self.walk()
        )


@dataclass(frozen=True)
class ColumnRef(Expr):
    index: int
    type: Type
    name: str = field(default="", compare=False)

    def __str__(self) -> str:
        return self.name or f"#{self.index}"


@dataclass(frozen=True)
class OuterRef(Expr):
    """A column of an enclosing query (correlated subquery): `depth` scopes out."""

    depth: int
    index: int
    type: Type
    name: str = field(default="", compare=False)

    def __str__(self) -> str:
        return f"outer.{self.name or self.index}"


@dataclass(frozen=True)
class Literal(Expr):
    """A constant in the executor's representation (timestamps as int ns, ...)."""

    value: object
    type: Type

    def __str__(self) -> str:
        return format_literal(self.value, self.type)


@dataclass(frozen=True)
class Call(Expr):
    function: str
    args: tuple
    type: Type
    deterministic: bool = field(default=True, compare=True)

    def children(self) -> tuple:
        return self.args

    def __str__(self) -> str:
        op = OPERATORS.get(self.function)
        if op is not None and len(self.args) == 2:
            return f"({self.args[0]} {op} {self.args[1]})"
        if self.function == "$not":
            return f"(NOT {self.args[0]})"
        if self.function == "$negate":
            return f"(-{self.args[0]})"
        if self.function == "$is_null":
            return f"({self.args[0]} IS NULL)"
        if self.function == "$in":
            return f"({self.args[0]} IN ({', '.join(map(str, self.args[1:]))}))"
        if self.function == "$subscript":
            return f"{self.args[0]}[{self.args[1]}]"
        if self.function == "$field":
            return f"{self.args[0]}.{self.args[1].value}"
        name = self.function.lstrip("$")
        return f"{name}({', '.join(map(str, self.args))})"


@dataclass(frozen=True)
class Cast(Expr):
    arg: Expr
    type: Type
    safe: bool = False  # TRY_CAST: NULL instead of an error

    def children(self) -> tuple:
        return (self.arg,)

    def __str__(self) -> str:
        return f"{'TRY_CAST' if self.safe else 'CAST'}({self.arg} AS {self.type})"


@dataclass(frozen=True)
class Case(Expr):
    """CASE WHEN c THEN r ... ELSE d END; branches evaluate only where chosen."""

    whens: tuple  # ((condition, result), ...)
    default: Expr
    type: Type

    def children(self) -> tuple:
        out = []
        for c, r in self.whens:
            out += [c, r]
        return tuple(out) + (self.default,)

    def __str__(self) -> str:
        parts = " ".join(f"WHEN {c} THEN {r}" for c, r in self.whens)
        return f"CASE {parts} ELSE {self.default} END"


@dataclass(frozen=True)
class Coalesce(Expr):
    args: tuple
    type: Type

    def children(self) -> tuple:
        return self.args

    def __str__(self) -> str:
        return f"coalesce({', '.join(map(str, self.args))})"


@dataclass(frozen=True)
class Try(Expr):
    """TRY(e): NULL where evaluating e fails."""

    arg: Expr
    type: Type

    def children(self) -> tuple:
        return (self.arg,)

    def __str__(self) -> str:
        return f"try({self.arg})"


@dataclass(frozen=True)
class LambdaVar(Expr):
    name: str
    type: Type
    depth: int = 0  # lambdas nest: 0 = innermost

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class Lambda(Expr):
    params: tuple  # names
    param_types: tuple
    body: Expr
    type: Type  # the body's type

    def children(self) -> tuple:
        return (self.body,)

    def __str__(self) -> str:
        params = self.params[0] if len(self.params) == 1 else f"({', '.join(self.params)})"
        return f"{params} -> {self.body}"


@dataclass(frozen=True)
class Subquery(Expr):
    """A subquery used as a value: `scalar`, `exists`, or `in` (with `arg`).

    With `keys` (see rules/decorrelate.py) the plan runs once and yields one column per
    key, then (for IN and scalar) the value: a row's answer considers only the plan's
    rows whose keys equal the row's `keys`, as a correlated subquery would; a keyed
    scalar subquery takes `default`'s value where no row matches."""

    kind: str
    plan: object = field(compare=False)
    type: Type
    arg: Expr | None = None
    correlated: bool = False
    plan_id: int = 0  # distinguishes subqueries in structural comparison
    keys: tuple = ()  # outer-query expressions matched against the plan's first columns
    default: object = field(default=None, compare=False)  # keyed scalar: the plan for rows without a match

    def children(self) -> tuple:
        return ((self.arg,) if self.arg is not None else ()) + self.keys

    def __str__(self) -> str:
        keyed = f" keyed by ({', '.join(map(str, self.keys))})" if self.keys else ""
        if self.kind == "in":
            return f"({self.arg} IN <subquery {self.plan_id}>{keyed})"
        return f"{self.kind}(<subquery {self.plan_id}>{keyed})"


@dataclass(frozen=True)
class AggregateCall:
    """An aggregate inside an Aggregate node (not an Expr: it yields one value per group)."""

    function: str
    args: tuple
    type: Type
    distinct: bool = False
    filter: Expr | None = None
    order: tuple = ()  # SortKeys for order-sensitive aggregates (array_agg ... ORDER BY)

    def __str__(self) -> str:
        args = ", ".join(map(str, self.args)) if self.args else "*"
        text = f"{self.function}({'DISTINCT ' if self.distinct else ''}{args})"
        if self.filter is not None:
            text += f" FILTER (WHERE {self.filter})"
        return text


@dataclass(frozen=True)
class SortKey:
    expr: Expr
    descending: bool = False
    nulls_first: bool = False

    def __str__(self) -> str:
        return f"{self.expr}{' DESC' if self.descending else ''}{' NULLS FIRST' if self.nulls_first else ''}"


@dataclass(frozen=True)
class WindowFrame:
    kind: str  # ROWS | RANGE
    start: tuple  # (kind, offset Expr or None) kind in UNBOUNDED PRECEDING, PRECEDING, CURRENT ROW, FOLLOWING, UNBOUNDED FOLLOWING
    end: tuple


@dataclass(frozen=True)
class WindowCall:
    function: str
    args: tuple
    type: Type
    partition: tuple
    order: tuple  # SortKeys
    frame: WindowFrame | None
    aggregate: bool  # an aggregate used as a window function
    distinct: bool = False

    def __str__(self) -> str:
        over = []
        if self.partition:
            over.append("PARTITION BY " + ", ".join(map(str, self.partition)))
        if self.order:
            over.append("ORDER BY " + ", ".join(map(str, self.order)))
        return f"{self.function}({', '.join(map(str, self.args))}) OVER ({' '.join(over)})"


OPERATORS = {
    "$add": "+", "$subtract": "-", "$multiply": "*", "$divide": "/", "$modulus": "%",
    "$eq": "=", "$ne": "<>", "$lt": "<", "$le": "<=", "$gt": ">", "$ge": ">=",
    "$and": "AND", "$or": "OR", "$like": "LIKE", "$is_distinct_from": "IS DISTINCT FROM",
}


def format_literal(value, type_: Type) -> str:
    if value is None:
        return "NULL"
    if type_ == VARCHAR:
        return "'" + str(value).replace("'", "''") + "'"
    if type_ == TIMESTAMP:
        import numpy as np

        return "TIMESTAMP '" + str(np.datetime64(int(value), "ns")).replace("T", " ") + "'"
    if type_ == DATE:
        import numpy as np

        return "DATE '" + str(np.datetime64(int(value), "D")) + "'"
    if type_ == TIME:
        return f"TIME '{value}ns'"
    if type_ == INTERVAL_DAY_TO_SECOND:
        for unit, size in (("d", 86400 * 10**9), ("h", 3600 * 10**9), ("m", 60 * 10**9), ("s", 10**9),
                           ("ms", 10**6), ("us", 10**3)):
            if value and value % size == 0:
                return f"{value // size}{unit}"
        return f"{int(value)}ns"
    if type_ == INTERVAL_YEAR_TO_MONTH:
        return f"{int(value)}month"
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value)


def conjuncts(expr: Expr | None) -> list[Expr]:
    """Split a predicate on AND."""
    if expr is None:
        return []
    if isinstance(expr, Call) and expr.function == "$and":
        return conjuncts(expr.args[0]) + conjuncts(expr.args[1])
    return [expr]


def and_all(exprs: list[Expr]) -> Expr | None:
    from tsql.types import BOOLEAN

    out = None
    for e in exprs:
        out = e if out is None else Call("$and", (out, e), BOOLEAN)
    return out


def remap_columns(expr: Expr, mapping, kind=None) -> Expr:
    """A copy of expr with each ColumnRef (or each node of class `kind`) c replaced by
    mapping(c), an Expr."""
    kind = kind or ColumnRef

    def remap(e):
        return remap_columns(e, mapping, kind)

    if isinstance(expr, kind):
        return mapping(expr)
    if isinstance(expr, Call):
        return Call(expr.function, tuple(remap(a) for a in expr.args), expr.type, expr.deterministic)
    if isinstance(expr, Cast):
        return Cast(remap(expr.arg), expr.type, expr.safe)
    if isinstance(expr, Case):
        whens = tuple((remap(c), remap(r)) for c, r in expr.whens)
        return Case(whens, remap(expr.default), expr.type)
    if isinstance(expr, Coalesce):
        return Coalesce(tuple(remap(a) for a in expr.args), expr.type)
    if isinstance(expr, Try):
        return Try(remap(expr.arg), expr.type)
    if isinstance(expr, Lambda):
        return Lambda(expr.params, expr.param_types, remap(expr.body), expr.type)
    if isinstance(expr, Subquery) and (expr.arg is not None or expr.keys):
        arg = remap(expr.arg) if expr.arg is not None else None
        return replace(expr, arg=arg, keys=tuple(remap(k) for k in expr.keys))
    return expr
