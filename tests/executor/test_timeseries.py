"""Time-series functions against hand-computed expectations: create_time_series, UNNEST,
interpolation (both forms), derivatives, integral, correlation, filter/reduce, and the
edge cases (empty, one point, NULLs, unsorted input, duplicate times)."""

from __future__ import annotations

import numpy as np
import pytest

from tsql.errors import QueryExecutionError, ValidationError

S = 10**9  # ns per second


def relation(points: dict) -> str:
    """A VALUES relation x(g, t, v) of {group: [(seconds, value), ...]}."""
    rows = []
    for g, pts in points.items():
        for t, v in pts:
            rows.append(f"('{g}', {t}, {'NULL' if v is None else repr(float(v))})")
    return f"(VALUES {', '.join(rows)}) AS x(g, t, v)"


def per_series(db, points: dict, expr: str) -> dict:
    """{group: value of expr} where `ts` is each group's create_time_series(time, value)."""
    sql = (f"SELECT g, {expr} FROM (SELECT g, create_time_series(from_unixtime(t), v) AS ts "
           f"FROM {relation(points)} GROUP BY g) ORDER BY g")
    return {g: plain(v) for g, v in db.query(sql).rows}


def plain(v):
    """A result value with timestamps as seconds: timeseries -> [(seconds, value)]."""
    if isinstance(v, list):
        return [plain(x) for x in v]
    if isinstance(v, tuple):
        return tuple(plain(x) for x in v)
    if hasattr(v, "value") and hasattr(v, "tz_localize"):  # pandas Timestamp
        return v.value / S
    return v


def seq(start, stop, step):
    return f"sequence(from_unixtime({start}), from_unixtime({stop}), {step}s)"


SERIES = {"a": [(0, 1.0), (60, 3.0), (120, 2.0), (240, 6.0)], "b": [(0, 10.0), (30, 20.0)]}


# --- create_time_series and UNNEST ---------------------------------------------------------------

def test_create_time_series_sorts_by_time_and_keeps_duplicates(db):
    got = per_series(db, {"a": [(20, 2), (0, 0), (10, 1), (10, 5)]}, "ts")
    assert got == {"a": [(0, 0.0), (10, 1.0), (10, 5.0), (20, 2.0)]}


def test_create_time_series_of_interleaved_groups(db):
    rows = db.query("SELECT g, create_time_series(from_unixtime(t), v) FROM (VALUES ('b', 5, 1.0), ('a', 9, 2.0), "
                    "('b', 1, 3.0), ('a', 2, 4.0), ('b', 3, 5.0)) AS x(g, t, v) GROUP BY g ORDER BY g").rows
    assert [(g, plain(ts)) for g, ts in rows] == [("a", [(2, 4.0), (9, 2.0)]), ("b", [(1, 3.0), (3, 5.0), (5, 1.0)])]


def test_create_time_series_skips_null_values(db):
    assert per_series(db, {"a": [(0, 1), (10, None), (20, 3)]}, "ts") == {"a": [(0, 1.0), (20, 3.0)]}


def test_create_time_series_types_and_rendering(db):
    res = db.query("SELECT create_time_series(from_unixtime(t), v) AS ts FROM (VALUES (0, 7), (1, 8)) AS x(t, v)")
    assert str(res.columns[0].type) == "timeseries(integer)"
    out = res.to_timestream()
    assert out["ColumnInfo"] == [{"Name": "ts", "Type": {"TimeSeriesMeasureValueColumnInfo": {"Type": {"ScalarType": "INTEGER"}}}}]
    assert out["Rows"][0]["Data"][0] == {"TimeSeriesValue": [
        {"Time": "1970-01-01 00:00:00.000000000", "Value": {"ScalarValue": "7"}},
        {"Time": "1970-01-01 00:00:01.000000000", "Value": {"ScalarValue": "8"}},
    ]}


def test_create_time_series_of_no_rows_is_null(db):
    res = db.query("SELECT create_time_series(from_unixtime(t), v) FROM (VALUES (0, 1.0)) AS x(t, v) WHERE t > 5")
    assert res.rows == [(None,)]


def test_unnest_timeseries_into_time_and_value(db):
    sql = (f"SELECT g, time, value FROM (SELECT g, create_time_series(from_unixtime(t), v) AS ts "
           f"FROM {relation(SERIES)} GROUP BY g) CROSS JOIN UNNEST(ts) ORDER BY g, time")
    res = db.query(sql)
    assert res.names == ["g", "time", "value"]
    assert [(g, plain(t), v) for g, t, v in res.rows] == [
        ("a", 0, 1.0), ("a", 60, 3.0), ("a", 120, 2.0), ("a", 240, 6.0), ("b", 0, 10.0), ("b", 30, 20.0)]


def test_unnest_timeseries_with_aliases(db):
    sql = (f"SELECT p.t2, p.v2 FROM (SELECT create_time_series(from_unixtime(t), v) AS ts FROM {relation({'a': SERIES['b']})}) "
           f"CROSS JOIN UNNEST(ts) AS p(t2, v2)")
    assert [(plain(t), v) for t, v in db.query(sql).rows] == [(0, 10.0), (30, 20.0)]


# --- sequence -----------------------------------------------------------------------------------

@pytest.mark.parametrize("sql, expected", [
    ("SELECT sequence(1, 5)", [1, 2, 3, 4, 5]),
    ("SELECT sequence(5, 1)", [5, 4, 3, 2, 1]),
    ("SELECT sequence(1, 10, 4)", [1, 5, 9]),
    ("SELECT sequence(10, 1, -4)", [10, 6, 2]),
    ("SELECT sequence(3, 3)", [3]),
])
def test_sequence_of_integers(db, sql, expected):
    assert db.query(sql).scalar() == expected


def test_sequence_of_timestamps(db):
    got = db.query("SELECT sequence(from_unixtime(0), from_unixtime(70), 30s)").scalar()
    assert [plain(t) for t in got] == [0, 30, 60]
    got = db.query("SELECT sequence(from_unixtime(0), from_unixtime(2 * 86400))").scalar()
    assert [plain(t) for t in got] == [0, 86400, 172800]  # default step: one day


def test_sequence_of_months_clamps_days(db):
    got = db.query("SELECT sequence(DATE '2024-01-31', DATE '2024-04-30', 1month)").scalar()
    assert [str(d) for d in got] == ["2024-01-31", "2024-02-29", "2024-03-31", "2024-04-30"]


@pytest.mark.parametrize("sql, message", [
    ("SELECT sequence(1, 5, 0)", "step must not be zero"),
    ("SELECT sequence(5, 1, 1)", "sequence stop value should be greater than or equal to start value"),
])
def test_sequence_errors(db, sql, message):
    with pytest.raises(QueryExecutionError, match=message):
        db.query(sql)


# --- interpolation ------------------------------------------------------------------------------

def test_interpolate_linear(db):
    got = per_series(db, SERIES, f"interpolate_linear(ts, {seq(0, 240, 30)})")
    assert got["a"] == [(0, 1.0), (30, 2.0), (60, 3.0), (90, 2.5), (120, 2.0), (150, 3.0), (180, 4.0),
                        (210, 5.0), (240, 6.0)]
    # outside [first, last] points are left out
    assert got["b"] == [(0, 10.0), (30, 20.0)]


def test_interpolate_linear_single_timestamp(db):
    got = per_series(db, SERIES, "interpolate_linear(ts, from_unixtime(15))")
    assert got == {"a": 1.5, "b": 15.0}
    # outside the observed range: NULL
    assert per_series(db, SERIES, "interpolate_linear(ts, from_unixtime(100))") == {"a": 2 + 1.0 / 3, "b": None}


def test_interpolate_locf(db):
    got = per_series(db, SERIES, f"interpolate_locf(ts, {seq(-30, 90, 30)})")
    # before the first point: left out; after the last: the last value carried forward
    assert got == {"a": [(0, 1.0), (30, 1.0), (60, 3.0), (90, 3.0)], "b": [(0, 10.0), (30, 20.0), (60, 20.0), (90, 20.0)]}
    assert per_series(db, SERIES, "interpolate_locf(ts, from_unixtime(-1))") == {"a": None, "b": None}
    assert per_series(db, SERIES, "interpolate_locf(ts, from_unixtime(1000))") == {"a": 6.0, "b": 20.0}


def test_interpolate_locf_keeps_the_value_type(db):
    res = db.query("SELECT interpolate_locf(create_time_series(from_unixtime(t), v), from_unixtime(5)) "
                   "FROM (VALUES (0, 'x'), (10, 'y')) AS x(t, v)")
    assert res.rows == [("x",)] and str(res.columns[0].type) == "varchar"


def test_interpolate_fill(db):
    got = per_series(db, SERIES, f"interpolate_fill(ts, {seq(-30, 60, 30)}, -1.0)")
    assert got == {"a": [(-30, -1.0), (0, 1.0), (30, -1.0), (60, 3.0)], "b": [(-30, -1.0), (0, 10.0), (30, 20.0), (60, -1.0)]}
    assert per_series(db, SERIES, "interpolate_fill(ts, from_unixtime(60), 0.0)") == {"a": 3.0, "b": 0.0}


def natural_spline(x, y, at):
    """Reference: the natural cubic spline by a dense solve of its second derivatives."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    n = len(x)
    h = np.diff(x)
    a = np.zeros((n, n))
    r = np.zeros(n)
    a[0, 0] = a[-1, -1] = 1.0
    for i in range(1, n - 1):
        a[i, i - 1], a[i, i], a[i, i + 1] = h[i - 1], 2 * (h[i - 1] + h[i]), h[i]
        r[i] = 6 * ((y[i + 1] - y[i]) / h[i] - (y[i] - y[i - 1]) / h[i - 1])
    m = np.linalg.solve(a, r)
    out = []
    for q in at:
        i = min(np.searchsorted(x, q, side="right") - 1, n - 2)
        hi = h[i]
        out.append(m[i] * (x[i + 1] - q) ** 3 / (6 * hi) + m[i + 1] * (q - x[i]) ** 3 / (6 * hi)
                   + (y[i] / hi - m[i] * hi / 6) * (x[i + 1] - q) + (y[i + 1] / hi - m[i + 1] * hi / 6) * (q - x[i]))
    return out


def test_interpolate_spline_cubic_matches_the_natural_spline(db):
    got = per_series(db, SERIES, f"interpolate_spline_cubic(ts, {seq(0, 240, 30)})")
    xs, ys = zip(*SERIES["a"])
    want = natural_spline(xs, ys, range(0, 241, 30))
    assert [t for t, _ in got["a"]] == list(range(0, 241, 30))
    assert np.allclose([v for _, v in got["a"]], want, rtol=1e-12)
    assert got["a"][1][1] == pytest.approx(2.342391304347826)  # by hand: M1 = -0.00453, ...
    # fewer than 3 points: linear
    assert got["b"] == [(0, 10.0), (30, 20.0)]
    assert per_series(db, {"b": SERIES["b"]}, "interpolate_spline_cubic(ts, from_unixtime(15))") == {"b": 15.0}


def test_spline_solves_many_series_of_different_lengths_together(db):
    rng = np.random.default_rng(7)
    points, expected = {}, {}
    for k, n in enumerate([3, 4, 9, 5, 17, 3]):
        xs = np.sort(rng.choice(np.arange(0, 1000), size=n, replace=False))
        ys = rng.normal(size=n).round(3)
        points[f"s{k:02d}"] = list(zip(xs.tolist(), ys.tolist()))
        queries = np.arange(0, 1001, 7)
        queries = queries[(queries >= xs[0]) & (queries <= xs[-1])]
        expected[f"s{k:02d}"] = (queries, natural_spline(xs, ys, queries))
    got = per_series(db, points, f"interpolate_spline_cubic(ts, {seq(0, 1000, 7)})")
    for g, (queries, want) in expected.items():
        assert [t for t, _ in got[g]] == queries.tolist()
        assert np.allclose([v for _, v in got[g]], want, rtol=1e-9, atol=1e-9)


def test_interpolation_edge_cases(db):
    one = {"a": [(10, 5.0)]}
    assert per_series(db, one, f"interpolate_linear(ts, {seq(0, 20, 10)})") == {"a": [(10, 5.0)]}
    assert per_series(db, one, f"interpolate_spline_cubic(ts, {seq(0, 20, 10)})") == {"a": [(10, 5.0)]}
    assert per_series(db, one, f"interpolate_locf(ts, {seq(0, 20, 10)})") == {"a": [(10, 5.0), (20, 5.0)]}
    # duplicate times: the last value wins; unsorted input is sorted first
    dup = {"a": [(20, 4.0), (0, 0.0), (10, 1.0), (10, 2.0)]}
    assert per_series(db, dup, f"interpolate_linear(ts, {seq(0, 20, 5)})") == {
        "a": [(0, 0.0), (5, 1.0), (10, 2.0), (15, 3.0), (20, 4.0)]}
    # an empty timeseries (everything filtered away) interpolates to an empty one
    assert per_series(db, SERIES, f"interpolate_linear(filter(ts, x -> x.value > 100), {seq(0, 60, 30)})") == {
        "a": [], "b": []}
    assert per_series(db, SERIES, "interpolate_linear(filter(ts, x -> x.value > 100), from_unixtime(0))") == {
        "a": None, "b": None}


def test_interpolation_of_a_null_timeseries_or_time_is_null(db):
    got = db.query("SELECT interpolate_linear(CAST(NULL AS timeseries(double)), from_unixtime(0)), "
                   "interpolate_locf(ts, CAST(NULL AS timestamp)) FROM (SELECT create_time_series(from_unixtime(t), v) AS ts "
                   "FROM (VALUES (0, 1.0)) AS x(t, v))")
    assert got.rows == [(None, None)]


def test_interpolation_over_times_too_far_apart_for_one_key(db):
    # 0 and ~2106: the (row, time) key would overflow, so the search bisects per row
    got = per_series(db, {"a": [(0, 0.0), (4_000_000_000, 4.0)], "b": [(0, 1.0), (10, 2.0)]},
                     "interpolate_linear(ts, from_unixtime(1000000000))")
    assert got == {"a": 1.0, "b": None}


# --- derivatives and integrals ---------------------------------------------------------------

def test_derivative_linear(db):
    got = per_series(db, SERIES, "derivative_linear(ts, 1m)")
    assert got == {"a": [(60, 2.0), (120, -1.0), (240, 2.0)], "b": [(30, 20.0)]}
    assert per_series(db, SERIES, "derivative_linear(ts, 1s)")["a"] == [(60, 2 / 60), (120, -1 / 60), (240, 4 / 120)]


def test_non_negative_derivative_linear_drops_negative_rates(db):
    got = per_series(db, SERIES, "non_negative_derivative_linear(ts, 1m)")
    assert got == {"a": [(60, 2.0), (240, 2.0)], "b": [(30, 20.0)]}


def test_derivative_edge_cases(db):
    assert per_series(db, {"a": [(0, 1.0)]}, "derivative_linear(ts, 1s)") == {"a": []}
    assert per_series(db, {"a": [(10, 3.0), (0, 1.0), (10, 5.0)]}, "derivative_linear(ts, 1s)") == {"a": [(10, 0.4)]}


def test_derivative_of_bigint_series(db):
    res = db.query("SELECT derivative_linear(create_time_series(from_unixtime(t), v), 1s) FROM (VALUES (0, 1), (2, 5)) AS x(t, v)")
    assert [plain(p) for p in res.scalar()] == [(2, 2.0)]


def test_integral_trapezoidal(db):
    got = per_series(db, SERIES, "integral_trapezoidal(ts)")
    # a: (1+3)/2*60 + (3+2)/2*60 + (2+6)/2*120 = 120 + 150 + 480
    assert got == {"a": 750.0, "b": 450.0}
    assert per_series(db, SERIES, "integral_trapezoidal(ts, 1m)") == {"a": 12.5, "b": 7.5}
    assert per_series(db, SERIES, "integral_trapezoidal(ts, 10ms)") == {"a": 75000.0, "b": 45000.0}


def test_integral_edge_cases(db):
    assert per_series(db, {"a": [(5, 2.0)]}, "integral_trapezoidal(ts)") == {"a": 0.0}
    assert per_series(db, SERIES, "integral_trapezoidal(filter(ts, x -> false))") == {"a": None, "b": None}
    with pytest.raises(QueryExecutionError, match="The interval must be positive"):
        per_series(db, SERIES, "integral_trapezoidal(ts, 0s)")


# --- correlation --------------------------------------------------------------------------------

def pair(db, a, b, fn):
    sql = (f"SELECT {fn}(x.ts, y.ts) FROM "
           f"(SELECT create_time_series(from_unixtime(t), v) AS ts FROM {relation({'a': a})}) x, "
           f"(SELECT create_time_series(from_unixtime(t), v) AS ts FROM {relation({'b': b})}) y")
    return db.query(sql).scalar()


def test_correlate_pearson(db):
    a = [(0, 1.0), (1, 2.0), (2, 3.0), (3, 5.0)]
    b = [(0, 2.0), (1, 4.0), (2, 5.0), (3, 4.0)]
    want = np.corrcoef([1, 2, 3, 5], [2, 4, 5, 4])[0, 1]
    assert pair(db, a, b, "correlate_pearson") == pytest.approx(want, rel=1e-12)
    assert pair(db, a, [(t, -v) for t, v in a], "correlate_pearson") == pytest.approx(-1.0)


def test_correlate_spearman_ranks_with_ties(db):
    a = [(0, 1.0), (1, 2.0), (2, 3.0), (3, 5.0)]
    b = [(0, 2.0), (1, 4.0), (2, 5.0), (3, 4.0)]
    # ranks: a 1 2 3 4; b 1 2.5 4 2.5
    want = np.corrcoef([1, 2, 3, 4], [1, 2.5, 4, 2.5])[0, 1]
    assert pair(db, a, b, "correlate_spearman") == pytest.approx(want, rel=1e-12)
    assert pair(db, a, [(t, v ** 3) for t, v in a], "correlate_spearman") == pytest.approx(1.0)


def test_correlation_uses_the_times_both_series_have(db):
    a = [(0, 1.0), (1, 2.0), (2, 3.0), (9, 100.0)]
    b = [(0, 1.0), (1, 2.0), (2, 4.0), (8, -100.0)]
    assert pair(db, a, b, "correlate_pearson") == pytest.approx(np.corrcoef([1, 2, 3], [1, 2, 4])[0, 1])
    assert pair(db, [(0, 1.0)], [(0, 1.0)], "correlate_pearson") is None  # too few common points


# --- filter and reduce --------------------------------------------------------------------------

def test_filter_timeseries(db):
    got = per_series(db, SERIES, "filter(ts, x -> x.value > 2.5)")
    assert got == {"a": [(60, 3.0), (240, 6.0)], "b": [(0, 10.0), (30, 20.0)]}
    got = per_series(db, SERIES, "filter(ts, x -> x.time > from_unixtime(60))")
    assert got == {"a": [(120, 2.0), (240, 6.0)], "b": []}


def test_reduce_timeseries(db):
    got = per_series(db, SERIES, "reduce(ts, DOUBLE '0.0', (s, x) -> x.value * x.value + s, s -> s)")
    assert got == {"a": 50.0, "b": 500.0}
    # the state widens from integer to double
    assert per_series(db, SERIES, "reduce(ts, 0, (s, x) -> s + x.value, s -> s / 2)") == {"a": 6.0, "b": 15.0}


def test_lambda_over_timeseries_reads_the_row_it_belongs_to(db):
    sql = (f"SELECT g, filter(ts, x -> x.value >= lim) FROM (SELECT g, create_time_series(from_unixtime(t), v) AS ts, "
           f"CASE g WHEN 'a' THEN 3.0 ELSE 15.0 END AS lim FROM {relation(SERIES)} GROUP BY g) ORDER BY g")
    got = {g: plain(v) for g, v in db.query(sql).rows}
    assert got == {"a": [(60, 3.0), (240, 6.0)], "b": [(30, 20.0)]}


def test_wrong_argument_types_are_validation_errors(db):
    with pytest.raises(ValidationError, match="Unexpected parameters"):
        db.query("SELECT interpolate_linear(1.0, from_unixtime(0))")
    with pytest.raises(ValidationError, match="Unexpected parameters"):
        per_series(db, SERIES, "derivative_linear(ts, 1month)")


def test_interpolate_fill_of_varchar_series(db):
    res = db.query("SELECT interpolate_fill(create_time_series(from_unixtime(t), v), "
                   "sequence(from_unixtime(0), from_unixtime(20), 10s), 'gap') FROM (VALUES (0, 'x'), (20, 'y')) AS x(t, v)")
    assert [plain(p) for p in res.scalar()] == [(0, "x"), (10, "gap"), (20, "y")]
