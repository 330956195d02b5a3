"""Crashes in the middle of maintenance and of magnetic-store writes: a process killed
(SIGKILL, like kill -9) at each step loses nothing and duplicates nothing after reopening,
and leaves no stray files behind."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap

import pandas as pd
import pytest

from ..conftest import NOW
from .helpers import DB, HOUR, MINUTE, TABLE, contents, expected, open_db, points, tiers

WORKER = textwrap.dedent(
    """
    import sys
    import tsql
    from tsql.clock import FixedClock

    path, now, action = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    db = tsql.connect(path, clock=FixedClock(now), maintenance_interval=None)
    if action == "maintain":
        db.write_records("tsdb", "metrics", [{"Dimensions": [{"Name": "host", "Value": "new"}],
            "MeasureName": "cpu", "MeasureValue": "7", "Time": str(now // 10**6), "TimeUnit": "MILLISECONDS"}])
        print("acknowledged", flush=True)
        db.maintain()
    else:  # a write of records older than the memory retention: a new point and an upsert
        db.write_records("tsdb", "metrics", [
            {"Dimensions": [{"Name": "host", "Value": "a"}], "MeasureName": "cpu", "MeasureValue": "-1",
             "Time": str(int(sys.argv[4]) // 10**6)},
            {"Dimensions": [{"Name": "host", "Value": "b"}], "MeasureName": "cpu", "MeasureValue": "-2",
             "Time": str(int(sys.argv[5]) // 10**6), "Version": 2},
        ])
        print("acknowledged", flush=True)
    """
)

LATER = NOW + 3 * HOUR  # when the worker runs
HOSTS = ["a", "b", "c"]


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """A data directory: 100 minutes of points (memory retention 2 h, magnetic writes on),
    the first 40 minutes already moved, so the next pass both moves and compacts."""
    path = str(tmp_path_factory.mktemp("template") / "data")
    db = open_db(path)
    db.create_database(DB)
    db.create_table(DB, TABLE, memory_retention_hours=2, magnetic_store_writes=True)
    frame = points(HOSTS, NOW - 100 * MINUTE, NOW, measures=("cpu", "mem"))
    db.write_frame(DB, TABLE, frame)
    db.clock.advance(HOUR)
    assert db.maintain()["moved_rows"] == 3 * 2 * 40
    db.close()
    return path, frame


def _run(path: str, action: str, crash_at: str, *args) -> bool:
    """Run the worker; True if it was killed at `crash_at` (after acknowledging its write,
    for maintenance)."""
    env = dict(os.environ, TSQL_CRASH_AT=crash_at)
    proc = subprocess.run([sys.executable, "-c", WORKER, path, str(LATER), action, *map(str, args)],
                          env=env, capture_output=True, text=True, timeout=60)
    if proc.returncode not in (0, -signal.SIGKILL):
        raise AssertionError(proc.stderr)
    return proc.returncode == -signal.SIGKILL


def _stray_files(db) -> set:
    """Files of the table's magnetic store that no manifest names."""
    store = db.storage.table(DB, TABLE).magnetic
    named = {"manifest.json"}
    for p in store.view.partitions:
        named.add(p.manifest)
        named.update(f.name for f in p.files)
    return set(store.files.names()) - named


def _reopened(path: str):
    db = open_db(path, now=LATER)
    assert _stray_files(db) == set()
    return db


MAINTENANCE_STEPS = [
    "move:files-written", "move:manifests-written", "move:committed", "move:installed",
    "compact:files-written", "compact:manifests-written", "compact:committed",
    "checkpoint:rotated", "checkpoint:written", "checkpoint:committed",
]


@pytest.mark.parametrize("step", MAINTENANCE_STEPS)
def test_kill_9_during_maintenance(template, tmp_path, step):
    path = str(tmp_path / "data")
    shutil.copytree(template[0], path)
    assert _run(path, "maintain", step), f"maintenance never reached {step}"
    new_point = pd.DataFrame({"time": [pd.Timestamp(LATER // 10**6 * 10**6, unit="ns")], "host": ["new"],
                              "measure_name": ["cpu"], "measure_value::double": [7.0]})
    want = expected(pd.concat([template[1], new_point]))
    db = _reopened(path)
    try:
        assert contents(db) == want  # every point, once, including the acknowledged write
        db.maintain()  # the interrupted work completes
        assert contents(db) == want
        assert tiers(db) == (1, len(template[1]))
    finally:
        db.close()
    db = _reopened(path)
    try:
        assert contents(db) == want
        assert len(os.listdir(os.path.join(path, "wal"))) == 1  # checkpointed
    finally:
        db.close()


WRITE_STEPS = ["write:logged", "write:files-written", "write:manifests-written", "write:committed"]


@pytest.mark.parametrize("step", WRITE_STEPS)
def test_kill_9_during_a_magnetic_store_write(template, tmp_path, step):
    """The write was never acknowledged: after reopening it is there whole or not at all."""
    path = str(tmp_path / "data")
    shutil.copytree(template[0], path)
    new_time = NOW - 90 * MINUTE + 30 * 10**9  # between two stored points: a new point
    upserted = NOW - 95 * MINUTE  # a stored point of host b, replaced with version 2
    assert _run(path, "write", step, new_time, upserted), f"the write never reached {step}"
    before = expected(template[1])
    frame = template[1].copy()
    replaced = (frame["host"] == "b") & (frame["measure_name"] == "cpu") & (frame["time"] == pd.Timestamp(upserted))
    assert replaced.sum() == 1
    frame.loc[replaced, "measure_value::double"] = -2.0
    new_point = pd.DataFrame({"time": [pd.Timestamp(new_time)], "host": ["a"], "measure_name": ["cpu"],
                              "measure_value::double": [-1.0]})
    after = expected(pd.concat([frame, new_point]))
    db = _reopened(path)
    try:
        got = contents(db)
        assert got in (before, after)
        assert got == (after if step == "write:committed" else before)
    finally:
        db.close()
