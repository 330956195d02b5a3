"""Scan: resolve the series filter on the series catalog, then read storage.

Dimension and measure_name columns are produced as dictionary-encoded vectors whose
codes are the series catalog's, gathered by each row's series id: no string is copied.
"""

from __future__ import annotations

import numpy as np

from tsql.planner.plan import Scan
from tsql.storage.scan import INT64_MAX, INT64_MIN, ScanRequest
from tsql.types import TIMESTAMP

from ..column import Batch, DictVector, Vector, nulls_of
from ..evaluate import predicate_mask

_EMPTY = np.empty(0, dtype=object)


def series_columns(table_columns, series) -> Batch:
    """One row per series: dimension and measure_name columns; the rest NULL."""
    n = series.count
    cols = []
    for c in table_columns:
        if c.kind == "dimension":
            if c.name in series.dimensions:
                codes, dictionary = series.dimensions[c.name]
                cols.append(DictVector(codes, dictionary))
            else:
                cols.append(DictVector(np.full(n, -1, dtype=np.int32), _EMPTY))
        elif c.kind == "measure_name":
            cols.append(DictVector(series.measure_codes, series.measure_names))
        else:
            cols.append(nulls_of(c.type, n))
    return Batch(cols, n)


def select_series(plan: Scan, snapshot, ctx) -> np.ndarray | None:
    if plan.series_filter is None:
        return None
    batch = series_columns(plan.table_columns, snapshot.series)
    return np.flatnonzero(predicate_mask(plan.series_filter, batch, ctx)).astype(np.int32)


def run_scan(plan: Scan, ctx):
    snapshot = ctx.snapshot(plan.table)
    series = snapshot.series
    sids = select_series(plan, snapshot, ctx)
    if sids is not None and len(sids) == 0:
        ctx.stats.series_total += series.count
        return
    value_columns = tuple(c.name for c in plan.columns if c.kind in ("measure_value", "multi"))
    request = ScanRequest(
        sids,
        plan.time_lo if plan.time_lo is not None else INT64_MIN,
        plan.time_hi if plan.time_hi is not None else INT64_MAX,
        value_columns,
        plan.series_rows,
    )
    if request.time_lo >= request.time_hi:
        return
    per_series = any(c.kind in ("dimension", "measure_name") for c in plan.columns)
    for part in snapshot.scan(request, ctx.stats):
        cols = []
        n = len(part)
        of_rows = _series_values(part.sid) if per_series else None
        for c in plan.columns:
            if c.kind == "dimension":
                if c.name in series.dimensions:
                    codes, dictionary = series.dimensions[c.name]
                    cols.append(DictVector(of_rows(codes), dictionary))
                else:
                    cols.append(DictVector(np.full(n, -1, dtype=np.int32), _EMPTY))
            elif c.kind == "measure_name":
                cols.append(DictVector(of_rows(series.measure_codes), series.measure_names))
            elif c.kind == "time":
                cols.append(Vector(TIMESTAMP, part.time))
            elif c.name in part.columns:
                values, nulls = part.columns[c.name]
                cols.append(Vector(c.type, values, nulls))
            else:
                cols.append(nulls_of(c.type, n))
        yield Batch(cols, n, part.sid, part.sorted)


def _series_values(sid: np.ndarray):
    """A function from a per-series array to its value on each row. Rows come in runs of
    one series: repeating one value per run is far cheaper than gathering per row."""
    n = len(sid)
    if n < 2:
        return lambda table: table[sid]
    starts = np.flatnonzero(sid[1:] != sid[:-1]) + 1
    if len(starts) * 8 > n:  # short runs: gather
        return lambda table: table[sid]
    starts = np.concatenate(([0], starts))
    run_sids = sid[starts]
    lengths = np.diff(np.append(starts, n))
    return lambda table: np.repeat(table[run_sids], lengths)
