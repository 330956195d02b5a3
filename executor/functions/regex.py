"""Regular expression functions in Java pattern syntax, as Timestream's are:
regexp_like, regexp_extract, regexp_extract_all, regexp_replace, regexp_split.

A Java pattern is translated once to Python's `re` (javaregex.py) and each function
runs once per distinct input string: dimension values arrive dictionary-encoded, other
columns are factorized first, so repeated strings cost one match. regexp_like takes
pyarrow's vectorized RE2 when the pattern means the same there.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from tsql.types import ArrayType, VARCHAR

from ..column import ListVector, Vector, as_vector, from_pylist
from .array import lists_per_string
from .javaregex import compile_java, java_replacement
from .registry import REGISTRY, fail, object_array

STRING_ARRAY = ArrayType(VARCHAR)


def _distinct(fn, values: np.ndarray, dtype=object) -> np.ndarray:
    """fn applied to each distinct string of `values`, spread back over the rows."""
    codes, uniques = pd.factorize(values) if len(values) > 1 else (np.zeros(len(values), np.int64), values)
    mapped = np.empty(len(uniques), dtype=dtype)
    for i, u in enumerate(uniques):  # one call per distinct value (lists must not become 2-D)
        mapped[i] = fn(u)
    return mapped[codes]


def _pairs(fn, strings: np.ndarray, patterns: np.ndarray, dtype=object) -> np.ndarray:
    """fn(string, compiled pattern) over rows: per distinct string when the pattern is
    a constant, else per row (a pattern computed per row is rare)."""
    if len(patterns) == 1:
        compiled = compile_java(patterns[0])
        return _distinct(lambda s: fn(s, compiled), strings, dtype)
    n = max(len(strings), len(patterns))
    s, p = np.broadcast_to(strings, (n,)), np.broadcast_to(patterns, (n,))
    out = np.empty(n, dtype=dtype)
    for i in range(n):
        out[i] = fn(s[i], compile_java(p[i]))
    return out


# --- regexp_like --------------------------------------------------------------------------------

_RE2_UNSAFE = re.compile(r"\$|\\Z|\\z|\(\?[a-zA-Z]*i|\(\?[=!<]|\\[1-9]|\(\?>|[*+?}]\+|\(\?P=")


@REGISTRY.elementwise("regexp_like(varchar, varchar) -> boolean")
def regexp_like(strings, patterns):
    if len(patterns) == 1 and len(strings) > 1:
        compiled = compile_java(patterns[0])
        if not _RE2_UNSAFE.search(compiled.pattern):
            try:  # RE2 agrees with Java here: one vectorized pass
                arr = pa.array(strings, type=pa.string())
                return pc.match_substring_regex(arr, compiled.pattern).to_numpy(zero_copy_only=False).astype(bool)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                pass
    return _pairs(lambda s, p: p.search(s) is not None, strings, patterns, bool)


# --- regexp_extract / regexp_extract_all ---------------------------------------------------------

def _check_group(compiled: re.Pattern, group: int) -> None:
    if group < 0 or group > compiled.groups:
        fail(f"Pattern has {compiled.groups} groups. Cannot access group {group}")


def _extract(strings, patterns, groups):
    n = max(len(strings), len(patterns), len(groups))
    group_values = np.broadcast_to(groups, (n,))
    if len(groups) == 1 or len(set(group_values.tolist())) == 1:
        g = int(group_values[0])

        def first(s, p):
            _check_group(p, g)
            m = p.search(s)
            return None if m is None else m.group(g)

        out = _pairs(first, strings, patterns)
    else:
        s, p = np.broadcast_to(strings, (n,)), np.broadcast_to(patterns, (n,))
        values = []
        for text, pattern, g in zip(s, p, group_values):  # groups differ per row: rare
            compiled = compile_java(pattern)
            _check_group(compiled, int(g))
            m = compiled.search(text)
            values.append(None if m is None else m.group(int(g)))
        out = object_array(values)
    nulls = np.array([v is None for v in out], dtype=bool)
    return out, nulls


@REGISTRY.elementwise("regexp_extract(varchar, varchar) -> varchar")
def regexp_extract(strings, patterns):
    return _extract(strings, patterns, np.zeros(1, dtype=np.int64))


@REGISTRY.elementwise("regexp_extract(varchar, varchar, bigint) -> varchar")
def regexp_extract_group(strings, patterns, groups):
    return _extract(strings, patterns, groups)


def _list_result(values: list, nulls: np.ndarray | None = None) -> ListVector:
    col = from_pylist(values, STRING_ARRAY)
    if nulls is not None and nulls.any():
        col = ListVector(col.type, col.offsets, col.child, col.null_mask() | nulls)
    return col


def _extract_all(args, group: int | None):
    strings, patterns = as_vector(args[0]), as_vector(args[1])
    groups = as_vector(args[2]) if len(args) > 2 else None
    n = max(len(a) for a in args)
    nulls = np.zeros(n, dtype=bool)
    for a in (strings, patterns, groups):
        if a is not None and a.nulls is not None:
            nulls |= np.broadcast_to(a.nulls, (n,))
    s = np.broadcast_to(strings.values, (n,))
    p = np.broadcast_to(patterns.values, (n,))
    g = np.broadcast_to(groups.values, (n,)) if groups is not None else np.zeros(n, dtype=np.int64)

    def all_matches(text, compiled, k):
        _check_group(compiled, k)
        return [m.group(k) for m in compiled.finditer(text)]

    if len(patterns) == 1 and (groups is None or len(groups) == 1) and not nulls.all():
        compiled = compile_java(p[0])
        k = int(g[0])
        return lists_per_string(lambda t: all_matches(t, compiled, k), s, nulls, STRING_ARRAY)
    else:
        values = [None if nulls[i] else all_matches(s[i], compile_java(p[i]), int(g[i])) for i in range(n)]
    return _list_result(values, nulls)


@REGISTRY.scalar("regexp_extract_all(varchar, varchar) -> array(varchar)",
                 "regexp_extract_all(varchar, varchar, bigint) -> array(varchar)")
def regexp_extract_all(args, out_type, ctx):
    return _extract_all(args, None)


# --- regexp_replace -------------------------------------------------------------------------------

@REGISTRY.elementwise("regexp_replace(varchar, varchar) -> varchar")
def regexp_remove(strings, patterns):
    return _pairs(lambda s, p: p.sub("", s), strings, patterns)


@REGISTRY.elementwise("regexp_replace(varchar, varchar, varchar) -> varchar")
def regexp_replace(strings, patterns, replacements):
    if len(replacements) == 1:
        replacement = replacements[0]
        return _pairs(lambda s, p: p.sub(java_replacement(replacement, p), s), strings, patterns)
    n = max(len(strings), len(patterns), len(replacements))
    s, p, r = (np.broadcast_to(a, (n,)) for a in (strings, patterns, replacements))
    out = []
    for text, pattern, replacement in zip(s, p, r):  # replacements differ per row: rare
        compiled = compile_java(pattern)
        out.append(compiled.sub(java_replacement(replacement, compiled), text))
    return object_array(out)


@REGISTRY.scalar("regexp_replace(varchar, varchar, function(array(varchar), varchar)) -> varchar")
def regexp_replace_lambda(args, out_type, ctx):
    """Each match is replaced by the lambda's value for the array of its capturing
    groups; all matches of all rows go through the lambda in one call."""
    lam = args[2]
    n = max(len(args[0]), len(args[1]), len(lam.batch) if _uses_row(lam) else 1)
    strings, patterns = as_vector(args[0].broadcast(n)), as_vector(args[1].broadcast(n))
    nulls = strings.null_mask() | patterns.null_mask()
    matches, groups, rows = [], [], []
    for i in np.flatnonzero(~nulls):  # collect every match of every row
        compiled = compile_java(patterns.values[i])
        for m in compiled.finditer(strings.values[i]):
            matches.append(m)
            groups.append(list(m.groups()))
            rows.append(i)
    replaced = []
    if matches:
        col = lam.apply([from_pylist(groups, STRING_ARRAY)], np.array(rows, dtype=np.int64))
        replaced = col.to_pylist()
    out = strings.values.copy()
    by_row: dict = {}
    for m, r, value in zip(matches, rows, replaced):
        by_row.setdefault(r, []).append((m, value))
    for r, items in by_row.items():  # splice each row's replacements in
        text, pieces, last = strings.values[r], [], 0
        for m, value in items:
            if value is None:
                nulls[r] = True
                break
            pieces.append(text[last:m.start()])
            pieces.append(value)
            last = m.end()
        out[r] = "".join(pieces) + text[last:]
    return Vector(VARCHAR, np.where(nulls, None, out), nulls)


def _uses_row(lam) -> bool:
    from ..evaluate import LambdaValue
    from tsql.planner.expressions import ColumnRef, OuterRef

    return isinstance(lam, LambdaValue) and any(isinstance(e, (ColumnRef, OuterRef)) for e in lam.lam.body.walk())


# --- regexp_split -----------------------------------------------------------------------------------

def _split(text: str, compiled: re.Pattern) -> list:
    """Split on each match, keeping empty pieces (also trailing ones), as Presto does."""
    pieces, last = [], 0
    for m in compiled.finditer(text):
        if m.end() == 0:  # an empty match at the start splits nothing off
            continue
        pieces.append(text[last:m.start()])
        last = m.end()
    pieces.append(text[last:])
    return pieces


@REGISTRY.scalar("regexp_split(varchar, varchar) -> array(varchar)")
def regexp_split(args, out_type, ctx):
    strings, patterns = as_vector(args[0]), as_vector(args[1])
    n = max(len(strings), len(patterns))
    nulls = np.broadcast_to(strings.null_mask(), (n,)) | np.broadcast_to(patterns.null_mask(), (n,))
    if len(patterns) == 1 and not nulls.all():
        compiled = compile_java(patterns.values[0])
        return lists_per_string(lambda t: _split(t, compiled), np.broadcast_to(strings.values, (n,)), nulls, STRING_ARRAY)
    else:
        s, p = np.broadcast_to(strings.values, (n,)), np.broadcast_to(patterns.values, (n,))
        values = [None if nulls[i] else _split(s[i], compile_java(p[i])) for i in range(n)]
    return _list_result(values, nulls)


__all__ = ["regexp_like", "regexp_extract", "regexp_replace"]
