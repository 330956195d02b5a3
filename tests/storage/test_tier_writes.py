"""Write rules across the tiers: records older than the memory retention go to the
magnetic store only with magnetic-store writes on; future records are rejected; Version
upserts behave the same whichever tier holds the stored point."""

from __future__ import annotations

import pandas as pd
import pytest

import tsql

from ..conftest import NOW
from .helpers import DB, HOUR, MINUTE, TABLE, open_db, tiers

MS = 10**6
SAME_VERSION = (
    "A record already exists with the same time, dimensions, measure name, and record version. A higher record "
    "version must be specified in order to update the measure value. Specifying record version is supported by "
    "the latest SDKs."
)


def rec(t_ns: int, value="1.0", host="h", **extra) -> dict:
    r = {"Dimensions": [{"Name": "host", "Value": host}], "MeasureName": "cpu", "MeasureValue": value,
         "Time": str(t_ns // MS)}
    r.update(extra)
    return r


def rejected(db, records) -> list:
    with pytest.raises(tsql.RejectedRecordsError) as e:
        db.write_records(DB, TABLE, records)
    return e.value.rejected_records


def values(db) -> list:
    return db.query(f'SELECT host, time, measure_value::double FROM "{DB}"."{TABLE}" ORDER BY host, time').rows


@pytest.fixture
def db():
    database = open_db()
    database.create_database(DB)
    yield database
    database.close()


def test_old_records_are_rejected_without_magnetic_store_writes(db):
    db.create_table(DB, TABLE, memory_retention_hours=2)
    reasons = rejected(db, [rec(NOW - MINUTE, host="ok"), rec(NOW - 3 * HOUR), rec(NOW + 16 * MINUTE)])
    window = "[2023-12-31T22:00:00.000Z, 2024-01-01T00:15:00.000Z) of the memory store."
    assert reasons == [
        {"RecordIndex": 1, "Reason": f"The record timestamp is outside the time range {window}"},
        {"RecordIndex": 2, "Reason": f"The record timestamp is outside the time range {window}"},
    ]
    assert [r[0] for r in values(db)] == ["ok"]
    # the future allowance is 15 minutes
    assert db.write_records(DB, TABLE, [rec(NOW + 14 * MINUTE)])["Total"] == 1


def test_old_records_go_to_the_magnetic_store_with_magnetic_store_writes(db):
    db.create_table(DB, TABLE, memory_retention_hours=2, magnetic_retention_days=10, magnetic_store_writes=True)
    ingested = db.write_records(DB, TABLE, [rec(NOW - MINUTE, "1"), rec(NOW - 3 * HOUR, "2"), rec(NOW - 9 * 86400 * 10**9, "3")])
    assert ingested == {"Total": 3, "MemoryStore": 1, "MagneticStore": 2}
    assert tiers(db) == (1, 2)
    assert [r[2] for r in values(db)] == [3.0, 2.0, 1.0]
    # older than the magnetic retention: rejected, naming the ingestion window
    assert rejected(db, [rec(NOW - 11 * 86400 * 10**9)]) == [{
        "RecordIndex": 0,
        "Reason": "The record timestamp is outside the time range [2023-12-22T00:00:00.000Z, "
                  "2024-01-01T00:15:00.000Z) of the data ingestion window.",
    }]
    # a frame takes the same route
    frame = pd.DataFrame({"time": pd.to_datetime([NOW - 5 * HOUR, NOW - 2 * MINUTE], unit="ns"), "host": ["f", "f"],
                          "measure_name": ["cpu", "cpu"], "measure_value::double": [4.0, 5.0]})
    assert db.write_frame(DB, TABLE, frame) == {"Total": 2, "MemoryStore": 1, "MagneticStore": 1}
    assert tiers(db) == (2, 3)


def test_update_table_turns_magnetic_store_writes_on_and_off(db):
    db.create_table(DB, TABLE, memory_retention_hours=1)
    assert len(rejected(db, [rec(NOW - 2 * HOUR)])) == 1
    desc = db.update_table(DB, TABLE, magnetic_store_writes=True)
    assert desc["MagneticStoreWriteProperties"] == {"EnableMagneticStoreWrites": True}
    assert db.write_records(DB, TABLE, [rec(NOW - 2 * HOUR)])["MagneticStore"] == 1
    db.update_table(DB, TABLE, magnetic_store_writes=False)
    assert len(rejected(db, [rec(NOW - 2 * HOUR + MINUTE)])) == 1
    # a longer memory retention widens the memory store's window at once
    db.update_table(DB, TABLE, memory_retention_hours=3)
    assert db.write_records(DB, TABLE, [rec(NOW - 2 * HOUR + MINUTE)])["Total"] == 1


@pytest.mark.parametrize("tier", ["memory", "magnetic"])
def test_version_rules_in_both_tiers(db, tier):
    db.create_table(DB, TABLE, memory_retention_hours=2, magnetic_store_writes=True)
    t = NOW - (3 * HOUR if tier == "magnetic" else MINUTE)
    db.write_records(DB, TABLE, [rec(t, "1.0")])
    assert tiers(db) == ((0, 1) if tier == "magnetic" else (1, 0))
    # the same record again: an idempotent success that changes nothing
    assert db.write_records(DB, TABLE, [rec(t, "1.0")])["Total"] == 1
    assert rejected(db, [rec(t, "2.0")]) == [{"RecordIndex": 0, "ExistingVersion": 1, "Reason": SAME_VERSION}]
    db.write_records(DB, TABLE, [rec(t, "3.0", Version=5)])
    assert rejected(db, [rec(t, "4.0", Version=2)]) == [{
        "RecordIndex": 0, "ExistingVersion": 5,
        "Reason": "The record version 2 is lower than the existing version 5. A higher version is required to "
                  "update the measure value.",
    }]
    # the same value with a higher version raises the stored version
    db.write_records(DB, TABLE, [rec(t, "3.0", Version=7)])
    assert rejected(db, [rec(t, "9.0", Version=6)])[0]["ExistingVersion"] == 7
    assert values(db) == [("h", pd.Timestamp(t // MS * MS, unit="ns"), 3.0)]
    assert sum(tiers(db)) == 1


def test_a_moved_point_keeps_its_version(db):
    db.create_table(DB, TABLE, memory_retention_hours=2, magnetic_store_writes=True)
    t = NOW - MINUTE
    db.write_records(DB, TABLE, [rec(t, "1.0", Version=3)])
    db.clock.advance(3 * HOUR)
    db.maintain()
    assert tiers(db) == (0, 1)
    assert rejected(db, [rec(t, "2.0", Version=3)])[0]["ExistingVersion"] == 3
    db.write_records(DB, TABLE, [rec(t, "2.0", Version=4)])
    assert values(db) == [("h", pd.Timestamp(t // MS * MS, unit="ns"), 2.0)]
    # the replaced row is masked, then dropped when compaction rewrites the file
    db.maintain()
    assert tiers(db) == (0, 1)
    assert values(db) == [("h", pd.Timestamp(t // MS * MS, unit="ns"), 2.0)]


def test_versions_within_one_request_that_spans_both_tiers(db):
    db.create_table(DB, TABLE, memory_retention_hours=2, magnetic_store_writes=True)
    old, new = NOW - 3 * HOUR, NOW - MINUTE
    reasons = rejected(db, [rec(old, "1"), rec(new, "1"), rec(old, "2"), rec(new, "5", Version=2), rec(old, "3", Version=2)])
    assert [r["RecordIndex"] for r in reasons] == [2]
    assert [r[2] for r in values(db)] == [3.0, 5.0]
    assert tiers(db) == (1, 1)


def test_magnetic_store_upserts_survive_reopening(tmp_path):
    path = str(tmp_path / "data")
    db = open_db(path)
    db.create_database(DB)
    db.create_table(DB, TABLE, memory_retention_hours=2, magnetic_store_writes=True)
    db.write_records(DB, TABLE, [rec(NOW - 3 * HOUR, "1"), rec(NOW - 4 * HOUR, "2")])
    db.write_records(DB, TABLE, [rec(NOW - 3 * HOUR, "8", Version=2)])
    db.close()
    db = open_db(path)
    try:
        assert [r[2] for r in values(db)] == [2.0, 8.0]
        assert rejected(db, [rec(NOW - 3 * HOUR, "9", Version=2)])[0]["ExistingVersion"] == 2
    finally:
        db.close()


def test_after_a_longer_retention_old_records_go_where_their_time_is_kept(db):
    """Magnetic data never moves back: a record older than the boundary goes to the
    magnetic store even when the longer memory retention now admits it."""
    db.create_table(DB, TABLE, memory_retention_hours=2)
    db.write_records(DB, TABLE, [rec(NOW - 90 * MINUTE, "1")])
    db.clock.advance(HOUR)
    db.maintain()
    assert tiers(db) == (0, 1)
    db.update_table(DB, TABLE, memory_retention_hours=24)
    ingested = db.write_records(DB, TABLE, [rec(NOW - 80 * MINUTE, "2"), rec(NOW - 10 * MINUTE, "3")])
    assert ingested == {"Total": 2, "MemoryStore": 1, "MagneticStore": 1}
    assert tiers(db) == (1, 2)
    assert [r[2] for r in values(db)] == [1.0, 2.0, 3.0]
