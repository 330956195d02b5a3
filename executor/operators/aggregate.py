"""Aggregate: group rows by key columns and compute aggregates per group.

Keys become integer codes (dimension keys use their dictionary codes directly) and
then one group number per row; aggregates reduce by those numbers with bincount /
ufunc.at. GROUPING SETS run the same machinery once per set, NULL in absent keys.
"""

from __future__ import annotations

import numpy as np

from tsql.planner.plan import Aggregate

from tsql.types import BIGINT, DOUBLE

from ..column import Batch, Vector, as_vector, concat, nulls_of
from ..evaluate import evaluate_full, predicate_mask
from ..functions import REGISTRY
from ..functions.aggregates import Groups
from ..grouping import codes, group_ids, group_runs


def run_aggregate(plan: Aggregate, ctx, run):
    input_types = [f.type for f in plan.input.schema]
    batches = [b for b in run(plan.input, ctx) if len(b)]
    if len(batches) > 1 and sum(map(len, batches)) >= PARTIAL_ROWS and _splittable(plan):
        yield _two_phase(plan, batches, ctx)
        return
    batch = Batch.concat(batches, input_types)
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
        first, count = np.zeros(1, dtype=np.int64), 1
        runs = (np.zeros(1, dtype=np.int64), np.zeros(1, dtype=np.int64)) if n else None
        ids = None if n else np.zeros(0, dtype=np.int64)  # one run: row numbers made if needed
    groups = Groups(ids, count, runs, n)
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
    args, groups = _inputs(call, batch, groups, ctx)
    impl = REGISTRY.kernel_for(call.function, tuple(a.type for a in call.args))
    return impl(args, groups, call.type, call)


def _inputs(call, batch: Batch, groups: Groups, ctx):
    """The call's argument columns and their groups, after FILTER, ORDER BY and DISTINCT."""
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
    return args, groups


# --- two phases ---------------------------------------------------------------------------------
# Input in several large batches (a magnetic scan yields one per file) is aggregated a
# batch at a time into partial results, which a second pass combines: concatenating
# tens of millions of rows first would cost more than the aggregation itself.

PARTIAL_ROWS = 1 << 20
# aggregate -> the aggregate that combines its partial results (avg: see _two_phase)
_COMBINE = {"count": "sum", "count_if": "sum", "sum": "sum", "min": "min", "max": "max",
            "bool_and": "bool_and", "every": "every", "bool_or": "bool_or", "arbitrary": "arbitrary",
            "any_value": "any_value", "avg": "avg"}


def _splittable(plan: Aggregate) -> bool:
    return plan.grouping_sets is None and all(
        c.function in _COMBINE and not c.distinct and not c.order and len(c.args) <= 1
        and (c.function != "avg" or c.type == DOUBLE) for c in plan.aggregates
    )


def _two_phase(plan: Aggregate, batches: list, ctx) -> Batch:
    partials = [_partial(plan, b, ctx) for b in batches]
    nkeys = len(plan.keys)
    types = [k.type for k in plan.keys]
    for call in plan.aggregates:
        types += [DOUBLE, BIGINT] if call.function == "avg" else [call.type]
    merged = Batch.concat(partials, types)
    if nkeys:
        ids, first, runs = group_runs(merged.columns[:nkeys])
        groups = Groups(ids, len(first), runs, len(merged))
        out = [c.take(first) for c in merged.columns[:nkeys]]
    else:
        groups = Groups(np.zeros(len(merged), dtype=np.int64), 1)
        out = []
    j = nkeys
    for call in plan.aggregates:
        if call.function == "avg":
            total = _combine("sum", merged.columns[j], groups)
            count = _combine("sum", merged.columns[j + 1], groups)
            with np.errstate(all="ignore"):
                mean = total.values / count.values
            out.append(Vector(DOUBLE, mean, count.values == 0))
            j += 2
        else:
            out.append(_combine(_COMBINE[call.function], merged.columns[j], groups))
            j += 1
    return Batch(out, groups.count)


def _partial(plan: Aggregate, batch: Batch, ctx) -> Batch:
    """One batch's groups: their keys, then each aggregate's partial result (avg: sum, count)."""
    key_cols = [evaluate_full(k, batch, ctx) for k in plan.keys]
    if key_cols:
        ids, first, runs = group_runs(key_cols)
        groups = Groups(ids, len(first), runs, len(batch))
        out = [c.take(first) for c in key_cols]
    else:
        groups = Groups(np.zeros(len(batch), dtype=np.int64), 1)
        out = []
    for call in plan.aggregates:
        if call.function != "avg":
            out.append(_aggregate(call, batch, groups, ctx))
            continue
        (x,), g = _inputs(call, batch, groups, ctx)
        x = as_vector(x)
        as_double = Vector(DOUBLE, x.values.astype(np.float64, copy=False), x.nulls)
        out.append(_combine("sum", as_double, g))
        out.append(_combine("count", as_double, g))
    return Batch(out, groups.count)


def _combine(function: str, col, groups: Groups):
    impl = REGISTRY.kernel_for(function, (col.type,))
    return impl([col], groups, col.type if function != "count" else BIGINT, None)


def group_ids_with(ids: np.ndarray, cols: list):
    from tsql.arrays import factorize_rows

    return factorize_rows([ids] + [codes(c) for c in cols])


__all__ = ["run_aggregate", "aggregate_batch", "concat"]
