"""The two storage tiers on the same data: query latency from the memory store versus
the magnetic store, bytes on disk versus in memory, and the time of a tiering pass.

    python -m bench tiers --hosts 100 --hours 12

Loads the TSBS devops data (tsql.sample_data) into a persistent database with a memory
retention longer than the data, times every TSBS query type (a warm-up, then the median
of `--runs`), then shortens the retention and moves it all to the magnetic store with
one maintenance pass (timed), and times the same queries again, cold (decoding every
row group each run) and warm (from the block cache), checking they return the same rows. Sizes: the memory store's arrays versus the magnetic store's files.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time

import tsql
from tsql.clock import FixedClock
from tsql.sample_data import devops_frame, devops_start
from tsql.storage.magnetic import MagneticSettings

from .tsbs_queries import all_queries

HOUR = 3600 * 10**9


def _timed(db, sql: str, runs: int, cold: bool = False) -> tuple[float, object]:
    """Median ms of `runs` runs after a warm-up; `cold`: the block cache emptied before
    each run, so magnetic row groups are read and decoded every time."""
    result = db.query(sql)
    times = []
    for _ in range(runs):
        if cold:
            db.storage.cache.clear()
        start = time.perf_counter()
        db.query(sql)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000, result


def _dir_bytes(path: str) -> int:
    total = 0
    for dirpath, _, files in os.walk(path):
        total += sum(os.path.getsize(os.path.join(dirpath, f)) for f in files)
    return total


def _steady_pass(path: str, frame, now: int, settings) -> dict:
    """The background pass as it runs day to day: memory retention 6 h, 10 more minutes
    past it since the last pass."""
    clock = FixedClock(now)
    db = tsql.connect(path, clock=clock, maintenance_interval=None, magnetic=settings)
    db.create_database("tsbs")
    db.create_table("tsbs", "cpu", memory_retention_hours=13)
    db.write_frame("tsbs", "cpu", frame)
    db.update_table("tsbs", "cpu", memory_retention_hours=6)
    db.maintain()  # the first 6 h move
    clock.advance(10 * 60 * 10**9)
    summary = db.maintain()
    db.close()
    return summary


def run(hosts: int, hours: float, runs: int, settings: MagneticSettings) -> None:
    now = time.time_ns() // HOUR * HOUR
    clock = FixedClock(now)
    frame = devops_frame(hosts, hours, now)
    print(f"data: {hosts} hosts x {hours} h = {len(frame):,} rows")
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cpus, "
          f"Python {platform.python_version()}")
    queries = all_queries(hosts, devops_start(hours, now), now)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "data")
        db = tsql.connect(path, clock=clock, maintenance_interval=None, magnetic=settings)
        db.create_database("tsbs")
        db.create_table("tsbs", "cpu", memory_retention_hours=int(hours) + 2)
        db.write_frame("tsbs", "cpu", frame)
        table = db.storage.table("tsbs", "cpu")
        table.memory.seal()
        memory_bytes = table.memory.nbytes()

        memory = {q.name: _timed(db, q.tsql, runs) for q in queries}

        db.update_table("tsbs", "cpu", memory_retention_hours=1)
        clock.advance(HOUR)  # now every point is older than the memory retention
        summary = db.maintain()
        status = db.storage_status("tsbs", "cpu")
        assert status["MemoryStore"]["Rows"] == 0 and status["MagneticStore"]["Rows"] == len(frame)
        magnetic_bytes = _dir_bytes(os.path.join(path, "tables"))

        cold = {q.name: _timed(db, q.tsql, runs, cold=True) for q in queries}
        warm = {q.name: _timed(db, q.tsql, runs) for q in queries}
        db.close()
        steady = _steady_pass(os.path.join(tmp, "steady"), frame, now, settings)

    print(f"magnetic partitions: {settings}")
    print(f"\nmemory store: {memory_bytes / 1e6:.1f} MB in RAM; magnetic store: {magnetic_bytes / 1e6:.1f} MB on disk "
          f"({magnetic_bytes / memory_bytes:.3f} of it), {status['MagneticStore']['Partitions']} partitions, "
          f"{status['MagneticStore']['Files']} files")
    print(f"tiering pass ({len(frame):,} rows moved): {summary['tiering_seconds']:.2f} s; "
          f"with the WAL checkpoint after it: {summary['seconds']:.2f} s")
    print(f"steady-state pass (memory retention 6 h, the next 10 minutes moved: {steady['moved_rows']:,} rows): "
          f"{steady['tiering_seconds']:.2f} s; with the WAL checkpoint: {steady['seconds']:.2f} s")
    print("\nmagnetic cold: the block cache emptied before each run; warm: row groups decoded before")
    print(f"{'query':24} {'memory ms':>10} {'magnetic cold':>14} {'ratio':>6} {'magnetic warm':>14} {'ratio':>6} "
          f"{'rows':>7}  same")
    for q in queries:
        (a, ra), (b, rb), (c, rc) = memory[q.name], cold[q.name], warm[q.name]
        same = ra.rows == rb.rows == rc.rows
        print(f"{q.name:24} {a:10.2f} {b:14.2f} {b / a:6.2f} {c:14.2f} {c / a:6.2f} {len(ra):7}  "
              f"{'yes' if same else 'NO'}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench tiers", description=__doc__.split("\n\n")[0])
    parser.add_argument("--hosts", type=int, default=100)
    parser.add_argument("--hours", type=float, default=12)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--row-group-rows", type=int, default=MagneticSettings.row_group_rows)
    parser.add_argument("--buckets", type=int, default=MagneticSettings.buckets)
    args = parser.parse_args(argv)
    run(args.hosts, args.hours, args.runs, MagneticSettings(row_group_rows=args.row_group_rows, buckets=args.buckets))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
