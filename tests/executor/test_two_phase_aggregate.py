"""Aggregates over several large batches run in two phases (partial results per batch,
then combined); the answers must be those of one pass over all rows."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import tsql
from tsql.clock import FixedClock
from tsql.executor.operators import aggregate

from ..conftest import NOW

HOUR = 3600 * 10**9

QUERIES = [
    "SELECT host, count(*), count(cpu), count_if(cpu > 50), sum(cpu), avg(cpu), min(cpu), max(cpu) "
    "FROM tdb.metrics GROUP BY host ORDER BY host",
    "SELECT host, bin(time, 1h) AS h, sum(mem), avg(mem), min(name), max(name), arbitrary(name) "
    "FROM tdb.metrics GROUP BY host, bin(time, 1h) ORDER BY host, h",
    "SELECT count(*), sum(mem), avg(cpu), max(time), min(time), bool_and(cpu > 1), bool_or(cpu > 99) FROM tdb.metrics",
    "SELECT host, avg(cpu) FILTER (WHERE mem > 10), count(*) FILTER (WHERE name = 'b') FROM tdb.metrics GROUP BY host ORDER BY 1",
    "SELECT name, count(*), avg(cpu) FROM tdb.metrics WHERE host = 'h1' GROUP BY name ORDER BY name",
    "SELECT host, avg(cpu) FROM tdb.metrics WHERE cpu IS NULL GROUP BY host ORDER BY host",  # avg of no values: NULL
]


@pytest.fixture(scope="module")
def spread_db(tmp_path_factory):
    """Six hours of rows with NULLs: four hours in magnetic files (a batch each), the rest in memory."""
    clock = FixedClock(NOW)
    db = tsql.connect(str(tmp_path_factory.mktemp("two_phase") / "d"), clock=clock, maintenance_interval=None)
    db.create_database("tdb")
    db.create_table("tdb", "metrics", memory_retention_hours=8, magnetic_store_writes=True)
    rng = np.random.default_rng(3)
    n = 6000
    cpu = rng.uniform(0, 100, n)
    cpu[rng.random(n) < 0.1] = np.nan
    mem = rng.integers(0, 50, n).astype(float)
    mem[(rng.random(n) < 0.1) & ~np.isnan(cpu)] = np.nan  # a record keeps one value at least
    frame = pd.DataFrame({
        "time": pd.to_datetime(NOW - 6 * HOUR + np.sort(rng.integers(0, 6 * HOUR, n)), unit="ns"),
        "host": rng.choice(["h1", "h2", "h3", "h4"], n),
        "measure_name": "metrics",
        "cpu": cpu, "mem": mem,
        "name": rng.choice(["a", "b", "c"], n),
    })
    db.write_frame("tdb", "metrics", frame, measure_name="metrics")
    db.update_table("tdb", "metrics", memory_retention_hours=2)
    db.maintain()
    yield db
    db.close()


@pytest.mark.parametrize("sql", QUERIES)
def test_two_phases_answer_as_one(spread_db, sql, monkeypatch):
    one_pass = spread_db.query(sql).rows
    calls = []
    original = aggregate._two_phase
    monkeypatch.setattr(aggregate, "PARTIAL_ROWS", 0)
    monkeypatch.setattr(aggregate, "_two_phase", lambda *a: calls.append(1) or original(*a))
    two_phases = spread_db.query(sql).rows
    assert calls, "the query did not take the two-phase path"
    assert len(two_phases) == len(one_pass)
    for a, b in zip(two_phases, one_pass):
        for x, y in zip(a, b):
            if isinstance(x, float) and isinstance(y, float):
                assert math.isclose(x, y, rel_tol=1e-12) or (math.isnan(x) and math.isnan(y))
            else:
                assert x == y


def test_distinct_and_ordered_aggregates_stay_one_pass(spread_db, monkeypatch):
    monkeypatch.setattr(aggregate, "PARTIAL_ROWS", 0)
    monkeypatch.setattr(aggregate, "_two_phase", lambda *a: pytest.fail("two phases for DISTINCT"))
    rows = spread_db.query("SELECT host, count(DISTINCT name), approx_percentile(cpu, 0.5) FROM tdb.metrics "
                           "GROUP BY host ORDER BY host").rows
    assert [r[1] for r in rows] == [3, 3, 3, 3]
