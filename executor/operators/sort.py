"""Sort (ORDER BY), with a top-k shortcut when a LIMIT follows."""

from __future__ import annotations

import numpy as np

from tsql.planner.plan import Sort

from ..column import Batch
from ..evaluate import evaluate_full
from ..grouping import sort_ranks


def sort_order(keys, batch: Batch, ctx) -> np.ndarray:
    """Row order for SortKeys (stable: ties keep input order)."""
    lex = []
    for key in reversed(keys):
        col = evaluate_full(key.expr, batch, ctx)
        lex += sort_ranks(col, key.descending, key.nulls_first)
    if not lex:
        return np.arange(len(batch))
    return np.lexsort(lex)


def run_sort(plan: Sort, ctx, run):
    batch = Batch.concat(list(run(plan.input, ctx)), [f.type for f in plan.schema])
    if len(batch) == 0:
        return
    order = sort_order(plan.keys, batch, ctx)
    if plan.limit is not None:
        order = order[: plan.limit]
    yield batch.take(order)
