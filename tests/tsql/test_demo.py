"""`tsql demo`: the generated sample database and its sample queries."""

from __future__ import annotations

import io
import re

import numpy as np
import pandas as pd
import pytest

import tsql
from tsql import demo
from tsql.clock import FixedClock
from tsql.repl import Shell

from ..conftest import NOW
from .test_cli import env, run  # noqa: F401 - env is a fixture

HOUR = 3600 * 10**9


@pytest.fixture(scope="module")
def sample():
    """The sample database at NOW (built once: the tests only read it)."""
    db = tsql.connect(clock=FixedClock(NOW))
    written = demo.load_sample_data(db)
    yield db, written
    db.close()


def test_frames_have_timestreams_sample_shape():
    devops, devops_multi = demo.devops_frames(NOW + 7 * 10**9)
    points = demo.HOURS * 3600 // 15
    assert len(devops) == demo.HOSTS * points * 2 and len(devops_multi) == demo.HOSTS * points
    assert list(devops.columns) == ["region", "az", "hostname", "measure_name", "time", "measure_value::double"]
    assert list(devops_multi.columns) == ["region", "az", "hostname", "time", "cpu_utilization", "memory_utilization"]
    times = devops_multi["time"].to_numpy().astype(np.int64)
    assert times.max() == NOW and times.min() == NOW - demo.HOURS * HOUR + 15 * 10**9  # aligned, ending at now
    assert devops_multi["cpu_utilization"].between(0, 100).all()
    assert devops_multi["memory_utilization"].between(20, 95).all()
    assert devops_multi["hostname"].nunique() == demo.HOSTS
    assert all(re.fullmatch(r"host-[A-Za-z0-9]{5}", h) for h in devops_multi["hostname"].unique())

    iot, iot_multi = demo.iot_frames(NOW)
    assert list(iot_multi.columns) == demo.TRUCK_DIMENSIONS + ["time"] + demo.IOT_MEASURES
    assert set(iot["measure_name"].unique()) == set(demo.IOT_MEASURES)
    capacity = iot_multi["fuel_capacity"].astype(float)
    assert ((iot_multi["fuel-reading"] >= 0.05 * capacity - 0.01) & (iot_multi["fuel-reading"] <= capacity)).all()
    assert iot_multi["speed"].between(0, 75).all()
    assert iot_multi["location"].str.fullmatch(r"\d+\.\d{4}° [NS], \d+\.\d{4}° [EW]").all()


def test_generation_is_deterministic_and_relative_to_now():
    a = demo.iot_frames(NOW)[1]
    b = demo.iot_frames(NOW + HOUR)[1]
    pd.testing.assert_frame_equal(a.drop(columns="time"), b.drop(columns="time"))
    assert (b["time"] - a["time"]).eq(pd.Timedelta(hours=1)).all()


def test_load_writes_all_four_tables(sample):
    db, written = sample
    points = demo.HOURS * 3600 // 15
    minutes = demo.HOURS * 60
    assert written == {
        "DevOps": demo.HOSTS * points * 2, "DevOpsMulti": demo.HOSTS * points,
        "IoT": demo.TRUCKS * minutes * 4, "IoTMulti": demo.TRUCKS * minutes,
    }
    assert db.list_tables("sampleDB") == ["DevOps", "DevOpsMulti", "IoT", "IoTMulti"]
    counts = db.query('SELECT measure_name, count(*) FROM "sampleDB"."IoTMulti" GROUP BY measure_name').rows
    assert counts == [("IoTMulti-stats", demo.TRUCKS * minutes)]
    kinds = {r[0]: (r[1], r[2]) for r in db.query('DESCRIBE "sampleDB"."IoTMulti"').rows}
    assert kinds["location"] == ("varchar", "MULTI") and kinds["fuel-reading"] == ("double", "MULTI")
    assert kinds["truck_id"] == ("varchar", "DIMENSION")


def test_single_and_multi_measure_tables_hold_the_same_values(sample):
    db, _ = sample
    single = db.query('SELECT hostname, avg(measure_value::double) FROM "sampleDB"."DevOps" '
                      "WHERE measure_name = 'cpu_utilization' GROUP BY hostname ORDER BY hostname").rows
    multi = db.query('SELECT hostname, avg(cpu_utilization) FROM "sampleDB"."DevOpsMulti" '
                     "GROUP BY hostname ORDER BY hostname").rows
    assert [h for h, _ in single] == [h for h, _ in multi]
    assert np.allclose([v for _, v in single], [v for _, v in multi], rtol=0, atol=1e-9)  # summation order
    locations = db.query('SELECT truck_id, time, measure_value::varchar FROM "sampleDB"."IoT" '
                         "WHERE measure_name = 'location' ORDER BY truck_id, time").rows
    assert locations == db.query('SELECT truck_id, time, location FROM "sampleDB"."IoTMulti" '
                                 "ORDER BY truck_id, time").rows


@pytest.mark.parametrize("title, sql", demo.sample_queries(), ids=lambda v: v[:40])
def test_every_sample_query_returns_rows(sample, title, sql):
    assert len(sample[0].query(sql)) > 0


def test_busiest_hosts_match_pandas(sample):
    db, _ = sample
    _, sql = next(q for q in demo.sample_queries() if q[0].startswith("The five busiest"))
    frame = demo.devops_frames(NOW)[1]
    recent = frame[frame["time"] > pd.Timestamp(NOW - 15 * 60 * 10**9, unit="ns")]
    expected = recent.groupby("hostname", observed=True)["cpu_utilization"].mean().round(2).nlargest(5)
    got = db.query(sql).rows
    assert [(r[2], r[3]) for r in got] == list(expected.items())


def test_low_fuel_trucks_match_pandas(sample):
    db, _ = sample
    _, sql = next(q for q in demo.sample_queries() if q[0].startswith("Trucks under 20%"))
    frame = demo.iot_frames(NOW)[1]
    latest = frame.sort_values("time").groupby("truck_id", observed=True).tail(1)
    pct = (latest["fuel-reading"] / latest["fuel_capacity"].astype(float) * 100)
    expected = sorted((round(p, 1), t) for t, p in zip(latest["truck_id"], pct) if p < 20)
    assert [(r[4], r[0]) for r in db.query(sql).rows] == expected


def test_demo_without_a_terminal_prints_every_sample_query():
    out, err = io.StringIO(), io.StringIO()
    assert demo.main([], stdin=io.StringIO(""), stdout=out, stderr=err, clock=FixedClock(NOW)) == 0
    text = out.getvalue()
    assert err.getvalue() == ""
    for title, sql in demo.sample_queries():
        assert f"-- {title}\n{sql};\n" in text
    # the data and "now" are fixed, so the output is too
    assert (
        "-- Average speed and load per fleet over the last hour\n" in text and
        " fleet   | trucks | avg_speed_mph | avg_load\n"
        "---------+--------+---------------+----------\n"
        " Alpha   |     10 |          42.5 |    478.9\n"
        " Bravo   |      7 |          28.3 |    456.4\n"
        " Charlie |      7 |          34.1 |    426.4\n"
        "(3 rows)\n" in text
    )
    assert (
        " table_name | records | oldest                        | newest\n"
        "------------+---------+-------------------------------+-------------------------------\n"
        " DevOps     |   51840 | 2023-12-31 21:00:15.000000000 | 2024-01-01 00:00:00.000000000\n"
        " IoT        |   17280 | 2023-12-31 21:01:00.000000000 | 2024-01-01 00:00:00.000000000\n"
        "(2 rows)\n" in text
    )


def test_tsql_demo_subprocess_with_piped_stdin(env):
    done = run(["demo"], env, "")
    assert done.returncode == 0 and done.stderr == ""
    assert done.stdout.startswith('-- The tables of the sample database\nSHOW TABLES FROM "sampleDB";\n')
    assert done.stdout.count("\n-- ") == len(demo.sample_queries()) - 1
    assert "Error" not in done.stdout and "Exception" not in done.stdout


def test_demo_into_a_directory_then_again(tmp_path):
    out, err = io.StringIO(), io.StringIO()
    path = str(tmp_path / "data")
    assert demo.main(["--db", path], stdin=io.StringIO(""), stdout=out, stderr=err) == 0
    with tsql.connect(path) as db:
        assert db.list_tables("sampleDB") == ["DevOps", "DevOpsMulti", "IoT", "IoTMulti"]
        assert db.query('SELECT count(*) FROM "sampleDB"."IoTMulti"').scalar() == demo.TRUCKS * demo.HOURS * 60
    err = io.StringIO()
    assert demo.main(["--db", path], stdin=io.StringIO(""), stdout=io.StringIO(), stderr=err) == 1
    assert err.getvalue() == "ConflictException: The database sampleDB already exists.\n"


def test_demo_on_a_terminal_opens_the_shell(monkeypatch):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    opened = {}

    def run_interactive(shell, banner=None):
        opened.update(banner=banner, timing=shell.timing, tables=shell.db.list_tables("sampleDB"))
        return 0

    monkeypatch.setattr(Shell, "run_interactive", run_interactive)
    assert demo.main([], stdin=Terminal(), stdout=io.StringIO(), clock=FixedClock(NOW)) == 0
    assert opened["timing"] and opened["tables"] == ["DevOps", "DevOpsMulti", "IoT", "IoTMulti"]
    assert re.search(r'Loaded "sampleDB" in [\d.]+ m?s: DevOps \(51,840 records\), DevOpsMulti \(25,920 records\), '
                     r"IoT \(17,280 records\), IoTMulti \(4,320 records\), covering the last 3 hours\.",
                     opened["banner"])
    assert "LIMIT 5;" in opened["banner"]
