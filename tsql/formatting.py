"""Text forms of values, as Timestream prints them (Query API ScalarValue, CAST to varchar).

A leaf module: imports nothing of the project. Timestamps `2020-08-08 01:00:00.000000000`,
dates `2020-08-08`, times `01:00:00.000000000`, day-to-second intervals
`1 21:00:00.000000000`, year-to-month `2-7`, doubles as Java prints them (`2.5`, `35.0`,
`1.6554878837710001E9`), booleans `true`/`false`.
"""

from __future__ import annotations

import math
from decimal import Decimal

import numpy as np

DAY_NS = 86400 * 10**9


def format_double(d: float) -> str:
    """Java's Double.toString: decimal for 1e-3 <= |d| < 1e7, else d.dddE<n>."""
    if math.isnan(d):
        return "NaN"
    if math.isinf(d):
        return "Infinity" if d > 0 else "-Infinity"
    if d == 0:
        return "-0.0" if math.copysign(1.0, d) < 0 else "0.0"
    if abs(d) == 5e-324:  # Java prints the smallest subnormal with two digits
        return "-4.9E-324" if d < 0 else "4.9E-324"
    sign = "-" if d < 0 else ""
    digits_t, exponent = _shortest_digits(abs(d))
    digits = "".join(map(str, digits_t))
    # value = 0.digits * 10**point
    point = len(digits) + exponent
    mag = abs(d)
    if 1e-3 <= mag < 1e7:
        if point <= 0:
            text = "0." + "0" * (-point) + digits
        elif point >= len(digits):
            text = digits + "0" * (point - len(digits)) + ".0"
        else:
            text = digits[:point] + "." + digits[point:]
        return sign + text
    mantissa = digits[0] + "." + (digits[1:] or "0")
    return f"{sign}{mantissa}E{point - 1}"


def _shortest_digits(x: float) -> tuple[tuple, int]:
    t = Decimal(repr(x)).normalize().as_tuple()
    return t.digits, t.exponent


def format_doubles(values) -> list:
    """format_double over many values. Python's repr is Java's text for
    1e-3 <= |d| < 1e7 (both print the shortest round-tripping digits, in decimal
    notation there), so only values outside that range take the slow path."""
    v = np.asarray(values, dtype=np.float64)
    mag = np.abs(v)
    plain = (mag >= 1e-3) & (mag < 1e7)
    if plain.all():
        return list(map(float.__repr__, v.tolist()))
    return [repr(x) if p else format_double(x) for x, p in zip(v.tolist(), plain.tolist())]


def format_timestamps(ns: np.ndarray) -> np.ndarray:
    """int64 ns since the epoch -> 'YYYY-MM-DD HH:MM:SS.fffffffff' strings."""
    text = np.datetime_as_string(np.asarray(ns, dtype=np.int64).astype("datetime64[ns]"), unit="ns")
    if text.size == 0:
        return text
    if text.dtype == np.dtype("<U29") and text.flags.c_contiguous:
        chars = text.view(np.uint32).reshape(len(text), 29)  # every text has its 'T' at index 10
        if (chars[:, 10] == ord("T")).all():
            chars[:, 10] = ord(" ")
            return text
    return np.char.replace(text, "T", " ")


def format_timestamp(ns: int) -> str:
    return str(format_timestamps(np.array([ns]))[0])


def format_dates(days: np.ndarray) -> np.ndarray:
    return np.datetime_as_string(np.asarray(days, dtype=np.int64).astype("datetime64[D]"), unit="D")


def format_time(ns: int) -> str:
    ns = int(ns) % DAY_NS
    seconds, frac = divmod(ns, 10**9)
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h:02d}:{m:02d}:{s:02d}.{frac:09d}"


def format_interval_day_to_second(ns: int) -> str:
    ns = int(ns)
    sign = "-" if ns < 0 else ""
    days, rest = divmod(abs(ns), DAY_NS)
    return f"{sign}{days} {format_time(rest)}"


def format_interval_year_to_month(months: int) -> str:
    months = int(months)
    sign = "-" if months < 0 else ""
    y, m = divmod(abs(months), 12)
    return f"{sign}{y}-{m}"


def format_values(values: list, type_name: str) -> list:
    """format_value over a column's values (None stays None); doubles and timestamps
    are formatted in bulk."""
    present = [v for v in values if v is not None]
    if type_name == "double":
        texts = format_doubles(present)
    elif type_name == "timestamp":
        texts = format_timestamps(np.array(present, dtype=np.int64)).tolist()
    elif type_name in ("bigint", "integer", "varchar"):
        texts = list(map(str, present))
    else:
        texts = [format_value(v, type_name) for v in present]
    if len(present) == len(values):
        return texts
    it = iter(texts)
    return [None if v is None else next(it) for v in values]


def format_value(value, type_name: str) -> str:
    """One scalar value (executor representation) as text, by SQL type name."""
    if type_name == "double":
        return format_double(float(value))
    if type_name == "boolean":
        return "true" if value else "false"
    if type_name == "timestamp":
        return format_timestamp(int(value))
    if type_name == "date":
        return str(np.datetime64(int(value), "D"))
    if type_name == "time":
        return format_time(value)
    if type_name == "interval day to second":
        return format_interval_day_to_second(value)
    if type_name == "interval year to month":
        return format_interval_year_to_month(value)
    return str(value)
