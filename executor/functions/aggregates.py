"""Aggregate functions, computed for all groups at once.

An aggregate is called as `impl(args, groups, out_type, call) -> Column` with one value
per group. `groups.ids` numbers each row's group (0..count-1); kernels use
`np.bincount` and `ufunc.at` over those ids (no sort, no Python per row or group).
FILTER and DISTINCT are applied by the Aggregate operator before the call. NULL inputs
are ignored; a group with no input reads NULL (count reads 0).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tsql.errors import QueryExecutionError
from tsql.types import BIGINT, BOOLEAN, DOUBLE, VARCHAR

from ..column import Column, DictVector, ListVector, Vector, as_vector, nulls_of
from .registry import REGISTRY

ORDERABLE = ("bigint", "integer", "double", "varchar", "boolean", "timestamp", "date", "time",
             "interval day to second", "interval year to month")


class Groups:
    """Row -> group numbering shared by the aggregates of one Aggregate node.

    `runs`, when the rows came in runs of one group each (see grouping.group_runs), is
    (run starts, group of each run): reductions then run over whole runs with
    `ufunc.reduceat` and touch one value per run, not per row, when merging.
    """

    def __init__(self, ids: np.ndarray | None, count: int, runs=None, rows: int | None = None):
        """`ids` may be None when `runs` are given (made on first use); `rows`: how many
        rows, needed then."""
        self._ids = ids
        self.count = count
        self.runs = runs
        self.rows = len(ids) if ids is not None else rows
        self._order = None

    @property
    def ids(self) -> np.ndarray:
        if self._ids is None:
            from ..grouping import rows_of_runs

            self._ids = rows_of_runs(self.runs, self.rows)
        return self._ids

    def subset(self, mask: np.ndarray) -> "Groups":
        return Groups(self.ids[mask], self.count)

    def sizes(self) -> np.ndarray:
        if self.runs is not None:
            starts, run_ids = self.runs
            lengths = np.diff(np.append(starts, self.rows))
            return np.bincount(run_ids, weights=lengths, minlength=self.count).astype(np.int64)
        return np.bincount(self.ids, minlength=self.count)

    def reduce(self, ufunc, values: np.ndarray, init) -> np.ndarray:
        """ufunc (add, minimum, maximum) over each group's values; `init` where empty."""
        out = np.full(self.count, init, dtype=values.dtype)
        with np.errstate(invalid="ignore"):  # NaN inputs are intended (see max/min)
            if self.runs is not None:
                starts, run_ids = self.runs
                if len(values):
                    ufunc.at(out, run_ids, ufunc.reduceat(values, starts))
            else:
                ufunc.at(out, self.ids, values)
        return out

    def order(self) -> np.ndarray:
        if self._order is None:
            self._order = np.argsort(self.ids, kind="stable")
        return self._order


def _valid_rows(args: list) -> np.ndarray | None:
    mask = None
    for a in args:
        m = a.nulls
        if m is not None:
            mask = ~m if mask is None else (mask & ~m)
    return mask


def _inputs(args, groups):
    """(vectors, groups) restricted to rows where every argument is non-NULL."""
    mask = _valid_rows(args)
    if mask is None:
        return args, groups
    idx = np.flatnonzero(mask)
    return [a.take(idx) for a in args], Groups(groups.ids[idx], groups.count)


def _valued(col: Column, groups: Groups):
    """(values with NULLs as 0, validity mask or None, groups): keeps the runs intact."""
    v = as_vector(col)
    values = v.values
    if v.nulls is None:
        return values, None, groups
    return np.where(v.nulls, np.zeros(1, dtype=values.dtype), values), ~v.nulls, groups


def _counts(valid, groups: Groups) -> np.ndarray:
    if valid is None:
        return groups.sizes()
    return groups.reduce(np.add, valid.astype(np.int64), 0)


def _result(out_type, values, present):
    """A group's value where `present` (it had input), else NULL."""
    return Vector(out_type, values, ~present)


# --- counting -----------------------------------------------------------------------------------

@REGISTRY.aggregate("count() -> bigint", "count(T) -> bigint")
def count(args, groups, out_type, call):
    if args and args[0].nulls is not None:
        return Vector(BIGINT, groups.reduce(np.add, args[0].valid_mask().astype(np.int64), 0))
    return Vector(BIGINT, groups.sizes().astype(np.int64))


@REGISTRY.aggregate("count_if(boolean) -> bigint")
def count_if(args, groups, out_type, call):
    (x,), g = _inputs(args, groups)
    v = as_vector(x).values.astype(bool)
    return Vector(BIGINT, np.bincount(g.ids[v], minlength=g.count).astype(np.int64))


# --- sums and means ---------------------------------------------------------------------------

@REGISTRY.aggregate("sum(integer) -> bigint", "sum(bigint) -> bigint", "sum(double) -> double",
                    "sum(interval day to second) -> interval day to second")
def sum_(args, groups, out_type, call):
    values, valid, g = _valued(args[0], groups)
    v = values if values.dtype.kind == "f" else values.astype(np.int64)
    total = g.reduce(np.add, v, 0)
    if v.dtype.kind != "f":
        _check_sum_overflow(v, g)
    return _result(out_type, total, _counts(valid, g) > 0)


def _check_sum_overflow(v: np.ndarray, g: Groups) -> None:
    """A bigint sum beyond 64 bits fails as Presto's does; int64 wraps silently, so
    groups whose sum in doubles comes near the limit are summed again exactly."""
    if not len(v) or float(np.abs(v).max()) * len(v) < 2.0**62:
        return  # no group can come near the limit
    approx = g.reduce(np.add, v.astype(np.float64), 0.0)
    for group in np.flatnonzero(np.abs(approx) > 2.0**62):  # rare: only groups near the limit
        running = 0
        for x in v[g.ids == group].tolist():  # the running sum, to report where it overflows
            if not -(2**63) <= running + x < 2**63:
                raise QueryExecutionError(f"bigint addition overflow: {running} + {x}")
            running += x


@REGISTRY.aggregate("avg(integer) -> double", "avg(bigint) -> double", "avg(double) -> double",
                    "avg(interval day to second) -> interval day to second")
def avg(args, groups, out_type, call):
    values, valid, g = _valued(args[0], groups)
    n = _counts(valid, g)
    total = g.reduce(np.add, values.astype(np.float64, copy=False), 0.0)
    with np.errstate(all="ignore"):
        mean = total / n
    if out_type != DOUBLE:
        mean = np.round(np.nan_to_num(mean)).astype(np.int64)
    return _result(out_type, mean, n > 0)


@REGISTRY.aggregate("geometric_mean(bigint) -> double", "geometric_mean(double) -> double")
def geometric_mean(args, groups, out_type, call):
    (x,), g = _inputs(args, groups)
    v = as_vector(x).values.astype(np.float64)
    n = g.sizes()
    with np.errstate(all="ignore"):
        out = np.exp(np.bincount(g.ids, weights=np.log(v), minlength=g.count) / n)
    return _result(DOUBLE, out, n > 0)


def _moments(x, g):
    v = as_vector(x).values.astype(np.float64)
    n = g.sizes().astype(np.float64)
    with np.errstate(all="ignore"):
        mean = np.bincount(g.ids, weights=v, minlength=g.count) / n
        dev = v - mean[g.ids]
        m2 = np.bincount(g.ids, weights=dev * dev, minlength=g.count)
    return n, mean, m2, dev


def _variance(sample: bool, sqrt: bool):
    def impl(args, groups, out_type, call):
        (x,), g = _inputs(args, groups)
        n, _, m2, _ = _moments(x, g)
        with np.errstate(all="ignore"):
            var = m2 / (n - 1) if sample else m2 / n
        out = np.sqrt(var) if sqrt else var
        return _result(DOUBLE, out, n > (1 if sample else 0))

    return impl


for _names, _sample, _sqrt in ((("stddev", "stddev_samp"), True, True), (("stddev_pop",), False, True),
                               (("variance", "var_samp"), True, False), (("var_pop",), False, False)):
    for _name in _names:
        REGISTRY.aggregate(f"{_name}(bigint) -> double", f"{_name}(double) -> double")(_variance(_sample, _sqrt))


@REGISTRY.aggregate("skewness(bigint) -> double", "skewness(double) -> double")
def skewness(args, groups, out_type, call):
    (x,), g = _inputs(args, groups)
    n, _, m2, dev = _moments(x, g)
    m3 = np.bincount(g.ids, weights=dev**3, minlength=g.count)
    with np.errstate(all="ignore"):
        out = np.sqrt(n) * m3 / m2**1.5
    return _result(DOUBLE, out, n > 0)


@REGISTRY.aggregate("kurtosis(bigint) -> double", "kurtosis(double) -> double")
def kurtosis(args, groups, out_type, call):
    (x,), g = _inputs(args, groups)
    n, _, m2, dev = _moments(x, g)
    m4 = np.bincount(g.ids, weights=dev**4, minlength=g.count)
    with np.errstate(all="ignore"):
        var = m2 / (n - 1)
        out = n * (n + 1) * m4 / ((n - 1) * (n - 2) * (n - 3) * var**2) - 3 * (n - 1) ** 2 / ((n - 2) * (n - 3))
    return _result(DOUBLE, out, n > 3)


def _pair_stats(args, groups):
    (y, x), g = _inputs(args, groups)
    yv = as_vector(y).values.astype(np.float64)
    xv = as_vector(x).values.astype(np.float64)
    n = g.sizes().astype(np.float64)
    with np.errstate(all="ignore"):
        mx = np.bincount(g.ids, weights=xv, minlength=g.count) / n
        my = np.bincount(g.ids, weights=yv, minlength=g.count) / n
        dx, dy = xv - mx[g.ids], yv - my[g.ids]
        sxy = np.bincount(g.ids, weights=dx * dy, minlength=g.count)
        sxx = np.bincount(g.ids, weights=dx * dx, minlength=g.count)
        syy = np.bincount(g.ids, weights=dy * dy, minlength=g.count)
    return n, mx, my, sxy, sxx, syy


@REGISTRY.aggregate("corr(double, double) -> double")
def corr(args, groups, out_type, call):
    n, _, _, sxy, sxx, syy = _pair_stats(args, groups)
    with np.errstate(all="ignore"):
        out = sxy / np.sqrt(sxx * syy)
    return _result(DOUBLE, out, n > 1)


@REGISTRY.aggregate("covar_pop(double, double) -> double")
def covar_pop(args, groups, out_type, call):
    n, _, _, sxy, _, _ = _pair_stats(args, groups)
    with np.errstate(all="ignore"):
        return _result(DOUBLE, sxy / n, n > 0)


@REGISTRY.aggregate("covar_samp(double, double) -> double")
def covar_samp(args, groups, out_type, call):
    n, _, _, sxy, _, _ = _pair_stats(args, groups)
    with np.errstate(all="ignore"):
        return _result(DOUBLE, sxy / (n - 1), n > 1)


@REGISTRY.aggregate("regr_slope(double, double) -> double")
def regr_slope(args, groups, out_type, call):
    n, _, _, sxy, sxx, _ = _pair_stats(args, groups)
    with np.errstate(all="ignore"):
        return _result(DOUBLE, sxy / sxx, n > 1)


@REGISTRY.aggregate("regr_intercept(double, double) -> double")
def regr_intercept(args, groups, out_type, call):
    n, mx, my, sxy, sxx, _ = _pair_stats(args, groups)
    with np.errstate(all="ignore"):
        return _result(DOUBLE, my - sxy / sxx * mx, n > 1)


# --- extremes -----------------------------------------------------------------------------------

def _ranks(col: Column):
    """Orderable integer ranks of a column's values, and a way back from rank to value."""
    if isinstance(col, DictVector):
        order = np.argsort(col.dictionary.astype(str), kind="stable") if len(col.dictionary) else np.zeros(0, np.int64)
        rank_of_code = np.empty(len(order), dtype=np.int64)
        rank_of_code[order] = np.arange(len(order))
        return rank_of_code[col.codes], lambda r: col.dictionary[order[r]]
    v = as_vector(col).values
    if v.dtype == object:
        codes, uniques = pd.factorize(v, sort=True)
        return codes.astype(np.int64), lambda r: np.asarray(uniques, dtype=object)[r]
    return None, None


def _extreme(is_max: bool):
    def impl(args, groups, out_type, call):
        (x,), g = _inputs(args, groups)
        present = g.sizes() > 0
        ranks, back = _ranks(x)
        if ranks is not None:
            init = -1 if is_max else np.iinfo(np.int64).max
            state = np.full(g.count, init, dtype=np.int64)
            (np.maximum if is_max else np.minimum).at(state, g.ids, ranks)
            values = np.empty(g.count, dtype=object)
            if present.any():
                values[present] = back(state[present])
            return Vector(out_type, values, ~present)
        v = as_vector(x).values
        if v.dtype == bool:
            v = v.astype(np.int8)
        if v.dtype.kind == "f":
            init = -np.inf if is_max else np.inf
            # NaN is larger than any other value, as in Presto: max propagates it, min skips it
            ufunc = np.maximum if is_max else np.fmin
        else:
            info = np.iinfo(v.dtype)
            init = info.min if is_max else info.max
            ufunc = np.maximum if is_max else np.minimum
        state = g.reduce(ufunc, v, init)
        if out_type == BOOLEAN:
            state = state.astype(bool)
        return _result(out_type, state, present)

    return impl


REGISTRY.aggregate(*(f"max({t}) -> {t}" for t in ORDERABLE))(_extreme(True))
REGISTRY.aggregate(*(f"min({t}) -> {t}" for t in ORDERABLE))(_extreme(False))
REGISTRY.aggregate("bool_and(boolean) -> boolean", aliases=("every",))(_extreme(False))
REGISTRY.aggregate("bool_or(boolean) -> boolean")(_extreme(True))


def _first_rows(g: Groups) -> tuple[np.ndarray, np.ndarray]:
    n = len(g.ids)
    first = np.full(g.count, n, dtype=np.int64)
    np.minimum.at(first, g.ids, np.arange(n, dtype=np.int64))
    present = first < n
    return np.where(present, first, 0), present


@REGISTRY.aggregate("arbitrary(T) -> T", aliases=("any_value",))
def arbitrary(args, groups, out_type, call):
    (x,), g = _inputs(args, groups)
    rows, present = _first_rows(g)
    if len(x) == 0:
        return nulls_of(out_type, g.count)
    out = x.take(rows)
    return _mask(out, ~present)


def _mask(col: Column, nulls: np.ndarray) -> Column:
    from .operators import _with_nulls

    return _with_nulls(col, nulls) if nulls.any() else col


def _key(col: Column) -> np.ndarray:
    """Numbers that order as a column's values do: ranks of strings, integers for
    booleans, NaN as the largest double."""
    ranks, _ = _ranks(col)
    key = ranks if ranks is not None else as_vector(col).values
    if key.dtype == bool:
        return key.astype(np.int64)
    if key.dtype.kind == "f":
        return np.where(np.isnan(key), np.inf, key)
    return key


def _by(is_max: bool):
    """max_by/min_by in O(n): each group's extreme key by ufunc.at, then the last
    (max_by) or first (min_by) row holding it. NaN keys count as the largest."""

    def impl(args, groups, out_type, call):
        x, y = args
        idx = np.flatnonzero(y.valid_mask())
        x, y, g = x.take(idx), y.take(idx), Groups(groups.ids[idx], groups.count)
        if len(idx) == 0:
            return nulls_of(out_type, g.count)
        key = _key(y)
        if key.dtype.kind == "f":
            init = -np.inf if is_max else np.inf
        else:
            info = np.iinfo(key.dtype)
            init = info.min if is_max else info.max
        extreme = np.full(g.count, init, dtype=key.dtype)
        (np.maximum if is_max else np.minimum).at(extreme, g.ids, key)
        holds = np.flatnonzero(key == extreme[g.ids])
        rows = np.full(g.count, -1 if is_max else len(key), dtype=np.int64)
        (np.maximum if is_max else np.minimum).at(rows, g.ids[holds], holds)
        present = (rows >= 0) & (rows < len(key))
        return _mask(x.take(np.where(present, rows, 0)), ~present)

    return impl


REGISTRY.aggregate(*(f"max_by(T, {t}) -> T" for t in ORDERABLE))(_by(True))
REGISTRY.aggregate(*(f"min_by(T, {t}) -> T" for t in ORDERABLE))(_by(False))


# --- the n largest / smallest ------------------------------------------------------------------

def _order_key(col: Column, largest: bool) -> np.ndarray:
    """Integers or floats that sort ascending in the wanted order (NaN largest)."""
    key = _key(col)
    if key.dtype.kind == "f":
        return -key if largest else key
    return ~key if largest else key  # ~ reverses the order of int64 without overflow


def _count_argument(col: Column, name: str) -> int:
    v = as_vector(col)
    counts = set(v.values[v.valid_mask()].tolist())
    if len(counts) > 1:
        raise QueryExecutionError(f"the count argument of {name} must be a constant")
    n = counts.pop() if counts else None
    if n is None or n <= 0:
        raise QueryExecutionError(f"the count argument of {name} must be a positive integer, got {n}")
    return int(n)


def _top(x: Column, key: Column, groups: Groups, n: int, largest: bool, out_type) -> ListVector:
    """Per group, the values of x at the n largest (or smallest) keys, in that order."""
    order = np.lexsort((_order_key(key, largest), groups.ids)) if len(key) else np.zeros(0, np.int64)
    sorted_ids = groups.ids[order]
    starts = np.searchsorted(sorted_ids, np.arange(groups.count))
    position = np.arange(len(order)) - starts[sorted_ids]
    keep = order[position < n]
    counts = np.minimum(np.bincount(groups.ids, minlength=groups.count), n)
    offsets = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
    return ListVector(out_type, offsets, x.take(keep), counts == 0)


def _extremes_n(largest: bool):
    def impl(args, groups, out_type, call):
        (x,), g = _inputs(args[:1], groups)
        n = _count_argument(args[1], "max" if largest else "min")
        return _top(x, x, g, n, largest, out_type)

    return impl


def _by_n(largest: bool):
    def impl(args, groups, out_type, call):
        x, y = args[0], args[1]
        n = _count_argument(args[2], "max_by" if largest else "min_by")
        idx = np.flatnonzero(y.valid_mask())
        return _top(x.take(idx), y.take(idx), Groups(groups.ids[idx], groups.count), n, largest, out_type)

    return impl


REGISTRY.aggregate(*(f"max({t}, bigint) -> array({t})" for t in ORDERABLE))(_extremes_n(True))
REGISTRY.aggregate(*(f"min({t}, bigint) -> array({t})" for t in ORDERABLE))(_extremes_n(False))
REGISTRY.aggregate(*(f"max_by(T, {t}, bigint) -> array(T)" for t in ORDERABLE))(_by_n(True))
REGISTRY.aggregate(*(f"min_by(T, {t}, bigint) -> array(T)" for t in ORDERABLE))(_by_n(False))


# --- bitwise --------------------------------------------------------------------------------------

def _bitwise_agg(ufunc, init: int):
    def impl(args, groups, out_type, call):
        (x,), g = _inputs(args, groups)
        state = np.full(g.count, init, dtype=np.int64)
        ufunc.at(state, g.ids, as_vector(x).values.astype(np.int64))
        return _result(BIGINT, state, g.sizes() > 0)

    return impl


REGISTRY.aggregate("bitwise_and_agg(bigint) -> bigint")(_bitwise_agg(np.bitwise_and, -1))
REGISTRY.aggregate("bitwise_or_agg(bigint) -> bigint")(_bitwise_agg(np.bitwise_or, 0))


# --- collections (the approximate aggregates are in sketches.py) ---------------------------------

@REGISTRY.aggregate("array_agg(T) -> array(T)")
def array_agg(args, groups, out_type, call):
    (x,) = args
    order = groups.order()  # stable: keeps input order within a group
    counts = groups.sizes()
    offsets = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
    child = x.take(order)
    return ListVector(out_type, offsets, child, counts == 0)


__all__ = ["Groups", "VARCHAR"]
