"""Durability: every write acknowledged before `kill -9` is there after reopening."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import tsql
from tsql.clock import FixedClock

from ..conftest import NOW

WRITER = textwrap.dedent(
    """
    import sys
    import pandas as pd
    import tsql
    from tsql.clock import FixedClock

    path, now = sys.argv[1], int(sys.argv[2])
    db = tsql.connect(path, clock=FixedClock(now))
    if "tsdb" not in db.list_databases():
        db.create_database("tsdb")
        db.create_table("tsdb", "metrics", memory_retention_hours=24)
    batch = 0
    while True:
        t0 = now // 10**6 - 10**6 + batch * 100
        if batch % 3 == 2:  # every third batch through write_frame
            frame = pd.DataFrame({
                "time": pd.to_datetime([(t0 + k) * 10**6 for k in range(100)], unit="ns"),
                "series": [str(k) for k in range(100)],
                "measure_name": ["batch"] * 100,
                "measure_value::bigint": [batch] * 100,
            })
            db.write_frame("tsdb", "metrics", frame)
        else:
            db.write_records("tsdb", "metrics", [
                {"Dimensions": [{"Name": "series", "Value": str(k)}], "MeasureName": "batch",
                 "MeasureValue": str(batch), "MeasureValueType": "BIGINT", "Time": str(t0 + k)}
                for k in range(100)
            ])
        print(batch, flush=True)  # acknowledged: the write call returned
        batch += 1
    """
)


def _run_and_kill(path: str, acks: int) -> int:
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, path, str(NOW)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    last = -1
    try:
        while last < acks:
            line = proc.stdout.readline()
            if not line:
                raise AssertionError(f"writer died: {proc.stderr.read()}")
            last = int(line)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    # the writer ran on until the kill landed: its last acknowledgement is the last line in the pipe
    for line in proc.stdout.read().split():
        last = int(line)
    return last


def _counts(path: str) -> dict[int, int]:
    with tsql.connect(path, clock=FixedClock(NOW)) as db:
        rows = db.query('SELECT measure_value::bigint, count(*), count(DISTINCT series) '
                        'FROM "tsdb"."metrics" GROUP BY 1').rows
    for batch, count, distinct in rows:
        assert count == distinct == 100, f"batch {batch} stored {count} rows ({distinct} distinct)"
    return {batch: count for batch, count, _ in rows}


def test_acknowledged_writes_survive_kill_9(tmp_path):
    path = str(tmp_path / "data")
    last = _run_and_kill(path, acks=40)
    counts = _counts(path)
    assert set(range(last + 1)) <= set(counts), "an acknowledged batch is missing"
    assert max(counts) <= last + 1  # at most the batch in flight, and only whole
    # a second crash after more writes on the recovered database
    last2 = _run_and_kill(path, acks=10)
    counts = _counts(path)
    assert set(range(last2 + 1)) <= set(counts)


def test_torn_wal_tail_is_dropped_and_writing_goes_on(tmp_path):
    path = str(tmp_path / "data")
    with tsql.connect(path, clock=FixedClock(NOW)) as db:
        db.create_database("tsdb")
        db.create_table("tsdb", "metrics", memory_retention_hours=24)
        db.write_records("tsdb", "metrics", [{"MeasureName": "m", "MeasureValue": "1", "Time": str(NOW // 10**6 - 5),
                                              "Dimensions": [{"Name": "d", "Value": "a"}]}])
    wal_dir = os.path.join(path, "wal")
    segment = sorted(os.listdir(wal_dir))[-1]
    with open(os.path.join(wal_dir, segment), "ab") as f:
        f.write(b"\x40\x00\x00\x00garbage-from-a-write-that-never-finished")
    with tsql.connect(path, clock=FixedClock(NOW)) as db:
        assert db.query('SELECT count(*) FROM "tsdb"."metrics"').scalar() == 1
        db.write_records("tsdb", "metrics", [{"MeasureName": "m", "MeasureValue": "2", "Time": str(NOW // 10**6 - 4),
                                              "Dimensions": [{"Name": "d", "Value": "a"}]}])
    with tsql.connect(path, clock=FixedClock(NOW)) as db:
        assert db.query('SELECT sum(measure_value::double) FROM "tsdb"."metrics"').scalar() == 3.0


def test_upserts_replay_to_the_same_state(tmp_path):
    path = str(tmp_path / "data")
    record = {"MeasureName": "m", "Time": str(NOW // 10**6 - 5), "Dimensions": [{"Name": "d", "Value": "a"}]}
    with tsql.connect(path, clock=FixedClock(NOW)) as db:
        db.create_database("tsdb")
        db.create_table("tsdb", "metrics", memory_retention_hours=24)
        db.write_records("tsdb", "metrics", [dict(record, MeasureValue="1")])
        db.write_records("tsdb", "metrics", [dict(record, MeasureValue="9", Version=2)])
    with tsql.connect(path, clock=FixedClock(NOW)) as db:
        assert db.query('SELECT measure_value::double FROM "tsdb"."metrics"').rows == [(9.0,)]
