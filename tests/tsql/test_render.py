"""Results and errors as text: tables, CSV, JSON, and errors with a caret."""

from __future__ import annotations

import json

import pytest

import tsql
from tsql.render import format_error, format_table, render, result_table

SQL = (
    "SELECT 1 AS n, 2.5 AS d, 'x' AS s, NULL AS nothing, true AS b, "
    "timestamp '2024-01-01 10:00:00' AS ts, date '2024-01-02' AS dt, array[1.5, 35.0] AS a, "
    "parse_duration('1d') AS i"
)


def test_table_right_aligns_numbers_and_shows_nulls(db):
    assert result_table(db.query("SELECT 'a' AS s, 7 AS n, 12.25 AS d UNION ALL SELECT 'bbbb', 123, NULL")) == (
        " s    | n   | d\n"
        "------+-----+-------\n"
        " a    |   7 | 12.25\n"
        " bbbb | 123 |  NULL\n"
        "(2 rows)"
    )


def test_values_print_as_timestream_text(db):
    text = result_table(db.query(SQL))
    assert text.splitlines()[2] == (
        " 1 | 2.5 | x | NULL    | true | 2024-01-01 10:00:00.000000000 | 2024-01-02 | [1.5, 35.0] | 1 00:00:00.000000000"
    )
    assert text.endswith("(1 row)")


def test_wide_cells_are_cut_and_line_breaks_shown():
    table = format_table(["a"], [["x" * 100], ["one\ntwo"]], max_width=10)
    assert table.splitlines() == [" a", "------------", " xxxxxxx...", " one\\ntwo"]


def test_wide_characters_align():
    table = format_table(["name", "n"], [["東京", "1"], ["ab", "22"]], [False, True])
    assert table.splitlines()[2:] == [" 東京 |  1", " ab   | 22"]


def test_footer_with_timing_and_limit(db):
    res = db.query("SELECT x FROM (VALUES (1), (2), (3)) AS t(x)")
    assert result_table(res, max_rows=2, seconds=0.0123).splitlines()[-1] == "(3 rows, showing the first 2, 12.3 ms)"


def test_no_rows(db):
    assert result_table(db.query("SELECT 1 AS a WHERE false")) == " a\n---\n(0 rows)"


def test_csv_is_rfc4180_with_timestream_text(db):
    res = db.query("SELECT 'a,b' AS s, 'say \"hi\"' AS q, '' AS e, NULL AS n, 2.0 AS d, "
                   "timestamp '2024-01-01 00:00:00' AS t")
    assert render(res, "csv") == (
        's,q,e,n,d,t\r\n'
        '"a,b","say ""hi""","",,2.0,2024-01-01 00:00:00.000000000\r\n'
    )


def test_json_types(db):
    rows = json.loads(render(db.query(SQL), "json"))
    assert rows == [{
        "n": 1, "d": 2.5, "s": "x", "nothing": None, "b": True, "ts": "2024-01-01 10:00:00.000000000",
        "dt": "2024-01-02", "a": [1.5, 35.0], "i": "1 00:00:00.000000000",
    }]
    special = json.loads(render(db.query("SELECT nan() AS x, infinity() AS y, (1, 'a') AS r"), "json"))
    assert special == [{"x": "NaN", "y": "Infinity", "r": [1, "a"]}]
    assert render(db.query("SELECT 1 AS a WHERE false"), "json") == "[]\n"


def test_error_with_caret_under_the_column(db):
    sql = "SELECT 1\nFROM \"nowhere\".\"t\""
    with pytest.raises(tsql.ValidationError) as info:
        db.query(sql)
    assert format_error(info.value, sql) == (
        f"ValidationException: {info.value.message}\n"
        '  FROM "nowhere"."t"\n'
        "       ^"
    )
    assert (info.value.line, info.value.column) == (2, 6)


def test_error_without_position_is_one_line(db):
    with pytest.raises(tsql.QueryExecutionError) as info:
        db.query("SELECT 1 / 0")
    assert format_error(info.value, "SELECT 1 / 0") == "QueryExecutionException: Division by zero"


def test_internal_error_is_one_line_unless_debugging(monkeypatch):
    monkeypatch.delenv("TSQL_DEBUG", raising=False)
    try:
        {}["missing"]
    except KeyError as e:
        error = e
    text = format_error(error, "SELECT 1")
    assert text == (
        "Internal error: KeyError: 'missing'. This is a bug in tsql; please report it with the statement "
        "that caused it (TSQL_DEBUG=1 prints the traceback)."
    )
    monkeypatch.setenv("TSQL_DEBUG", "1")
    debug = format_error(error, "SELECT 1")
    assert debug.startswith("Traceback (most recent call last):") and debug.endswith(text)
