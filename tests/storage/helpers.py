"""Small shared pieces for storage tests: a database on a frozen clock, data, checks."""

from __future__ import annotations

import numpy as np
import pandas as pd

import tsql
from tsql.clock import FixedClock
from tsql.storage.magnetic import MagneticSettings

from ..conftest import NOW

HOUR = 3600 * 10**9
MINUTE = 60 * 10**9
DB = "tsdb"
TABLE = "metrics"

# small row groups and few buckets, so that pruning shows on small data
SMALL = MagneticSettings(row_group_rows=100, buckets=4)


def open_db(path=None, now=NOW, clock=None, **options) -> tsql.Database:
    options.setdefault("maintenance_interval", None)
    options.setdefault("magnetic", SMALL)
    return tsql.connect(path, clock=clock or FixedClock(now), **options)


def points(hosts, start_ns: int, end_ns: int, step_ns: int = MINUTE, measures=("cpu",), value=None) -> pd.DataFrame:
    """A long frame: every host and measure at every step in [start_ns, end_ns); the value
    identifies the point (host number * 1e6 + minute number + measure number / 10)."""
    times = np.arange(start_ns, end_ns, step_ns, dtype=np.int64)
    h, m, t = np.meshgrid(np.arange(len(hosts)), np.arange(len(measures)), np.arange(len(times)), indexing="ij")
    h, m, t = h.ravel(), m.ravel(), t.ravel()
    values = h * 1e6 + (times[t] // MINUTE % 10**5) + m / 10 if value is None else np.full(len(t), value, float)
    return pd.DataFrame({
        "time": times[t].astype("datetime64[ns]"),
        "host": np.asarray(hosts, dtype=object)[h],
        "measure_name": np.asarray(measures, dtype=object)[m],
        "measure_value::double": values,
    })


def contents(db, table: str = TABLE) -> list[tuple]:
    """Every stored point, in a canonical order."""
    return db.query(f'SELECT host, measure_name, time, measure_value::double FROM "{DB}"."{table}" '
                    "ORDER BY host, measure_name, time").rows


def expected(frame: pd.DataFrame) -> list[tuple]:
    f = frame.sort_values(["host", "measure_name", "time"])
    return [(h, m, pd.Timestamp(t), v) for h, m, t, v in
            zip(f["host"], f["measure_name"], f["time"], f["measure_value::double"])]


def tiers(db, table: str = TABLE) -> tuple[int, int]:
    """(rows in the memory store, rows in the magnetic store)."""
    status = db.storage_status(DB, table)
    return status["MemoryStore"]["Rows"], status["MagneticStore"]["Rows"]
