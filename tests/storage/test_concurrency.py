"""Writes, queries and maintenance from several threads at once: a query sees every write
batch whole or not at all, and no acknowledged write is lost, while data moves between
the tiers underneath."""

from __future__ import annotations

import threading

from ..conftest import NOW
from .helpers import DB, MINUTE, TABLE, open_db, tiers

MS = 10**6
WRITERS, BATCHES, SIZE = 4, 40, 50


def test_writers_readers_and_maintenance_together(tmp_path):
    db = open_db(str(tmp_path / "data"))
    db.create_database(DB)
    db.create_table(DB, TABLE, memory_retention_hours=1, magnetic_store_writes=True)
    acknowledged = []
    problems = []
    done = threading.Event()

    def writer(w: int, batches: range):
        for i in batches:
            batch = w * 1000 + i
            # times sweep from 59 to 20 minutes ago: as the clock moves, later batches of
            # a writer land beyond the memory retention, in the magnetic store
            t = NOW - 59 * MINUTE + i * MINUTE
            db.write_records(DB, TABLE, [
                {"Dimensions": [{"Name": "writer", "Value": str(w)}, {"Name": "series", "Value": str(k)}],
                 "MeasureName": "batch", "MeasureValue": str(batch), "MeasureValueType": "BIGINT",
                 "Time": str(t // MS)}
                for k in range(SIZE)
            ])
            acknowledged.append(batch)

    def reader():
        last_total = 0
        while not done.is_set():
            rows = db.query(f'SELECT measure_value::bigint, count(*) FROM "{DB}"."{TABLE}" GROUP BY 1').rows
            torn = [(b, n) for b, n in rows if n != SIZE]
            total = sum(n for _, n in rows)
            if torn or total < last_total:
                problems.append((torn, total, last_total))
            last_total = total

    def maintainer():
        while not done.is_set():
            db.clock.advance(MINUTE)
            db.maintain()

    writer(0, range(1))  # the table's columns exist before the readers start
    writers = [threading.Thread(target=writer, args=(w, range(w == 0, BATCHES))) for w in range(WRITERS)]
    others = [threading.Thread(target=reader) for _ in range(2)] + [threading.Thread(target=maintainer)]
    for t in writers + others:
        t.start()
    for t in writers:
        t.join()
    done.set()
    for t in others:
        t.join()
    try:
        assert problems == []
        assert len(acknowledged) == WRITERS * BATCHES
        rows = dict(db.query(f'SELECT measure_value::bigint, count(*) FROM "{DB}"."{TABLE}" GROUP BY 1').rows)
        assert rows == {b: SIZE for b in acknowledged}
        memory, magnetic = tiers(db)
        assert magnetic > 0 and memory + magnetic == WRITERS * BATCHES * SIZE
    finally:
        db.close()
    db = open_db(str(tmp_path / "data"), now=db.clock.now_ns())
    try:
        rows = dict(db.query(f'SELECT measure_value::bigint, count(*) FROM "{DB}"."{TABLE}" GROUP BY 1').rows)
        assert rows == {b: SIZE for b in acknowledged}
    finally:
        db.close()
