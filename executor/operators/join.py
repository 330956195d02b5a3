"""Join: hash-style equi-join on integer key codes, then the residual condition.

Equality conjuncts between a left-only and a right-only expression become join keys;
both sides' key values are coded together so equal values share a code. Matching
rows come from a sort of the right side's codes and searchsorted, never a Python loop.
Outer joins add the unmatched rows with NULLs on the other side.
"""

from __future__ import annotations

import numpy as np

from tsql.arrays import factorize_rows, ranges_to_index
from tsql.planner.expressions import Call, ColumnRef, and_all, conjuncts, remap_columns
from tsql.planner.plan import Join

from ..column import Batch, concat, nulls_of
from ..evaluate import evaluate_full, predicate_mask
from ..grouping import codes


def _split_condition(plan: Join):
    n_left = len(plan.left.schema)
    keys, rest = [], []
    for c in conjuncts(plan.condition):
        if isinstance(c, Call) and c.function == "$eq":
            a, b = c.args
            ra, rb = a.column_indexes(), b.column_indexes()
            if ra and rb and max(ra) < n_left and min(rb) >= n_left:
                keys.append((a, _shift(b, n_left)))
                continue
            if ra and rb and max(rb) < n_left and min(ra) >= n_left:
                keys.append((b, _shift(a, n_left)))
                continue
        rest.append(c)
    return keys, and_all(rest)


def _shift(e, n):
    return remap_columns(e, lambda c: ColumnRef(c.index - n, c.type, c.name))


def run_join(plan: Join, ctx, run):
    left = Batch.concat(list(run(plan.left, ctx)), [f.type for f in plan.left.schema])
    right = Batch.concat(list(run(plan.right, ctx)), [f.type for f in plan.right.schema])
    keys, residual = _split_condition(plan) if plan.condition is not None else ([], None)
    if keys:
        li, ri = _equi_pairs(keys, left, right, ctx)
    else:
        li = np.repeat(np.arange(len(left)), len(right))
        ri = np.tile(np.arange(len(right)), len(left))
    joined = _combine(left, right, li, ri)
    if residual is not None and len(joined):
        keep = predicate_mask(residual, joined, ctx)
        li, ri = li[keep], ri[keep]
        joined = joined.filter(keep)
    parts = [joined]
    if plan.kind in ("left", "full"):
        missing = np.setdiff1d(np.arange(len(left)), li)
        if len(missing):
            parts.append(_combine(left, right, missing, None))
    if plan.kind in ("right", "full"):
        missing = np.setdiff1d(np.arange(len(right)), ri)
        if len(missing):
            parts.append(_combine(left, right, None, missing))
    out = Batch.concat(parts, [f.type for f in plan.schema])
    if len(out):
        yield out


def _equi_pairs(keys, left: Batch, right: Batch, ctx):
    n_left = len(left)
    parts = []
    null = np.zeros(n_left + len(right), dtype=bool)
    for lk, rk in keys:
        lc = evaluate_full(lk, left, ctx)
        rc = evaluate_full(rk, right, ctx)
        if lc.type != rc.type:
            from ..functions.cast import cast

            rc = cast(rc, lc.type)
        both = concat([lc, rc])
        c = codes(both)
        null |= c < 0
        parts.append(c)
    ids, _ = factorize_rows(parts)
    ids = np.where(null, -1, ids)
    lid, rid = ids[:n_left], ids[n_left:]
    order = np.argsort(rid, kind="stable")
    sorted_rid = rid[order]
    starts = np.searchsorted(sorted_rid, lid, side="left")
    ends = np.searchsorted(sorted_rid, lid, side="right")
    ends = np.where(lid < 0, starts, ends)
    counts = ends - starts
    li = np.repeat(np.arange(n_left), counts)
    ri = order[ranges_to_index(starts, ends)]
    return li, ri


def _combine(left: Batch, right: Batch, li, ri) -> Batch:
    n = len(li) if li is not None else len(ri)
    cols = []
    for c in left.columns:
        cols.append(c.take(li) if li is not None else nulls_of(c.type, n))
    for c in right.columns:
        cols.append(c.take(ri) if ri is not None else nulls_of(c.type, n))
    return Batch(cols, n)
