"""Date and time functions: bin, date_trunc, date_add, date_diff, extract fields, epoch
conversions, ISO 8601, parse_duration (formats and parsing: datetime_format.py). All UTC, all numpy.

Timestamps are int64 ns since the epoch; dates int64 days; calendar fields come from
numpy's datetime64 unit conversions, never from a Python datetime per row.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from tsql.formatting import DAY_NS

from .registry import REGISTRY, fail, object_array

HOUR_NS = 3600 * 10**9
UNIT_NS = {
    "nanosecond": 1, "microsecond": 10**3, "millisecond": 10**6, "second": 10**9,
    "minute": 60 * 10**9, "hour": HOUR_NS, "day": DAY_NS, "week": 7 * DAY_NS,
}
MONTH_UNITS = {"month": 1, "quarter": 3, "year": 12}


# --- calendar helpers -------------------------------------------------------------------------

def civil(ns: np.ndarray):
    """(year, month 1-12, day 1-31, ns since midnight) of int64 ns timestamps."""
    dt = np.asarray(ns, dtype=np.int64).astype("datetime64[ns]")
    months = dt.astype("datetime64[M]")
    year = months.astype("datetime64[Y]").astype(np.int64) + 1970
    month = months.astype(np.int64) % 12 + 1
    days = dt.astype("datetime64[D]")
    day = (days - months.astype("datetime64[D]")).astype(np.int64) + 1
    tod = np.asarray(ns, dtype=np.int64) - days.astype(np.int64) * DAY_NS
    return year, month, day, tod


def days_in_month(year: np.ndarray, month: np.ndarray) -> np.ndarray:
    start = ((year - 1970) * 12 + (month - 1)).astype("datetime64[M]")
    return ((start + 1).astype("datetime64[D]") - start.astype("datetime64[D]")).astype(np.int64)


def from_civil(year, month, day, tod) -> np.ndarray:
    month_start = ((year - 1970) * 12 + (month - 1)).astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    return (month_start + day - 1) * DAY_NS + tod


def add_months(ns: np.ndarray, months: np.ndarray) -> np.ndarray:
    """Add calendar months, clamping the day to the end of the target month."""
    year, month, day, tod = civil(ns)
    total = (year - 1970) * 12 + (month - 1) + np.asarray(months, dtype=np.int64)
    ny, nm = total // 12 + 1970, total % 12 + 1
    day = np.minimum(day, days_in_month(ny, nm))
    return from_civil(ny, nm, day, tod)


def day_of_week(days: np.ndarray) -> np.ndarray:
    return (days + 3) % 7 + 1  # ISO: Monday 1 .. Sunday 7 (1970-01-01 was a Thursday)


def iso_week(ns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(week of year, year of week) by ISO 8601."""
    days = np.floor_divide(ns, DAY_NS)
    thursday = days - (day_of_week(days) - 1) + 3
    year = thursday.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970
    jan1 = (year - 1970).astype("datetime64[Y]").astype("datetime64[D]").astype(np.int64)
    return (thursday - jan1) // 7 + 1, year


_FIELD_KIND = {"timestamp": "Timestamp", "date": "DATE", "time": "Time"}
_TIME_UNITS = ("nanosecond", "microsecond", "millisecond", "second", "minute", "hour")


def _unit(value, kind: str = "timestamp") -> str:
    """A unit name as date_trunc/date_add/date_diff take it, checked for the value's type."""
    unit = str(value).lower()
    valid = unit in UNIT_NS or unit in MONTH_UNITS
    if kind == "date":
        valid = valid and unit not in _TIME_UNITS
    elif kind == "time":
        valid = unit in _TIME_UNITS
    if not valid:
        fail(f"'{unit}' is not a valid {_FIELD_KIND[kind]} field")
    return unit


def _const_unit(arr, kind: str = "timestamp") -> str:
    units = set(arr.tolist()) if len(arr) > 1 else {arr[0]}
    if len(units) != 1:
        fail("The time unit must be a constant")
    return _unit(units.pop(), kind)


# --- bin / date_trunc / date_add / date_diff -------------------------------------------------

@REGISTRY.elementwise("bin(timestamp, interval day to second) -> timestamp")
def bin_(t, interval):
    """floor(t / interval) * interval on epoch nanoseconds (not calendar-aligned)."""
    if np.any(interval <= 0):
        fail("The bin interval must be positive")
    return np.floor_divide(t, interval) * interval


def trunc_ns(unit: str, t: np.ndarray) -> np.ndarray:
    if unit in ("nanosecond", "microsecond", "millisecond", "second", "minute", "hour", "day"):
        step = UNIT_NS[unit]
        return np.floor_divide(t, step) * step
    if unit == "week":
        days = np.floor_divide(t, DAY_NS)
        return (days - (day_of_week(days) - 1)) * DAY_NS
    dt = t.astype("datetime64[ns]")
    if unit == "month":
        return dt.astype("datetime64[M]").astype("datetime64[ns]").astype(np.int64)
    if unit == "year":
        return dt.astype("datetime64[Y]").astype("datetime64[ns]").astype(np.int64)
    months = dt.astype("datetime64[M]").astype(np.int64)
    return (months - months % 3).astype("datetime64[M]").astype("datetime64[ns]").astype(np.int64)


@REGISTRY.elementwise("date_trunc(varchar, timestamp) -> timestamp")
def date_trunc(unit, t):
    return trunc_ns(_const_unit(unit), t)


@REGISTRY.elementwise("date_trunc(varchar, date) -> date")
def date_trunc_date(unit, d):
    return trunc_ns(_const_unit(unit, "date"), d * DAY_NS) // DAY_NS


@REGISTRY.elementwise("date_trunc(varchar, time) -> time")
def date_trunc_time(unit, t):
    return trunc_ns(_const_unit(unit, "time"), t)


@REGISTRY.elementwise("date_add(varchar, bigint, timestamp) -> timestamp")
def date_add(unit, value, t):
    u = _const_unit(unit)
    if u in MONTH_UNITS:
        return add_months(t, value * MONTH_UNITS[u])
    return t + value * UNIT_NS[u]


@REGISTRY.elementwise("date_add(varchar, bigint, date) -> date")
def date_add_date(unit, value, d):
    u = _const_unit(unit, "date")
    if u in MONTH_UNITS:
        return add_months(d * DAY_NS, value * MONTH_UNITS[u]) // DAY_NS
    return d + value * (UNIT_NS[u] // DAY_NS)


@REGISTRY.elementwise("date_add(varchar, bigint, time) -> time")
def date_add_time(unit, value, t):
    return np.mod(t + value * UNIT_NS[_const_unit(unit, "time")], DAY_NS)  # wraps around midnight


def _trunc_div(a, b):
    q = np.abs(a) // b
    return np.where(a < 0, -q, q)


@REGISTRY.elementwise("date_diff(varchar, timestamp, timestamp) -> bigint")
def date_diff(unit, t1, t2, kind="timestamp"):
    u = _const_unit(unit, kind)
    if u in UNIT_NS:
        return _trunc_div(t2 - t1, UNIT_NS[u])
    if u == "year":
        return _years_between(t1, t2)
    return _trunc_div(_months_between(t1, t2), MONTH_UNITS[u])


def _months_between(t1, t2):
    """Whole months from t1 to t2, as Joda (so Presto and Timestream) counts them: from
    the last day of a month, a later day of month in t1 counts as that last day."""
    y1, m1, d1, _ = civil(t1)
    y2, m2, d2, _ = civil(t2)
    months = (y2 - y1) * 12 + m2 - m1
    clamp = (d2 == days_in_month(y2, m2)) & (d1 > d2)
    t1 = np.where(clamp, t1 - (d1 - d2) * DAY_NS, t1)
    rem1 = t1 - from_civil(y1, m1, 1, 0)
    rem2 = t2 - from_civil(y2, m2, 1, 0)
    return np.where(months < 0, months + (rem2 > rem1), months - (rem2 < rem1))


def _years_between(t1, t2):
    """Whole years from t1 to t2 as Joda counts them (Feb 29 balanced against Feb 28)."""
    sign = np.where(t2 < t1, -1, 1)
    low, high = np.minimum(t1, t2), np.maximum(t1, t2)
    y_low, y_high = civil(low)[0], civil(high)[0]
    rem_low = low - from_civil(y_low, 1, 1, 0)
    rem_high = high - from_civil(y_high, 1, 1, 0)
    feb29 = 59 * DAY_NS
    leap_low, leap_high = _is_leap(y_low), _is_leap(y_high)
    first = (rem_low >= feb29) & leap_low
    rem_low = np.where(first & ~leap_high, rem_low - DAY_NS, rem_low)
    rem_high = np.where(~first & (rem_high >= feb29) & leap_high, rem_high - DAY_NS, rem_high)
    return sign * ((y_high - y_low) - (rem_high < rem_low))


def _is_leap(year):
    return (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))


@REGISTRY.elementwise("date_diff(varchar, date, date) -> bigint")
def date_diff_date(unit, d1, d2):
    return date_diff(unit, d1 * DAY_NS, d2 * DAY_NS, "date")


@REGISTRY.elementwise("date_diff(varchar, time, time) -> bigint")
def date_diff_time(unit, t1, t2):
    return date_diff(unit, t1, t2, "time")


# --- fields ---------------------------------------------------------------------------------

def _field(name, fn, *aliases):
    REGISTRY.elementwise(f"{name}(timestamp) -> bigint", aliases=aliases)(fn)
    REGISTRY.elementwise(f"{name}(date) -> bigint", aliases=aliases)(lambda d: fn(d * DAY_NS))


_field("year", lambda t: civil(t)[0])
_field("month", lambda t: civil(t)[1])
_field("day", lambda t: civil(t)[2], "day_of_month")
_field("quarter", lambda t: (civil(t)[1] - 1) // 3 + 1)
_field("day_of_week", lambda t: day_of_week(np.floor_divide(t, DAY_NS)), "dow")
_field("day_of_year", lambda t: np.floor_divide(t, DAY_NS) - trunc_ns("year", t) // DAY_NS + 1, "doy")
_field("week", lambda t: iso_week(t)[0], "week_of_year")
_field("year_of_week", lambda t: iso_week(t)[1], "yow")
REGISTRY.elementwise("hour(timestamp) -> bigint")(lambda t: np.mod(t, DAY_NS) // HOUR_NS)
REGISTRY.elementwise("minute(timestamp) -> bigint")(lambda t: np.mod(t, HOUR_NS) // (60 * 10**9))
REGISTRY.elementwise("second(timestamp) -> bigint")(lambda t: np.mod(t, 60 * 10**9) // 10**9)
REGISTRY.elementwise("millisecond(timestamp) -> bigint")(lambda t: np.mod(t, 10**9) // 10**6)
REGISTRY.elementwise("nanosecond(timestamp) -> bigint")(lambda t: np.mod(t, 10**9))
for _name, _div in (("hour", HOUR_NS), ("minute", 60 * 10**9), ("second", 10**9)):
    _mod = {"hour": DAY_NS, "minute": HOUR_NS, "second": 60 * 10**9}[_name]
    REGISTRY.elementwise(f"{_name}(time) -> bigint")(lambda t, _m=_mod, _d=_div: np.mod(t, _m) // _d)
    REGISTRY.elementwise(f"{_name}(interval day to second) -> bigint")(
        lambda i, _m=_mod, _d=_div: np.sign(i) * ((np.abs(i) % _m) // _d)
    )
REGISTRY.elementwise("day(interval day to second) -> bigint", aliases=("day_of_month",))(
    lambda i: _trunc_div(i, DAY_NS))
REGISTRY.elementwise("millisecond(interval day to second) -> bigint")(
    lambda i: np.sign(i) * (np.abs(i) % 10**9 // 10**6))
REGISTRY.elementwise("nanosecond(interval day to second) -> bigint")(lambda i: np.sign(i) * (np.abs(i) % 10**9))
REGISTRY.elementwise("millisecond(time) -> bigint")(lambda t: np.mod(t, 10**9) // 10**6)
REGISTRY.elementwise("nanosecond(time) -> bigint")(lambda t: np.mod(t, 10**9))
REGISTRY.elementwise("year(interval year to month) -> bigint")(lambda m: _trunc_div(m, 12))
REGISTRY.elementwise("month(interval year to month) -> bigint")(lambda m: np.sign(m) * (np.abs(m) % 12))
REGISTRY.elementwise("timezone_hour(timestamp) -> bigint")(lambda t: np.zeros_like(t))
REGISTRY.elementwise("timezone_minute(timestamp) -> bigint")(lambda t: np.zeros_like(t))


@REGISTRY.elementwise("last_day_of_month(timestamp) -> date")
def last_day_of_month(t):
    y, m, _, _ = civil(t)
    return from_civil(y, m, days_in_month(y, m), 0) // DAY_NS


@REGISTRY.elementwise("last_day_of_month(date) -> date")
def last_day_of_month_date(d):
    return last_day_of_month(d * DAY_NS)


@REGISTRY.elementwise("date(timestamp) -> date")
def date_of_timestamp(t):
    return np.floor_divide(t, DAY_NS)


@REGISTRY.scalar("date(varchar) -> date")
def date_of_string(args, out_type, ctx):
    from .cast import cast

    return cast(args[0], out_type)


# --- epoch conversions ----------------------------------------------------------------------

@REGISTRY.elementwise("from_unixtime(double) -> timestamp", "from_unixtime(bigint) -> timestamp")
def from_unixtime(s):
    return np.round(np.asarray(s, dtype=np.float64) * 1e9).astype(np.int64) if s.dtype.kind == "f" else s * 10**9


@REGISTRY.elementwise("to_unixtime(timestamp) -> double")
def to_unixtime(t):
    return t / 1e9


@REGISTRY.elementwise("from_milliseconds(bigint) -> timestamp")
def from_milliseconds(ms):
    return ms * 10**6


@REGISTRY.elementwise("from_nanoseconds(bigint) -> timestamp")
def from_nanoseconds(ns):
    return ns


@REGISTRY.elementwise("to_milliseconds(timestamp) -> bigint", "to_milliseconds(interval day to second) -> bigint")
def to_milliseconds(t):
    return np.floor_divide(t, 10**6)


@REGISTRY.elementwise("to_nanoseconds(timestamp) -> bigint", "to_nanoseconds(interval day to second) -> bigint")
def to_nanoseconds(t):
    return t


# --- ISO 8601, durations, formats ------------------------------------------------------------

@REGISTRY.elementwise("from_iso8601_timestamp(varchar) -> timestamp")
def from_iso8601_timestamp(s):
    from .cast import parse_timestamps

    ns, bad = parse_timestamps(s)
    if bad.any():
        fail(f"Invalid format: \"{s[np.flatnonzero(bad)[0]]}\"")
    return ns


@REGISTRY.elementwise("from_iso8601_date(varchar) -> date")
def from_iso8601_date(s):
    from .cast import parse_timestamps

    ns, bad = parse_timestamps(s)
    if bad.any():
        fail(f"Invalid format: \"{s[np.flatnonzero(bad)[0]]}\"")
    return np.floor_divide(ns, DAY_NS)


@REGISTRY.elementwise("to_iso8601(timestamp) -> varchar")
def to_iso8601(t):
    text = np.datetime_as_string(t.astype("datetime64[ns]"), unit="ns")
    return np.char.add(text, "Z").astype(object)


@REGISTRY.elementwise("to_iso8601(date) -> varchar")
def to_iso8601_date(d):
    return np.datetime_as_string(d.astype("datetime64[D]"), unit="D").astype(object)


_DURATION_RE = r"^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]+)\s*$"
_DURATION_UNITS = {
    "ns": 1, "nanosecond": 1, "nanoseconds": 1, "us": 10**3, "microsecond": 10**3, "microseconds": 10**3,
    "ms": 10**6, "millisecond": 10**6, "milliseconds": 10**6, "s": 10**9, "second": 10**9, "seconds": 10**9,
    "m": 60 * 10**9, "minute": 60 * 10**9, "minutes": 60 * 10**9, "h": HOUR_NS, "hour": HOUR_NS,
    "hours": HOUR_NS, "d": DAY_NS, "day": DAY_NS, "days": DAY_NS,
}


def parse_duration_values(s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    parts = pd.Series(s, dtype=object).str.extract(_DURATION_RE)
    number = pd.to_numeric(parts[0], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    scale = parts[1].str.lower().map(_DURATION_UNITS).to_numpy(dtype=np.float64, na_value=np.nan)
    bad = np.isnan(number) | np.isnan(scale)
    return np.where(bad, 0, np.round(number * np.where(bad, 0, scale))).astype(np.int64), bad


@REGISTRY.elementwise("parse_duration(varchar) -> interval day to second")
def parse_duration(s):
    ns, bad = parse_duration_values(s)
    if bad.any():
        fail(f"duration is not a valid data duration string: {s[np.flatnonzero(bad)[0]]}")
    return ns


__all__ = ["add_months", "civil", "trunc_ns", "DAY_NS", "object_array", "parse_duration_values"]
