"""The fifteen TSBS devops query types, in Timestream SQL and in DuckDB SQL.

The data is TSBS's cpu set as single-measure records (tsql.sample_data.devops_frame):
one row per host, field and 10-second tick, the field in measure_name and its value in
measure_value::double. Both dialects run over the same rows; DuckDB's table `cpu` has
the same column names, `time` as TIMESTAMP.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tsql.sample_data import CPU_FIELDS

HOUR = 3600 * 10**9
TABLE = '"tsbs"."cpu"'

QUERY_TYPES = [
    "single-groupby-1-1-1", "single-groupby-1-1-12", "single-groupby-1-8-1",
    "single-groupby-5-1-1", "single-groupby-5-1-12", "single-groupby-5-8-1",
    "cpu-max-all-1", "cpu-max-all-8",
    "double-groupby-1", "double-groupby-5", "double-groupby-all",
    "high-cpu-1", "high-cpu-all",
    "lastpoint", "groupby-orderby-limit",
]


@dataclass(frozen=True)
class Query:
    name: str
    tsql: str
    duckdb: str


def _ts(ns: int) -> str:
    return str(np.datetime64(int(ns), "ns")).replace("T", " ")[:19]


def _in(values) -> str:
    return ", ".join(f"'{v}'" for v in values)


def make_query(name: str, hosts: int, start_ns: int, end_ns: int, rng: np.random.Generator) -> Query:
    """One query of a TSBS type with random hosts and window inside [start_ns, end_ns)."""

    def window(hours: int) -> tuple[str, str]:
        span = hours * HOUR
        latest = max(start_ns, end_ns - span)
        lo = start_ns + int(rng.integers(0, max(1, (latest - start_ns) // 10**9 + 1))) * 10**9
        return _ts(lo), _ts(lo + span)

    def pick_hosts(k: int) -> list[str]:
        return [f"host_{i}" for i in sorted(rng.choice(hosts, size=min(k, hosts), replace=False))]

    if name.startswith("single-groupby"):
        _, _, m, h, t = name.split("-")
        fields = CPU_FIELDS[: int(m)]
        lo, hi = window(int(t))
        where = (f"measure_name IN ({_in(fields)}) AND hostname IN ({_in(pick_hosts(int(h)))}) "
                 f"AND time >= {{ts}}'{lo}' AND time < {{ts}}'{hi}'")
        return _both(
            name,
            f"SELECT bin(time, 1m) AS minute, measure_name, max(measure_value::double) AS max_value "
            f"FROM {TABLE} WHERE {where} GROUP BY bin(time, 1m), measure_name ORDER BY minute, measure_name",
            f"SELECT time_bucket(INTERVAL '1 minute', time) AS minute, measure_name, "
            f"max(\"measure_value::double\") AS max_value FROM cpu WHERE {where} "
            f"GROUP BY 1, 2 ORDER BY 1, 2",
        )
    if name.startswith("cpu-max-all"):
        lo, hi = window(8)
        where = (f"hostname IN ({_in(pick_hosts(int(name.rsplit('-', 1)[1])))}) "
                 f"AND time >= {{ts}}'{lo}' AND time < {{ts}}'{hi}'")
        return _both(
            name,
            f"SELECT bin(time, 1h) AS hour, measure_name, max(measure_value::double) AS max_value "
            f"FROM {TABLE} WHERE {where} GROUP BY bin(time, 1h), measure_name ORDER BY hour, measure_name",
            f"SELECT time_bucket(INTERVAL '1 hour', time) AS hour, measure_name, "
            f"max(\"measure_value::double\") AS max_value FROM cpu WHERE {where} GROUP BY 1, 2 ORDER BY 1, 2",
        )
    if name.startswith("double-groupby"):
        m = name.rsplit("-", 1)[1]
        fields = CPU_FIELDS if m == "all" else CPU_FIELDS[: int(m)]
        lo, hi = window(12)
        where = f"measure_name IN ({_in(fields)}) AND time >= {{ts}}'{lo}' AND time < {{ts}}'{hi}'"
        return _both(
            name,
            f"SELECT hostname, bin(time, 1h) AS hour, measure_name, avg(measure_value::double) AS mean_value "
            f"FROM {TABLE} WHERE {where} GROUP BY hostname, bin(time, 1h), measure_name "
            f"ORDER BY hostname, hour, measure_name",
            f"SELECT hostname, time_bucket(INTERVAL '1 hour', time) AS hour, measure_name, "
            f"avg(\"measure_value::double\") AS mean_value FROM cpu WHERE {where} GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
        )
    if name.startswith("high-cpu"):
        lo, hi = window(12)
        host = "" if name.endswith("all") else f"hostname = '{pick_hosts(1)[0]}' AND "
        where = (f"{host}measure_name = 'usage_user' AND {{value}} > 90.0 "
                 f"AND time >= {{ts}}'{lo}' AND time < {{ts}}'{hi}'")
        return _both(
            name,
            f"SELECT hostname, time, measure_value::double AS usage_user FROM {TABLE} "
            f"WHERE {where.format(value='measure_value::double', ts='{ts}')} ORDER BY hostname, time",
            f"SELECT hostname, time, \"measure_value::double\" AS usage_user FROM cpu "
            f"WHERE {where.format(value=chr(34) + 'measure_value::double' + chr(34), ts='{ts}')} ORDER BY 1, 2",
        )
    if name == "lastpoint":
        return _both(
            name,
            f"SELECT hostname, measure_name, max(time) AS time, max_by(measure_value::double, time) AS value "
            f"FROM {TABLE} GROUP BY hostname, measure_name ORDER BY hostname, measure_name",
            "SELECT hostname, measure_name, max(time) AS time, max_by(\"measure_value::double\", time) AS value "
            "FROM cpu GROUP BY 1, 2 ORDER BY 1, 2",
        )
    if name == "groupby-orderby-limit":
        _, hi = window(1)
        return _both(
            name,
            f"SELECT bin(time, 1m) AS minute, max(measure_value::double) AS max_value FROM {TABLE} "
            f"WHERE measure_name = 'usage_user' AND time < {{ts}}'{hi}' "
            f"GROUP BY bin(time, 1m) ORDER BY minute DESC LIMIT 5",
            f"SELECT time_bucket(INTERVAL '1 minute', time) AS minute, max(\"measure_value::double\") AS max_value "
            f"FROM cpu WHERE measure_name = 'usage_user' AND time < {{ts}}'{hi}' GROUP BY 1 ORDER BY 1 DESC LIMIT 5",
        )
    raise ValueError(f"unknown TSBS query type {name}")


def _both(name: str, tsql_sql: str, duck_sql: str) -> Query:
    # Timestream compares time with a timestamp string; DuckDB wants a TIMESTAMP literal
    return Query(name, tsql_sql.replace("{ts}", ""), duck_sql.replace("{ts}", "TIMESTAMP "))


def all_queries(hosts: int, start_ns: int, end_ns: int, seed: int = 7) -> list[Query]:
    rng = np.random.default_rng(seed)
    return [make_query(name, hosts, start_ns, end_ns, rng) for name in QUERY_TYPES]
