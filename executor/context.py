"""The state of one query's execution: table snapshots, scan statistics, lambda
bindings, the rows of enclosing queries (correlated subqueries) and subquery results."""

from __future__ import annotations

import time

import numpy as np

from tsql.errors import QueryExecutionError
from tsql.planner.expressions import OuterRef, Subquery
from tsql.storage.scan import ScanStats
from tsql.types import BOOLEAN

from .column import Batch, Column, Vector, as_vector, constant, nulls_of


class ExecContext:
    def __init__(self, snapshot_of, now_ns: int, analyze: bool = False):
        self._snapshot_of = snapshot_of  # TableRef -> TableSnapshot
        self.snapshots: dict = {}
        self.now_ns = now_ns
        self.stats = ScanStats()
        self.lambdas: dict = {}
        self.outer: list = []  # stack of (Batch, row) of enclosing queries
        self.subquery_results: dict = {}
        self.analyze = analyze
        self.node_stats: dict = {}  # id(plan) -> [rows, seconds]
        self.started = time.perf_counter()

    def snapshot(self, table_ref):
        """One snapshot per table per query, so self-joins see the same data."""
        snap = self.snapshots.get(table_ref)
        if snap is None:
            snap = self.snapshots[table_ref] = self._snapshot_of(table_ref)
        return snap

    # --- lambdas --------------------------------------------------------------------------------

    def with_lambda(self, bindings: dict) -> "ExecContext":
        child = object.__new__(ExecContext)
        child.__dict__.update(self.__dict__)
        child.lambdas = {**self.lambdas, **bindings}
        return child

    def lambda_value(self, name: str) -> Column:
        return self.lambdas[name]

    # --- subqueries -----------------------------------------------------------------------------

    def outer_value(self, ref: OuterRef) -> Column:
        batch, row = self.outer[-ref.depth]
        return batch.columns[ref.index].take(np.array([row]))

    def _run(self, plan) -> Batch:
        from .run import execute

        return execute(plan, self)

    def subquery_value(self, sq: Subquery, batch: Batch) -> Column:
        if not sq.correlated:
            result = self.subquery_results.get(sq.plan_id)
            if result is None:
                result = self.subquery_results[sq.plan_id] = self._run(sq.plan)
            return self._apply(sq, result, batch)
        # correlated: run the subquery once per row of the enclosing batch
        from .evaluate import scatter

        pieces = []
        for i in range(len(batch)):
            self.outer.append((batch, i))
            try:
                result = self._run(sq.plan)
                pieces.append((np.array([i]), self._apply(sq, result, batch.take(np.array([i])))))
            finally:
                self.outer.pop()
        return scatter(pieces, len(batch), sq.type)

    def _apply(self, sq: Subquery, result: Batch, batch: Batch) -> Column:
        from .evaluate import evaluate

        if sq.kind == "scalar":
            if len(result) > 1:
                raise QueryExecutionError("Scalar sub-query has returned multiple rows")
            if len(result) == 0:
                return nulls_of(sq.type, 1)
            return result.columns[0]
        if sq.kind == "exists":
            return Vector(BOOLEAN, np.array([len(result) > 0]))
        value = as_vector(evaluate(sq.arg, batch, self))
        items = as_vector(result.columns[0]) if len(result) else None
        return membership(sq.kind, value, items)


def membership(kind: str, value: Column, items) -> Column:
    """`value IN (items)`, `value op ANY/ALL (items)`, three-valued."""
    n = len(value)
    vnull = value.null_mask()
    if items is None or len(items) == 0:
        result = np.full(n, kind.startswith("all"), dtype=bool)
        return Vector(BOOLEAN, result)
    inull = items.null_mask()
    present = items.values[~inull]
    any_null = bool(inull.any())
    if kind == "in":
        kind = "any$eq"
    quant, op = kind[:3], kind[3:]
    ops = {"$eq": np.equal, "$ne": np.not_equal, "$lt": np.less, "$le": np.less_equal,
           "$gt": np.greater, "$ge": np.greater_equal}
    if op == "$eq" and len(present) and value.values.dtype != object:
        hits = np.isin(value.values, present)
        all_hit = np.zeros(n, dtype=bool)
        if quant == "all":
            uniq = np.unique(present)
            all_hit = (len(uniq) == 1) & (value.values == uniq[0])
        result = hits if quant == "any" else all_hit
    else:
        cmp = ops[op](value.values[:, None], present[None, :]) if len(present) else np.zeros((n, 0), bool)
        result = cmp.any(axis=1) if quant == "any" else cmp.all(axis=1)
    if quant == "any":
        nulls = vnull | (~result & any_null)
    else:
        nulls = vnull | (result & any_null)
        result = result & ~any_null
    return Vector(BOOLEAN, result & ~nulls, nulls)


__all__ = ["ExecContext", "membership", "constant"]
