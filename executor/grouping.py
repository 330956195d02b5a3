"""Integer codes for columns: the common ground of grouping, joining, DISTINCT and sorting.

`codes(col)` gives equal values equal codes (NULL: -1); dictionary-encoded columns use
their codes (deduplicated), numbers are hashed by pandas. `group_ids(cols)` numbers the
distinct rows of several columns. `sort_ranks(col)` gives codes that order like values.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tsql.arrays import factorize_rows, ranges_to_index
from tsql.types import MapType

from .column import Column, DictVector, ListVector, RowVector, Vector


def codes(col: Column) -> np.ndarray:
    if isinstance(col, DictVector):
        d = col.dictionary
        if len(d) and len(pd.unique(d)) != len(d):  # a dictionary with repeats: fold them
            remap, _ = pd.factorize(d)
            out = remap[np.maximum(col.codes, 0)]
            return np.where(col.codes < 0, -1, out).astype(np.int64)
        return col.codes.astype(np.int64)
    if isinstance(col, (ListVector, RowVector)):
        keys = [_hashable(v) for v in canonical_map(col).to_pylist()]
        out = np.array(pd.factorize(pd.Series(keys, dtype=object))[0], dtype=np.int64)
        return out
    values = col.values
    if values.dtype == bool:
        out = values.astype(np.int64)
    elif values.dtype.kind == "f":
        # NaN equals NaN when grouping; -0.0 equals 0.0
        out, _ = pd.factorize(values + 0.0, use_na_sentinel=False)
    else:
        out, _ = pd.factorize(values, use_na_sentinel=False)
    out = np.asarray(out, dtype=np.int64)
    if col.nulls is not None:
        out = np.where(col.nulls, -1, out)
    return out


def _hashable(v):
    if isinstance(v, list):
        return tuple(_hashable(x) for x in v)
    if isinstance(v, tuple):
        return tuple(_hashable(x) for x in v)
    return v


def group_ids(cols: list) -> tuple[np.ndarray, np.ndarray]:
    """(group number per row, first row of each group) for the distinct rows of cols."""
    ids, first, runs = group_runs(cols)
    if ids is None:
        ids = rows_of_runs(runs, len(cols[0]))
    return ids, first


def rows_of_runs(runs, n: int) -> np.ndarray:
    """The group number of each of n rows, from (run starts, group of each run)."""
    starts, run_ids = runs
    return np.repeat(run_ids, np.diff(np.append(starts, n)))


def group_runs(cols: list):
    """Like group_ids, plus the runs found: (run starts, group of each run) or None.

    Rows from a scan come ordered by series and time, so equal keys sit in runs (a
    series' dimensions never change, `bin(time, ...)` changes rarely). Finding the runs
    takes a comparison of neighbours; only one row per run is then hashed, and
    aggregates can reduce whole runs at once. Input without long runs takes the
    hashing path for every row. With runs, the group numbers of the rows are None:
    `rows_of_runs` makes them for whoever needs them (most aggregates do not).
    """
    n = len(cols[0]) if cols else 0
    starts = _run_starts(cols, n)
    if starts is None or len(starts) * 4 > n:
        ids, first = factorize_rows([codes(c) for c in cols])
        return ids, first, None
    run_ids, run_first = factorize_rows([codes(c.take(starts)) for c in cols])
    return None, starts[run_first], (starts, run_ids)


def _run_starts(cols: list, n: int) -> np.ndarray | None:
    """Rows where any column's value differs from the row before (row 0 included), or
    None when a column cannot be compared cheaply (strings, nested values)."""
    if n == 0:
        return None
    change = np.zeros(n, dtype=bool)
    change[0] = True
    for col in cols:
        if isinstance(col, DictVector):
            v = col.codes
        elif isinstance(col, Vector) and col.values.dtype != object:
            v = col.values
        else:
            return None
        change[1:] |= v[1:] != v[:-1]
        nulls = col.nulls
        if nulls is not None:
            change[1:] |= nulls[1:] != nulls[:-1]
    return np.flatnonzero(change)


def sort_ranks(col: Column, descending: bool, nulls_first: bool) -> list[np.ndarray]:
    """Keys for np.lexsort (least significant first) that order col as asked."""
    nulls = col.null_mask()
    if isinstance(col, DictVector):
        order = np.argsort(col.dictionary.astype(str), kind="stable") if len(col.dictionary) else np.zeros(0, np.int64)
        rank = np.empty(len(order), dtype=np.int64)
        rank[order] = np.arange(len(order))
        key = np.where(col.codes < 0, 0, rank[np.maximum(col.codes, 0)] if len(rank) else 0)
    elif isinstance(col, Vector) and col.values.dtype != object:
        key = col.values
        if key.dtype == bool:
            key = key.astype(np.int8)
    else:
        values = col.to_pylist() if not isinstance(col, Vector) else col.values
        ranks, _ = pd.factorize(pd.Series(_sortable(values), dtype=object), sort=True)
        key = np.asarray(ranks, dtype=np.int64)
    null_key = nulls if not nulls_first else ~nulls
    if key.dtype.kind == "f":  # NaN is the largest double (Presto): last ascending, first descending
        nan = np.isnan(key)
        key = np.where(nan, 0.0, key)
        if descending:
            return [-key, ~nan, null_key]
        return [key, nan, null_key]
    if descending:
        key = -key.astype(np.int64)
    return [key, null_key]


def _sortable(values):
    return [_hashable(v) if v is not None else None for v in values]


def canonical_map(col: Column) -> Column:
    """A map column with each row's entries sorted by key (keys are unique and not NULL),
    so that equal maps look alike whatever order their entries came in; other columns
    as they are."""
    if not isinstance(col, ListVector) or not isinstance(col.type, MapType) or len(col.child) == 0:
        return col
    lengths = col.lengths()
    entries = col.child.take(ranges_to_index(col.offsets[:-1], col.offsets[1:]))
    rows = np.repeat(np.arange(len(col), dtype=np.int64), lengths)
    by_key = np.lexsort(sort_ranks(entries.fields[0], False, False) + [rows])
    offsets = np.concatenate(([0], np.cumsum(lengths))).astype(np.int64)
    return ListVector(col.type, offsets, entries.take(by_key), col.nulls)
