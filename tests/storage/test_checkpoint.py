"""WAL checkpoints: the memory store and series catalog are saved so the log before them
is dropped, recovery is checkpoint + log tail, and the log does not grow without bound."""

from __future__ import annotations

import os
import time

from ..conftest import NOW
from .helpers import DB, HOUR, MINUTE, TABLE, contents, expected, open_db, points, tiers

MS = 10**6


def wal_bytes(path: str) -> int:
    """Bytes in the log's segments (a segment a checkpoint drops meanwhile counts 0)."""
    wal = os.path.join(path, "wal")
    total = 0
    for f in os.listdir(wal):
        try:
            total += os.path.getsize(os.path.join(wal, f))
        except FileNotFoundError:
            pass
    return total


def test_checkpoint_drops_the_log_and_recovery_uses_it(tmp_path):
    path = str(tmp_path / "data")
    db = open_db(path)
    db.create_database(DB)
    db.create_table(DB, TABLE, memory_retention_hours=2)
    first = points(["a", "b"], NOW - 90 * MINUTE, NOW - 30 * MINUTE)
    db.write_frame(DB, TABLE, first)
    assert wal_bytes(path) > 0
    assert db.maintain()["checkpoint"] is True
    assert wal_bytes(path) == 0 and len(os.listdir(os.path.join(path, "wal"))) == 1
    second = points(["b", "c"], NOW - 30 * MINUTE, NOW)  # a new series after the checkpoint
    db.write_frame(DB, TABLE, second)
    db.close()
    want = sorted(expected(first) + expected(second))
    db = open_db(path)
    try:
        assert contents(db) == want
        assert db.query(f'SELECT count(*) FROM "{DB}"."{TABLE}" WHERE host = \'c\'').scalar() == 30
        # the series catalog outlives the log: move everything, checkpoint, reopen
        db.clock.advance(3 * HOUR)
        db.maintain()
        assert tiers(db) == (0, len(want))
    finally:
        db.close()
    db = open_db(path, now=NOW + 3 * HOUR)
    try:
        assert contents(db) == want
        assert db.query(f'SELECT count(*) FROM "{DB}"."{TABLE}" WHERE host = \'a\'').scalar() == 60
        assert db.maintain()["checkpoint"] is False  # nothing logged since
    finally:
        db.close()


def test_deleted_tables_stay_deleted(tmp_path):
    path = str(tmp_path / "data")
    db = open_db(path)
    db.create_database(DB)
    db.create_table(DB, TABLE, memory_retention_hours=2)
    db.create_table(DB, "gone", memory_retention_hours=2)
    for table in (TABLE, "gone"):
        db.write_frame(DB, table, points(["a"], NOW - 90 * MINUTE, NOW - 30 * MINUTE))
    db.clock.advance(HOUR)
    db.maintain()
    assert tiers(db, "gone") == (30, 30)
    db.delete_table(DB, "gone")
    db.close()
    assert sorted(os.listdir(os.path.join(path, "tables"))) == ["1"]
    db = open_db(path)
    try:
        assert db.list_tables(DB) == [TABLE]
        db.create_table(DB, "gone", memory_retention_hours=2)
        assert db.query(f'SELECT count(*) FROM "{DB}"."gone"').scalar() == 0
        assert db.query(f'SELECT count(*) FROM "{DB}"."{TABLE}"').scalar() == 60
    finally:
        db.close()


def test_the_log_stays_bounded_with_background_checkpoints(tmp_path):
    """A checkpoint is due when the log outgrows max(checkpoint_bytes, the last
    checkpoint's size), so the log stays within a constant factor of the memory store."""
    path = str(tmp_path / "data")
    db = open_db(path, maintenance_interval=0.05)
    try:
        storage = db.storage
        storage.checkpoint_bytes = 32_000
        db.create_database(DB)
        db.create_table(DB, TABLE, memory_retention_hours=2)
        largest = 0
        for i in range(200):
            db.write_records(DB, TABLE, [
                {"Dimensions": [{"Name": "host", "Value": f"h{k}"}], "MeasureName": "cpu", "MeasureValue": str(i),
                 "Time": str((NOW - HOUR) // MS + i * 1000)}
                for k in range(50)
            ])
            largest = max(largest, wal_bytes(path) / max(storage.checkpoint_bytes, storage.last_checkpoint_bytes))
            time.sleep(0.002)  # let the background thread run now and then
        deadline = time.monotonic() + 10
        while wal_bytes(path) > max(32_000, storage.last_checkpoint_bytes) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert wal_bytes(path) <= max(32_000, storage.last_checkpoint_bytes)
        assert storage.wal_from >= 3  # checkpointed more than once
        assert largest < 3
        assert storage.maintainer.last_error is None
    finally:
        db.close()
    db = open_db(path)
    try:
        assert db.query(f'SELECT count(*) FROM "{DB}"."{TABLE}"').scalar() == 200 * 50
    finally:
        db.close()
