"""Run a logical plan: each node's operator turns its inputs' batches into its own.

`execute(plan, ctx)` returns the whole result as one Batch. With `ctx.analyze` every
node's output rows and time are recorded for EXPLAIN ANALYZE.
"""

from __future__ import annotations

import time

from tsql.planner.plan import (
    Aggregate, Filter, Join, Limit, Plan, Project, Scan, SetOp, Sort, Unnest, Values, Window,
)

from .column import Batch
from .operators.aggregate import run_aggregate
from .operators.basic import run_filter, run_limit, run_project, run_values
from .operators.join import run_join
from .operators.scan import run_scan
from .operators.setop import run_setop
from .operators.sort import run_sort
from .operators.unnest import run_unnest
from .operators.window import run_window

OPERATORS = {
    Filter: run_filter,
    Project: run_project,
    Limit: run_limit,
    Values: run_values,
    Aggregate: run_aggregate,
    Sort: run_sort,
    Join: run_join,
    SetOp: run_setop,
    Unnest: run_unnest,
    Window: run_window,
}


def run(plan: Plan, ctx):
    """The batches of a plan node."""
    if isinstance(plan, Scan):
        batches = run_scan(plan, ctx)
    else:
        batches = OPERATORS[type(plan)](plan, ctx, run)
    if ctx.analyze:
        return _measured(plan, batches, ctx)
    return batches


def _measured(plan, batches, ctx):
    stats = ctx.node_stats.setdefault(id(plan), [0, 0.0])
    it = iter(batches)
    while True:
        start = time.perf_counter()
        try:
            batch = next(it)
        except StopIteration:
            stats[1] += time.perf_counter() - start
            return
        stats[1] += time.perf_counter() - start
        stats[0] += len(batch)
        yield batch


def execute(plan: Plan, ctx) -> Batch:
    return Batch.concat(list(run(plan, ctx)), [f.type for f in plan.schema])
