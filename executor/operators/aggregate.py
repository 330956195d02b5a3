"""Aggregate: group rows by key columns and compute aggregates per group.

Keys become integer codes (dimension keys use their dictionary codes directly) and
then one group number per row; aggregates reduce by those numbers with bincount /
ufunc.at. GROUPING SETS run the same machinery once per set, NULL in absent keys.
"""

from __future__ import annotations

import numpy as np

from tsql.planner.plan import Aggregate

from tsql.types import BIGINT

from ..column import Batch, Vector, concat, nulls_of
from ..evaluate import evaluate_full, predicate_mask
from ..functions import REGISTRY
from ..functions.aggregates import Groups
from ..grouping import codes, group_ids, group_runs


def run_aggregate(plan: Aggregate, ctx, run):
    input_types = [f.type for f in plan.input.schema]
    batch = Batch.concat(list(run(plan.input, ctx)), input_types)
    if plan.grouping_sets is None:
        yield aggregate_batch(plan, batch, ctx, range(len(plan.keys)))
        return
    outputs = []
    for i, key_set in enumerate(plan.grouping_sets):
        out = aggregate_batch(plan, batch, ctx, key_set)
        outputs.append(Batch(out.columns + [Vector(BIGINT, np.full(len(out), i, dtype=np.int64))], len(out)))
    types = [f.type for f in plan.schema]
    yield Batch.concat(outputs, types)


def aggregate_batch(plan: Aggregate, batch: Batch, ctx, key_set) -> Batch:
    n = len(batch)
    key_set = list(key_set)
    key_cols = [evaluate_full(k, batch, ctx) for k in plan.keys]
    runs = None
    if key_set:
        ids, first, runs = group_runs([key_cols[i] for i in key_set])
        count = len(first)
    else:  # a global aggregate: one group, even over no rows
        ids, first, count = np.zeros(n, dtype=np.int64), np.zeros(1, dtype=np.int64), 1
        runs = (np.zeros(1, dtype=np.int64), np.zeros(1, dtype=np.int64)) if n else None
    groups = Groups(ids, count, runs)
    out = []
    for i, k in enumerate(plan.keys):
        if i in key_set and n:
            out.append(key_cols[i].take(first))
        else:
            out.append(nulls_of(k.type, count))
    for call in plan.aggregates:
        out.append(_aggregate(call, batch, groups, ctx))
    return Batch(out, count)


def _aggregate(call, batch: Batch, groups: Groups, ctx):
    args = [evaluate_full(a, batch, ctx) for a in call.args]
    if call.filter is not None:
        keep = predicate_mask(call.filter, batch, ctx)
        idx = np.flatnonzero(keep)
        args = [a.take(idx) for a in args]
        groups = Groups(groups.ids[idx], groups.count)
    if call.order:
        from .sort import sort_order

        order = sort_order(call.order, batch if call.filter is None else batch.take(idx), ctx)
        args = [a.take(order) for a in args]
        groups = Groups(groups.ids[order], groups.count)
    if call.distinct and args:
        _, first = group_ids_with(groups.ids, args)
        first = np.sort(first)
        args = [a.take(first) for a in args]
        groups = Groups(groups.ids[first], groups.count)
    impl = REGISTRY.kernel_for(call.function, tuple(a.type for a in call.args))
    return impl(args, groups, call.type, call)


def group_ids_with(ids: np.ndarray, cols: list):
    from tsql.arrays import factorize_rows

    return factorize_rows([ids] + [codes(c) for c in cols])


__all__ = ["run_aggregate", "aggregate_batch", "concat"]
