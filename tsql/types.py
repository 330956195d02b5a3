"""Timestream's data types, the one vocabulary of types every layer shares.

A leaf module (imports nothing of the project). Types are small frozen values:
`VARCHAR`, `DOUBLE`, ... are `ScalarType`s; `ArrayType`, `RowType` and `TimeSeriesType`
are built from them. `str(t)` is the SQL spelling (`array(double)`), `column_info(t)`
the Query API's ColumnInfo `Type`. Implicit coercions (Presto's, plus Timestream's
strings-as-timestamps) live here too, because the planner and the executor must agree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


class Type:
    """Base of all types."""

    __slots__ = ()

    @property
    def is_numeric(self) -> bool:
        return self in NUMERIC

    @property
    def is_temporal(self) -> bool:
        return self in (TIMESTAMP, DATE, TIME)


@dataclass(frozen=True)
class ScalarType(Type):
    name: str  # lowercase SQL name, e.g. "interval day to second"

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return self.name.upper().replace(" ", "_")


@dataclass(frozen=True)
class ArrayType(Type):
    element: Type

    def __str__(self) -> str:
        return f"array({self.element})"


@dataclass(frozen=True)
class RowType(Type):
    fields: tuple  # of (name or None, Type)

    def __str__(self) -> str:
        inner = ", ".join(f"{n} {t}" if n else str(t) for n, t in self.fields)
        return f"row({inner})"

    def field_index(self, name: str) -> int | None:
        for i, (n, _) in enumerate(self.fields):
            if n is not None and n.lower() == name.lower():
                return i
        return None


@dataclass(frozen=True)
class TimeSeriesType(Type):
    """timeseries(T): an array of row(time timestamp, value T), sorted by time."""

    element: Type

    def __str__(self) -> str:
        return f"timeseries({self.element})"

    @property
    def row(self) -> RowType:
        return RowType((("time", TIMESTAMP), ("value", self.element)))


@dataclass(frozen=True)
class MapType(Type):
    key: Type
    value: Type

    def __str__(self) -> str:
        return f"map({self.key}, {self.value})"


@dataclass(frozen=True)
class TypeVar(Type):
    """A placeholder in function signatures (`T`, `K`, `V`)."""

    name: str

    def __str__(self) -> str:
        return self.name


VARCHAR = ScalarType("varchar")
BIGINT = ScalarType("bigint")
INTEGER = ScalarType("integer")
DOUBLE = ScalarType("double")
BOOLEAN = ScalarType("boolean")
TIMESTAMP = ScalarType("timestamp")
DATE = ScalarType("date")
TIME = ScalarType("time")
INTERVAL_DAY_TO_SECOND = ScalarType("interval day to second")
INTERVAL_YEAR_TO_MONTH = ScalarType("interval year to month")
UNKNOWN = ScalarType("unknown")  # the type of a bare NULL

NUMERIC = (INTEGER, BIGINT, DOUBLE)
SCALARS = {
    t.name: t
    for t in (
        VARCHAR, BIGINT, INTEGER, DOUBLE, BOOLEAN, TIMESTAMP, DATE, TIME,
        INTERVAL_DAY_TO_SECOND, INTERVAL_YEAR_TO_MONTH, UNKNOWN,
    )
}
_ALIASES = {
    "int": INTEGER,
    "real": DOUBLE,
    "float": DOUBLE,
    "tinyint": INTEGER,
    "smallint": INTEGER,
    "string": VARCHAR,
    "char": VARCHAR,
}

# The value types a record may carry (MeasureValueType), as column types.
MEASURE_TYPES = {
    "DOUBLE": DOUBLE,
    "BIGINT": BIGINT,
    "VARCHAR": VARCHAR,
    "BOOLEAN": BOOLEAN,
    "TIMESTAMP": TIMESTAMP,
}


def measure_value_column(measure_type: str) -> str:
    """The column a single-measure record's value lands in: `measure_value::double`."""
    return f"measure_value::{measure_type.lower()}"


# --- parsing type names (CAST targets, signatures) --------------------------------

_TOKEN = re.compile(r"\s*(\(|\)|,|[A-Za-z_][A-Za-z0-9_]*|\d+)")


def parse_type(text: str) -> Type:
    """Parse a SQL type name such as `array(row(time timestamp, value double))`.

    Raises ValueError for an unknown name; callers turn it into their own error.
    """
    tokens = _tokenize(text)
    pos, t = _parse(tokens, 0)
    if pos != len(tokens):
        raise ValueError(f"Unknown type: {text}")
    return t


def _tokenize(text: str) -> list[str]:
    tokens, pos = [], 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            raise ValueError(f"Unknown type: {text}")
        tokens.append(m.group(1).lower())
        pos = m.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return tokens


def _parse(tokens: list[str], pos: int) -> tuple[int, Type]:
    if pos >= len(tokens):
        raise ValueError("Unexpected end of type")
    word = tokens[pos]
    pos += 1
    if word in ("array", "timeseries"):
        pos = _expect(tokens, pos, "(")
        pos, element = _parse(tokens, pos)
        pos = _expect(tokens, pos, ")")
        return pos, ArrayType(element) if word == "array" else TimeSeriesType(element)
    if word == "map":
        pos = _expect(tokens, pos, "(")
        pos, key = _parse(tokens, pos)
        pos = _expect(tokens, pos, ",")
        pos, value = _parse(tokens, pos)
        pos = _expect(tokens, pos, ")")
        return pos, MapType(key, value)
    if word == "row":
        pos = _expect(tokens, pos, "(")
        fields = []
        while True:
            name = None
            # `name type` unless the next word is itself a type keyword followed by , or )
            if pos + 1 < len(tokens) and tokens[pos + 1] not in (",", ")", "("):
                name = tokens[pos]
                pos += 1
            pos, ftype = _parse(tokens, pos)
            fields.append((name, ftype))
            if pos < len(tokens) and tokens[pos] == ",":
                pos += 1
                continue
            pos = _expect(tokens, pos, ")")
            return pos, RowType(tuple(fields))
    if word == "interval":
        rest = tokens[pos:pos + 3]
        if rest == ["day", "to", "second"]:
            return pos + 3, INTERVAL_DAY_TO_SECOND
        if rest == ["year", "to", "month"]:
            return pos + 3, INTERVAL_YEAR_TO_MONTH
        raise ValueError("Unknown interval type")
    if word in ("varchar", "char", "decimal") and pos < len(tokens) and tokens[pos] == "(":
        # varchar(n) / decimal(p, s): the length is not enforced; decimal reads as double
        while tokens[pos] != ")":
            pos += 1
        return pos + 1, VARCHAR if word != "decimal" else DOUBLE
    if word == "decimal":
        return pos, DOUBLE
    if word in ("timestamp", "time") and tokens[pos:pos + 1] == ["with"]:
        raise ValueError("Timestream has no time zone types")
    if word in SCALARS:
        return pos, SCALARS[word]
    if word in _ALIASES:
        return pos, _ALIASES[word]
    if len(word) == 1 and word.isalpha():
        return pos, TypeVar(word.upper())
    raise ValueError(f"Unknown type: {word}")


def _expect(tokens: list[str], pos: int, what: str) -> int:
    if pos >= len(tokens) or tokens[pos] != what:
        raise ValueError(f"Expected {what!r} in type")
    return pos + 1


# --- the Query API's ColumnInfo ------------------------------------------------

def column_info_type(t: Type) -> dict:
    """The `Type` member of a Query API ColumnInfo for type `t`."""
    if isinstance(t, ArrayType):
        return {"ArrayColumnInfo": {"Type": column_info_type(t.element)}}
    if isinstance(t, TimeSeriesType):
        return {"TimeSeriesMeasureValueColumnInfo": {"Type": column_info_type(t.element)}}
    if isinstance(t, RowType):
        return {
            "RowColumnInfo": [
                ({"Name": n, "Type": column_info_type(ft)} if n else {"Type": column_info_type(ft)})
                for n, ft in t.fields
            ]
        }
    if isinstance(t, MapType):  # not a Timestream result type; rendered as an array of rows
        return {"ArrayColumnInfo": {"Type": column_info_type(RowType((("key", t.key), ("value", t.value))))}}
    return {"ScalarType": t.name.upper().replace(" ", "_")}


# --- implicit coercion ------------------------------------------------------------

# Widening among numbers; varchar reads as a timestamp or date where one is expected
# (Timestream accepts strings wherever timestamps are expected).
_COERCIBLE = {
    INTEGER: (BIGINT, DOUBLE),
    BIGINT: (DOUBLE,),
    VARCHAR: (TIMESTAMP, DATE),
    DATE: (TIMESTAMP,),
}


def can_coerce(source: Type, target: Type) -> bool:
    """Whether a value of `source` may be used where `target` is expected."""
    if source == target or source == UNKNOWN:
        return True
    if target in _COERCIBLE.get(source, ()):
        return True
    if isinstance(source, ArrayType) and isinstance(target, ArrayType):
        return can_coerce(source.element, target.element)
    if isinstance(source, TimeSeriesType) and isinstance(target, TimeSeriesType):
        return can_coerce(source.element, target.element)
    if isinstance(source, MapType) and isinstance(target, MapType):
        return can_coerce(source.key, target.key) and can_coerce(source.value, target.value)
    if isinstance(source, RowType) and isinstance(target, RowType):
        return len(source.fields) == len(target.fields) and all(
            can_coerce(s[1], t[1]) for s, t in zip(source.fields, target.fields)
        )
    return False


def common_super_type(a: Type, b: Type) -> Type | None:
    """The narrowest type both coerce to, or None (e.g. for CASE branches, `=`, UNION)."""
    if a == b:
        return a
    if a == UNKNOWN:
        return b
    if b == UNKNOWN:
        return a
    if can_coerce(a, b):
        return b
    if can_coerce(b, a):
        return a
    if isinstance(a, ArrayType) and isinstance(b, ArrayType):
        e = common_super_type(a.element, b.element)
        return ArrayType(e) if e is not None else None
    if isinstance(a, TimeSeriesType) and isinstance(b, TimeSeriesType):
        e = common_super_type(a.element, b.element)
        return TimeSeriesType(e) if e is not None else None
    if isinstance(a, MapType) and isinstance(b, MapType):
        k, v = common_super_type(a.key, b.key), common_super_type(a.value, b.value)
        return MapType(k, v) if k is not None and v is not None else None
    if isinstance(a, RowType) and isinstance(b, RowType) and len(a.fields) == len(b.fields):
        fields = []
        for (na, ta), (_, tb) in zip(a.fields, b.fields):
            t = common_super_type(ta, tb)
            if t is None:
                return None
            fields.append((na, t))
        return RowType(tuple(fields))
    return None


def is_orderable(t: Type) -> bool:
    return isinstance(t, ScalarType) and t != UNKNOWN or isinstance(t, (ArrayType, RowType))


def is_comparable(t: Type) -> bool:
    return not isinstance(t, (TimeSeriesType, MapType))
