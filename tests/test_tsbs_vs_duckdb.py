"""Every TSBS devops query type answers exactly what DuckDB answers on the same rows."""

from __future__ import annotations

import math

import duckdb
import numpy as np
import pandas as pd
import pytest

import tsql
from bench.tsbs_queries import QUERY_TYPES, all_queries
from tsql.clock import FixedClock
from tsql.sample_data import devops_frame, devops_start

from .conftest import NOW

HOSTS, HOURS = 10, 13


@pytest.fixture(scope="module")
def engines():
    frame = devops_frame(HOSTS, HOURS, NOW)
    db = tsql.connect(clock=FixedClock(NOW))
    db.create_database("tsbs")
    db.create_table("tsbs", "cpu", memory_retention_hours=24)
    db.write_frame("tsbs", "cpu", frame)
    duck = duckdb.connect()
    plain = frame.astype({c: str for c in frame.columns if isinstance(frame[c].dtype, pd.CategoricalDtype)})
    duck.register("frame", plain)
    duck.execute("CREATE TABLE cpu AS SELECT * REPLACE (CAST(time AS TIMESTAMP) AS time) FROM frame")
    yield db, duck
    db.close()
    duck.close()


def _normal(value):
    if isinstance(value, pd.Timestamp):
        return value.value
    if hasattr(value, "isoformat") and not isinstance(value, str):  # datetime from DuckDB
        return pd.Timestamp(value).value
    if isinstance(value, float):
        return float(f"{value:.10g}") if math.isfinite(value) else value
    return value


def _rows(rows) -> list[tuple]:
    return [tuple(_normal(v) for v in r) for r in rows]


@pytest.fixture(scope="module")
def queries(engines):
    """The first random choice of hosts and windows for which every query has rows."""
    _, duck = engines
    for seed in range(100):
        chosen = {q.name: q for q in all_queries(HOSTS, devops_start(HOURS, NOW), NOW, seed)}
        if all(duck.execute(q.duckdb).fetchall() for q in chosen.values()):
            return chosen
    raise AssertionError("no seed gives rows for every query")


@pytest.mark.parametrize("name", QUERY_TYPES)
def test_query_matches_duckdb(engines, queries, name):
    db, duck = engines
    query = queries[name]
    ours = db.query(query.tsql)
    theirs = duck.execute(query.duckdb).fetchall()
    assert len(ours) > 0, f"{name} returned no rows; the test would prove nothing"
    assert _rows(ours.rows) == _rows(theirs)


def test_queries_prune_series(engines, queries):
    """A one-host query reads that host's series only, not the table."""
    db, _ = engines
    result = db.query(queries["single-groupby-1-1-1"].tsql)
    assert result.status.series_scanned == 1
    assert result.status.series_pruned == HOSTS * 10 - 1
    assert result.status.rows_scanned == 360  # one field, one host, 1 h of 10-second points
