"""Evaluate bound expressions over a batch, a whole column at a time.

`evaluate(expr, batch, ctx)` returns a Column of the batch's length, or of length 1
for a constant (it broadcasts like a numpy scalar); `evaluate_full` always returns the
batch's length. CASE, COALESCE and TRY evaluate their branches only on the rows that
reach them, so `CASE WHEN x = 0 THEN 0 ELSE 1 / x END` never divides by zero.
"""

from __future__ import annotations

import numpy as np

from tsql.errors import QueryExecutionError
from tsql.planner.expressions import (
    Call, Case, Cast, Coalesce, ColumnRef, Expr, Lambda, LambdaVar, Literal, OuterRef, Subquery, Try,
)
from tsql.planner.signatures import FunctionType
from tsql.types import BOOLEAN, ArrayType, MapType, RowType, TimeSeriesType, Type

from .column import Batch, Column, DictVector, Vector, as_vector, concat, constant, dtype_of, nulls_of
from .functions import REGISTRY
from .functions.cast import cast


class LambdaValue:
    """A lambda argument as a kernel receives it: call `apply(params, rows)` to evaluate
    its body on flat element columns; `rows` maps each element to its batch row."""

    def __init__(self, lam: Lambda, batch: Batch, ctx):
        self.lam = lam
        self.batch = batch
        self.ctx = ctx
        self.type = lam.type

    def __len__(self) -> int:
        return 1

    def apply(self, params: list, rows: np.ndarray) -> Column:
        refs = any(isinstance(e, (ColumnRef, OuterRef)) for e in self.lam.body.walk())
        batch = self.batch.take(rows) if refs else Batch([], len(rows))
        # variables of enclosing lambdas hold one value per row of this batch: follow `rows`
        bindings = {k: v.take(rows) for k, v in self.ctx.lambdas.items() if len(v) == len(self.batch)}
        bindings.update(zip(self.lam.params, params))
        inner = self.ctx.with_lambda(bindings)
        return evaluate_full(self.lam.body, batch, inner)


def evaluate(expr: Expr, batch: Batch, ctx) -> Column:
    if isinstance(expr, ColumnRef):
        return batch.columns[expr.index]
    if isinstance(expr, Literal):
        return constant(expr.value, expr.type)
    if isinstance(expr, Call):
        return _call(expr, batch, ctx)
    if isinstance(expr, Cast):
        return cast(evaluate(expr.arg, batch, ctx), expr.type, expr.safe)
    if isinstance(expr, Case):
        return _case(expr, batch, ctx)
    if isinstance(expr, Coalesce):
        return _coalesce(expr, batch, ctx)
    if isinstance(expr, Try):
        return _try(expr, batch, ctx)
    if isinstance(expr, LambdaVar):
        return ctx.lambda_value(expr.name)
    if isinstance(expr, OuterRef):
        return ctx.outer_value(expr)
    if isinstance(expr, Subquery):
        return ctx.subquery_value(expr, batch)
    raise TypeError(f"cannot evaluate {type(expr).__name__}")


def evaluate_full(expr: Expr, batch: Batch, ctx) -> Column:
    col = evaluate(expr, batch, ctx)
    return col.broadcast(len(batch)) if len(col) != len(batch) else col


def predicate_mask(expr: Expr, batch: Batch, ctx) -> np.ndarray:
    """Rows where a boolean expression is TRUE (NULL counts as false)."""
    col = as_vector(evaluate(expr, batch, ctx))
    mask = col.values.astype(bool, copy=False)
    if col.nulls is not None:
        mask = mask & ~col.nulls
    if len(mask) != len(batch):
        mask = np.broadcast_to(mask, (len(batch),))
    return mask


def _call(expr: Call, batch: Batch, ctx) -> Column:
    args = []
    for a in expr.args:
        args.append(LambdaValue(a, batch, ctx) if isinstance(a, Lambda) else evaluate(a, batch, ctx))
    kernel = REGISTRY.kernel_for(expr.function, tuple(_arg_type(a) for a in expr.args))
    if not expr.deterministic:  # a value per row: rand(), shuffle(ARRAY[...])
        ctx.batch_rows = len(batch)
        if args and all(len(a) == 1 for a in args) and len(batch) != 1:
            args = [a.broadcast(len(batch)) if not isinstance(a, LambdaValue) else a for a in args]
    return kernel(args, expr.type, ctx)


def _arg_type(arg: Expr) -> Type:
    """An argument's type for overload resolution (a lambda: its function type)."""
    if isinstance(arg, Lambda):
        return FunctionType(tuple(arg.param_types), arg.type)
    return arg.type


def _subset(batch: Batch, ctx, idx: np.ndarray) -> tuple[Batch, object]:
    """Rows `idx` of a batch, and a context whose lambda variables (one value per row of
    the batch, inside a lambda's body) hold those rows' values too."""
    if len(idx) == len(batch):
        return batch, ctx
    if ctx.lambdas:
        ctx = ctx.with_lambda({k: v.take(idx) for k, v in ctx.lambdas.items() if len(v) == len(batch)})
    return batch.take(idx), ctx


def _case(expr: Case, batch: Batch, ctx) -> Column:
    n = len(batch)
    remaining = np.arange(n, dtype=np.int64)
    pieces = []
    for cond, result in expr.whens:
        if len(remaining) == 0:
            break
        sub, sub_ctx = _subset(batch, ctx, remaining)
        hit = predicate_mask(cond, sub, sub_ctx)
        if hit.any():
            rows = remaining[hit]
            pieces.append((rows, evaluate(result, *_subset(sub, sub_ctx, np.flatnonzero(hit)))))
            remaining = remaining[~hit]
    if len(remaining):
        pieces.append((remaining, evaluate(expr.default, *_subset(batch, ctx, remaining))))
    return scatter(pieces, n, expr.type)


def _coalesce(expr: Coalesce, batch: Batch, ctx) -> Column:
    n = len(batch)
    remaining = np.arange(n, dtype=np.int64)
    pieces = []
    for i, arg in enumerate(expr.args):
        if len(remaining) == 0:
            break
        col = evaluate(arg, *_subset(batch, ctx, remaining))
        if len(col) == 1 and len(remaining) != 1:
            col = col.broadcast(len(remaining))
        missing = col.null_mask()
        if i == len(expr.args) - 1 or not missing.any():
            pieces.append((remaining, col))
            remaining = remaining[:0]
            break
        keep = ~missing
        pieces.append((remaining[keep], col.filter(keep)))
        remaining = remaining[missing]
    if len(remaining):
        pieces.append((remaining, nulls_of(expr.type, len(remaining))))
    return scatter(pieces, n, expr.type)


def _try(expr: Try, batch: Batch, ctx) -> Column:
    try:
        return evaluate(expr.arg, batch, ctx)
    except QueryExecutionError:
        if len(batch) <= 1:
            return nulls_of(expr.type, max(len(batch), 1))
    pieces = []
    for i in range(len(batch)):  # the failing batch only: find the rows that fail
        row = np.array([i])
        try:
            pieces.append((row, evaluate_full(expr.arg, *_subset(batch, ctx, row))))
        except QueryExecutionError:
            pieces.append((row, nulls_of(expr.type, 1)))
    return scatter(pieces, len(batch), expr.type)


def scatter(pieces: list, n: int, type_: Type) -> Column:
    """Assemble a column of length n from (row indexes, column) pieces covering it."""
    pieces = [(rows, col) for rows, col in pieces if len(rows)]
    if len(pieces) == 1 and len(pieces[0][0]) == n and np.all(pieces[0][0] == np.arange(n)):
        col = pieces[0][1]
        return col.broadcast(n) if len(col) != n else col
    if not pieces:
        return nulls_of(type_, n)
    if not isinstance(type_, (ArrayType, RowType, TimeSeriesType, MapType)):
        dicts = [c for _, c in pieces if isinstance(c, DictVector)]
        if dicts and len(dicts) == len(pieces) and all(d.dictionary is dicts[0].dictionary for d in dicts):
            codes = np.full(n, -1, dtype=np.int32)
            for rows, c in pieces:
                codes[rows] = c.codes
            return DictVector(codes, dicts[0].dictionary, type_)
        values = np.zeros(n, dtype=dtype_of(type_)) if dtype_of(type_) is not object else np.full(n, None, dtype=object)
        nulls = np.zeros(n, dtype=bool)
        for rows, c in pieces:
            v = as_vector(c)
            vals = v.values
            if vals.dtype != values.dtype and values.dtype != object:
                vals = vals.astype(values.dtype)
            values[rows] = vals
            if v.nulls is not None:
                nulls[rows] = v.nulls
        return Vector(type_, values, nulls)
    rows = np.concatenate([r for r, _ in pieces])
    col = concat([c.broadcast(len(r)) for r, c in pieces])
    inverse = np.empty(n, dtype=np.int64)
    inverse[rows] = np.arange(n)
    return col.take(inverse)


__all__ = ["evaluate", "evaluate_full", "predicate_mask", "scatter", "LambdaValue", "BOOLEAN"]
