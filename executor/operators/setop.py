"""UNION [ALL], INTERSECT [ALL], EXCEPT [ALL] over coded rows."""

from __future__ import annotations

import numpy as np

from tsql.arrays import factorize_rows
from tsql.planner.plan import SetOp

from ..column import Batch
from ..grouping import codes


def run_setop(plan: SetOp, ctx, run):
    types = [f.type for f in plan.schema]
    if plan.kind == "union" and not plan.distinct:
        yield from run(plan.left, ctx)
        yield from run(plan.right, ctx)
        return
    left = Batch.concat(list(run(plan.left, ctx)), types)
    right = Batch.concat(list(run(plan.right, ctx)), types)
    both = Batch.concat([left, right], types)
    if len(both) == 0:
        return
    n_left = len(left)
    row_codes = [codes(c) for c in both.columns]
    ids, first = factorize_rows(row_codes) if row_codes else (np.zeros(len(both), np.int64), np.zeros(1, np.int64))
    groups = len(first)
    in_left = np.bincount(ids[:n_left], minlength=groups)
    in_right = np.bincount(ids[n_left:], minlength=groups)
    if plan.kind == "union":
        keep = first
    elif plan.distinct:
        chosen = (in_left > 0) & (in_right > 0) if plan.kind == "intersect" else (in_left > 0) & (in_right == 0)
        keep = first[chosen]
    else:
        # ALL: keep min(l, r) (intersect) or max(l - r, 0) (except) copies of each row
        copies = np.minimum(in_left, in_right) if plan.kind == "intersect" else np.maximum(in_left - in_right, 0)
        left_ids = ids[:n_left]
        order = np.argsort(left_ids, kind="stable")
        rank = np.empty(n_left, dtype=np.int64)
        sorted_ids = left_ids[order]
        starts = np.searchsorted(sorted_ids, sorted_ids, side="left")
        rank[order] = np.arange(n_left) - starts
        keep = np.flatnonzero(rank < copies[left_ids])
    keep = np.sort(keep)
    if len(keep):
        yield both.take(keep)
