"""Result.to_timestream(): the Query API's response shape, pages and their limits."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tsql
from tsql.formatting import format_double, format_doubles, format_timestamps, format_values
from tsql.result import PAGE_BYTES


@pytest.fixture(scope="module")
def query_shape():
    botocore = pytest.importorskip("botocore.session")
    from botocore.validate import ParamValidator

    shape = botocore.get_session().get_service_model("timestream-query").shape_for("QueryResponse")

    def check(response):
        report = ParamValidator().validate(response, shape)
        assert not report.has_errors(), report.generate_report()
        return response

    return check


def test_scalar_datums_and_column_types(db, query_shape):
    response = query_shape(db.query(
        "SELECT 1 AS i, CAST(2 AS bigint) AS b, 2.5 AS d, true AS t, 'x' AS s, NULL AS n, "
        "TIMESTAMP '2020-08-08 01:00:00' AS ts, DATE '2020-08-08' AS dt, TIME '01:00:00' AS tm, "
        "parse_duration('45h') AS ds, 31month AS ym"
    ).to_timestream())
    assert [(c["Name"], c["Type"]) for c in response["ColumnInfo"]] == [
        ("i", {"ScalarType": "INTEGER"}), ("b", {"ScalarType": "BIGINT"}), ("d", {"ScalarType": "DOUBLE"}),
        ("t", {"ScalarType": "BOOLEAN"}), ("s", {"ScalarType": "VARCHAR"}), ("n", {"ScalarType": "UNKNOWN"}),
        ("ts", {"ScalarType": "TIMESTAMP"}), ("dt", {"ScalarType": "DATE"}), ("tm", {"ScalarType": "TIME"}),
        ("ds", {"ScalarType": "INTERVAL_DAY_TO_SECOND"}), ("ym", {"ScalarType": "INTERVAL_YEAR_TO_MONTH"}),
    ]
    assert response["Rows"] == [{"Data": [
        {"ScalarValue": "1"}, {"ScalarValue": "2"}, {"ScalarValue": "2.5"}, {"ScalarValue": "true"},
        {"ScalarValue": "x"}, {"NullValue": True}, {"ScalarValue": "2020-08-08 01:00:00.000000000"},
        {"ScalarValue": "2020-08-08"}, {"ScalarValue": "01:00:00.000000000"},
        {"ScalarValue": "1 21:00:00.000000000"}, {"ScalarValue": "2-7"},
    ]}]
    assert response["QueryStatus"] == {"ProgressPercentage": 100.0, "CumulativeBytesScanned": 0,
                                       "CumulativeBytesMetered": 0}
    assert "NextToken" not in response


def test_nested_datums_and_column_types(db, query_shape):
    response = query_shape(db.query(
        "SELECT ARRAY[1, NULL] AS a, CAST(ROW(1, 'x') AS ROW(k bigint, v varchar)) AS r, ROW(2.5, true) AS anon, "
        "ARRAY[ROW(1, 'y')] AS ar"
    ).to_timestream())
    assert [c["Type"] for c in response["ColumnInfo"]] == [
        {"ArrayColumnInfo": {"Type": {"ScalarType": "INTEGER"}}},
        {"RowColumnInfo": [{"Name": "k", "Type": {"ScalarType": "BIGINT"}},
                           {"Name": "v", "Type": {"ScalarType": "VARCHAR"}}]},
        {"RowColumnInfo": [{"Type": {"ScalarType": "DOUBLE"}}, {"Type": {"ScalarType": "BOOLEAN"}}]},
        {"ArrayColumnInfo": {"Type": {"RowColumnInfo": [{"Type": {"ScalarType": "INTEGER"}},
                                                        {"Type": {"ScalarType": "VARCHAR"}}]}}},
    ]
    assert response["Rows"][0]["Data"] == [
        {"ArrayValue": [{"ScalarValue": "1"}, {"NullValue": True}]},
        {"RowValue": {"Data": [{"ScalarValue": "1"}, {"ScalarValue": "x"}]}},
        {"RowValue": {"Data": [{"ScalarValue": "2.5"}, {"ScalarValue": "true"}]}},
        {"ArrayValue": [{"RowValue": {"Data": [{"ScalarValue": "1"}, {"ScalarValue": "y"}]}}]},
    ]


def test_pages_of_max_rows_follow_their_tokens(db, query_shape):
    result = db.query("SELECT x FROM UNNEST(sequence(1, 7)) AS t(x) ORDER BY x")
    pages, token = [], None
    while True:
        page = query_shape(result.to_timestream(max_rows=3, next_token=token))
        pages.append([int(r["Data"][0]["ScalarValue"]) for r in page["Rows"]])
        token = page.get("NextToken")
        if token is None:
            break
    assert pages == [[1, 2, 3], [4, 5, 6], [7]]
    assert [r["Data"][0]["ScalarValue"] for r in result.to_timestream()["Rows"]] == [str(i) for i in range(1, 8)]


def test_a_token_belongs_to_its_query(db):
    first = db.query("SELECT x FROM UNNEST(sequence(1, 5)) AS t(x)")
    token = first.to_timestream(max_rows=2)["NextToken"]
    other = db.query("SELECT x FROM UNNEST(sequence(1, 5)) AS t(x)")
    with pytest.raises(tsql.ValidationError, match="Invalid pagination token"):
        other.to_timestream(max_rows=2, next_token=token)
    with pytest.raises(tsql.ValidationError, match="Invalid pagination token"):
        first.to_timestream(next_token="garbage")


@pytest.mark.parametrize("max_rows", [0, 1001])
def test_max_rows_range(db, max_rows):
    with pytest.raises(tsql.ValidationError, match="MaxRows must be between 1 and 1000."):
        db.query("SELECT 1").to_timestream(max_rows=max_rows)


def test_a_page_holds_at_most_a_megabyte(db, query_shape):
    result = db.query("SELECT x, rpad('', 300000, 'y') AS big FROM UNNEST(sequence(1, 10)) AS t(x) ORDER BY x")
    seen, token, sizes = [], None, []
    while True:
        page = query_shape(result.to_timestream(next_token=token))
        seen += [int(r["Data"][0]["ScalarValue"]) for r in page["Rows"]]
        sizes.append(len(page["Rows"]))
        token = page.get("NextToken")
        if token is None:
            break
    assert seen == list(range(1, 11))
    assert sizes == [3, 3, 3, 1]  # 3 rows of 300 KB fit a page, 4 do not


def test_a_row_larger_than_a_page_aborts_the_query(db):
    result = db.query("SELECT rpad('', 1100000, 'y')")
    with pytest.raises(tsql.ValidationError) as info:
        result.to_timestream()
    assert str(info.value) == "Query aborted as max page response size has been exceeded by the output result row"


def test_an_empty_result_has_columns_and_no_rows(db, query_shape):
    response = query_shape(db.query("SELECT 1 AS one WHERE false").to_timestream())
    assert response["Rows"] == [] and response["ColumnInfo"] == [{"Name": "one", "Type": {"ScalarType": "INTEGER"}}]
    assert "NextToken" not in response


@pytest.mark.parametrize("value, text", [
    (2.5, "2.5"), (35.0, "35.0"), (1655487883.771, "1.655487883771E9"), (0.001, "0.001"), (0.0001, "1.0E-4"),
    (9999999.0, "9999999.0"), (10000000.0, "1.0E7"), (-0.0, "-0.0"), (1e-300, "1.0E-300"), (123456.789e10, "1.23456789E15"),
    (float("nan"), "NaN"), (float("inf"), "Infinity"), (float("-inf"), "-Infinity"), (5e-324, "4.9E-324"),
])
def test_doubles_print_as_java_prints_them(value, text):
    assert format_double(value) == text


@given(st.lists(st.floats(width=64)))
def test_doubles_in_bulk_print_as_one_by_one(values):
    assert format_doubles(values) == [format_double(v) for v in values]


def test_timestamps_in_bulk():
    ns = np.array([0, 1_598_915_302_123_456_789, -1], dtype=np.int64)
    assert format_timestamps(ns).tolist() == [
        "1970-01-01 00:00:00.000000000", "2020-08-31 23:08:22.123456789", "1969-12-31 23:59:59.999999999"]
    assert format_timestamps(np.array([], dtype=np.int64)).tolist() == []
    assert format_values([None, 0, None], "timestamp") == [None, "1970-01-01 00:00:00.000000000", None]


def test_many_small_rows_fill_a_page_to_its_megabyte(db, query_shape):
    result = db.query("SELECT x, rpad('', 200, 'y') AS pad FROM UNNEST(sequence(1, 12000)) AS t(x) ORDER BY x")
    seen, token = [], None
    while True:
        page = query_shape(result.to_timestream(next_token=token))
        rows = page["Rows"]
        seen += [int(r["Data"][0]["ScalarValue"]) for r in rows]
        size = len(json.dumps(page, separators=(",", ":"), ensure_ascii=False))
        assert size <= PAGE_BYTES
        token = page.get("NextToken")
        if token is None:
            break
        assert size > PAGE_BYTES - 1000  # full: the next row (about 250 bytes of JSON) did not fit
    assert seen == list(range(1, 12001))
