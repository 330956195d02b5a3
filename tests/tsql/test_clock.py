"""Clocks: durations and instants as tests give them, a frozen clock that advances."""

from __future__ import annotations

import datetime as dt

import pytest

import tsql
from tsql.clock import FixedClock, duration_ns, instant_ns

from ..conftest import NOW


@pytest.mark.parametrize("text, ns", [
    ("15m", 15 * 60 * 10**9), ("2h", 7200 * 10**9), ("1d", 86400 * 10**9), ("500ms", 5 * 10**8),
    ("1.5s", 1_500_000_000), ("-1h", -3600 * 10**9), ("10us", 10_000), ("7ns", 7), (dt.timedelta(minutes=2), 120 * 10**9),
    (42, 42),
])
def test_durations(text, ns):
    assert duration_ns(text) == ns


@pytest.mark.parametrize("bad", ["2 hours", "h", "", True, 1.5, None])
def test_bad_durations_are_validation_errors(bad):
    with pytest.raises(tsql.ValidationError, match="Not a duration"):
        duration_ns(bad)


@pytest.mark.parametrize("value", [
    "2024-01-01T00:00:00Z", "2024-01-01T00:00:00+00:00", "2024-01-01 01:00:00+01:00", "2024-01-01",
    dt.datetime(2024, 1, 1), dt.datetime(2023, 12, 31, 19, tzinfo=dt.timezone(dt.timedelta(hours=-5))),
    dt.date(2024, 1, 1), NOW,
])
def test_instants(value):
    assert instant_ns(value) == NOW


def test_bad_instant_is_a_validation_error():
    with pytest.raises(tsql.ValidationError, match="Not an ISO-8601 time: 'yesterday'"):
        instant_ns("yesterday")


def test_a_frozen_database_ages_its_data_as_the_clock_advances():
    clock = FixedClock("2024-01-01T00:00:00Z")
    db = tsql.connect(clock=clock)
    db.create_database("tsdb")
    db.create_table("tsdb", "metrics", memory_retention_hours=2, magnetic_retention_days=1)
    db.write_records("tsdb", "metrics", [{"MeasureName": "m", "MeasureValue": "1", "Time": str(NOW // 10**6 - 1000),
                                          "Dimensions": [{"Name": "d", "Value": "a"}]}])
    count = 'SELECT count(*) FROM "tsdb"."metrics" WHERE time > ago(1h)'
    assert db.query(count).scalar() == 1
    clock.advance("2h")
    assert db.query(count).scalar() == 0
    assert db.query('SELECT count(*) FROM "tsdb"."metrics"').scalar() == 1
    db.maintain()  # past the memory retention: to the magnetic store
    assert db.storage_status("tsdb", "metrics")["MemoryStore"]["Rows"] == 0
    clock.advance(dt.timedelta(days=2))
    db.maintain()  # past the magnetic retention: gone
    assert db.query('SELECT count(*) FROM "tsdb"."metrics"').scalar() == 0
    db.close()
