"""The plan cache: reuse where the plan cannot have changed, never where it could."""

from __future__ import annotations

import pytest

import tsql

from ..conftest import NOW

MS = 10**6


def write(db, measure: str, value: str, mtype: str = "DOUBLE", seconds_ago: int = 60) -> None:
    db.write_records("tsdb", "metrics", [{
        "Dimensions": [{"Name": "host", "Value": "a"}], "MeasureName": measure, "MeasureValue": value,
        "MeasureValueType": mtype, "Time": str(NOW // MS - seconds_ago * 1000),
    }])


def test_a_repeated_query_is_planned_once(sample_db):
    write(sample_db, "cpu", "1.5")
    sql = 'SELECT host, measure_value::double FROM "tsdb"."metrics"'
    first = sample_db.query(sql).rows
    hits = sample_db._plans.hits
    assert sample_db.query(sql).rows == first
    assert sample_db._plans.hits == hits + 1


def test_a_schema_change_invalidates_plans(sample_db):
    write(sample_db, "cpu", "1.5")
    sql = 'SELECT * FROM "tsdb"."metrics"'
    assert sample_db.query(sql).names == ["host", "measure_value::double", "measure_name", "time"]
    write(sample_db, "count", "7", "BIGINT")
    assert sample_db.query(sql).names == [
        "host", "measure_value::bigint", "measure_value::double", "measure_name", "time",
    ]


def test_plans_that_read_the_clock_are_made_again(sample_db, clock):
    write(sample_db, "cpu", "1.5", seconds_ago=90)
    sql = 'SELECT count(*) FROM "tsdb"."metrics" WHERE time > ago(2m)'
    assert sample_db.query(sql).scalar() == 1
    clock.advance(60 * 10**9)
    assert sample_db.query(sql).scalar() == 0


def test_metadata_statements_are_not_cached(sample_db):
    assert sample_db.query('SHOW TABLES FROM "tsdb"').rows == [("metrics",)]
    sample_db.create_table("tsdb", "other")
    assert sample_db.query('SHOW TABLES FROM "tsdb"').rows == [("metrics",), ("other",)]
    write(sample_db, "cpu", "1.5")
    assert [r[0] for r in sample_db.query('SHOW MEASURES FROM "tsdb"."metrics"').rows] == ["cpu"]
    write(sample_db, "mem", "2.5")
    assert [r[0] for r in sample_db.query('SHOW MEASURES FROM "tsdb"."metrics"').rows] == ["cpu", "mem"]


def test_dropping_a_table_invalidates_plans(sample_db):
    write(sample_db, "cpu", "1.5")
    sql = 'SELECT count(*) FROM "tsdb"."metrics"'
    assert sample_db.query(sql).scalar() == 1
    sample_db.delete_table("tsdb", "metrics")
    with pytest.raises(tsql.ValidationError, match="Table 'tsdb.metrics' does not exist"):
        sample_db.query(sql)
