"""Tiering and retention: data past the memory retention moves to the magnetic store
(on demand and in the background), data past the magnetic retention disappears, and
queries see every point exactly once before, during and after a move."""

from __future__ import annotations

import threading
import time

import pytest

from tsql.storage import faults

from ..conftest import NOW
from .helpers import DB, HOUR, TABLE, MINUTE, contents, expected, open_db, points, tiers

HOSTS = ["a", "b", "c"]


@pytest.fixture
def loaded():
    """3 hosts x 2 measures, one point a minute for the last 5 hours; memory retention 6 h."""
    db = open_db()
    db.create_database(DB)
    db.create_table(DB, TABLE, memory_retention_hours=6)
    frame = points(HOSTS, NOW - 5 * HOUR, NOW, measures=("cpu", "mem"))
    db.write_frame(DB, TABLE, frame)
    yield db, frame
    db.close()


def test_maintain_moves_what_is_older_than_the_memory_retention(loaded):
    db, frame = loaded
    assert tiers(db) == (len(frame), 0)
    assert db.maintain()["moved_rows"] == 0  # nothing is older than 6 h yet
    db.clock.advance(3 * HOUR)  # now the first 2 hours are past the retention
    summary = db.maintain()
    moved = 3 * 2 * 120
    assert summary["moved_rows"] == moved
    assert tiers(db) == (len(frame) - moved, moved)
    assert db.storage_status(DB, TABLE)["MagneticStore"]["Boundary"] == NOW + 3 * HOUR - 6 * HOUR
    assert contents(db) == expected(frame)
    db.clock.advance(10 * HOUR)
    db.maintain()
    assert tiers(db) == (0, len(frame))
    assert contents(db) == expected(frame)


def test_magnetic_retention_deletes_old_data(loaded):
    db, frame = loaded
    db.update_table(DB, TABLE, memory_retention_hours=1, magnetic_retention_days=1)
    db.clock.advance(HOUR)
    db.maintain()
    assert tiers(db)[1] > 0
    # at NOW + 20.5 h, the points before NOW - 3.5 h are past the magnetic retention:
    # hidden at once ...
    db.clock.advance(19 * HOUR + 30 * MINUTE)
    kept = frame[frame["time"].astype("int64") >= NOW - 3 * HOUR - 30 * MINUTE]
    assert 0 < len(kept) < len(frame)
    assert contents(db) == expected(kept)
    # ... and deleted by the next maintenance once their whole partition is past it
    db.clock.advance(2 * 86400 * 10**9)
    summary = db.maintain()
    assert summary["expired_partitions"] > 0
    assert tiers(db) == (0, 0)
    assert contents(db) == []


def test_retention_changes_apply_to_the_next_pass(loaded):
    db, frame = loaded
    db.update_table(DB, TABLE, memory_retention_hours=2)
    db.maintain()
    assert tiers(db) == (3 * 2 * 120, len(frame) - 3 * 2 * 120)
    # a longer retention does not move data back from the magnetic store
    db.update_table(DB, TABLE, memory_retention_hours=48)
    db.maintain()
    assert tiers(db) == (3 * 2 * 120, len(frame) - 3 * 2 * 120)
    assert contents(db) == expected(frame)


MOVE_STEPS = ["move:files-written", "move:manifests-written", "move:committed", "move:installed"]


@pytest.mark.parametrize("step", MOVE_STEPS)
def test_every_point_is_seen_once_at_each_step_of_a_move(loaded, step):
    db, frame = loaded
    seen = []
    faults.HOOKS[step] = lambda _: seen.append(contents(db))
    try:
        db.clock.advance(3 * HOUR)
        db.maintain()
    finally:
        faults.HOOKS.clear()
    assert seen == [expected(frame)]
    assert contents(db) == expected(frame)


def test_queries_from_another_thread_during_a_move_see_each_point_once(loaded):
    db, frame = loaded
    want = expected(frame)
    counts = []
    stop = threading.Event()

    def query():
        while not stop.is_set():
            counts.append(db.query(f'SELECT count(*), count(DISTINCT host || measure_name || CAST(time AS VARCHAR)) '
                                   f'FROM "{DB}"."{TABLE}"').rows[0])

    reader = threading.Thread(target=query)
    reader.start()
    try:
        for _ in range(5):
            db.clock.advance(HOUR)
            db.maintain()
    finally:
        stop.set()
        reader.join()
    assert counts and set(counts) == {(len(frame), len(frame))}
    assert contents(db) == want


def test_background_thread_moves_data(tmp_path):
    db = open_db(maintenance_interval=0.05)
    try:
        db.create_database(DB)
        db.create_table(DB, TABLE, memory_retention_hours=1)
        frame = points(HOSTS, NOW - 50 * MINUTE, NOW)
        db.write_frame(DB, TABLE, frame)
        db.clock.advance(2 * HOUR)
        deadline = time.monotonic() + 10
        while tiers(db) != (0, len(frame)) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert tiers(db) == (0, len(frame))
        assert contents(db) == expected(frame)
        assert db.storage.maintainer.last_error is None
    finally:
        db.close()
    assert db.storage.maintainer is None  # stopped and joined by close()


def test_background_errors_are_logged_and_kept(caplog):
    db = open_db(maintenance_interval=0.02)
    try:
        db.create_database(DB)
        db.create_table(DB, TABLE, memory_retention_hours=1)
        db.write_frame(DB, TABLE, points(HOSTS, NOW - 50 * MINUTE, NOW))

        def fail(_):
            raise OSError("disk on fire")

        faults.HOOKS["move:files-written"] = fail
        db.clock.advance(2 * HOUR)
        maintainer = db.storage.maintainer
        deadline = time.monotonic() + 10
        while maintainer.last_error is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert isinstance(maintainer.last_error, OSError)
        assert "background maintenance pass failed" in caplog.text
        faults.HOOKS.clear()
        # the failed move changed nothing, and the next pass succeeds
        deadline = time.monotonic() + 10
        while tiers(db)[0] and time.monotonic() < deadline:
            time.sleep(0.02)
        assert tiers(db) == (0, 150)
    finally:
        faults.HOOKS.clear()
        db.close()
