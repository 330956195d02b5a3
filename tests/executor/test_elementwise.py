"""The elementwise wrapper: kernels run once per distinct string, see only the values
their rows hold, and report their own NULLs through the dictionary path."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tsql.executor.column import DictVector, Vector
from tsql.executor.functions.registry import make_elementwise
from tsql.types import BIGINT, VARCHAR

NOW = pd.Timestamp("2024-01-01", tz="UTC")


def test_a_kernel_sees_only_values_its_rows_hold(sample_db):
    # codepoint fails on 'bb'; the filter on the measure leaves only host 'a', though
    # the dimension's dictionary still holds 'bb'
    frame = pd.DataFrame({
        "time": [NOW - pd.Timedelta(minutes=m) for m in (1, 2, 3, 4, 5)],
        "host": ["a", "bb", "a", "a", "a"],
        "measure_name": "cpu",
        "measure_value::double": [1.0, 2.0, 3.0, 4.0, 5.0],
    })
    sample_db.write_frame("tsdb", "metrics", frame)
    rows = sample_db.query(
        'SELECT codepoint(host) FROM "tsdb"."metrics" WHERE measure_value::double <> 2.0').rows
    assert rows == [(97,)] * 4


def test_a_python_loop_runs_once_per_distinct_string():
    seen = []

    def kernel(s):
        seen.append(len(s))
        return np.array([len(x) for x in s], dtype=np.int64)

    wrapped = make_elementwise(kernel, distinct=True)
    values = np.array(["ab", "c", "ab", None, "c", "ab"], dtype=object)
    nulls = np.array([False, False, False, True, False, False])
    out = wrapped([Vector(VARCHAR, values, nulls)], BIGINT, None)
    assert seen == [2]  # two distinct strings, one call
    assert out.to_pylist() == [2, 1, 2, None, 1, 2]


def test_nulls_a_kernel_adds_on_the_dictionary():
    def kernel(s):
        return np.array([len(x) for x in s], dtype=np.int64), np.array([x == "c" for x in s])

    wrapped = make_elementwise(kernel)
    col = DictVector(np.array([0, 1, 0, -1, 1]), np.array(["ab", "c"], dtype=object))
    assert wrapped([col], BIGINT, None).to_pylist() == [2, None, 2, None, None]
