"""Formatting and parsing timestamps: date_format/date_parse (MySQL specifiers, as in
Presto) and format_datetime/parse_datetime (Joda patterns; java.time's `u` and `L`
are understood too, as Timestream's examples use them).

A format is compiled once into tokens. Formatting is vectorized: the calendar fields
are computed for the whole column and each token becomes a numpy string column.
Parsing matches a regular expression built from the tokens, once per distinct string.
All times are UTC; a parsed zone or offset converts to UTC.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from tsql.formatting import DAY_NS

from .registry import REGISTRY, fail
from .time import HOUR_NS, civil, day_of_week, from_civil, iso_week, trunc_ns

MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
MINUTE_NS = 60 * 10**9


class Fields:
    """Calendar fields of a column of timestamps, computed when first asked for."""

    def __init__(self, ns: np.ndarray):
        self.ns = ns

    @functools.cached_property
    def civil(self):
        return civil(self.ns)

    @property
    def year(self):
        return self.civil[0]

    @property
    def month(self):
        return self.civil[1]

    @property
    def day(self):
        return self.civil[2]

    @property
    def hour(self):
        return self.civil[3] // HOUR_NS

    @property
    def minute(self):
        return self.civil[3] % HOUR_NS // MINUTE_NS

    @property
    def second(self):
        return self.civil[3] % MINUTE_NS // 10**9

    @property
    def nanos(self):
        return self.civil[3] % 10**9

    @property
    def weekday(self):  # ISO: Monday 1 .. Sunday 7
        return day_of_week(np.floor_divide(self.ns, DAY_NS))

    @property
    def day_of_year(self):
        return np.floor_divide(self.ns, DAY_NS) - trunc_ns("year", self.ns) // DAY_NS + 1

    @functools.cached_property
    def iso(self):
        return iso_week(self.ns)


def _num(values: np.ndarray, width: int) -> np.ndarray:
    text = values.astype(np.int64).astype(str)
    return np.char.zfill(text, width) if width > 1 else text


def _names(names: list, index: np.ndarray, length: int | None = None) -> np.ndarray:
    table = np.array([n[:length] if length else n for n in names])
    return table[index]


def _fraction(nanos: np.ndarray, min_digits: int, max_digits: int) -> np.ndarray:
    """Fraction of a second with at least min_digits, and more up to max_digits when they
    are not zeros (Joda's appendFractionOfSecond)."""
    full = np.char.zfill(nanos.astype(np.int64).astype(str), 9)
    digits = np.char.rstrip(full, "0")
    lengths = np.clip(np.char.str_len(digits), min_digits, max_digits)
    return np.array([s[:k] for s, k in zip(full, lengths)]) if len(full) else full


def render(tokens: list, ns: np.ndarray) -> np.ndarray:
    """Text for each timestamp: a (token kind, argument) list rendered column by column."""
    f = Fields(ns)
    out = np.full(len(ns), "", dtype=object)
    for kind, arg in tokens:
        if kind == "text":
            piece = np.full(len(ns), arg)
        else:
            piece = _FIELD_RENDERERS[kind](f, arg)
        out = out + piece.astype(object)
    return out


_FIELD_RENDERERS = {
    "year": lambda f, w: _num(f.year, w),
    "year2": lambda f, w: _num(f.year % 100, 2),
    "weekyear": lambda f, w: _num(f.iso[1], w),
    "week": lambda f, w: _num(f.iso[0], w),
    "month": lambda f, w: _num(f.month, w),
    "month_name": lambda f, length: _names(MONTHS, f.month - 1, length),
    "day": lambda f, w: _num(f.day, w),
    "day_of_year": lambda f, w: _num(f.day_of_year, w),
    "weekday": lambda f, w: _num(f.weekday, w),
    "weekday_name": lambda f, length: _names(DAYS, f.weekday - 1, length),
    "hour": lambda f, w: _num(f.hour, w),
    "hour12": lambda f, w: _num((f.hour + 11) % 12 + 1, w),
    "hour12_0": lambda f, w: _num(f.hour % 12, w),
    "hour24_1": lambda f, w: _num(np.where(f.hour == 0, 24, f.hour), w),
    "minute": lambda f, w: _num(f.minute, w),
    "second": lambda f, w: _num(f.second, w),
    "fraction": lambda f, digits: _fraction(f.nanos, *digits),
    "ampm": lambda f, w: np.where(f.hour < 12, "AM", "PM"),
    "era": lambda f, w: np.full(len(f.ns), "AD"),
    "century": lambda f, w: _num(f.year // 100, w),
    "zone_offset": lambda f, colon: np.full(len(f.ns), "+00:00" if colon else "+0000"),
    "zone_name": lambda f, full: np.full(len(f.ns), "Coordinated Universal Time" if full else "UTC"),
    "zone_id": lambda f, w: np.full(len(f.ns), "UTC"),
}


# --- MySQL specifiers (date_format, date_parse) ---------------------------------------------------

_MYSQL = {
    "a": ("weekday_name", 3), "b": ("month_name", 3), "c": ("month", 1),
    "d": ("day", 2), "e": ("day", 1), "f": ("fraction", (6, 9)), "H": ("hour", 2), "h": ("hour12", 2),
    "I": ("hour12", 2), "i": ("minute", 2), "j": ("day_of_year", 3), "k": ("hour", 1), "l": ("hour12", 1),
    "M": ("month_name", None), "m": ("month", 2), "p": ("ampm", 0), "S": ("second", 2), "s": ("second", 2),
    "v": ("week", 2), "W": ("weekday_name", None), "x": ("weekyear", 4), "Y": ("year", 4), "y": ("year2", 2),
}
_MYSQL_UNSUPPORTED = set("DUuVwX")


@functools.lru_cache(maxsize=128)
def mysql_tokens(fmt: str) -> tuple:
    tokens = []
    i = 0
    while i < len(fmt):
        c = fmt[i]
        if c != "%" or i + 1 >= len(fmt):
            tokens.append(("text", c))
            i += 1
            continue
        spec = fmt[i + 1]
        i += 2
        if spec in _MYSQL_UNSUPPORTED:
            fail(f"%{spec} not supported in date format string")
        if spec == "T":
            tokens += [("hour", 2), ("text", ":"), ("minute", 2), ("text", ":"), ("second", 2)]
        elif spec == "r":
            tokens += [("hour12", 2), ("text", ":"), ("minute", 2), ("text", ":"), ("second", 2), ("text", " "),
                       ("ampm", 0)]
        elif spec in _MYSQL:
            tokens.append(_MYSQL[spec])
        else:  # %% and any other %x: the character itself
            tokens.append(("text", spec))
    return tuple(_merge_text(tokens))


def _merge_text(tokens: list) -> list:
    out = []
    for kind, arg in tokens:
        if kind == "text" and out and out[-1][0] == "text":
            out[-1] = ("text", out[-1][1] + arg)
        else:
            out.append((kind, arg))
    return out


# --- Joda patterns (format_datetime, parse_datetime) ----------------------------------------------

def _joda_token(letter: str, count: int) -> tuple:
    if letter in "yYu":
        return ("year2", 2) if count == 2 else ("year", count)
    if letter == "x":
        return ("year2", 2) if count == 2 else ("weekyear", count)
    if letter in "ML":
        if count >= 4:
            return ("month_name", None)
        return ("month_name", 3) if count == 3 else ("month", count)
    table = {
        "G": ("era", count), "C": ("century", count), "w": ("week", count), "e": ("weekday", count),
        "D": ("day_of_year", count), "d": ("day", count), "a": ("ampm", count), "K": ("hour12_0", count),
        "h": ("hour12", count), "H": ("hour", count), "k": ("hour24_1", count), "m": ("minute", count),
        "s": ("second", count), "S": ("fraction", (count, count)),
    }
    if letter in table:
        return table[letter]
    if letter == "E":
        return ("weekday_name", None) if count >= 4 else ("weekday_name", 3)
    if letter == "z":
        return ("zone_name", count >= 4)
    if letter == "Z":
        return ("zone_id", 0) if count >= 3 else ("zone_offset", count == 2)
    fail(f"Illegal pattern component: {letter * count}")


@functools.lru_cache(maxsize=128)
def joda_tokens(pattern: str) -> tuple:
    tokens = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "'":
            end = i + 1
            text = ""
            while True:  # quoted text; '' is a quote
                j = pattern.find("'", end)
                if j < 0:
                    fail(f"Illegal pattern component: {pattern[i:]}")
                text += pattern[end:j]
                if pattern.startswith("''", j):
                    text += "'"
                    end = j + 2
                    continue
                end = j + 1
                break
            tokens.append(("text", text if i + 1 < end - 1 or text else "'"))
            i = end
        elif c.isalpha():
            j = i
            while j < len(pattern) and pattern[j] == c:
                j += 1
            tokens.append(_joda_token(c, j - i))
            i = j
        else:
            tokens.append(("text", c))
            i += 1
    return tuple(_merge_text(tokens))


# --- parsing ----------------------------------------------------------------------------------------

_ZONES = {
    "UTC": "UTC", "GMT": "UTC", "UT": "UTC", "Z": "UTC", "PST": "America/Los_Angeles", "PDT": "America/Los_Angeles",
    "MST": "America/Denver", "MDT": "America/Denver", "CST": "America/Chicago", "CDT": "America/Chicago",
    "EST": "America/New_York", "EDT": "America/New_York", "AKST": "America/Anchorage", "AKDT": "America/Anchorage",
    "HST": "Pacific/Honolulu", "CET": "Europe/Paris", "CEST": "Europe/Paris", "EET": "Europe/Athens",
    "EEST": "Europe/Athens", "BST": "Europe/London", "IST": "Asia/Kolkata", "JST": "Asia/Tokyo",
    "KST": "Asia/Seoul", "AEST": "Australia/Sydney", "AEDT": "Australia/Sydney",
}

_PATTERNS = {
    "year": r"(?P<year>[+-]?\d{1,9})", "year2": r"(?P<year2>\d{2})", "weekyear": r"(?P<weekyear>\d{1,9})",
    "week": r"(?P<week>\d{1,2})", "month": r"(?P<month>\d{1,2})", "day": r"(?P<day>\d{1,2})",
    "day_of_year": r"(?P<day_of_year>\d{1,3})", "weekday": r"(?P<weekday>\d)", "hour": r"(?P<hour>\d{1,2})",
    "hour12": r"(?P<hour12>\d{1,2})", "hour12_0": r"(?P<hour12_0>\d{1,2})", "hour24_1": r"(?P<hour24_1>\d{1,2})",
    "minute": r"(?P<minute>\d{1,2})", "second": r"(?P<second>\d{1,2})", "fraction": r"(?P<fraction>\d{1,9})",
    "ampm": r"(?P<ampm>[AaPp][Mm])", "era": r"(?:AD|BC|ad|bc)", "century": r"\d{1,2}",
    "month_name": None, "weekday_name": None,
    "zone_offset": r"(?P<offset>Z|[+-]\d{2}:?\d{2})", "zone_name": r"(?P<zone>[A-Za-z]{1,5})",
    "zone_id": r"(?P<zoneid>[A-Za-z_]+(?:/[A-Za-z_]+)*)",
}


def _exact_width(kind: str, width) -> str:
    """A numeric field as wide as the pattern asks, when the next token is a number too
    (`%Y%m%d`): Joda then parses fixed widths."""
    return rf"(?P<{kind}>\d{{{width}}})"


@functools.lru_cache(maxsize=128)
def parser(tokens: tuple) -> re.Pattern:
    parts = []
    seen = set()
    for i, (kind, arg) in enumerate(tokens):
        if kind == "text":
            parts.append(re.escape(arg))
            continue
        if kind in seen and (_PATTERNS.get(kind) or "").startswith("(?P"):
            fail("A field appears twice in the date format")
        seen.add(kind)
        if kind == "month_name":
            names = MONTHS if arg is None else [m[:3] for m in MONTHS]
            parts.append("(?P<month_name>" + "|".join(names) + ")")
        elif kind == "weekday_name":
            names = DAYS if arg is None else [d[:3] for d in DAYS]
            parts.append("(?:" + "|".join(names) + ")")
        else:
            following = tokens[i + 1][0] if i + 1 < len(tokens) else "text"
            numeric = isinstance(arg, int) and arg > 1 and following not in ("text", "month_name", "weekday_name",
                                                                              "ampm", "zone_name", "zone_offset")
            parts.append(_exact_width(kind, arg) if numeric else _PATTERNS[kind])
    return re.compile("".join(parts) + r"\Z", re.IGNORECASE)


def parse_one(text: str, tokens: tuple) -> int | None:
    """ns since the epoch (UTC) for one string, or None when it does not match."""
    m = parser(tokens).match(text)
    if m is None:
        return None
    g = {k: v for k, v in m.groupdict().items() if v is not None}
    year = int(g["year"]) if "year" in g else (1970 if "year2" not in g else _pivot(int(g["year2"])))
    month = int(g.get("month", 1))
    if "month_name" in g:
        month = [n[:3].lower() for n in MONTHS].index(g["month_name"][:3].lower()) + 1
    day = int(g.get("day", 1))
    if "hour12" in g or "hour12_0" in g:
        hour = int(g.get("hour12", g.get("hour12_0", 0))) % 12
        if g.get("ampm", "AM").upper() == "PM":
            hour += 12
    elif "hour24_1" in g:
        hour = int(g["hour24_1"]) % 24
    else:
        hour = int(g.get("hour", 0))
    minute, second = int(g.get("minute", 0)), int(g.get("second", 0))
    nanos = int(g["fraction"].ljust(9, "0")) if "fraction" in g else 0
    try:
        if "day_of_year" in g:
            base = dt.datetime(year, 1, 1) + dt.timedelta(days=int(g["day_of_year"]) - 1)
            month, day = base.month, base.day
        value = dt.datetime(year, month, day, hour, minute, second)
    except (ValueError, OverflowError):
        return None
    offset = _offset(g, value)
    if offset is None:
        return None
    seconds = (value - dt.datetime(1970, 1, 1)).days * 86400 + hour * 3600 + minute * 60 + second
    ns = (seconds - offset) * 10**9 + nanos
    return ns if -(2**63) <= ns < 2**63 else None  # beyond what a timestamp can hold


def _pivot(two_digits: int) -> int:
    """Two-digit years pivot around 2020 (1970 .. 2069), as Presto's parser does."""
    return 2000 + two_digits if two_digits < 70 else 1900 + two_digits


def _offset(g: dict, local: dt.datetime) -> int | None:
    """Seconds east of UTC that the parsed zone or offset says (0 without one)."""
    if "offset" in g:
        text = g["offset"]
        if text.upper() == "Z":
            return 0
        sign = -1 if text[0] == "-" else 1
        digits = text[1:].replace(":", "")
        return sign * (int(digits[:2]) * 3600 + int(digits[2:]) * 60)
    name = g.get("zone") or g.get("zoneid")
    if name is None:
        return 0
    zone = _ZONES.get(name.upper(), name)
    try:
        info = ZoneInfo(zone)
    except (KeyError, ValueError, OSError):
        return None
    return int(local.replace(tzinfo=info).utcoffset().total_seconds())


def parse_column(values: np.ndarray, tokens: tuple) -> np.ndarray:
    """Timestamps for strings, one parse per distinct string; a string that does not
    match fails the query as Presto's parser does."""
    codes, uniques = pd.factorize(values)
    parsed = np.empty(len(uniques), dtype=np.int64)
    for i, text in enumerate(uniques):  # one regex match per distinct string
        ns = parse_one(text, tokens)
        if ns is None:
            fail(f'Invalid format: "{text}"')
        parsed[i] = ns
    return parsed[codes] if len(values) else np.zeros(0, dtype=np.int64)


def _constant(fmt: np.ndarray, name: str) -> str:
    formats = set(fmt.tolist())
    if len(formats) != 1:
        fail(f"{name} needs a constant format")
    return formats.pop()


def _register(name: str, tokens, formatting: bool) -> None:
    if formatting:
        signature = f"{name}(timestamp, varchar) -> varchar"
        kernel = lambda t, fmt: render(tokens(_constant(fmt, name)), t)  # noqa: E731
    else:
        signature = f"{name}(varchar, varchar) -> timestamp"
        kernel = lambda s, fmt: parse_column(s, tokens(_constant(fmt, name)))  # noqa: E731
    REGISTRY.elementwise(signature)(kernel)


for _name, _tokens, _formatting in (("date_format", mysql_tokens, True), ("date_parse", mysql_tokens, False),
                                    ("format_datetime", joda_tokens, True), ("parse_datetime", joda_tokens, False)):
    _register(_name, _tokens, _formatting)

__all__ = ["render", "parse_column", "mysql_tokens", "joda_tokens", "from_civil"]
