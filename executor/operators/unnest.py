"""UNNEST: each input row repeated once per element of its arrays (zipped; shorter
arrays pad with NULL), the elements appended as columns. A timeseries unnests into
(time, value); an array of rows into one column per field; WITH ORDINALITY adds 1..n."""

from __future__ import annotations

import numpy as np

from tsql.arrays import ranges_to_index
from tsql.planner.plan import Unnest
from tsql.types import BIGINT, RowType

from ..column import Batch, ListVector, RowVector, Vector, nulls_of
from ..evaluate import evaluate_full


def run_unnest(plan: Unnest, ctx, run):
    for batch in run(plan.input, ctx):
        out = unnest_batch(plan, batch, ctx)
        if out is not None and len(out):
            yield out


def unnest_batch(plan: Unnest, batch: Batch, ctx) -> Batch | None:
    lists = [evaluate_full(e, batch, ctx) for e in plan.exprs]
    n = len(batch)
    lengths = np.zeros(n, dtype=np.int64)
    for col in lists:
        assert isinstance(col, ListVector)
        lengths = np.maximum(lengths, np.where(col.null_mask(), 0, col.lengths()))
    out_len = np.maximum(lengths, 1) if plan.outer else lengths
    rows = np.repeat(np.arange(n), out_len)
    total = len(rows)
    # position of each output row within its input row's elements
    starts = np.concatenate(([0], np.cumsum(out_len)[:-1]))
    pos = np.arange(total) - np.repeat(starts, out_len)
    cols = [c.take(rows) for c in batch.columns]
    for col in lists:
        own = np.where(col.null_mask(), 0, col.lengths())[rows]
        present = pos < own
        idx = np.where(present, col.offsets[:-1][rows] + pos, 0)
        if len(col.child) == 0:
            element = nulls_of(col.child.type, total) if not isinstance(col.child, RowVector) else col.child
            children = [element] if not isinstance(col.child, RowVector) else [
                nulls_of(t, total) for _, t in col.child.type.fields]
        else:
            taken = col.child.take(idx)
            children = taken.fields if isinstance(taken, RowVector) else [taken]
        for child in children:
            cols.append(_null_where(child, ~present))
    if plan.ordinality:
        cols.append(Vector(BIGINT, pos + 1, pos >= lengths[rows]))
    return Batch(cols, total)


def _null_where(col, mask: np.ndarray):
    if not mask.any():
        return col
    from ..functions.operators import _with_nulls

    return _with_nulls(col, mask)


__all__ = ["run_unnest", "ranges_to_index", "RowType"]
