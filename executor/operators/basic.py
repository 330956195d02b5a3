"""Row-wise operators: Filter, Project, Limit, Values."""

from __future__ import annotations

import numpy as np

from tsql.planner.plan import Filter, Limit, Project, Values

from ..column import Batch, concat
from ..evaluate import evaluate_full, predicate_mask


def run_filter(plan: Filter, ctx, run):
    for batch in run(plan.input, ctx):
        mask = predicate_mask(plan.predicate, batch, ctx)
        if mask.all():
            yield batch
        elif mask.any():
            yield batch.filter(mask)


def run_project(plan: Project, ctx, run):
    for batch in run(plan.input, ctx):
        cols = [evaluate_full(e, batch, ctx) for e in plan.exprs]
        yield Batch(cols, len(batch), batch.sid, batch.sorted)


def run_limit(plan: Limit, ctx, run):
    skip = plan.offset
    left = plan.limit
    if left == 0:
        return
    for batch in run(plan.input, ctx):
        if skip >= len(batch):
            skip -= len(batch)
            continue
        end = len(batch) if left is None else min(len(batch), skip + left)
        out = batch.slice(skip, end) if skip or end < len(batch) else batch
        skip = 0
        if left is not None:
            left -= len(out)
        yield out
        if left is not None and left <= 0:
            return


def run_values(plan: Values, ctx, run):
    n = len(plan.rows)
    if not plan.schema:
        yield Batch([], n)
        return
    empty = Batch([], 1)
    columns = []
    for j in range(len(plan.schema)):
        parts = [evaluate_full(row[j], empty, ctx) for row in plan.rows]
        columns.append(concat(parts) if parts else None)
    if n:
        yield Batch(columns, n)


__all__ = ["run_filter", "run_project", "run_limit", "run_values", "np"]
