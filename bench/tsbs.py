"""TSBS devops benchmark: tsql against DuckDB on the same rows.

    python -m bench tsbs --hosts 100 --hours 12

Generates the TSBS cpu data (tsql.sample_data), loads it into tsql (write_frame, and a
sample through write_records in 100-record batches with the WAL on) and into DuckDB,
then times every query type on both, alternating engines, a warm-up then the median of
`--runs`, checks that both return the same rows, and prints a ratio table
(tsql / DuckDB: below 1.0 means tsql is faster) with ingest rates.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import statistics
import sys
import tempfile
import time

import numpy as np
import pandas as pd

import tsql
from tsql.clock import FixedClock
from tsql.sample_data import devops_frame, devops_start

from .tsbs_queries import all_queries


def _normal(rows):
    out = []
    for r in rows:
        row = []
        for v in r:
            if isinstance(v, pd.Timestamp):
                v = v.value
            elif hasattr(v, "isoformat") and not isinstance(v, str):
                v = pd.Timestamp(v).value
            elif isinstance(v, float) and math.isfinite(v):
                v = float(f"{v:.10g}")
            row.append(v)
        out.append(tuple(row))
    return out


def _time(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def records_from_frame(frame: pd.DataFrame, n: int) -> list[dict]:
    """The first n rows of a long devops frame as Timestream record dicts."""
    part = frame.head(n)
    tags = [c for c in part.columns if c not in ("measure_name", "time", "measure_value::double")]
    tag_values = {c: part[c].astype(str).tolist() for c in tags}
    names = part["measure_name"].astype(str).tolist()
    times = (part["time"].astype("int64") // 10**6).astype(str).tolist()
    values = part["measure_value::double"].astype(str).tolist()
    return [
        {
            "Dimensions": [{"Name": c, "Value": tag_values[c][i]} for c in tags],
            "MeasureName": names[i], "MeasureValue": values[i], "MeasureValueType": "DOUBLE", "Time": times[i],
        }
        for i in range(len(part))
    ]


def _compare(db, duck, queries, runs: int, cold: bool = False) -> list[tuple]:
    """(name, tsql ms, duckdb ms, rows, same) per query: engines alternate, a warm-up,
    then the median of `runs`; `cold` empties tsql's block cache before each of its runs."""
    out = []
    for q in queries:
        ours = db.query(q.tsql)  # warm-up (also plans and caches)
        theirs = duck.execute(q.duckdb).fetchall()
        same = _normal(ours.rows) == _normal(theirs)
        t_ours, t_theirs = [], []
        for _ in range(runs):
            if cold:
                db.storage.cache.clear()
            t_ours.append(_time(lambda: db.query(q.tsql)))
            t_theirs.append(_time(lambda: duck.execute(q.duckdb).fetchall()))
        out.append((q.name, statistics.median(t_ours) * 1000, statistics.median(t_theirs) * 1000, len(ours), same))
    return out


def _print_table(title: str, rows: list[tuple]) -> float:
    print(f"\n{title}")
    print(f"{'query':24} {'tsql ms':>9} {'duckdb ms':>10} {'ratio':>7} {'rows':>7}  same")
    ratios = []
    for name, a, b, n, same in rows:
        ratios.append(a / b)
        print(f"{name:24} {a:9.2f} {b:10.2f} {a / b:7.2f} {n:7}  {'yes' if same else 'NO'}")
    geo = math.exp(sum(math.log(r) for r in ratios) / len(ratios))
    print(f"{'geometric mean':24} {'':9} {'':10} {geo:7.2f}   ({1 / geo:.1f}x {'faster' if geo < 1 else 'slower'})")
    return geo


def run(hosts: int, hours: float, runs: int, records: int, tiers: list[str], seed: int = 7) -> None:
    import duckdb

    now = time.time_ns() // 3600_000_000_000 * 3600_000_000_000
    clock = FixedClock(now)
    t0 = time.perf_counter()
    frame = devops_frame(hosts, hours, now)
    print(f"data: {hosts} hosts x {hours} h = {len(frame):,} rows (generated in {time.perf_counter() - t0:.1f} s)")
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cpus, Python {platform.python_version()}")
    retention = int(math.ceil(hours)) + 1

    duck = duckdb.connect()
    plain = frame.astype({c: str for c in frame.columns if isinstance(frame[c].dtype, pd.CategoricalDtype)})
    duck.register("frame", plain)
    duck_load_s = _time(lambda: duck.execute(
        "CREATE TABLE cpu AS SELECT * REPLACE (CAST(time AS TIMESTAMP) AS time) FROM frame"))
    duck.unregister("frame")
    del plain
    # the first random choice of hosts and windows for which every query has rows
    for seed in range(seed, seed + 100):
        queries = all_queries(hosts, devops_start(hours, now), now, seed)
        if all(duck.execute(q.duckdb).fetchall() for q in queries):
            break

    with tempfile.TemporaryDirectory() as tmp:
        db = tsql.connect(os.path.join(tmp, "data"), clock=clock, maintenance_interval=None)
        db.create_database("tsbs")
        db.create_table("tsbs", "cpu", memory_retention_hours=retention)
        frame_s = _time(lambda: db.write_frame("tsbs", "cpu", frame))
        db.storage.table("tsbs", "cpu").memory.seal()
        footprint = db.storage.table("tsbs", "cpu").memory.nbytes()
        raw = len(frame) * 16  # time and value, 8 bytes each; dimensions live in the series catalog

        recs = records_from_frame(frame, records)
        rdb = tsql.connect(os.path.join(tmp, "records"), clock=clock, maintenance_interval=None)
        rdb.create_database("tsbs")
        rdb.create_table("tsbs", "cpu", memory_retention_hours=retention)
        start = time.perf_counter()
        for i in range(0, len(recs), 100):
            rdb.write_records("tsbs", "cpu", recs[i:i + 100])
        records_s = time.perf_counter() - start
        rdb.close()

        print(f"ingest (WAL on, fsync per call): tsql write_frame {len(frame) / frame_s / 1e6:.2f} M rows/s; "
              f"write_records (100/batch) {len(recs) / records_s / 1e3:.1f} k records/s; "
              f"DuckDB CREATE TABLE AS from pandas {len(frame) / duck_load_s / 1e6:.2f} M rows/s")
        print(f"memory store: {footprint / 1e6:.1f} MB for {raw / 1e6:.1f} MB of raw time and value columns "
              f"({footprint / raw:.2f}x)")
        overhead = []
        for q in queries:
            from tsql.planner import Binder, optimize, parse

            plan = lambda: db._plans.plan(q.tsql, db._catalog, db._functions, now, db.storage.catalog.generation)
            plan()  # the first time fills the cache
            cached = _time(plan)
            fresh = _time(lambda: optimize(Binder(db._catalog, db._functions, now).bind_statement(parse(q.tsql))))
            overhead.append((cached, fresh))
        print(f"parse + plan per query: {statistics.median(c for c, _ in overhead) * 1000:.3f} ms from the plan cache, "
              f"{statistics.median(f for _, f in overhead) * 1000:.2f} ms uncached (medians over the query types)")

        if "memory" in tiers:
            _print_table("data in the memory store", _compare(db, duck, queries, runs))
        if "magnetic" in tiers:
            db.update_table("tsbs", "cpu", memory_retention_hours=1)
            clock.advance(2 * 3600 * 10**9)  # every point is now past the memory retention
            moved = db.maintain()
            status = db.storage_status("tsbs", "cpu")
            assert status["MemoryStore"]["Rows"] == 0, status
            print(f"\nmoved {moved['moved_rows']:,} rows to the magnetic store in {moved['seconds']:.2f} s "
                  f"({status['MagneticStore']['Bytes'] / 1e6:.1f} MB on disk)")
            _print_table("data in the magnetic store (block cache warm after the warm-up run)",
                         _compare(db, duck, queries, runs))
            _print_table("data in the magnetic store, cold (block cache emptied before each tsql run)",
                         _compare(db, duck, queries, runs, cold=True))
        db.close()
    print(f"\npeak memory of this process (tsql, DuckDB and the generated frame together): {_peak_rss() / 1e9:.2f} GB")


def _peak_rss() -> int:
    try:
        import resource
    except ImportError:  # Windows
        return 0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # bytes on macOS, KiB on Linux


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench tsbs", description=__doc__.split("\n\n")[0])
    parser.add_argument("--hosts", type=int, default=100)
    parser.add_argument("--hours", type=float, default=12)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--records", type=int, default=100_000, help="records for the write_records measurement")
    parser.add_argument("--tier", choices=["memory", "magnetic", "both"], default="both")
    args = parser.parse_args(argv)
    run(args.hosts, args.hours, args.runs, args.records,
        ["memory", "magnetic"] if args.tier == "both" else [args.tier])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
