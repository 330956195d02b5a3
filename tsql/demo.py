"""`tsql demo`: Timestream's sample database "sampleDB", generated, and sample queries.

The four tables of the Timestream console's sample database, with times ending now:
DevOps (EC2 host metrics, single-measure records: dimensions region, az, hostname;
measures cpu_utilization and memory_utilization), IoT (trucks, single-measure records:
dimensions truck_id, fleet, fuel_capacity, model, load_capacity, make; measures speed,
load, fuel-reading and location), and their multi-measure twins DevOpsMulti (measure
name "metrics") and IoTMulti ("IoTMulti-stats"). Values are bounded random walks, the
same in the single- and multi-measure tables, and deterministic for a seed.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
import pandas as pd

from .sample_data import bounded_walk

DATABASE = "sampleDB"
HOURS = 3
MEMORY_RETENTION_HOURS = 12  # keeps the generated hours in the memory store while the demo runs
SEED = 7
NS = 10**9

# DevOps: a few dozen EC2 hosts, a point every 15 seconds
HOSTS = 36
DEVOPS_STEP = 15 * NS
REGIONS = ["us-east-1", "us-west-2", "eu-west-1"]
DEVOPS_MEASURES = ["cpu_utilization", "memory_utilization"]

# IoT: a fleet of trucks, a reading a minute
TRUCKS = 24
IOT_STEP = 60 * NS
FLEETS = ["Alpha", "Bravo", "Charlie"]
MAKES = [("Ford", "C-600"), ("Kenworth", "W-900"), ("Peterbilt", "579"), ("Freightliner", "Cascadia"),
         ("Volvo", "VNL 760"), ("Mack", "Anthem")]
FUEL_CAPACITIES = [100, 150, 200]  # gallons
LOAD_CAPACITIES = [500, 1000, 1500]
CITIES = [(47.6062, -122.3321), (45.5051, -122.6750), (37.7749, -122.4194), (39.7392, -104.9903),
          (41.8781, -87.6298), (32.7767, -96.7970), (33.7490, -84.3880), (40.7128, -74.0060)]
MILES_PER_GALLON = 6.5
TRUCK_DIMENSIONS = ["truck_id", "fleet", "fuel_capacity", "model", "load_capacity", "make"]
IOT_MEASURES = ["speed", "load", "fuel-reading", "location"]


def _times(end_ns: int, step: int, hours: float) -> np.ndarray:
    """Points every `step` up to the last multiple of `step` at or before `end_ns`."""
    points = int(hours * 3600 * NS // step)
    last = end_ns // step * step
    return last - step * np.arange(points - 1, -1, -1, dtype=np.int64)


def _categorical(values: list[str], index: np.ndarray) -> pd.Categorical:
    """`values[index]` as a categorical: write_frame encodes each distinct value once."""
    codes, uniques = pd.factorize(pd.Series(values))
    return pd.Categorical.from_codes(codes[index], categories=list(uniques))


def _long(dims: pd.DataFrame, times: np.ndarray, measures: dict[str, np.ndarray]) -> pd.DataFrame:
    """Single-measure records in long form: one row per entity, time and measure;
    `measures` maps names to (entities, times) arrays, float (double) or object (varchar)."""
    entities, points = len(dims), len(times)
    entity = np.repeat(np.arange(entities), points)
    parts = []
    for name, values in measures.items():
        part = {c: _categorical(list(dims[c]), entity) for c in dims.columns}
        part["measure_name"] = name
        part["time"] = np.tile(times, entities).astype("datetime64[ns]")
        kind = "varchar" if values.dtype == object else "double"
        part[f"measure_value::{kind}"] = values.reshape(-1)
        parts.append(pd.DataFrame(part))
    frame = pd.concat(parts, ignore_index=True)
    frame["measure_name"] = frame["measure_name"].astype("category")
    return frame


def _wide(dims: pd.DataFrame, times: np.ndarray, measures: dict[str, np.ndarray]) -> pd.DataFrame:
    """Multi-measure records in wide form: one row per entity and time, a column per measure."""
    entities, points = len(dims), len(times)
    entity = np.repeat(np.arange(entities), points)
    frame = {c: _categorical(list(dims[c]), entity) for c in dims.columns}
    frame["time"] = np.tile(times, entities).astype("datetime64[ns]")
    for name, values in measures.items():
        frame[name] = values.reshape(-1)
    return pd.DataFrame(frame)


# --- DevOps -------------------------------------------------------------------------------------

def devops_hosts(hosts: int = HOSTS, seed: int = SEED) -> pd.DataFrame:
    """One row per host: region, az and a hostname such as host-24Gju."""
    rng = np.random.default_rng(seed)
    letters = np.array(list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"))
    names = ["host-" + "".join(letters[rng.integers(0, len(letters), 5)]) for _ in range(hosts)]  # per host
    region = np.arange(hosts) % len(REGIONS)
    az = rng.integers(0, 3, hosts)
    return pd.DataFrame({
        "region": [REGIONS[r] for r in region],
        "az": [REGIONS[r] + "abc"[a] for r, a in zip(region, az)],
        "hostname": names,
    })


def devops_measures(hosts: int, points: int, seed: int = SEED) -> dict[str, np.ndarray]:
    """cpu_utilization and memory_utilization (percent), (hosts, points) each."""
    rng = np.random.default_rng(seed + 1)
    cpu = bounded_walk(rng, (hosts, points), 0.0, 100.0, step=2.0)
    memory = bounded_walk(rng, (hosts, points), 20.0, 95.0, step=0.4)
    return {"cpu_utilization": np.round(cpu, 2), "memory_utilization": np.round(memory, 2)}


def devops_frames(end_ns: int, hosts: int = HOSTS, hours: float = HOURS, seed: int = SEED):
    """(DevOps long frame, DevOpsMulti wide frame) with times ending at `end_ns`."""
    dims = devops_hosts(hosts, seed)
    times = _times(end_ns, DEVOPS_STEP, hours)
    measures = devops_measures(hosts, len(times), seed)
    return _long(dims, times, measures), _wide(dims, times, measures)


# --- IoT ----------------------------------------------------------------------------------------

def iot_trucks(trucks: int = TRUCKS, seed: int = SEED) -> pd.DataFrame:
    """One row per truck: truck_id, fleet, fuel_capacity, model, load_capacity, make
    (all dimensions, so all text)."""
    rng = np.random.default_rng(seed + 2)
    make = rng.integers(0, len(MAKES), trucks)
    frame = pd.DataFrame({
        "truck_id": [str(x) for x in rng.choice(np.arange(10**9, 10**10, 7919), trucks, replace=False)],
        "fleet": [FLEETS[i] for i in rng.integers(0, len(FLEETS), trucks)],
        "fuel_capacity": [str(FUEL_CAPACITIES[i]) for i in rng.integers(0, len(FUEL_CAPACITIES), trucks)],
        "model": [MAKES[i][1] for i in make],
        "load_capacity": [str(LOAD_CAPACITIES[i]) for i in rng.integers(0, len(LOAD_CAPACITIES), trucks)],
        "make": [MAKES[i][0] for i in make],
    })
    return frame[TRUCK_DIMENSIONS]


def iot_measures(trucks: pd.DataFrame, points: int, seed: int = SEED) -> dict[str, np.ndarray]:
    """speed (mph), load, fuel-reading (gallons; a truck refuels when down to 5%) and
    location ('47.6062° N, 122.3321° W', moving with the speed), (trucks, points) each."""
    rng = np.random.default_rng(seed + 3)
    n = len(trucks)
    speed = bounded_walk(rng, (n, points), 0.0, 75.0, step=4.0)
    load_capacity = trucks["load_capacity"].astype(float).to_numpy()[:, None]
    load = np.round(load_capacity * bounded_walk(rng, (n, points), 0.1, 1.0, step=0.02))
    fuel_capacity = trucks["fuel_capacity"].astype(float).to_numpy()[:, None]
    miles = np.cumsum(speed / 60.0, axis=1)  # a reading a minute
    usable = 0.95 * fuel_capacity
    left = rng.uniform(0.0, 1.0, (n, 1)) * usable - miles / MILES_PER_GALLON
    fuel = 0.05 * fuel_capacity + np.mod(left, usable)
    city = rng.integers(0, len(CITIES), n)
    lat0 = np.array([CITIES[c][0] for c in city])[:, None]
    lon0 = np.array([CITIES[c][1] for c in city])[:, None]
    heading = rng.uniform(0, 2 * np.pi, (n, 1)) + np.cumsum(rng.normal(0, 0.05, (n, points)), axis=1)
    step_miles = speed / 60.0
    lat = lat0 + np.cumsum(step_miles * np.cos(heading), axis=1) / 69.0
    lon = lon0 + np.cumsum(step_miles * np.sin(heading), axis=1) / (69.0 * np.cos(np.radians(lat0)))
    return {
        "speed": np.round(speed, 1),
        "load": load,
        "fuel-reading": np.round(fuel, 2),
        "location": _locations(lat, lon),
    }


def _locations(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    text = np.char.add(np.char.mod("%.4f° ", np.abs(lat)), np.where(lat >= 0, "N, ", "S, "))
    text = np.char.add(text, np.char.mod("%.4f° ", np.abs(lon)))
    return np.char.add(text, np.where(lon >= 0, "E", "W")).astype(object)


def iot_frames(end_ns: int, trucks: int = TRUCKS, hours: float = HOURS, seed: int = SEED):
    """(IoT long frame, IoTMulti wide frame) with times ending at `end_ns`."""
    dims = iot_trucks(trucks, seed)
    times = _times(end_ns, IOT_STEP, hours)
    measures = iot_measures(dims, len(times), seed)
    return _long(dims, times, measures), _wide(dims, times, measures)


# --- loading ------------------------------------------------------------------------------------

def load_sample_data(db, now_ns: int | None = None, seed: int = SEED) -> dict[str, int]:
    """Create "sampleDB" and its four tables in `db`, filled with data ending at `now_ns`
    (the database's clock by default). Returns the records written per table."""
    now_ns = db.clock.now_ns() if now_ns is None else now_ns
    devops, devops_multi = devops_frames(now_ns, seed=seed)
    iot, iot_multi = iot_frames(now_ns, seed=seed)
    db.create_database(DATABASE)
    for table in ("DevOps", "DevOpsMulti", "IoT", "IoTMulti"):
        db.create_table(DATABASE, table, memory_retention_hours=MEMORY_RETENTION_HOURS)
    written = {
        "DevOps": db.write_frame(DATABASE, "DevOps", devops)["Total"],
        "DevOpsMulti": db.write_frame(DATABASE, "DevOpsMulti", devops_multi, measure_name="metrics")["Total"],
        "IoT": db.write_frame(DATABASE, "IoT", iot)["Total"],
    }
    # a wide frame's text columns are dimensions unless the table already has them as
    # measures: the first reading of each truck goes in as records to declare `location`
    first = iot_multi.groupby("truck_id", observed=True).head(1)
    records = _multi_records(first, "IoTMulti-stats")
    for i in range(0, len(records), 100):  # WriteRecords takes 100 records a call
        db.write_records(DATABASE, "IoTMulti", records[i:i + 100])
    rest = iot_multi.drop(index=first.index)
    multi = db.write_frame(DATABASE, "IoTMulti", rest, measure_name="IoTMulti-stats")
    written["IoTMulti"] = len(records) + multi["Total"]
    return written


def _multi_records(frame: pd.DataFrame, measure_name: str) -> list[dict]:
    """Timestream MULTI records for the rows of a (small) IoT wide frame."""
    records = []
    for row in frame.itertuples(index=False):  # one record per truck: a few dozen
        values = dict(zip(frame.columns, row))
        records.append({
            "Dimensions": [{"Name": d, "Value": str(values[d])} for d in TRUCK_DIMENSIONS],
            "MeasureName": measure_name,
            "MeasureValueType": "MULTI",
            "MeasureValues": [
                {"Name": m, "Value": str(values[m]), "Type": "VARCHAR" if m == "location" else "DOUBLE"}
                for m in IOT_MEASURES
            ],
            "Time": str(pd.Timestamp(values["time"]).value),
            "TimeUnit": "NANOSECONDS",
        })
    return records


# --- sample queries -----------------------------------------------------------------------------

def sample_queries(seed: int = SEED) -> list[tuple[str, str]]:
    """(title, SQL) pairs in the spirit of the Timestream console's sample queries."""
    host = devops_hosts(seed=seed)["hostname"][0]
    return [
        ("The tables of the sample database", f'SHOW TABLES FROM "{DATABASE}"'),
        ("How much data each table holds, and over what time", f"""\
SELECT 'DevOps' AS table_name, count(*) AS records, min(time) AS oldest, max(time) AS newest
FROM "{DATABASE}"."DevOps"
UNION ALL
SELECT 'IoT', count(*), min(time), max(time) FROM "{DATABASE}"."IoT"
ORDER BY table_name"""),
        ("The measures of DevOps and the dimensions they come with", f'SHOW MEASURES FROM "{DATABASE}"."DevOps"'),
        ("The columns of IoTMulti", f'DESCRIBE "{DATABASE}"."IoTMulti"'),
        (f"Average, p90 and p99 CPU of {host} in 5-minute bins over the last hour", f"""\
SELECT bin(time, 5m) AS binned_time,
       round(avg(measure_value::double), 2) AS avg_cpu,
       round(approx_percentile(measure_value::double, 0.9), 2) AS p90_cpu,
       round(approx_percentile(measure_value::double, 0.99), 2) AS p99_cpu
FROM "{DATABASE}"."DevOps"
WHERE measure_name = 'cpu_utilization' AND hostname = '{host}' AND time > ago(1h)
GROUP BY bin(time, 5m)
ORDER BY binned_time"""),
        ("The five busiest hosts of the last 15 minutes", f"""\
SELECT region, az, hostname, round(avg(measure_value::double), 2) AS avg_cpu
FROM "{DATABASE}"."DevOps"
WHERE measure_name = 'cpu_utilization' AND time > ago(15m)
GROUP BY region, az, hostname
ORDER BY avg_cpu DESC
LIMIT 5"""),
        ("Hosts running 10% or more above the fleet's average CPU over the last hour", f"""\
WITH fleet AS (
    SELECT avg(cpu_utilization) AS fleet_cpu
    FROM "{DATABASE}"."DevOpsMulti" WHERE time > ago(1h)
), hosts AS (
    SELECT hostname, avg(cpu_utilization) AS host_cpu
    FROM "{DATABASE}"."DevOpsMulti" WHERE time > ago(1h)
    GROUP BY hostname
)
SELECT hostname, round(host_cpu, 2) AS avg_cpu, round(fleet_cpu, 2) AS fleet_avg_cpu
FROM hosts CROSS JOIN fleet
WHERE host_cpu >= 1.1 * fleet_cpu
ORDER BY avg_cpu DESC
LIMIT 10"""),
        ("CPU and memory per region in 15-minute bins over the last hour", f"""\
SELECT region, bin(time, 15m) AS binned_time,
       round(avg(cpu_utilization), 2) AS avg_cpu,
       round(max(memory_utilization), 2) AS max_memory
FROM "{DATABASE}"."DevOpsMulti"
WHERE time > ago(1h)
GROUP BY region, bin(time, 15m)
ORDER BY region, binned_time"""),
        ("The latest reading of each truck", f"""\
SELECT truck_id, fleet, make, model, max(time) AS last_seen,
       max_by(speed, time) AS speed, max_by("fuel-reading", time) AS fuel, max_by(location, time) AS location
FROM "{DATABASE}"."IoTMulti"
WHERE time > ago(1h)
GROUP BY truck_id, fleet, make, model
ORDER BY truck_id
LIMIT 10"""),
        ("Average speed and load per fleet over the last hour", f"""\
SELECT fleet, count(DISTINCT truck_id) AS trucks,
       round(avg(CASE WHEN measure_name = 'speed' THEN measure_value::double END), 1) AS avg_speed_mph,
       round(avg(CASE WHEN measure_name = 'load' THEN measure_value::double END), 1) AS avg_load
FROM "{DATABASE}"."IoT"
WHERE measure_name IN ('speed', 'load') AND time > ago(1h)
GROUP BY fleet
ORDER BY fleet"""),
        ("Trucks under 20% fuel at their latest reading", f"""\
WITH latest AS (
    SELECT truck_id, fleet, make, model, fuel_capacity, max_by(measure_value::double, time) AS fuel
    FROM "{DATABASE}"."IoT"
    WHERE measure_name = 'fuel-reading' AND time > ago(24h)
    GROUP BY truck_id, fleet, make, model, fuel_capacity
)
SELECT truck_id, fleet, make, model, round(fuel / cast(fuel_capacity AS double) * 100, 1) AS fuel_pct
FROM latest
WHERE fuel / cast(fuel_capacity AS double) < 0.2
ORDER BY fuel_pct"""),
    ]


# --- `tsql demo` --------------------------------------------------------------------------------

def main(argv: list[str], stdin=None, stdout=None, stderr=None, clock=None) -> int:
    """Open the shell on Timestream's sample database (generated, in memory)."""
    import tsql

    from .render import format_error, format_seconds
    from .repl import Shell, banner

    stdin, stdout, stderr = stdin or sys.stdin, stdout or sys.stdout, stderr or sys.stderr
    parser = argparse.ArgumentParser(
        prog="tsql demo",
        description="Load Timestream's sample database (DevOps and IoT data of the last "
                    f"{HOURS} hours, generated) into an in-memory database and open the shell on it. "
                    "With stdin not a terminal, run the sample queries, print their results and exit.",
    )
    parser.add_argument("--db", metavar="PATH", help="load into the database in directory PATH instead, "
                                                     "to use it later with tsql PATH, tsql query --db PATH")
    args = parser.parse_args(argv)
    try:
        db = tsql.connect(args.db, clock=clock)
    except tsql.Error as e:
        print(format_error(e), file=stderr)
        return 1
    with db:
        started = time.perf_counter()
        try:
            written = load_sample_data(db)
        except tsql.Error as e:  # e.g. the directory of --db has a sampleDB already
            print(format_error(e), file=stderr)
            return 1
        seconds = time.perf_counter() - started
        shell = Shell(db, out=stdout, err=stderr)
        if not stdin.isatty():
            ok = True
            for title, sql in sample_queries():
                stdout.write(f"-- {title}\n{sql};\n")
                ok &= shell.query(sql)
            return 0 if ok else 1
        tables = ", ".join(f"{name} ({count:,} records)" for name, count in written.items())
        shell.timing = True
        example = next(sql for title, sql in sample_queries() if "busiest" in title)
        intro = (
            f"{banner()}\n\nLoaded \"{DATABASE}\" in {format_seconds(seconds)}: {tables}, "
            f"covering the last {HOURS} hours.\nTry \\dt, \\d \"{DATABASE}\".\"DevOps\", or:\n\n{example};\n"
        )
        return shell.run_interactive(banner=intro)
