"""Latest/earliest point per series: the scan reads one row per series, the answer is
what a full scan gives, in every tier and with upserts and time ranges."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import tsql
from tsql.clock import FixedClock
from tsql.storage.magnetic import MagneticSettings

from ..conftest import NOW

HOUR = 3600 * 10**9
LAST = ('SELECT host, measure_name, max(time) AS t, max_by(measure_value::double, time) AS v '
        'FROM "tsdb"."metrics" {where} GROUP BY host, measure_name ORDER BY host, measure_name')
FIRST = ('SELECT host, min(time) AS t, min_by(measure_value::double, time) AS v '
         'FROM "tsdb"."metrics" {where} GROUP BY host ORDER BY host')


def frame(hours: int, end: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    times = np.arange(end - hours * HOUR, end, 10 * 10**9)
    rows = [(h, m, t) for t in times for h in ("a", "b", "c") for m in ("cpu", "mem")]
    return pd.DataFrame({
        "host": [r[0] for r in rows], "measure_name": [r[1] for r in rows],
        "time": pd.to_datetime([r[2] for r in rows], unit="ns"),
        "measure_value::double": rng.uniform(0, 100, len(rows)).round(3),
    })


def full_scan_answer(db, sql: str) -> list:
    """The same query with the rule defeated (a FILTER makes it inapplicable)."""
    plain = sql.replace("max_by(measure_value::double, time)", "max_by(measure_value::double, time) FILTER (WHERE true)")
    plain = plain.replace("min_by(measure_value::double, time)", "min_by(measure_value::double, time) FILTER (WHERE true)")
    assert plain != sql
    return db.query(plain).rows


@pytest.fixture(params=[16384, 50], ids=["row-groups-16384", "row-groups-50"])
def db(request):
    # small row groups give each series many segments per magnetic file
    database = tsql.connect(clock=FixedClock(NOW), maintenance_interval=None,
                            magnetic=MagneticSettings(row_group_rows=request.param))
    database.create_database("tsdb")
    database.create_table("tsdb", "metrics", memory_retention_hours=2)
    database.write_frame("tsdb", "metrics", frame(2, NOW))
    yield database
    database.close()


@pytest.mark.parametrize("where", ["", "WHERE time < ago(30m)", "WHERE time BETWEEN ago(90m) AND ago(1h)"])
def test_last_and_first_point_per_series(db, where):
    for sql in (LAST.format(where=where), FIRST.format(where=where)):
        result = db.query(sql)
        assert result.rows == full_scan_answer(db, sql)
        assert result.status.rows_scanned <= 6 * 2  # a row per series (per chunk), not all of them


def test_plan_says_so(db):
    plan = "\n".join(r[0] for r in db.query("EXPLAIN " + LAST.format(where="")).rows)
    assert "rows=last per series" in plan
    plain = "\n".join(r[0] for r in db.query(
        'EXPLAIN SELECT host, max(measure_value::double) FROM "tsdb"."metrics" GROUP BY host').rows)
    assert "per series" not in plain


def test_with_upserts_pending_rows_and_the_magnetic_store(db):
    # newer points arrive (pending rows), an old point is replaced by a higher version
    db.clock.advance(HOUR)
    db.write_frame("tsdb", "metrics", frame(1, NOW + HOUR, seed=2))
    t = str((NOW + HOUR - 10 * 10**9) // 10**6)
    db.write_records("tsdb", "metrics", [{"Dimensions": [{"Name": "host", "Value": "b"}], "MeasureName": "cpu",
                                          "MeasureValue": "-1.0", "Time": t, "Version": 2}])
    sql = LAST.format(where="")
    assert db.query(sql).rows == full_scan_answer(db, sql)
    assert ("b", "cpu", pd.Timestamp(NOW + HOUR - 10 * 10**9, unit="ns"), -1.0) in db.query(sql).rows
    db.clock.advance(2 * HOUR)
    db.maintain()  # the first hours move to the magnetic store
    assert db.storage_status("tsdb", "metrics")["MagneticStore"]["Rows"] > 0
    for sql in (LAST.format(where=""), FIRST.format(where=""), LAST.format(where="WHERE time < ago(150m)")):
        result = db.query(sql)
        assert result.rows == full_scan_answer(db, sql)
        assert result.status.rows_scanned < 100  # of about 6,500 rows: a few candidates per series


@pytest.fixture
def two_days():
    """30 h of points up to NOW + 6 h, across a day boundary: two days of magnetic
    partitions, and the last hour in the memory store."""
    database = tsql.connect(clock=FixedClock(NOW + 6 * HOUR), maintenance_interval=None,
                            magnetic=MagneticSettings(row_group_rows=50))
    database.create_database("tsdb")
    database.create_table("tsdb", "metrics", memory_retention_hours=40, magnetic_store_writes=True)
    database.write_frame("tsdb", "metrics", frame(30, NOW + 6 * HOUR))
    database.update_table("tsdb", "metrics", memory_retention_hours=1)
    database.maintain()
    status = database.storage_status("tsdb", "metrics")
    assert status["MemoryStore"]["Rows"] == 6 * 360 and status["MagneticStore"]["Rows"] == 6 * 29 * 360
    yield database
    database.close()


def test_latest_rows_of_series_in_the_memory_store_are_not_looked_for_on_disk(two_days):
    sql = LAST.format(where="")
    result = two_days.query(sql)
    assert result.rows == full_scan_answer(two_days, sql)
    assert (result.status.files_scanned, result.status.row_groups_scanned, result.status.disk_bytes_read) == (0, 0, 0)


@pytest.mark.parametrize("sql", [LAST.format(where="WHERE time < '2024-01-01 03:00:00'"),
                                 FIRST.format(where="")])
def test_extreme_rows_are_read_from_one_segment_per_series_across_files(two_days, sql):
    # each series has a segment in both days' files; only the later (earlier) day's
    # can hold its latest (earliest) row, so one row group per series is read, not two
    result = two_days.query(sql)
    assert result.rows == full_scan_answer(two_days, sql)
    assert result.status.row_groups_scanned <= 6
    assert result.status.files_pruned > 0


def test_a_file_with_replaced_rows_does_not_hide_the_other_files_candidates(two_days):
    # the latest point of host a's cpu before 03:00 is replaced (a higher version, in the
    # magnetic store): its file now has a deleted row, and the answer is the new value
    t = NOW + 3 * HOUR - 10 * 10**9
    two_days.write_records("tsdb", "metrics", [{
        "Dimensions": [{"Name": "host", "Value": "a"}], "MeasureName": "cpu", "MeasureValue": "-5.0",
        "Time": str(t // 10**6), "Version": 2}])
    sql = LAST.format(where="WHERE time < '2024-01-01 03:00:00'")
    rows = two_days.query(sql).rows
    assert rows == full_scan_answer(two_days, sql)
    assert ("a", "cpu", pd.Timestamp(t, unit="ns"), -5.0) in rows
