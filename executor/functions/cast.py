"""CAST and TRY_CAST between Timestream types, vectorized.

`cast(column, target, safe)`: a value that cannot convert raises QueryExecutionError
(`Cannot cast 'abc' to BIGINT`), or becomes NULL with `safe` (TRY_CAST).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tsql.errors import QueryExecutionError
from tsql.formatting import (
    DAY_NS, format_dates, format_double, format_doubles, format_interval_day_to_second, format_interval_year_to_month,
    format_time, format_timestamps,
)
from tsql.types import (
    BIGINT, BOOLEAN, DATE, DOUBLE, INTEGER, INTERVAL_DAY_TO_SECOND, INTERVAL_YEAR_TO_MONTH, TIME, TIMESTAMP,
    UNKNOWN, VARCHAR, ArrayType, MapType, RowType, TimeSeriesType, Type,
)

from ..column import Column, DictVector, ListVector, RowVector, Vector, nulls_of
from .registry import object_array

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1


def cast(col: Column, target: Type, safe: bool = False) -> Column:
    source = col.type
    if source == target:
        return col
    if source == UNKNOWN:
        return nulls_of(target, len(col))
    if isinstance(target, (ArrayType, TimeSeriesType)) and isinstance(col, ListVector):
        from ..column import element_type

        child = cast(col.child, element_type(target), safe)
        return ListVector(target, col.offsets, child, col.nulls)
    if isinstance(target, MapType) and isinstance(source, MapType):  # entries cast key and value
        entries = col.child
        keys = cast(entries.fields[0], target.key, safe)
        if keys.null_mask().any():
            raise QueryExecutionError("map key cannot be null")
        fields = [keys, cast(entries.fields[1], target.value, safe)]
        entry = RowType((("key", target.key), ("value", target.value)))
        return ListVector(target, col.offsets, RowVector(entry, fields, entries.nulls), col.nulls)
    if isinstance(target, RowType) and isinstance(col, RowVector):
        if len(target.fields) != len(col.fields):
            raise QueryExecutionError(f"Cannot cast {source} to {target}")
        return RowVector(target, [cast(f, t, safe) for f, (_, t) in zip(col.fields, target.fields)], col.nulls)
    if isinstance(col, DictVector):
        if target == VARCHAR:
            return DictVector(col.codes, col.dictionary, target)
        # convert the distinct values once
        converted = cast(Vector(VARCHAR, col.dictionary), target, safe)
        if len(col.dictionary) == 0:
            return nulls_of(target, len(col))
        idx = np.maximum(col.codes, 0)
        nulls = (col.codes < 0) | (converted.null_mask()[idx] if converted.nulls is not None else False)
        return Vector(target, converted.values[idx], nulls)
    if not isinstance(col, Vector):
        raise QueryExecutionError(f"Cannot cast {source} to {target}")
    values, nulls = col.values, col.nulls
    fn = _CASTS.get((source.name if hasattr(source, "name") else None, target.name if hasattr(target, "name") else None))
    if fn is None:
        raise QueryExecutionError(f"Cannot cast {source} to {target}")
    valid = ~nulls if nulls is not None else None
    out, bad = fn(values, valid)
    if bad is not None and bad.any():
        if nulls is not None:
            bad &= ~nulls
        if bad.any():
            if not safe:
                i = int(np.flatnonzero(bad)[0])
                raise QueryExecutionError(cast_error(values[i], source, target))
            nulls = bad if nulls is None else (nulls | bad)
    if nulls is not None and out.dtype == object:
        out = np.where(nulls, None, out)
    return Vector(target, out, nulls)


def castable(source: Type, target: Type) -> bool:
    """Whether CAST(source AS target) exists (values may still fail to convert)."""
    if source == target or source == UNKNOWN:
        return True
    if isinstance(target, (ArrayType, TimeSeriesType)) and type(source) is type(target):
        return castable(source.element, target.element)
    if isinstance(target, MapType) and isinstance(source, MapType):
        return castable(source.key, target.key) and castable(source.value, target.value)
    if isinstance(target, RowType) and isinstance(source, RowType):
        return len(source.fields) == len(target.fields) and all(
            castable(s, t) for (_, s), (_, t) in zip(source.fields, target.fields))
    return (getattr(source, "name", None), getattr(target, "name", None)) in _CASTS


def cast_error(value, source: Type, target: Type) -> str:
    """Presto's message for a value that does not convert."""
    text = _show(value, source)
    if source == VARCHAR and target in (TIMESTAMP, DATE, TIME):
        return f"Value cannot be cast to {target}: {text}"
    if source == VARCHAR:
        return f"Cannot cast '{text}' to {'INT' if target == INTEGER else str(target).upper()}"
    if target in (INTEGER, BIGINT) and source in (INTEGER, BIGINT, DOUBLE):
        return f"Out of range for {target}: {text}"
    return f"Cannot cast {source} '{text}' to {target}"


def _show(value, source: Type) -> str:
    if source == TIMESTAMP:
        return str(format_timestamps(np.array([value]))[0])
    if source == DOUBLE:
        return format_double(float(value))
    return str(value)


# --- numbers ------------------------------------------------------------------------------

def _round_half_away(x: np.ndarray) -> np.ndarray:
    return np.sign(x) * np.floor(np.abs(x) + 0.5)


def _double_to_int(lo, hi):
    def f(v, valid):
        r = _round_half_away(v)
        bad = ~np.isfinite(v) | (r < lo) | (r > hi)
        return np.where(bad, 0, r).astype(np.int64), bad

    return f


def _int_range(lo, hi):
    def f(v, valid):
        bad = (v < lo) | (v > hi)
        return v.astype(np.int64), bad

    return f


def _to_double(v, valid):
    return v.astype(np.float64), None


def _num_to_varchar(v, valid):
    return object_array([str(int(x)) for x in v]), None


def _double_to_varchar(v, valid):
    return object_array(format_doubles(v)), None


def _bool_to_varchar(v, valid):
    return np.where(v, "true", "false").astype(object), None


def _bool_to_num(v, valid):
    return v.astype(np.int64), None


def _bool_to_double(v, valid):
    return v.astype(np.float64), None


def _num_to_bool(v, valid):
    return v != 0, None


# --- strings --------------------------------------------------------------------------------

def _str_to_int(lo, hi):
    def f(v, valid):
        s = pd.Series(v, dtype=object).str.strip()
        num = pd.to_numeric(s, errors="coerce")
        f64 = num.to_numpy(dtype=np.float64, na_value=np.nan)
        ok_int = s.str.fullmatch(r"[+-]?\d+").fillna(False).to_numpy(dtype=bool)
        bad = ~ok_int | np.isnan(f64)
        out = np.zeros(len(v), dtype=np.int64)
        good = ~bad
        if good.any():
            ints = [int(x) for x in s[good]]
            arr = np.array([x if lo <= x <= hi else 0 for x in ints], dtype=np.int64)
            out[good] = arr
            over = np.array([not lo <= x <= hi for x in ints], dtype=bool)
            bad_idx = np.flatnonzero(good)[over]
            bad[bad_idx] = True
        return out, bad

    return f


def _str_to_double(v, valid):
    s = pd.Series(v, dtype=object).str.strip()
    lowered = s.str.lower()
    special = {"nan": np.nan, "infinity": np.inf, "-infinity": -np.inf, "+infinity": np.inf}
    num = pd.to_numeric(s.where(~lowered.isin(list(special)), "0"), errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    for k, x in special.items():
        num = np.where(lowered.to_numpy() == k, x, num)
    bad = np.isnan(num) & ~(lowered.to_numpy() == "nan")
    return np.where(bad, 0.0, num), bad


def _str_to_bool(v, valid):
    low = pd.Series(v, dtype=object).str.strip().str.lower().to_numpy()
    t = np.isin(low, ["true", "t", "1"])
    f = np.isin(low, ["false", "f", "0"])
    return t, ~(t | f)


def parse_timestamps(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Strings -> int64 ns (UTC) and a mask of the unparseable ones.

    Accepts 'YYYY-MM-DD', 'YYYY-MM-DD HH:MM[:SS[.f...]]', ISO 8601 with 'T', 'Z' or an
    offset (converted to UTC)."""
    s = pd.Series(v, dtype=object).str.strip()
    parsed = pd.to_datetime(s, errors="coerce", utc=True, format="ISO8601")
    bad = parsed.isna().to_numpy()
    ns = parsed.dt.tz_localize(None).to_numpy(dtype="datetime64[ns]").astype(np.int64)
    # pandas keeps nanoseconds; check digits beyond it were not silently dropped
    return np.where(bad, 0, ns), bad


def _str_to_timestamp(v, valid):
    return parse_timestamps(v)


def _str_to_date(v, valid):
    ns, bad = parse_timestamps(v)
    has_time = pd.Series(v, dtype=object).str.strip().str.len().fillna(0).to_numpy() > 10
    return ns // DAY_NS, bad | has_time


def _str_to_time(v, valid):
    s = pd.Series(v, dtype=object).str.strip()
    parts = s.str.extract(r"^(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?$")
    bad = parts[0].isna().to_numpy().copy()  # pandas may hand out a read-only view
    h = pd.to_numeric(parts[0], errors="coerce").fillna(0).to_numpy(np.int64)
    m = pd.to_numeric(parts[1], errors="coerce").fillna(0).to_numpy(np.int64)
    sec = pd.to_numeric(parts[2], errors="coerce").fillna(0).to_numpy(np.int64)
    frac = parts[3].fillna("").str.ljust(9, "0").replace("", "0")
    frac = pd.to_numeric(frac, errors="coerce").fillna(0).to_numpy(np.int64)
    bad |= (h > 23) | (m > 59) | (sec > 59)
    return ((h * 3600 + m * 60 + sec) * 10**9 + frac), bad


def _str_to_interval_ds(v, valid):
    from .time import parse_duration_values

    return parse_duration_values(v)


# --- time -------------------------------------------------------------------------------------

def _ts_to_varchar(v, valid):
    return format_timestamps(v).astype(object), None


def _ts_to_date(v, valid):
    return np.floor_divide(v, DAY_NS), None


def _ts_to_time(v, valid):
    return np.mod(v, DAY_NS), None


def _date_to_ts(v, valid):
    return v * DAY_NS, None


def _date_to_varchar(v, valid):
    return format_dates(v).astype(object), None


def _time_to_varchar(v, valid):
    return object_array([format_time(x) for x in v]), None


def _ids_to_varchar(v, valid):
    return object_array([format_interval_day_to_second(x) for x in v]), None


def _iym_to_varchar(v, valid):
    return object_array([format_interval_year_to_month(x) for x in v]), None


def _identity(v, valid):
    return v, None


_CASTS = {
    ("double", "bigint"): _double_to_int(INT64_MIN, INT64_MAX),
    ("double", "integer"): _double_to_int(INT32_MIN, INT32_MAX),
    ("bigint", "integer"): _int_range(INT32_MIN, INT32_MAX),
    ("integer", "bigint"): _identity,
    ("integer", "double"): _to_double,
    ("bigint", "double"): _to_double,
    ("integer", "varchar"): _num_to_varchar,
    ("bigint", "varchar"): _num_to_varchar,
    ("double", "varchar"): _double_to_varchar,
    ("boolean", "varchar"): _bool_to_varchar,
    ("boolean", "bigint"): _bool_to_num,
    ("boolean", "integer"): _bool_to_num,
    ("boolean", "double"): _bool_to_double,
    ("bigint", "boolean"): _num_to_bool,
    ("integer", "boolean"): _num_to_bool,
    ("double", "boolean"): _num_to_bool,
    ("varchar", "bigint"): _str_to_int(INT64_MIN, INT64_MAX),
    ("varchar", "integer"): _str_to_int(INT32_MIN, INT32_MAX),
    ("varchar", "double"): _str_to_double,
    ("varchar", "boolean"): _str_to_bool,
    ("varchar", "timestamp"): _str_to_timestamp,
    ("varchar", "date"): _str_to_date,
    ("varchar", "time"): _str_to_time,
    ("varchar", "interval day to second"): _str_to_interval_ds,
    ("timestamp", "varchar"): _ts_to_varchar,
    ("timestamp", "date"): _ts_to_date,
    ("timestamp", "time"): _ts_to_time,
    ("date", "timestamp"): _date_to_ts,
    ("date", "varchar"): _date_to_varchar,
    ("time", "varchar"): _time_to_varchar,
    ("interval day to second", "varchar"): _ids_to_varchar,
    ("interval year to month", "varchar"): _iym_to_varchar,
}

__all__ = ["cast", "parse_timestamps", "BIGINT", "INTEGER", "BOOLEAN", "DATE", "TIME",
           "INTERVAL_DAY_TO_SECOND", "INTERVAL_YEAR_TO_MONTH"]
