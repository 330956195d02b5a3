"""Approximate aggregates: approx_percentile and approx_distinct, and the mergeable
sketches behind them.

Where an aggregate sees all of a group's rows (today's Aggregate operator concatenates
its input) the answer is exact, computed for all groups with one lexsort: that is within
any error bound Timestream documents. Where partial results from different partitions
must be combined, `Digests` are t-digests of many groups at once (centroids built and
merged with numpy, in the `tdigest` package's centroid format) and `HyperLogLogs` the
distinct-count registers; both merge, and both answer within the requested accuracy.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from tsql.arrays import factorize_rows
from tsql.types import BIGINT, INTEGER, ArrayType

from ..column import DictVector, Vector, as_vector
from .aggregates import Groups, _inputs, _result
from .array import make_list
from .registry import REGISTRY, fail
from .timeseries import order_by_group

DEFAULT_ACCURACY = 0.01  # Presto's default maximum rank error
DEFAULT_DISTINCT_ERROR = 0.023  # Presto's default standard error of approx_distinct


# --- argument checks -----------------------------------------------------------------------------

def constant_arg(call, args, i: int, what: str):
    """The value of an argument that must be the same on every row (a percentile, an accuracy)."""
    from tsql.planner.expressions import Literal

    expr = call.args[i] if call is not None and len(call.args) > i else None
    if isinstance(expr, Literal):
        value = expr.value
    else:
        col = args[i]
        values = col.to_pylist()
        distinct = {repr(v) for v in values}
        if len(distinct) > 1:
            fail(f"{what} argument must be constant for all input rows")
        value = values[0] if values else None
    if value is None:
        fail(f"{what} cannot be NULL")
    return value


def check_percentiles(ps) -> np.ndarray:
    ps = np.asarray(ps if isinstance(ps, (list, tuple)) else [ps], dtype=object)
    if any(p is None for p in ps):
        fail("Percentile cannot be NULL")
    ps = ps.astype(np.float64)
    if np.any((ps < 0) | (ps > 1)) or np.any(np.isnan(ps)):
        fail("Percentile must be between 0 and 1")
    return ps


def check_accuracy(accuracy: float) -> float:
    if not 0 < accuracy < 1:
        fail("Percentile accuracy must be exclusively between 0 and 1")
    return float(accuracy)


# --- exact percentiles --------------------------------------------------------------------------

def exact_percentiles(values: np.ndarray, weights: np.ndarray | None, g: Groups, ps: np.ndarray):
    """The value at each percentile of each group: the smallest value whose cumulative
    weight reaches p of the group's total weight. Returns (count x len(ps) values, present)."""
    if weights is None and g.count and len(values) >= 1024 * g.count:
        return _selected_percentiles(values, g, ps)
    order = np.lexsort((values, g.ids))
    v = values[order]
    w = np.ones(len(v), dtype=np.float64) if weights is None else weights[order].astype(np.float64)
    total = np.bincount(g.ids, weights=w, minlength=g.count)
    cum = np.cumsum(w)
    before = np.concatenate(([0.0], np.cumsum(total)[:-1]))
    # cumulative weight is increasing across groups too, so one searchsorted finds every rank;
    # rounding p * total keeps 0.3 * 10 from reading as 3.0000000000000004
    target = before[:, None] + np.round(ps[None, :] * total[:, None], 9)
    pos = np.searchsorted(cum, target, side="left")
    firsts = np.concatenate(([0], np.cumsum(g.sizes())[:-1]))
    pos = np.clip(pos, firsts[:, None], np.maximum(firsts + g.sizes() - 1, 0)[:, None])
    present = total > 0
    if len(v) == 0:
        return np.zeros((g.count, len(ps)), dtype=values.dtype), present
    return v[np.minimum(pos, len(v) - 1)], present


def _selected_percentiles(values: np.ndarray, g: Groups, ps: np.ndarray):
    """exact_percentiles without weights for large groups: a selection (np.partition) per
    group instead of one sort of everything."""
    order = order_by_group(g.ids, g.count)
    v = values if order is None else values[order]
    sizes = g.sizes()
    ends = np.cumsum(sizes)
    ranks = np.clip(np.ceil(np.round(ps[None, :] * sizes[:, None], 9)).astype(np.int64) - 1, 0,
                    np.maximum(sizes - 1, 0)[:, None])
    out = np.zeros((g.count, len(ps)), dtype=values.dtype)
    for gi in np.flatnonzero(sizes):  # one loop step per group, each holding >= 1024 rows on average
        out[gi] = np.partition(v[ends[gi] - sizes[gi]:ends[gi]], np.unique(ranks[gi]))[ranks[gi]]
    return out, sizes > 0


def _percentile_form(args, call):
    """(value column, weight column or None, percentiles, as array?, accuracy) of a call."""
    types = [a.type for a in (call.args if call is not None else args)]
    i = 1
    weight = None
    if types[1] in (BIGINT, INTEGER):
        weight, i = args[1], 2
    as_array = isinstance(types[i], ArrayType)
    ps = check_percentiles(constant_arg(call, args, i, "Percentile"))
    accuracy = DEFAULT_ACCURACY
    if len(args) > i + 1:
        accuracy = check_accuracy(constant_arg(call, args, i + 1, "Accuracy"))
    return args[0], weight, ps, as_array, accuracy


def approx_percentile(args, groups, out_type, call):
    x, weight, ps, as_array, _ = _percentile_form(args, call)
    cols, g = _inputs([x] if weight is None else [x, weight], groups)
    values = as_vector(cols[0]).values
    weights = None
    if weight is not None:
        weights = as_vector(cols[1]).values
        if np.any(weights < 1):
            fail("Percentile weight must be a positive integer")
    out, present = exact_percentiles(values, weights, g, ps)
    if not as_array:
        return _result(out_type, out[:, 0], present)
    lengths = np.where(present, len(ps), 0)
    child = Vector(out_type.element, out[present].ravel())
    return make_list(out_type, lengths, child, ~present)


def _percentile_signatures():
    for t in ("bigint", "double"):
        for weighted in (False, True):
            for p, result in (("double", t), ("array(double)", f"array({t})")):
                for accuracy in (False, True):
                    params = [t] + (["bigint"] if weighted else []) + [p] + (["double"] if accuracy else [])
                    yield f"approx_percentile({', '.join(params)}) -> {result}"


REGISTRY.aggregate(*_percentile_signatures())(approx_percentile)


# --- t-digests of many groups --------------------------------------------------------------------

def compression_for(accuracy: float) -> float:
    """A k1-scale t-digest's largest centroid spans about pi / (2 * compression) of the
    ranks; half of that is the rank error of a value inside it. Keep it at accuracy / 4:
    merged partials and tied values (centroids mixing neighbours) use up the margin."""
    return max(20.0, math.ceil(math.pi / accuracy))


class Digests:
    """One t-digest per group: centroids (mean, weight) sorted by (group, mean), with
    `offsets` delimiting each group's centroids, and each group's minimum and maximum."""

    def __init__(self, offsets, means, weights, minimum, maximum, compression: float):
        self.offsets = offsets
        self.means = means
        self.weights = weights
        self.minimum = minimum
        self.maximum = maximum
        self.compression = compression

    @property
    def count(self) -> int:
        return len(self.offsets) - 1

    @classmethod
    def build(cls, values, weights, ids, count: int, accuracy: float = DEFAULT_ACCURACY) -> "Digests":
        """Digests of `values` (float64) per group `ids` (0..count-1)."""
        w = np.ones(len(values)) if weights is None else np.asarray(weights, dtype=np.float64)
        return cls._compress(np.asarray(ids, dtype=np.int64), np.asarray(values, dtype=np.float64), w,
                             count, compression_for(accuracy))

    @classmethod
    def merge(cls, parts: list) -> "Digests":
        """One digest per group from digests of the same groups over different rows."""
        count = parts[0].count
        ids = np.concatenate([np.repeat(np.arange(count), np.diff(p.offsets)) for p in parts])
        means = np.concatenate([p.means for p in parts])
        weights = np.concatenate([p.weights for p in parts])
        merged = cls._compress(ids, means, weights, count, max(p.compression for p in parts))
        merged.minimum = np.fmin.reduce([p.minimum for p in parts])
        merged.maximum = np.fmax.reduce([p.maximum for p in parts])
        return merged

    @classmethod
    def _compress(cls, ids, values, weights, count, compression) -> "Digests":
        order = np.lexsort((values, ids))
        ids, values, weights = ids[order], values[order], weights[order]
        total = np.bincount(ids, weights=weights, minlength=count)
        cum = np.cumsum(weights)
        before_group = np.concatenate(([0.0], np.cumsum(total)[:-1]))
        with np.errstate(all="ignore"):
            q = (cum - weights / 2.0 - before_group[ids]) / total[ids]
        # the k1 scale: centroids are small at the tails and largest at the median
        k = np.floor(compression * (np.arcsin(np.clip(2.0 * q - 1.0, -1.0, 1.0)) / math.pi + 0.5)).astype(np.int64)
        starts = np.flatnonzero(np.concatenate(([True], (ids[1:] != ids[:-1]) | (k[1:] != k[:-1])))) \
            if len(ids) else np.zeros(0, dtype=np.int64)
        sums = np.add.reduceat(weights, starts) if len(ids) else np.zeros(0)
        moments = np.add.reduceat(weights * values, starts) if len(ids) else np.zeros(0)
        centroid_ids = ids[starts]
        offsets = np.concatenate(([0], np.cumsum(np.bincount(centroid_ids, minlength=count)))).astype(np.int64)
        minimum = np.full(count, np.nan)
        maximum = np.full(count, np.nan)
        if len(ids):
            firsts = np.flatnonzero(np.concatenate(([True], ids[1:] != ids[:-1])))
            lasts = np.concatenate((firsts[1:] - 1, [len(ids) - 1]))
            minimum[ids[firsts]] = values[firsts]
            maximum[ids[lasts]] = values[lasts]
        return cls(offsets, moments / np.where(sums > 0, sums, 1.0), sums, minimum, maximum, compression)

    def quantiles(self, ps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(count x len(ps) estimates, present): interpolating between centroid centres,
        and between a group's minimum/maximum and its outermost centroids."""
        ps = np.asarray(ps, dtype=np.float64)
        sizes = np.diff(self.offsets)
        present = sizes > 0
        out = np.full((self.count, len(ps)), np.nan)
        if not present.any():
            return out, present
        group_of = np.repeat(np.arange(self.count), sizes)
        total = np.bincount(group_of, weights=self.weights, minlength=self.count)
        cum = np.cumsum(self.weights)
        centre = cum - self.weights / 2.0  # increasing across groups too
        before = cum[self.offsets[1:] - 1] - total if len(cum) else np.zeros(self.count)
        before = np.where(present, before, 0.0)
        target = before[:, None] + ps[None, :] * total[:, None]
        i = np.searchsorted(centre, target, side="right") - 1  # last centre at or before the rank
        first, last = self.offsets[:-1][:, None], (self.offsets[1:] - 1)[:, None]
        lo_i, hi_i = np.clip(i, first, last), np.clip(i + 1, first, last)
        lo_i, hi_i = np.minimum(lo_i, len(cum) - 1), np.minimum(hi_i, len(cum) - 1)
        x0 = np.where(i < first, before[:, None], centre[lo_i])
        y0 = np.where(i < first, self.minimum[:, None], self.means[lo_i])
        x1 = np.where(i >= last, (before + total)[:, None], centre[hi_i])
        y1 = np.where(i >= last, self.maximum[:, None], self.means[hi_i])
        with np.errstate(all="ignore"):
            frac = np.where(x1 > x0, (target - x0) / (x1 - x0), 0.0)
        out = y0 + np.clip(frac, 0.0, 1.0) * (y1 - y0)
        return np.where(present[:, None], out, np.nan), present

    def to_dicts(self) -> list:
        """Each group's digest in the tdigest package's `to_dict()` format (`min`/`max` added)."""
        out = []
        for gi in range(self.count):  # one dict per group: only for shipping partial results
            lo, hi = self.offsets[gi], self.offsets[gi + 1]
            out.append({
                "n": float(self.weights[lo:hi].sum()), "delta": 1.0 / self.compression, "K": 25,
                "centroids": [{"m": float(m), "c": float(c)} for m, c in zip(self.means[lo:hi], self.weights[lo:hi])],
                "min": float(self.minimum[gi]), "max": float(self.maximum[gi]),
            })
        return out

    @classmethod
    def from_dicts(cls, dicts: list) -> "Digests":
        sizes = [len(d["centroids"]) for d in dicts]
        means = np.array([c["m"] for d in dicts for c in d["centroids"]], dtype=np.float64)
        weights = np.array([c["c"] for d in dicts for c in d["centroids"]], dtype=np.float64)
        offsets = np.concatenate(([0], np.cumsum(sizes))).astype(np.int64)
        minimum = np.array([d.get("min", d["centroids"][0]["m"] if d["centroids"] else np.nan) for d in dicts])
        maximum = np.array([d.get("max", d["centroids"][-1]["m"] if d["centroids"] else np.nan) for d in dicts])
        compression = 1.0 / min((d.get("delta", 0.01) for d in dicts), default=0.01)
        return cls(offsets, means, weights, minimum, maximum, compression)


def percentile_partial(args, groups, call) -> Digests:
    """approx_percentile's partial state over some rows: a digest per group."""
    x, weight, _, _, accuracy = _percentile_form(args, call)
    cols, g = _inputs([x] if weight is None else [x, weight], groups)
    weights = as_vector(cols[1]).values if weight is not None else None
    return Digests.build(as_vector(cols[0]).values.astype(np.float64), weights, g.ids, g.count, accuracy)


def percentile_final(digests: Digests, args, out_type, call):
    """approx_percentile's answer from merged partial digests."""
    _, _, ps, as_array, _ = _percentile_form(args, call)
    out, present = digests.quantiles(ps)
    element = out_type.element if as_array else out_type
    if element.name != "double":  # bigint input: integer answers
        out = np.round(np.nan_to_num(out))
    out = out.astype(np.float64 if element.name == "double" else np.int64)
    if not as_array:
        return _result(out_type, out[:, 0], present)
    lengths = np.where(present, len(ps), 0)
    return make_list(out_type, lengths, Vector(element, out[present].ravel()), ~present)


approx_percentile.partial = percentile_partial
approx_percentile.merge = Digests.merge
approx_percentile.final = percentile_final


# --- distinct counts ------------------------------------------------------------------------------

def check_distinct_error(error: float) -> float:
    if not 0.0040625 <= error <= 0.26:
        fail(f"Max standard error must be in [0.0040625, 0.26000]: {error}")
    return float(error)


@REGISTRY.aggregate("approx_distinct(T) -> bigint", "approx_distinct(T, double) -> bigint")
def approx_distinct(args, groups, out_type, call):
    """Exact distinct counts of each group's non-NULL values."""
    if len(args) > 1:
        check_distinct_error(constant_arg(call, args, 1, "Max standard error"))
    (x,), g = _inputs(args[:1], groups)
    codes = x.codes if isinstance(x, DictVector) else pd.factorize(as_vector(x).values)[0]
    _, first = factorize_rows([g.ids, np.asarray(codes, dtype=np.int64)])
    return Vector(BIGINT, np.bincount(g.ids[first], minlength=g.count).astype(np.int64))


def _hashes(col) -> np.ndarray:
    if isinstance(col, DictVector):
        return pd.util.hash_array(col.dictionary.astype(object))[np.maximum(col.codes, 0)]
    values = as_vector(col).values
    if values.dtype.kind == "f":
        values = values + 0.0  # -0.0 and 0.0 are one value
    return pd.util.hash_array(values)


class HyperLogLogs:
    """HyperLogLog registers, one row of 2**p per group; merging takes the maximum."""

    def __init__(self, registers: np.ndarray):
        self.registers = registers

    @classmethod
    def build(cls, col, ids, count: int, error: float = DEFAULT_DISTINCT_ERROR) -> "HyperLogLogs":
        p = max(4, math.ceil(math.log2((1.04 / error) ** 2)))
        h = _hashes(col)
        bucket = (h >> np.uint64(64 - p)).astype(np.int64)
        rest = h << np.uint64(p)  # the remaining bits, left-aligned
        hi, lo = (rest >> np.uint64(32)).astype(np.float64), (rest & np.uint64(0xFFFFFFFF)).astype(np.float64)
        bits_hi = np.frexp(hi)[1]  # bit length (exact below 2**53)
        bits_lo = np.frexp(lo)[1]
        rank = np.where(hi > 0, 33 - bits_hi, 65 - bits_lo)
        rank = np.minimum(rank, 64 - p + 1).astype(np.uint8)
        registers = np.zeros((count, 2**p), dtype=np.uint8)
        np.maximum.at(registers, (np.asarray(ids, dtype=np.int64), bucket), rank)
        return cls(registers)

    @classmethod
    def merge(cls, parts: list) -> "HyperLogLogs":
        return cls(np.maximum.reduce([p.registers for p in parts]))

    def estimate(self) -> np.ndarray:
        m = self.registers.shape[1]
        alpha = 0.7213 / (1.0 + 1.079 / m)
        raw = alpha * m * m / np.sum(np.ldexp(1.0, -self.registers.astype(np.int64)), axis=1)
        zeros = np.sum(self.registers == 0, axis=1)
        with np.errstate(all="ignore"):
            small = m * np.log(m / zeros)
        return np.round(np.where((raw <= 2.5 * m) & (zeros > 0), small, raw)).astype(np.int64)


def distinct_partial(args, groups, call) -> HyperLogLogs:
    error = check_distinct_error(constant_arg(call, args, 1, "Max standard error")) if len(args) > 1 \
        else DEFAULT_DISTINCT_ERROR
    (x,), g = _inputs(args[:1], groups)
    return HyperLogLogs.build(x, g.ids, g.count, error)


approx_distinct.partial = distinct_partial
approx_distinct.merge = HyperLogLogs.merge
approx_distinct.final = lambda sketches, args, out_type, call: Vector(BIGINT, sketches.estimate())


__all__ = ["Digests", "HyperLogLogs", "exact_percentiles", "approx_percentile", "approx_distinct"]
