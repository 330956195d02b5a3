"""Window functions: rows sorted by (partition, order keys), frames as index ranges.

For each window call the rows are ordered once; partitions, peer groups (equal order
keys) and each row's frame [lo, hi) are computed as arrays. Ranking functions read
positions; aggregates over frames use prefix sums (count, sum, avg, variance), a
sparse table for min/max, and index arithmetic for first/last/nth_value — all numpy.
"""

from __future__ import annotations

import numpy as np

from tsql.arrays import factorize_rows, ranges_to_index
from tsql.errors import QueryExecutionError
from tsql.planner.plan import Window
from tsql.types import BIGINT, DOUBLE

from ..column import Batch, Column, ListVector, Vector, as_vector, nulls_of
from ..evaluate import evaluate_full
from ..functions import REGISTRY
from ..functions.aggregates import Groups
from ..grouping import codes, sort_ranks


class Frames:
    """Per row (in window order): its partition, peer group and frame, as index arrays."""

    def __init__(self, n, part_start, part_end, peer_start, peer_end, lo, hi):
        self.n = n
        self.pos = np.arange(n, dtype=np.int64)
        self.part_start, self.part_end = part_start, part_end
        self.peer_start, self.peer_end = peer_start, peer_end
        self.lo, self.hi = lo, hi


def run_window(plan: Window, ctx, run):
    batch = Batch.concat(list(run(plan.input, ctx)), [f.type for f in plan.input.schema])
    cols = list(batch.columns)
    for call in plan.functions:
        cols.append(window_column(call, batch, ctx))
    if len(batch):
        yield Batch(cols, len(batch))


def window_column(call, batch: Batch, ctx) -> Column:
    n = len(batch)
    if n == 0:
        return nulls_of(call.type, 0)
    part = factorize_rows([codes(evaluate_full(p, batch, ctx)) for p in call.partition])[0] if call.partition \
        else np.zeros(n, dtype=np.int64)
    lex = []
    order_cols = []
    for key in reversed(call.order):
        col = evaluate_full(key.expr, batch, ctx)
        order_cols.insert(0, (col, key))
        lex += sort_ranks(col, key.descending, key.nulls_first)
    order = np.lexsort(lex + [part])
    inverse = np.empty(n, dtype=np.int64)
    inverse[order] = np.arange(n)
    part_sorted = part[order]
    starts = _run_starts([part_sorted])
    part_start, part_end = _spans(starts, n)
    if call.order:
        peer_keys = [part_sorted] + [codes(c.take(order)) for c, _ in order_cols]
        peer_start, peer_end = _spans(_run_starts(peer_keys), n)
    else:
        peer_start, peer_end = part_start, part_end
    lo, hi = _frame(call, part_start, part_end, peer_start, peer_end, order_cols, order, batch, ctx)
    frames = Frames(n, part_start, part_end, peer_start, peer_end, lo, hi)
    args = [evaluate_full(a, batch, ctx).take(order) for a in call.args]
    if call.aggregate:
        out = window_aggregate(call, args, frames)
    else:
        impl = REGISTRY.kernel_for(call.function, tuple(a.type for a in call.args))
        out = impl(args, frames, call.type, call)
    return out.take(inverse)


def _run_starts(keys) -> np.ndarray:
    n = len(keys[0])
    change = np.zeros(n, dtype=bool)
    change[0] = True
    for k in keys:
        change[1:] |= k[1:] != k[:-1]
    return np.flatnonzero(change)


def _spans(starts: np.ndarray, n: int):
    """Per row: start and (exclusive) end of the run it belongs to."""
    lengths = np.diff(np.append(starts, n))
    start = np.repeat(starts, lengths)
    return start, start + np.repeat(lengths, lengths)


def _frame(call, part_start, part_end, peer_start, peer_end, order_cols, order, batch, ctx):
    pos = np.arange(len(part_start), dtype=np.int64)
    frame = call.frame
    if frame is None:
        if call.order:  # RANGE UNBOUNDED PRECEDING .. CURRENT ROW (with peers)
            return part_start, peer_end
        return part_start, part_end
    lo = _bound(frame.kind, frame.start, True, pos, part_start, part_end, peer_start, peer_end, order_cols, order, batch, ctx)
    hi = _bound(frame.kind, frame.end, False, pos, part_start, part_end, peer_start, peer_end, order_cols, order, batch, ctx)
    hi = np.maximum(hi, lo)
    return lo, hi


def _bound(kind, bound, is_start, pos, ps, pe, peer_s, peer_e, order_cols, order, batch, ctx):
    what, offset = bound
    if what == "UNBOUNDED PRECEDING":
        return ps.copy()
    if what == "UNBOUNDED FOLLOWING":
        return pe.copy()
    if what == "CURRENT ROW":
        if kind == "ROWS":
            return pos if is_start else pos + 1
        return peer_s if is_start else peer_e
    k = evaluate_full(offset, Batch([], 1), ctx)
    k = as_vector(k).values[0]
    if k is None or (isinstance(k, (int, float, np.number)) and k < 0):
        raise QueryExecutionError("Window frame offset value must not be negative or null")
    sign = -1 if what == "PRECEDING" else 1
    if kind == "ROWS":
        target = pos + sign * int(k)
        out = target if is_start else target + 1
        return np.clip(out, ps, pe)
    # RANGE with an offset: by the value of the single ORDER BY key
    if len(order_cols) != 1:
        raise QueryExecutionError("Window frame of type RANGE PRECEDING or FOLLOWING requires single sort item in ORDER BY")
    col, key = order_cols[0]
    values = as_vector(col.take(order)).values
    if key.descending:
        sign = -sign
    target = values + sign * k
    side = "left" if is_start else "right"
    return _segment_searchsorted(values, ps, pe, target, side, key.descending)


def _segment_searchsorted(values, starts, ends, target, side, descending):
    lo, hi = starts.copy(), ends.copy()
    active = lo < hi
    while active.any():
        idx = np.flatnonzero(active)
        mid = (lo[idx] + hi[idx]) // 2
        v, t = values[mid], target[idx]
        if descending:
            right = v > t if side == "left" else v >= t
        else:
            right = v < t if side == "left" else v <= t
        lo[idx] = np.where(right, mid + 1, lo[idx])
        hi[idx] = np.where(right, hi[idx], mid)
        active[idx] = lo[idx] < hi[idx]
    return lo


# --- aggregates over frames ----------------------------------------------------------------

def _prefix(values: np.ndarray) -> np.ndarray:
    return np.concatenate(([0], np.cumsum(values)))


def _sparse_table(values: np.ndarray, fn):
    table = [values]
    k = 1
    while 2 * k <= len(values):
        prev = table[-1]
        table.append(fn(prev[:-k], prev[k:]))
        k *= 2
    return table


def _range_query(table, fn, lo, hi):
    length = hi - lo
    level = np.zeros(len(lo), dtype=np.int64)
    ok = length > 0
    level[ok] = np.floor(np.log2(length[ok])).astype(np.int64)
    out = np.empty(len(lo), dtype=table[0].dtype)
    for lv in np.unique(level[ok]):
        sel = ok & (level == lv)
        t = table[lv]
        a = lo[sel]
        b = hi[sel] - (1 << lv)
        out[sel] = fn(t[a], t[b])
    return out


def window_aggregate(call, args, frames: Frames) -> Column:
    name = call.function
    lo, hi = frames.lo, frames.hi
    if name == "count" and not args:
        return Vector(BIGINT, (hi - lo).astype(np.int64))
    x = args[0] if args else None
    valid = x.valid_mask().astype(np.int64) if x is not None else None
    if call.distinct:
        return _per_row(call, args, frames)
    if name == "count":
        c = _prefix(valid)
        return Vector(BIGINT, c[hi] - c[lo])
    if name in ("sum", "avg") and x is not None and as_vector(x).values.dtype != object:
        v = as_vector(x)
        vals = np.where(v.null_mask(), 0, v.values)
        cnt = _prefix(valid)
        count = cnt[hi] - cnt[lo]
        if vals.dtype.kind in "iu" and name == "sum":
            s = _prefix(vals.astype(np.int64))
        else:
            s = _prefix(vals.astype(np.float64))
        total = s[hi] - s[lo]
        if name == "sum":
            return Vector(call.type, total.astype(np.int64) if call.type == BIGINT else total, count == 0)
        with np.errstate(all="ignore"):
            mean = total / count
        if call.type != DOUBLE:
            mean = np.round(np.nan_to_num(mean)).astype(np.int64)
        return Vector(call.type, mean, count == 0)
    if name in ("min", "max") and isinstance(as_vector(x), Vector) and as_vector(x).values.dtype != object:
        v = as_vector(x)
        vals = v.values
        is_max = name == "max"
        if vals.dtype == bool:
            vals = vals.astype(np.int8)
        fill = (-np.inf if is_max else np.inf) if vals.dtype.kind == "f" else (
            np.iinfo(vals.dtype).min if is_max else np.iinfo(vals.dtype).max)
        vals = np.where(v.null_mask(), fill, vals)
        fn = np.maximum if is_max else np.minimum
        table = _sparse_table(vals, fn)
        out = _range_query(table, fn, lo, hi)
        cnt = _prefix(valid)
        empty = (cnt[hi] - cnt[lo]) == 0
        return Vector(call.type, out.astype(v.values.dtype), empty)
    return _per_row(call, args, frames)


def _per_row(call, args, frames: Frames) -> Column:
    """Any aggregate over arbitrary frames: one group per row, its frame's rows."""
    lengths = frames.hi - frames.lo
    idx = ranges_to_index(frames.lo, frames.hi)
    ids = np.repeat(np.arange(frames.n), lengths)
    framed = [a.take(idx) for a in args]
    if call.distinct and framed:
        from .aggregate import group_ids_with

        _, first = group_ids_with(ids, framed)
        first = np.sort(first)
        framed = [a.take(first) for a in framed]
        ids = ids[first]
    impl = REGISTRY.kernel_for(call.function, tuple(a.type for a in call.args))
    return impl(framed, Groups(ids, frames.n), call.type, call)


# --- ranking and value functions ---------------------------------------------------------------

@REGISTRY.window("row_number() -> bigint")
def row_number(args, f: Frames, out_type, call):
    return Vector(BIGINT, f.pos - f.part_start + 1)


@REGISTRY.window("rank() -> bigint")
def rank(args, f: Frames, out_type, call):
    return Vector(BIGINT, f.peer_start - f.part_start + 1)


@REGISTRY.window("dense_rank() -> bigint")
def dense_rank(args, f: Frames, out_type, call):
    new_peer = (f.peer_start == f.pos).astype(np.int64)
    c = np.cumsum(new_peer)
    return Vector(BIGINT, c - c[f.part_start] + 1)


@REGISTRY.window("percent_rank() -> double")
def percent_rank(args, f: Frames, out_type, call):
    size = f.part_end - f.part_start
    with np.errstate(all="ignore"):
        out = np.where(size > 1, (f.peer_start - f.part_start) / (size - 1), 0.0)
    return Vector(DOUBLE, out)


@REGISTRY.window("cume_dist() -> double")
def cume_dist(args, f: Frames, out_type, call):
    return Vector(DOUBLE, (f.peer_end - f.part_start) / (f.part_end - f.part_start))


@REGISTRY.window("ntile(bigint) -> bigint")
def ntile(args, f: Frames, out_type, call):
    buckets = as_vector(args[0]).values.astype(np.int64)
    if np.any(buckets <= 0):
        raise QueryExecutionError("Buckets must be greater than 0")
    size = f.part_end - f.part_start
    i = f.pos - f.part_start
    small = size // buckets
    extra = size % buckets
    # the first `extra` buckets hold small + 1 rows
    big_rows = extra * (small + 1)
    out = np.where(i < big_rows, i // np.maximum(small + 1, 1), extra + (i - big_rows) // np.maximum(small, 1))
    return Vector(BIGINT, out + 1)


def _shifted(args, f: Frames, out_type, direction):
    x = args[0]
    k = as_vector(args[1]).values.astype(np.int64) if len(args) > 1 else np.ones(f.n, dtype=np.int64)
    if np.any(k < 0):
        raise QueryExecutionError("Offset must be at least 0")
    target = f.pos + direction * k
    inside = (target >= f.part_start) & (target < f.part_end)
    out = x.take(np.where(inside, target, 0))
    if len(args) > 2:
        from ..evaluate import scatter

        default = args[2]
        rows = np.arange(f.n)
        return scatter([(rows[inside], out.filter(inside)), (rows[~inside], default.filter(~inside))], f.n, out_type)
    from ..functions.operators import _with_nulls

    return _with_nulls(out, ~inside) if (~inside).any() else out


@REGISTRY.window("lag(T) -> T", "lag(T, bigint) -> T", "lag(T, bigint, T) -> T")
def lag(args, f, out_type, call):
    return _shifted(args, f, out_type, -1)


@REGISTRY.window("lead(T) -> T", "lead(T, bigint) -> T", "lead(T, bigint, T) -> T")
def lead(args, f, out_type, call):
    return _shifted(args, f, out_type, 1)


def _frame_pick(x, f: Frames, index, out_type):
    inside = (index >= f.lo) & (index < f.hi)
    out = x.take(np.where(inside, index, 0))
    from ..functions.operators import _with_nulls

    return _with_nulls(out, ~inside) if (~inside).any() else out


@REGISTRY.window("first_value(T) -> T")
def first_value(args, f, out_type, call):
    return _frame_pick(args[0], f, f.lo, out_type)


@REGISTRY.window("last_value(T) -> T")
def last_value(args, f, out_type, call):
    return _frame_pick(args[0], f, f.hi - 1, out_type)


@REGISTRY.window("nth_value(T, bigint) -> T")
def nth_value(args, f, out_type, call):
    k = as_vector(args[1]).values.astype(np.int64)
    if np.any(k <= 0):
        raise QueryExecutionError("Offset must be at least 1")
    return _frame_pick(args[0], f, f.lo + k - 1, out_type)


__all__ = ["run_window", "ListVector"]
