"""EXISTS and IN subqueries correlated by equalities run once, keyed (rules/decorrelate.py),
and answer as the per-row evaluation does; other correlations stay per row."""

from __future__ import annotations

import pytest

OUTER = "(VALUES (1, 10), (1, 11), (2, 20), (2, 21), (3, 10), (NULL, 10), (2, NULL)) AS t(a, b)"
INNER = "(VALUES (1, 10), (1, NULL), (2, 20), (4, 40)) AS u(x, y)"
# `AND (t.a = t.a OR t.a IS NULL)` changes nothing but refers to the outer row outside an
# equality, which keeps a subquery correlated: the per-row answer to compare with
PER_ROW = " AND (t.a = t.a OR t.a IS NULL)"

QUERIES = [
    f"SELECT a, b, EXISTS (SELECT 1 FROM {INNER} WHERE u.x = t.a{{extra}}) FROM {OUTER}",
    f"SELECT a, b, NOT EXISTS (SELECT 1 FROM {INNER} WHERE u.x = t.a AND u.y > 10{{extra}}) FROM {OUTER}",
    f"SELECT a, b, b IN (SELECT y FROM {INNER} WHERE u.x = t.a{{extra}}) FROM {OUTER}",
    f"SELECT a, b, b NOT IN (SELECT y FROM {INNER} WHERE t.a = u.x{{extra}}) FROM {OUTER}",
    f"SELECT a, b, b IN (SELECT y * 1 FROM {INNER} WHERE u.x + 1 = t.a + 1 AND u.y = t.b{{extra}}) FROM {OUTER}",
]


def explain(db, sql) -> str:
    return "\n".join(r[0] for r in db.query("EXPLAIN " + sql).rows)


@pytest.mark.parametrize("sql", QUERIES)
def test_keyed_subqueries_answer_as_per_row_ones(db, sql):
    keyed, per_row = sql.format(extra=""), sql.format(extra=PER_ROW)
    assert "keyed by" in explain(db, keyed)
    assert "keyed by" not in explain(db, per_row)
    assert sorted(db.query(keyed).rows, key=repr) == sorted(db.query(per_row).rows, key=repr)


def test_the_keyed_answers(db):
    rows = db.query(QUERIES[2].format(extra="")).rows
    assert rows == [(1, 10, True), (1, 11, None), (2, 20, True), (2, 21, False), (3, 10, False),
                    (None, 10, False), (2, None, None)]


def test_other_correlations_stay_per_row(db):
    sql = f"SELECT a, (SELECT count(*) FROM {INNER} WHERE u.x <= t.a) FROM {OUTER}"
    assert "keyed by" not in explain(db, sql)
    assert db.query(sql).rows[:3] == [(1, 2), (1, 2), (2, 3)]


def test_a_keyed_subquery_over_a_table_scans_once_with_pushdown(sample_db):
    records = [{"Dimensions": [{"Name": "host", "Value": h}], "MeasureName": "cpu", "MeasureValue": str(v),
                "Time": str(1_704_067_200_000 - 60_000 * i)} for i, (h, v) in enumerate([("a", 1), ("b", 5), ("c", 9)])]
    sample_db.write_records("tsdb", "metrics", records)
    sql = ('SELECT x FROM (VALUES \'a\', \'b\', \'z\') AS v(x) WHERE EXISTS '
           '(SELECT 1 FROM "tsdb"."metrics" WHERE host = v.x AND measure_value::double > 2 AND time > ago(1h))')
    assert sample_db.query(sql).rows == [("b",)]
    assert "time=[" in explain(sample_db, sql)  # the subquery's plan was optimized too


SCALARS = [
    f"SELECT a, (SELECT count(*) FROM {INNER} WHERE u.x = t.a{{extra}}) FROM {OUTER}",
    f"SELECT a, (SELECT max(y) FROM {INNER} WHERE u.x = t.a{{extra}}) FROM {OUTER}",
    f"SELECT a, b, (SELECT coalesce(sum(y), -1) + count(y) FROM {INNER} WHERE u.x = t.a AND u.y > 15{{extra}}) FROM {OUTER}",
    f"SELECT a FROM {OUTER} WHERE b > (SELECT avg(y) FROM {INNER} WHERE u.x = t.a{{extra}})",
]


@pytest.mark.parametrize("sql", SCALARS)
def test_keyed_scalar_aggregates_answer_as_per_row_ones(db, sql):
    keyed, per_row = sql.format(extra=""), sql.format(extra=PER_ROW)
    assert "keyed by" in explain(db, keyed)
    assert "keyed by" not in explain(db, per_row)
    assert sorted(db.query(keyed).rows, key=repr) == sorted(db.query(per_row).rows, key=repr)


def test_a_keyed_count_of_no_rows_is_zero(db):
    rows = db.query(SCALARS[0].format(extra="")).rows
    assert rows == [(1, 2), (1, 2), (2, 1), (2, 1), (3, 0), (None, 0), (2, 1)]


def test_a_per_row_subquery_reads_outer_columns_the_scan_keeps(sample_db):
    """Column pruning must not renumber the columns a per-row subquery reads."""
    records = [{"Dimensions": [{"Name": "host", "Value": h}], "MeasureName": "cpu", "MeasureValue": str(v),
                "Time": str(1_704_067_200_000 - 60_000 * i)} for i, (h, v) in enumerate([("a", 1), ("a", 5), ("b", 9)])]
    sample_db.write_records("tsdb", "metrics", records)
    sql = ('SELECT host, (SELECT count(*) FROM "tsdb"."metrics" u WHERE u.host = o.host AND u.time <> o.time) '
           'FROM "tsdb"."metrics" o ORDER BY time')
    assert sample_db.query(sql).rows == [("b", 0), ("a", 1), ("a", 1)]
