"""Time-series functions benchmark: interpolate_* and approx_percentile over many series.

    python -m bench timeseries --series 1000 --points 10000 --runs 5

Loads `--series` hosts x `--points` irregular cpu readings (10 s apart on average, with
jitter and 10% of readings missing) into an in-memory tsql database, then times, as the
median of `--runs` after a warm-up:
- whole queries: create_time_series per host, then each interpolate_* onto a regular 10 s
  grid (sequence), and approx_percentile per host (one percentile, and an array);
- the kernels alone, on the already built timeseries column (what interpolation costs
  once the series exist);
- the mergeable path: t-digest partials of 4 partitions per host, merged and read;
- DuckDB's quantile_disc per host on the same rows, when duckdb is installed.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import pandas as pd

import tsql
from tsql.clock import FixedClock

NOW = 1_704_067_200 * 10**9
STEP_S = 10


def make_frame(series: int, points: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = series * points
    start = NOW - (points + 10) * STEP_S * 10**9
    offsets = np.arange(points) * STEP_S * 10**9
    jitter = rng.integers(-3 * 10**9, 3 * 10**9, size=n)
    times = start + np.tile(offsets, series) + jitter
    hosts = np.repeat(np.array([f"host_{i}" for i in range(series)], dtype=object), points)
    values = 50 + 20 * np.sin(np.tile(np.arange(points), series) / 50.0) + rng.normal(0, 5, n)
    keep = rng.random(n) >= 0.1  # gaps: 10% of readings missing
    return pd.DataFrame({
        "time": pd.to_datetime(times[keep], unit="ns"),
        "hostname": hosts[keep],
        "measure_name": "cpu",
        "measure_value::double": values[keep].round(3),
    })


def median_time(fn, runs: int) -> float:
    fn()  # warm-up
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


TABLE = '"bench"."cpu"'
GRID = "sequence(min(time), max(time), 10s)"
QUERIES = {
    "interpolate_linear": f"SELECT hostname, interpolate_linear(create_time_series(time, measure_value::double), {GRID}) "
                          f"FROM {TABLE} GROUP BY hostname",
    "interpolate_spline_cubic": f"SELECT hostname, interpolate_spline_cubic(create_time_series(time, "
                                f"measure_value::double), {GRID}) FROM {TABLE} GROUP BY hostname",
    "interpolate_locf": f"SELECT hostname, interpolate_locf(create_time_series(time, measure_value::double), {GRID}) "
                        f"FROM {TABLE} GROUP BY hostname",
    "interpolate_fill": f"SELECT hostname, interpolate_fill(create_time_series(time, measure_value::double), {GRID}, "
                        f"0.0) FROM {TABLE} GROUP BY hostname",
    "create_time_series only": f"SELECT hostname, create_time_series(time, measure_value::double) FROM {TABLE} "
                               f"GROUP BY hostname",
    "approx_percentile(x, 0.99)": f"SELECT hostname, approx_percentile(measure_value::double, 0.99) FROM {TABLE} "
                                  f"GROUP BY hostname",
    "approx_percentile(x, [5 ps])": f"SELECT hostname, approx_percentile(measure_value::double, "
                                    f"ARRAY[0.5, 0.9, 0.95, 0.99, 0.999]) FROM {TABLE} GROUP BY hostname",
}


def kernel_timings(db, runs: int) -> dict:
    """The interpolation kernels alone, on a built timeseries column and grid."""
    from tsql.executor.functions import REGISTRY
    from tsql.types import DOUBLE, ArrayType, TimeSeriesType, TIMESTAMP
    from tsql.executor.column import Vector

    res = db.query(f"SELECT create_time_series(time, measure_value::double) AS ts, {GRID} AS grid "
                   f"FROM {TABLE} GROUP BY hostname")
    ts, grid = res._data
    fill = Vector(DOUBLE, np.zeros(len(ts)))
    out = {}
    for name in ("interpolate_linear", "interpolate_spline_cubic", "interpolate_locf", "interpolate_fill"):
        types = (TimeSeriesType(DOUBLE), ArrayType(TIMESTAMP)) + ((DOUBLE,) if name == "interpolate_fill" else ())
        kernel = REGISTRY.kernel_for(name, types)
        args = [ts, grid] + ([fill] if name == "interpolate_fill" else [])
        out[f"{name} (kernel)"] = median_time(lambda: kernel(args, TimeSeriesType(DOUBLE), None), runs)
    return out


def sketch_timing(frame: pd.DataFrame, runs: int) -> float:
    """t-digest partials over 4 partitions, merged and read (per host)."""
    from tsql.executor.functions.sketches import Digests

    ids = pd.factorize(frame["hostname"])[0]
    count = int(ids.max()) + 1
    x = frame["measure_value::double"].to_numpy()
    parts = np.array_split(np.arange(len(x)), 4)

    def run():
        digests = [Digests.build(x[p], None, ids[p], count) for p in parts]
        Digests.merge(digests).quantiles(np.array([0.99]))

    return median_time(run, runs)


def duckdb_timing(frame: pd.DataFrame, runs: int):
    try:
        import duckdb
    except ImportError:
        return None
    con = duckdb.connect()
    con.register("frame", frame)
    con.execute("CREATE TABLE cpu AS SELECT * FROM frame")
    sql = 'SELECT hostname, quantile_disc("measure_value::double", 0.99) FROM cpu GROUP BY hostname'
    return median_time(lambda: con.execute(sql).fetchall(), runs)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench timeseries")
    parser.add_argument("--series", type=int, default=1000)
    parser.add_argument("--points", type=int, default=10000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)

    frame = make_frame(args.series, args.points)
    db = tsql.connect(clock=FixedClock(NOW))
    db.create_database("bench")
    db.create_table("bench", "cpu", memory_retention_hours=24 * 365)
    started = time.perf_counter()
    db.write_frame("bench", "cpu", frame)
    print(f"{len(frame):,} points in {args.series:,} series loaded in {time.perf_counter() - started:.1f} s; "
          f"median of {args.runs} runs after a warm-up")
    rows = []
    for name, sql in QUERIES.items():
        rows.append((name, median_time(lambda: db.query(sql), args.runs)))
    rows += list(kernel_timings(db, args.runs).items())
    rows.append(("t-digest: 4 partials, merge, p99", sketch_timing(frame, args.runs)))
    duck = duckdb_timing(frame, args.runs)
    if duck is not None:
        rows.append(("DuckDB quantile_disc(x, 0.99)", duck))
    width = max(len(n) for n, _ in rows)
    for name, seconds in rows:
        print(f"{name:<{width}}  {seconds * 1000:9.1f} ms   {len(frame) / seconds / 1e6:7.1f} M points/s")
    db.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
