"""Aggregation over rows that arrive in runs of one group (scans are ordered by series
and time) gives exactly what the row-by-row path gives, NULLs and NaN included."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ..conftest import NOW

HOUR = 3600 * 10**9


@pytest.fixture
def loaded(sample_db):
    rng = np.random.default_rng(3)
    n = 4000
    times = NOW - HOUR + np.arange(n) // 4 * 10**9
    hosts = np.array(["a", "b", "c", "d"])[np.arange(n) % 4]
    values = rng.normal(50, 10, n).round(2)
    values[rng.random(n) < 0.05] = np.nan
    frame = pd.DataFrame({
        "time": pd.to_datetime(times, unit="ns"), "host": hosts, "flag": rng.random(n) < 0.5,
        "x": values, "k": rng.integers(0, 100, n),
    })
    frame.loc[rng.random(n) < 0.1, "k"] = None
    frame["k"] = frame["k"].astype("Int64")
    sample_db.write_frame("tsdb", "metrics", frame, measure_name="m")
    sample_db._frame = frame
    return sample_db


def test_grouped_by_series_and_bin(loaded):
    sql = ('SELECT host, bin(time, 5m) AS b, count(*) AS n, count(k) AS nk, sum(k) AS sk, avg(k) AS ak, '
           'min(x) AS lo, max(x) AS hi, min(k) AS mk, max(flag) AS f FROM "tsdb"."metrics" '
           'GROUP BY host, bin(time, 5m) ORDER BY host, b')
    result = loaded.query(sql).to_pandas()
    f = loaded._frame.copy()
    f["b"] = f["time"].dt.floor("5min")
    g = f.groupby(["host", "b"])
    expected = pd.DataFrame({
        "n": g.size(), "nk": g["k"].count(), "sk": g["k"].sum(min_count=1), "ak": g["k"].mean(),
        "lo": g["x"].min(), "mk": g["k"].min(), "f": g["flag"].max(),
    }).reset_index()
    assert result["n"].tolist() == expected["n"].tolist()
    assert result["nk"].tolist() == expected["nk"].tolist()
    assert result["sk"].tolist() == expected["sk"].astype("Int64").tolist()
    assert np.allclose(result["ak"].astype(float), expected["ak"].astype(float), equal_nan=True)
    assert result["mk"].tolist() == expected["mk"].tolist()
    assert result["f"].tolist() == expected["f"].tolist()
    # the frame's NaN are missing values (NULL), which min and max skip
    assert np.allclose(result["lo"], expected["lo"])
    assert np.allclose(result["hi"], g["x"].max())


def test_nan_is_the_largest_double(loaded):
    sql = ('SELECT host, min(y), max(y) FROM (SELECT host, time, IF(k = 7, nan(), x) AS y FROM "tsdb"."metrics") '
           'GROUP BY host ORDER BY host')
    f = loaded._frame
    for host, lo, hi in loaded.query(sql).rows:
        part = f[f["host"] == host]
        has_nan = bool((part["k"] == 7).fillna(False).any())
        assert (hi != hi) == has_nan  # max is NaN where a NaN is present
        assert lo == part.loc[(part["k"] != 7).fillna(True), "x"].min()


def test_global_aggregate_over_runs(loaded):
    n, total = loaded.query('SELECT count(*), sum(k) FROM "tsdb"."metrics"').rows[0]
    assert n == 4000 and total == int(loaded._frame["k"].sum())
