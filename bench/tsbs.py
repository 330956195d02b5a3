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


def run(hosts: int, hours: float, runs: int, records: int, seed: int = 7) -> None:
    import duckdb

    now = time.time_ns() // 10**9 * 10**9
    clock = FixedClock(now)
    t0 = time.perf_counter()
    frame = devops_frame(hosts, hours, now)
    print(f"data: {hosts} hosts x {hours} h = {len(frame):,} rows (generated in {time.perf_counter() - t0:.1f} s)")
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cpus, Python {platform.python_version()}")

    db = tsql.connect(clock=clock)
    db.create_database("tsbs")
    db.create_table("tsbs", "cpu", memory_retention_hours=int(math.ceil(hours)) + 1)
    frame_s = _time(lambda: db.write_frame("tsbs", "cpu", frame))

    with tempfile.TemporaryDirectory() as tmp:  # write_records with the WAL (fsync per call)
        persistent = tsql.connect(os.path.join(tmp, "data"), clock=clock)
        persistent.create_database("tsbs")
        persistent.create_table("tsbs", "cpu", memory_retention_hours=int(math.ceil(hours)) + 1)
        recs = records_from_frame(frame, records)
        start = time.perf_counter()
        for i in range(0, len(recs), 100):
            persistent.write_records("tsbs", "cpu", recs[i:i + 100])
        records_s = time.perf_counter() - start
        persistent.close()

    duck = duckdb.connect()
    plain = frame.astype({c: str for c in frame.columns if isinstance(frame[c].dtype, pd.CategoricalDtype)})
    duck.register("frame", plain)
    duck_load_s = _time(lambda: duck.execute(
        "CREATE TABLE cpu AS SELECT * REPLACE (CAST(time AS TIMESTAMP) AS time) FROM frame"))
    duck.unregister("frame")

    print(f"ingest: tsql write_frame {len(frame) / frame_s / 1e6:.2f} M rows/s; "
          f"tsql write_records (100/batch, WAL) {len(recs) / records_s / 1e3:.1f} k records/s; "
          f"DuckDB CREATE TABLE AS from pandas {len(frame) / duck_load_s / 1e6:.2f} M rows/s")

    queries = all_queries(hosts, devops_start(hours, now), now, seed)
    print(f"\n{'query':24} {'tsql ms':>9} {'duckdb ms':>10} {'ratio':>7} {'rows':>7}  same")
    ratios = []
    for q in queries:
        ours = db.query(q.tsql)  # warm-up (also plans and caches)
        theirs = duck.execute(q.duckdb).fetchall()
        same = _normal(ours.rows) == _normal(theirs)
        t_ours, t_theirs = [], []
        for _ in range(runs):
            t_ours.append(_time(lambda: db.query(q.tsql)))
            t_theirs.append(_time(lambda: duck.execute(q.duckdb).fetchall()))
        a, b = statistics.median(t_ours) * 1000, statistics.median(t_theirs) * 1000
        ratios.append(a / b)
        print(f"{q.name:24} {a:9.2f} {b:10.2f} {a / b:7.2f} {len(ours):7}  {'yes' if same else 'NO'}")
    geo = math.exp(sum(math.log(r) for r in ratios) / len(ratios))
    print(f"{'geometric mean':24} {'':9} {'':10} {geo:7.2f}   ({1 / geo:.1f}x {'faster' if geo < 1 else 'slower'})")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench tsbs", description=__doc__.split("\n\n")[0])
    parser.add_argument("--hosts", type=int, default=100)
    parser.add_argument("--hours", type=float, default=12)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--records", type=int, default=100_000, help="records for the write_records measurement")
    args = parser.parse_args(argv)
    run(args.hosts, args.hours, args.runs, args.records)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
