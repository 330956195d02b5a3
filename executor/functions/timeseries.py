"""Timestream's time-series functions: create_time_series, interpolation, derivatives,
integrals, correlation, and filter/reduce over a timeseries.

A timeseries column is a ListVector whose child is a RowVector (time, value). Every
function works on all rows' points at once: `Points` flattens them (sorted by time within
each row, duplicate times collapsed to the last one), `Points.search` finds, for many
query times at once, the last point at or before each in the query's own row (one
np.searchsorted over a combined (row, time) key), and cubic splines are solved for all
series in lockstep. Where the developer guide is silent the choices are tsql's and are
written down in docs/timeseries.md.
"""

from __future__ import annotations

import numpy as np

from tsql.types import DOUBLE, TIMESTAMP, TimeSeriesType

from ..column import Column, ListVector, RowVector, Vector, as_vector, nulls_of
from .aggregates import _inputs
from .array import Lists, broadcast, filter_lists, make_list, reduce_lists
from .registry import REGISTRY, fail

NS_PER_SECOND = 10**9


# --- construction ------------------------------------------------------------------------------

@REGISTRY.aggregate("create_time_series(timestamp, T) -> timeseries(T)")
def create_time_series(args, groups, out_type, call):
    """Each group's (time, value) rows as one timeseries sorted by time. Rows with a NULL
    time or value are left out; points with equal times are all kept, in input order."""
    (t, v), g = _inputs(args, groups)
    times = as_vector(t).values.astype(np.int64)
    order = order_by_group(g.ids, g.count, times)  # stable: equal times keep their input order
    sizes = g.sizes()
    if order is None:
        child = RowVector(out_type.row, [Vector(TIMESTAMP, times), v])
    else:
        child = RowVector(out_type.row, [Vector(TIMESTAMP, times[order]), v.take(order)])
    return make_list(out_type, sizes, child, sizes == 0)


def order_by_group(ids: np.ndarray, count: int, key: np.ndarray | None = None) -> np.ndarray | None:
    """A stable order of rows by group number, then by `key` within a group; None when the
    rows are in that order already (series-major scans usually are)."""
    grouped = len(ids) < 2 or bool(np.all(ids[1:] >= ids[:-1]))
    if grouped and (key is None or len(key) < 2 or bool(np.all((key[1:] >= key[:-1]) | (ids[1:] != ids[:-1])))):
        return None
    if key is not None and not grouped:
        return np.lexsort((key, ids))
    # group numbers fit 16 bits more often than not: numpy sorts those with a radix sort
    order = np.argsort(ids.astype(np.uint16) if count <= 2**16 else ids, kind="stable") if not grouped \
        else np.arange(len(ids))
    if key is not None:
        k, sid = key[order], ids[order]
        if not np.all((k[1:] >= k[:-1]) | (sid[1:] != sid[:-1])):
            order = order[np.lexsort((k, sid))]
    return order


# --- the flat view of many timeseries ------------------------------------------------------------

class Points:
    """All points of a timeseries column, row by row, sorted by time within each row;
    with `dedupe`, of points with equal times only the last is kept."""

    def __init__(self, col: ListVector, dedupe: bool = True):
        lists = Lists(col)
        self.n = lists.n
        self.nulls = lists.nulls
        points = lists.elements()
        t = as_vector(points.fields[0]).values.astype(np.int64)
        values = points.fields[1]
        rows = lists.rows
        position = np.arange(len(t), dtype=np.int64)
        moved = False  # whether `position` is no longer the identity
        if len(t) > 1 and not np.all((t[1:] >= t[:-1]) | (rows[1:] != rows[:-1])):
            position = np.lexsort((t, rows))  # stable: the last of equal times stays last
            t, rows, moved = t[position], rows[position], True
        observed = ~values.null_mask()[position]  # a NULL value is no observation
        if not observed.all():
            t, rows, position, moved = t[observed], rows[observed], position[observed], True
        if dedupe and len(t) > 1:
            last = np.ones(len(t), dtype=bool)
            last[:-1] = (t[1:] != t[:-1]) | (rows[1:] != rows[:-1])
            if not last.all():
                t, rows, position, moved = t[last], rows[last], position[last], True
        self.t = t
        self.rows = rows
        self.values = values.take(position) if moved else values
        self.lengths = np.bincount(self.rows, minlength=self.n).astype(np.int64)
        self.starts = np.concatenate(([0], np.cumsum(self.lengths)[:-1])).astype(np.int64)
        self._y = None

    @property
    def y(self) -> np.ndarray:
        """The values as float64 (numeric series)."""
        if self._y is None:
            self._y = as_vector(self.values).values.astype(np.float64)
        return self._y

    def search(self, times: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """For each query (time, row): the index of the last point of that row with
        t <= time, or -1 when the row has none."""
        if len(self.t) == 0 or len(times) == 0:
            return np.full(len(times), -1, dtype=np.int64)
        lo = min(int(self.t.min()), int(times.min()))
        width = max(int(self.t.max()), int(times.max())) - lo + 1
        if width * (self.n + 1) < 2**62:
            key = self.rows * width + (self.t - lo)
            found = np.searchsorted(key, rows * width + (times - lo), side="right") - 1
        else:  # times too far apart to share one int64 key with the row: bisect per row
            found = self._bisect(times, rows)
        return np.where(found >= self.starts[rows], found, -1)

    def _bisect(self, times, rows):
        lo = self.starts[rows].copy()
        hi = lo + self.lengths[rows]
        while True:
            live = lo < hi
            if not live.any():
                return lo - 1
            mid = (lo + hi) // 2
            right = live & (self.t[np.minimum(mid, len(self.t) - 1)] <= times)
            lo = np.where(right, mid + 1, lo)
            hi = np.where(live & ~right, mid, hi)


def _queries(ts: ListVector, at: Column):
    """(query times, query rows, result NULL mask, list form?) for an interpolation call."""
    if isinstance(at, ListVector):
        lists = Lists(at)
        element = as_vector(lists.elements())
        live = ~element.null_mask()
        return element.values[live].astype(np.int64), lists.rows[live], lists.nulls, True
    v = as_vector(at)
    return v.values.astype(np.int64), np.arange(len(v), dtype=np.int64), v.null_mask(), False


def _result(value_type, times, rows, present, values: Column, n, nulls, as_list: bool) -> Column:
    """An interpolation's answer: a timeseries per row (list form) or one value per row."""
    if not as_list:
        from .operators import _with_nulls

        missing = nulls | ~present
        return _with_nulls(values, missing) if missing.any() else values
    times, rows = times[present], rows[present]
    values = values.filter(present) if not present.all() else values
    if len(times) > 1 and not np.all((times[1:] >= times[:-1]) | (rows[1:] != rows[:-1])):
        order = np.lexsort((times, rows))
        times, rows, values = times[order], rows[order], values.take(order)
    out_type = TimeSeriesType(value_type)
    lengths = np.bincount(rows, minlength=n).astype(np.int64)
    return make_list(out_type, lengths, RowVector(out_type.row, [Vector(TIMESTAMP, times), values]), nulls)


# --- interpolation ---------------------------------------------------------------------------

def _interpolation(kind: str):
    def kernel(args, out_type, ctx):
        args = broadcast(args)
        ts, at = args[0], args[1]
        points = Points(ts)
        times, rows, nulls, as_list = _queries(ts, at)
        nulls = nulls | points.nulls
        j = points.search(times, rows)
        found = j >= 0
        jj = np.maximum(j, 0)
        exact = found & (points.t[jj] == times) if len(points.t) else found
        value_type = ts.type.element
        if kind == "locf":
            values = points.values.take(jj) if len(points.t) else nulls_of(value_type, len(times))
            return _result(value_type, times, rows, found, values, points.n, nulls, as_list)
        if kind == "fill":
            fill = args[2]
            fills = fill.take(rows)
            if len(points.t) and isinstance(points.values, Vector) and isinstance(fills, Vector):
                observed = points.values
                values = Vector(value_type, np.where(exact, observed.values[jj], fills.values),
                                np.where(exact, observed.null_mask()[jj], fills.null_mask()))
            elif len(points.t):
                from ..evaluate import scatter

                hit = np.flatnonzero(exact)
                miss = np.flatnonzero(~exact)
                values = scatter([(hit, points.values.take(jj[hit])), (miss, fills.take(miss))], len(times), value_type)
            else:
                values = fills
            return _result(value_type, times, rows, np.ones(len(times), dtype=bool), values, points.n, nulls, as_list)
        # linear and cubic spline: only between the first and last point
        ends = points.starts[rows] + points.lengths[rows]
        present = exact | (found & (j + 1 < ends))
        if len(points.t) < 2:
            out = points.y[jj] if len(points.t) else np.full(len(times), np.nan)
        else:
            # every query at once (no masked subsets); a query with no next point in its row
            # reads a neighbour that does not belong to it, and is not `present`
            k = np.minimum(jj, len(points.t) - 2)
            with np.errstate(all="ignore"):
                out = _spline_values(points, k, times) if kind == "spline" else _linear_values(points, k, times)
            out = np.where(exact, points.y[jj], out)
        return _result(DOUBLE, times, rows, present, Vector(DOUBLE, out), points.n, nulls, as_list)

    return kernel


def _linear_values(points: Points, j: np.ndarray, times: np.ndarray) -> np.ndarray:
    t0, t1 = points.t[j], points.t[j + 1]
    y0, y1 = points.y[j], points.y[j + 1]
    return y0 + (y1 - y0) * ((times - t0) / (t1 - t0))


def _spline_values(points: Points, j: np.ndarray, times: np.ndarray) -> np.ndarray:
    """Natural cubic spline through each row's points (rows of fewer than 3: linear)."""
    linear = _linear_values(points, j, times)
    use = points.lengths[points.rows[j]] >= 3
    if not use.any():
        return linear
    b, c, d = _natural_spline(points)
    dx = (times - points.t[j]) / NS_PER_SECOND
    return np.where(use, points.y[j] + dx * (b[j] + dx * (c[j] + dx * d[j])), linear)


def _natural_spline(points: Points):
    """Coefficients (b, c, d) per point of the natural cubic spline of every row with at
    least 3 points: segment k of a row is y_k + b_k dx + c_k dx^2 + d_k dx^3, dx in seconds.

    The tridiagonal systems of all rows are solved together (Thomas algorithm): rows are
    ranked by length and their points laid out position-major, so step k of the sweep
    touches one contiguous slice holding position k of every row that long.
    """
    size = len(points.t)
    b, c, d = np.zeros(size), np.zeros(size), np.zeros(size)
    lengths = points.lengths
    long_rows = np.flatnonzero(lengths >= 3)
    rank_order = long_rows[np.argsort(-lengths[long_rows], kind="stable")]
    rank = np.full(points.n, -1, dtype=np.int64)
    rank[rank_order] = np.arange(len(rank_order))
    counts_by_len = np.bincount(lengths[rank_order])
    longest = len(counts_by_len) - 1
    # count[k]: rows having a point at position k; off[k]: where position k starts
    at_least = np.cumsum(counts_by_len[::-1])[::-1]  # rows with length >= L
    count = np.concatenate((at_least[1:], [0])).astype(np.int64)
    off = np.concatenate(([0], np.cumsum(count)))
    member = rank[points.rows] >= 0
    idx = np.flatnonzero(member)  # points of spline rows, row-major
    pos = idx - points.starts[points.rows[idx]]
    pm = off[pos] + rank[points.rows[idx]]  # position-major slot of each point
    total = int(count.sum())
    t0 = points.t[points.starts[points.rows[idx]]]
    x = np.empty(total)
    y = np.empty(total)
    x[pm] = (points.t[idx] - t0) / NS_PER_SECOND
    y[pm] = points.y[idx]
    mu = np.zeros(total)
    z = np.zeros(total)
    with np.errstate(all="ignore"):
        for i in range(1, longest - 1):
            a = count[i + 1]  # rows with a point after position i
            prev, cur, nxt = slice(off[i - 1], off[i - 1] + a), slice(off[i], off[i] + a), slice(off[i + 1], off[i + 1] + a)
            h0 = x[cur] - x[prev]
            h1 = x[nxt] - x[cur]
            g = 2.0 * (h0 + h1) - h0 * mu[prev]
            mu[cur] = h1 / g
            rhs = 3.0 * (y[nxt] * h0 - y[cur] * (h0 + h1) + y[prev] * h1) / (h0 * h1)
            z[cur] = (rhs - h0 * z[prev]) / g
        cc = np.zeros(total)
        for k in range(longest - 2, -1, -1):
            a = count[k + 1]
            cur, nxt = slice(off[k], off[k] + a), slice(off[k + 1], off[k + 1] + a)
            cc[cur] = z[cur] - mu[cur] * cc[nxt]
    c_row = cc[pm]
    # b and d per segment, row-major: a segment joins point k to k+1 of the same row
    c[idx] = c_row
    seg = idx[:-1][points.rows[idx[1:]] == points.rows[idx[:-1]]]
    h = (points.t[seg + 1] - points.t[seg]) / NS_PER_SECOND
    b[seg] = (points.y[seg + 1] - points.y[seg]) / h - h * (c[seg + 1] + 2.0 * c[seg]) / 3.0
    d[seg] = (c[seg + 1] - c[seg]) / (3.0 * h)
    return b, c, d


for _name, _kind in (("interpolate_linear", "linear"), ("interpolate_spline_cubic", "spline")):
    REGISTRY.scalar(f"{_name}(timeseries(double), array(timestamp)) -> timeseries(double)",
                    f"{_name}(timeseries(double), timestamp) -> double")(_interpolation(_kind))
REGISTRY.scalar("interpolate_locf(timeseries(T), array(timestamp)) -> timeseries(T)",
                "interpolate_locf(timeseries(T), timestamp) -> T")(_interpolation("locf"))
REGISTRY.scalar("interpolate_fill(timeseries(T), array(timestamp), T) -> timeseries(T)",
                "interpolate_fill(timeseries(T), timestamp, T) -> T")(_interpolation("fill"))


# --- derivatives and integrals -----------------------------------------------------------------

def _intervals(col: Column, n: int) -> tuple[np.ndarray, np.ndarray]:
    v = as_vector(col.broadcast(n))
    nulls = v.null_mask()
    if np.any((v.values <= 0) & ~nulls):
        fail("The interval must be positive")
    return np.where(nulls, 1, v.values).astype(np.float64), nulls


def _segments(points: Points) -> np.ndarray:
    """Indexes k of points whose next point (k + 1) is in the same row."""
    if len(points.t) < 2:
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(points.rows[1:] == points.rows[:-1])


def _derivative(non_negative: bool):
    def kernel(args, out_type, ctx):
        ts, interval = broadcast(args)
        points = Points(ts)
        unit, unit_nulls = _intervals(interval, points.n)
        k = _segments(points)
        rows = points.rows[k + 1]
        with np.errstate(all="ignore"):
            slope = (points.y[k + 1] - points.y[k]) / (points.t[k + 1] - points.t[k]) * unit[rows]
        keep = slope >= 0 if non_negative else np.ones(len(k), dtype=bool)
        times = points.t[k + 1][keep]
        lengths = np.bincount(rows[keep], minlength=points.n).astype(np.int64)
        child = RowVector(out_type.row, [Vector(TIMESTAMP, times), Vector(DOUBLE, slope[keep])])
        return make_list(out_type, lengths, child, points.nulls | unit_nulls)

    return kernel


REGISTRY.scalar("derivative_linear(timeseries(double), interval day to second) -> timeseries(double)")(
    _derivative(False))
REGISTRY.scalar("non_negative_derivative_linear(timeseries(double), interval day to second) -> timeseries(double)")(
    _derivative(True))


@REGISTRY.scalar("integral_trapezoidal(timeseries(double)) -> double",
                 "integral_trapezoidal(timeseries(double), interval day to second) -> double")
def integral_trapezoidal(args, out_type, ctx):
    args = broadcast(args)
    points = Points(args[0])
    if len(args) > 1:
        unit, unit_nulls = _intervals(args[1], points.n)
    else:
        unit, unit_nulls = np.full(points.n, float(NS_PER_SECOND)), np.zeros(points.n, dtype=bool)
    k = _segments(points)
    area = (points.y[k] + points.y[k + 1]) / 2.0 * (points.t[k + 1] - points.t[k])
    total = np.bincount(points.rows[k], weights=area, minlength=points.n) / unit
    return Vector(DOUBLE, total, points.nulls | unit_nulls | (points.lengths == 0))


# --- correlation ---------------------------------------------------------------------------------

def _pairs(args):
    """Values of the two series at the times both have: (row, x, y)."""
    a, b = broadcast(args)
    pa, pb = Points(a), Points(b)
    j = pa.search(pb.t, pb.rows)
    match = j >= 0
    match[match] = pa.t[j[match]] == pb.t[match]
    return pb.rows[match], pa.y[j[match]], pb.y[match], pa.nulls | pb.nulls, pa.n


def _pearson(rows, x, y, n):
    count = np.bincount(rows, minlength=n).astype(np.float64)
    with np.errstate(all="ignore"):
        mx = np.bincount(rows, weights=x, minlength=n) / count
        my = np.bincount(rows, weights=y, minlength=n) / count
        dx, dy = x - mx[rows], y - my[rows]
        sxy = np.bincount(rows, weights=dx * dy, minlength=n)
        sxx = np.bincount(rows, weights=dx * dx, minlength=n)
        syy = np.bincount(rows, weights=dy * dy, minlength=n)
        r = sxy / np.sqrt(sxx * syy)
    return np.clip(r, -1.0, 1.0), count < 2


def _ranks(rows: np.ndarray, values: np.ndarray) -> np.ndarray:
    """1-based ranks of values within each row, ties sharing their average rank."""
    order = np.lexsort((values, rows))
    r, v = rows[order], values[order]
    firsts = np.searchsorted(r, r, side="left")
    position = np.arange(len(r)) - firsts
    change = np.ones(len(r), dtype=bool)
    change[1:] = (r[1:] != r[:-1]) | (v[1:] != v[:-1])
    run = np.cumsum(change) - 1
    run_first = position[change]
    run_last = np.append(position[np.flatnonzero(change)[1:] - 1], position[-1]) if len(r) else run_first
    out = np.empty(len(r))
    out[order] = (run_first[run] + run_last[run]) / 2.0 + 1.0
    return out


@REGISTRY.scalar("correlate_pearson(timeseries(double), timeseries(double)) -> double")
def correlate_pearson(args, out_type, ctx):
    rows, x, y, nulls, n = _pairs(args)
    r, few = _pearson(rows, x, y, n)
    return Vector(DOUBLE, r, nulls | few)


@REGISTRY.scalar("correlate_spearman(timeseries(double), timeseries(double)) -> double")
def correlate_spearman(args, out_type, ctx):
    rows, x, y, nulls, n = _pairs(args)
    r, few = _pearson(rows, _ranks(rows, x), _ranks(rows, y), n)
    return Vector(DOUBLE, r, nulls | few)


# --- filter and reduce -------------------------------------------------------------------------

REGISTRY.scalar("filter(timeseries(T), function(row(time timestamp, value T), boolean)) -> timeseries(T)")(
    filter_lists)
REGISTRY.scalar(
    "reduce(timeseries(T), S, function(S, row(time timestamp, value T), S), function(S, R)) -> R")(reduce_lists)


__all__ = ["Points", "create_time_series"]
