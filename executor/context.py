"""The state of one query's execution: table snapshots, scan statistics, lambda
bindings, the rows of enclosing queries (correlated subqueries) and subquery results."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

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
            if sq.keys:
                return self._keyed(sq, result, batch)
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

    def _keyed(self, sq: Subquery, result: Batch, batch: Batch) -> Column:
        """A decorrelated subquery: each row looks its keys up among the result's."""
        from .evaluate import evaluate_full, scatter

        k = len(sq.keys)
        outer = [evaluate_full(key, batch, self) for key in sq.keys]
        inner = list(result.columns[:k])
        n = len(batch)
        if sq.kind == "scalar":  # the result has one row per key: the row's group, or the default
            row = _match_rows(outer, inner, n, len(result))
            hit = row >= 0
            default = self.subquery_results.get(("default", sq.plan_id))
            if default is None:
                default = self.subquery_results[("default", sq.plan_id)] = self._run(sq.default)
            rows = np.arange(n)
            return scatter([(rows[hit], result.columns[k].take(row[hit])),
                            (rows[~hit], default.columns[0].broadcast(int((~hit).sum())))], n, sq.type)
        if sq.kind == "exists":
            return Vector(BOOLEAN, _member(outer, inner, n, len(result)))
        value = evaluate_full(sq.arg, batch, self)
        items = result.columns[k]
        inner_valid = ~items.null_mask()
        # TRUE: some row with these keys holds the value; NULL: otherwise, when a row with
        # these keys exists and the value or that row's item is NULL; else FALSE
        hit = _member(outer + [value], [c.filter(inner_valid) for c in inner] + [items.filter(inner_valid)], n,
                      int(inner_valid.sum()))
        keyed = _member(outer, inner, n, len(result))
        with_null_item = _member(outer, [c.filter(~inner_valid) for c in inner], n, int((~inner_valid).sum()))
        nulls = ~hit & ((keyed & value.null_mask()) | with_null_item)
        return Vector(BOOLEAN, hit & ~nulls, nulls)

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


def _tuple_ids(probe: list, table: list, n: int, size: int) -> np.ndarray:
    """One id per row of probe (n rows) then of table (size rows), equal for equal key
    tuples; -1 for a tuple holding a NULL, which matches nothing."""
    from tsql.arrays import factorize_rows

    from .column import concat
    from .grouping import codes

    parts, null = [], np.zeros(n + size, dtype=bool)
    for p, t in zip(probe, table):
        c = codes(concat([p, t]))
        null |= c < 0
        parts.append(c)
    ids, _ = factorize_rows(parts)
    return np.where(null, -1, ids)


def _member(probe: list, table: list, n: int, size: int) -> np.ndarray:
    """Rows (of n) whose probe tuple equals some row of table (size rows); NULL never matches."""
    if size == 0 or n == 0:
        return np.zeros(n, dtype=bool)
    ids = _tuple_ids(probe, table, n, size)
    table_ids = ids[n:]
    return np.isin(ids[:n], table_ids[table_ids >= 0]) & (ids[:n] >= 0)


def _match_rows(probe: list, table: list, n: int, size: int) -> np.ndarray:
    """For each probe row, the table row with the same key tuple (keys unique), or -1."""
    if size == 0 or n == 0:
        return np.full(n, -1, dtype=np.int64)
    ids = _tuple_ids(probe, table, n, size)
    row_of = np.full(int(ids.max()) + 2, -1, dtype=np.int64)
    table_ids = ids[n:]
    valid = table_ids >= 0
    row_of[table_ids[valid]] = np.flatnonzero(valid)
    return np.where(ids[:n] >= 0, row_of[ids[:n]], -1)


def _quantified(quant: str, op: str, values: np.ndarray, present: np.ndarray, n: int) -> np.ndarray:
    """`values op ANY|ALL (present)` (no NULLs), through the items' set, minimum or
    maximum rather than comparing every value with every item."""
    if not len(present):
        return np.full(n, quant == "all", dtype=bool)
    if op in ("$eq", "$ne"):
        distinct = pd.unique(present)
        member = pd.Series(values, dtype=object if values.dtype == object else None).isin(distinct).to_numpy()
        single = member & (len(distinct) == 1)  # equal to every item
        if op == "$eq":
            return member if quant == "any" else single
        return ~single if quant == "any" else ~member
    low, high = present.min(), present.max()
    bound = {("any", "$lt"): high, ("any", "$le"): high, ("any", "$gt"): low, ("any", "$ge"): low,
             ("all", "$lt"): low, ("all", "$le"): low, ("all", "$gt"): high, ("all", "$ge"): high}[(quant, op)]
    compare = {"$lt": np.less, "$le": np.less_equal, "$gt": np.greater, "$ge": np.greater_equal}[op]
    return np.asarray(compare(values, bound), dtype=bool)


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
    result = _quantified(quant, op, np.where(vnull, present[0], value.values) if len(present) else value.values,
                         present, n)
    if quant == "any":
        nulls = vnull | (~result & any_null)
    else:
        nulls = vnull | (result & any_null)
        result = result & ~any_null
    return Vector(BOOLEAN, result & ~nulls, nulls)


__all__ = ["ExecContext", "membership", "constant"]
