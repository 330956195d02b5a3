"""Filter pushdown into scans: which predicates become the scan's time range and series
filter (exactly, leaving the Filter, or as a hull, keeping it), read from EXPLAIN."""

from __future__ import annotations

import pytest

from ..conftest import NOW

MS = 10**6


@pytest.fixture
def db(sample_db):
    sample_db.write_records("tsdb", "metrics", [
        {"Dimensions": [{"Name": "host", "Value": h}, {"Name": "region", "Value": r}], "MeasureName": m,
         "MeasureValue": str(v), "Time": str(NOW // MS - ago_min * 60_000)}
        for v, (h, r, m, ago_min) in enumerate([
            ("a", "eu", "cpu", 30), ("a", "eu", "cpu", 90), ("b", "us", "cpu", 30), ("b", "us", "cpu", 150),
            ("c", "us", "mem", 30), ("c", "us", "mem", 90),
        ])
    ])
    return sample_db


def plan(db, where: str) -> list[str]:
    rows = db.query(f'EXPLAIN SELECT host, measure_value::double FROM "tsdb"."metrics" WHERE {where}').rows
    return [r[0].strip() for r in rows]


def values(db, where: str) -> list:
    return sorted(r[0] for r in db.query(f'SELECT measure_value::double FROM "tsdb"."metrics" WHERE {where}').rows)


SCAN = 'Scan "tsdb"."metrics" columns=[host, measure_value::double]'


@pytest.mark.parametrize("where, scan", [
    ("time > ago(1h)", f"{SCAN} time=[2023-12-31 23:00:00.000000001, +inf)"),
    ("time BETWEEN ago(2h) AND ago(1h)",
     f"{SCAN} time=[2023-12-31 22:00:00.000000000, 2023-12-31 23:00:00.000000001)"),
    ("ago(1h) <= time AND time < now()",
     f"{SCAN} time=[2023-12-31 23:00:00.000000000, 2024-01-01 00:00:00.000000000)"),
    ("host IN ('a', 'b') AND measure_name = 'cpu'", f"{SCAN} series=((host IN ('a', 'b')) AND (measure_name = 'cpu'))"),
    ("host = 'a' OR region = 'us'", f"{SCAN} series=((host = 'a') OR (region = 'us'))"),
])
def test_exact_pushdown_leaves_no_filter(db, where, scan):
    assert plan(db, where) == ["Project host, measure_value::double", scan]


def test_exact_pushdown_answers(db):
    assert values(db, "time > ago(1h)") == [0.0, 2.0, 4.0]
    assert values(db, "time BETWEEN ago(2h) AND ago(1h)") == [1.0, 5.0]
    assert values(db, "host = 'a' OR region = 'us'") == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    assert values(db, "host = 'a' OR measure_name = 'mem'") == [0.0, 1.0, 4.0, 5.0]


def test_a_disjunction_narrows_the_scan_to_its_hull_and_stays(db):
    where = "(host = 'a' AND time > ago(1h)) OR (host = 'b' AND time > ago(3h))"
    assert plan(db, where) == [
        "Project host, measure_value::double",
        "Filter (((host = 'a') AND (time > TIMESTAMP '2023-12-31 23:00:00.000000000')) OR ((host = 'b') AND "
        "(time > TIMESTAMP '2023-12-31 21:00:00.000000000')))",
        'Scan "tsdb"."metrics" columns=[host, measure_value::double, time] time=[2023-12-31 21:00:00.000000001, '
        "+inf) series=((host = 'a') OR (host = 'b'))",
    ]
    assert values(db, where) == [0.0, 2.0, 3.0]
    status = db.query(f'SELECT count(*) FROM "tsdb"."metrics" WHERE {where}').status
    assert (status.series_scanned, status.series_pruned) == (2, 1)


def test_a_disjunction_with_an_unbounded_branch_prunes_nothing(db):
    where = "(host = 'a' AND time > ago(1h)) OR measure_value::double > 4"
    assert plan(db, where)[-1] == 'Scan "tsdb"."metrics" columns=[host, measure_value::double, time]'
    assert values(db, where) == [0.0, 5.0]
