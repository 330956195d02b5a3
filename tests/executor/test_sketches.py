"""approx_percentile in all its forms and approx_distinct: exact per group where the data
is local, checked against numpy; the mergeable t-digest and HyperLogLog partials checked
within Timestream's documented bounds after merging partitions."""

from __future__ import annotations

import numpy as np
import pytest
from tdigest import TDigest

from tsql.errors import QueryExecutionError, ValidationError
from tsql.executor.functions.aggregates import Groups
from tsql.executor.functions.sketches import Digests, HyperLogLogs, approx_distinct, approx_percentile
from tsql.executor.column import Vector
from tsql.types import BIGINT, DOUBLE, ArrayType

DATA = "(VALUES (1, 1.0, 1), (1, 2.0, 5), (1, 3.0, 1), (1, NULL, 9), (2, 10.0, 2), (2, 20.0, 1)) AS t(g, x, w)"


@pytest.mark.parametrize("expr, expected", [
    ("approx_percentile(x, 0.5)", [2.0, 10.0]),
    ("approx_percentile(x, 0.0)", [1.0, 10.0]),
    ("approx_percentile(x, 1.0)", [3.0, 20.0]),
    ("approx_percentile(x, 0.5, 0.01)", [2.0, 10.0]),
    ("approx_percentile(x, ARRAY[0.1, 0.9])", [[1.0, 3.0], [10.0, 20.0]]),
    ("approx_percentile(x, ARRAY[0.1, 0.9], 0.05)", [[1.0, 3.0], [10.0, 20.0]]),
    # weighted: the value where the cumulative weight reaches p of the total
    ("approx_percentile(x, w, 0.5)", [2.0, 10.0]),
    ("approx_percentile(x, w, 0.9)", [3.0, 20.0]),
    ("approx_percentile(x, w, 0.6, 0.01)", [2.0, 10.0]),
    ("approx_percentile(x, w, ARRAY[0.1, 0.8])", [[1.0, 2.0], [10.0, 20.0]]),
    ("approx_percentile(x, 3, 0.5)", [2.0, 10.0]),
    ("approx_distinct(x)", [3, 2]),
    ("approx_distinct(w, 0.1)", [3, 2]),
])
def test_forms(db, expr, expected):
    rows = db.query(f"SELECT g, {expr} FROM {DATA} GROUP BY g ORDER BY g").rows
    assert [r[1] for r in rows] == expected


def test_result_types(db):
    res = db.query("SELECT approx_percentile(v, 0.5), approx_percentile(v, ARRAY[0.5]), approx_percentile(x, 0.5) "
                   "FROM (VALUES (1, 2.5), (7, 3.5)) AS t(v, x)")
    assert [str(c.type) for c in res.columns] == ["bigint", "array(bigint)", "double"]
    assert res.rows == [(1, [1], 2.5)]


def test_empty_groups_read_null(db):
    res = db.query(f"SELECT approx_percentile(x, 0.5), approx_percentile(x, ARRAY[0.5]), approx_distinct(x) "
                   f"FROM {DATA} WHERE g > 5")
    assert res.rows == [(None, None, 0)]


@pytest.mark.parametrize("expr, error, message", [
    ("approx_percentile(x, 1.5)", QueryExecutionError, "Percentile must be between 0 and 1"),
    ("approx_percentile(x, ARRAY[0.5, -0.1])", QueryExecutionError, "Percentile must be between 0 and 1"),
    ("approx_percentile(x, 0.5, 1.0)", QueryExecutionError, "Percentile accuracy must be exclusively between 0 and 1"),
    ("approx_percentile(x, w - 1, 0.5)", QueryExecutionError, "Percentile weight must be a positive integer"),
    ("approx_percentile(x, x / 10)", QueryExecutionError, "Percentile argument must be constant"),
    ("approx_distinct(x, 0.5)", QueryExecutionError, r"Max standard error must be in \[0.0040625, 0.26000\]"),
    ("approx_percentile(x, 'a')", ValidationError, "Unexpected parameters"),
])
def test_errors(db, expr, error, message):
    with pytest.raises(error, match=message):
        db.query(f"SELECT {expr} FROM {DATA}")


def rank_error(data: np.ndarray, value: float, p: float) -> float:
    """How far (as a fraction of n) `value`'s rank range is from the rank p * n."""
    s = np.sort(data)
    lo, hi = np.searchsorted(s, value, "left"), np.searchsorted(s, value, "right")
    target = p * len(s)
    return 0.0 if lo <= target <= hi else min(abs(lo - target), abs(hi - target)) / len(s)


def test_exact_percentiles_match_numpy_per_group(db):
    rng = np.random.default_rng(1)
    g = rng.integers(0, 5, 2000)
    x = rng.normal(size=2000).round(6)
    values = ", ".join(f"({int(a)}, {float(b)!r})" for a, b in zip(g, x))
    rows = db.query(f"SELECT g, approx_percentile(x, ARRAY[0.01, 0.25, 0.5, 0.99]) "
                    f"FROM (VALUES {values}) AS t(g, x) GROUP BY g ORDER BY g").rows
    for gi, got in rows:
        data = x[g == gi]
        # nearest rank: numpy's "inverted_cdf" method
        assert got == list(np.percentile(data, [1, 25, 50, 99], method="inverted_cdf"))


# --- mergeable partials -----------------------------------------------------------------------------

class Call:
    """The bound aggregate call a partial needs (its constant arguments)."""

    def __init__(self, *args):
        self.args = args


def literal(value, type_):
    from tsql.planner.expressions import Literal

    return Literal(value, type_)


@pytest.mark.parametrize("accuracy", [0.01, 0.05])
def test_tdigest_partials_merge_within_the_accuracy(accuracy):
    rng = np.random.default_rng(3)
    ps = [0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999]
    data = {0: rng.lognormal(size=60_000), 1: rng.uniform(-5, 5, 30_000), 2: rng.integers(0, 50, 20_000) * 1.0}
    ids = np.concatenate([np.full(len(v), k) for k, v in data.items()])
    x = np.concatenate(list(data.values()))
    call = Call(literal(None, DOUBLE), literal(ps, ArrayType(DOUBLE)), literal(accuracy, DOUBLE))
    # four partitions, each a partial digest per group, merged in two rounds
    parts = []
    for chunk in np.array_split(rng.permutation(len(x)), 4):
        args = [Vector(DOUBLE, x[chunk]), None, None]
        parts.append(approx_percentile.partial(args, Groups(ids[chunk], 3), call))
    merged = approx_percentile.merge([approx_percentile.merge(parts[:2]), approx_percentile.merge(parts[2:])])
    out = approx_percentile.final(merged, [Vector(DOUBLE, x), None, None], ArrayType(DOUBLE), call)
    got = out.to_pylist()
    for k, values in data.items():
        for p, v in zip(ps, got[k]):
            assert rank_error(values, v, p) <= accuracy, (k, p, v)
    # the sketch stays small: about a hundred centroids per group, not one per value
    assert np.diff(merged.offsets).max() <= 4 * np.pi / (2 * accuracy)


def test_tdigest_weighted_partials():
    rng = np.random.default_rng(5)
    x = rng.normal(size=20_000)
    w = rng.integers(1, 10, 20_000)
    parts = [Digests.build(x[i::2], w[i::2], np.zeros(10_000, np.int64), 1) for i in (0, 1)]
    got, present = Digests.merge(parts).quantiles(np.array([0.5, 0.9]))
    expanded = np.repeat(x, w)
    assert present.all()
    for p, v in zip([0.5, 0.9], got[0]):
        assert rank_error(expanded, v, p) <= 0.01


def test_tdigest_centroid_format_round_trips_with_the_tdigest_package():
    rng = np.random.default_rng(9)
    x = rng.exponential(size=5_000)
    digests = Digests.build(x, None, np.zeros(len(x), np.int64), 1)
    (doc,) = digests.to_dicts()
    assert doc["n"] == 5000 and set(doc["centroids"][0]) == {"m", "c"}
    package = TDigest().update_from_dict(doc)
    assert package.n == 5000
    assert rank_error(x, package.percentile(50), 0.5) <= 0.02
    back = Digests.from_dicts([doc])
    assert np.allclose(back.quantiles(np.array([0.5]))[0], digests.quantiles(np.array([0.5]))[0])


def test_partial_of_bigint_rounds_to_integers():
    call = Call(literal(None, BIGINT), literal(0.5, DOUBLE))
    x = Vector(BIGINT, np.arange(1, 102, dtype=np.int64))
    part = approx_percentile.partial([x, None], Groups(np.zeros(101, np.int64), 1), call)
    out = approx_percentile.final(part, [x, None], BIGINT, call)
    assert out.to_pylist() == [51]


def test_hyperloglog_partials_merge_within_the_standard_error():
    rng = np.random.default_rng(11)
    values = rng.integers(0, 10**12, 200_000)
    ids = rng.integers(0, 2, len(values))
    call = Call(None)
    parts = [approx_distinct.partial([Vector(BIGINT, values[i::3])], Groups(ids[i::3], 2), call) for i in range(3)]
    got = approx_distinct.final(approx_distinct.merge(parts), None, BIGINT, call).to_pylist()
    for k in (0, 1):
        true = len(np.unique(values[ids == k]))
        assert abs(got[k] - true) / true < 3 * 0.023  # three standard errors


def test_hyperloglog_small_counts_are_exact_enough():
    sketch = HyperLogLogs.build(Vector(BIGINT, np.array([1, 2, 3, 3, 2, 1, 7], dtype=np.int64)), np.zeros(7, np.int64), 1)
    assert sketch.estimate().tolist() == [4]


def test_large_groups_take_the_selection_path_with_the_same_answers():
    from tsql.executor.functions.sketches import exact_percentiles

    rng = np.random.default_rng(13)
    ids = rng.integers(0, 3, 9000)
    x = rng.normal(size=9000)
    ps = np.array([0.0, 0.3, 0.5, 0.999, 1.0])
    selected, present = exact_percentiles(x, None, Groups(ids, 3), ps)  # >= 1024 rows a group
    sorted_, _ = exact_percentiles(x, np.ones(9000, np.int64), Groups(ids, 3), ps)  # weights: the sort path
    assert present.all() and np.array_equal(selected, sorted_)
    for k in range(3):
        assert list(selected[k]) == list(np.percentile(x[ids == k], ps * 100, method="inverted_cdf"))
