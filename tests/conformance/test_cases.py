"""Runs every conformance case in cases/*.test (format: README.md).

Each case's query runs against its data set; the Query API response
(`Result.to_timestream()`) must match the expected columns and rows exactly, or the
query must fail with the expected error class and message. Every response is also
checked against botocore's `timestream-query` model of QueryResponse.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import tsql

from .caseformat import parse_file, render_columns, render_rows
from .datasets import open_database

CASES_DIR = Path(__file__).parent / "cases"
CASES = [case for path in sorted(CASES_DIR.glob("*.test")) for case in parse_file(path)]


@pytest.fixture(scope="module")
def databases():
    opened: dict = {}

    def get(case):
        key = case.data_key
        if key not in opened:
            opened[key] = open_database(case.dataset, case.tables)
        return opened[key]

    yield get
    for db in opened.values():
        db.close()


@pytest.fixture(scope="module")
def response_shape():
    botocore = pytest.importorskip("botocore.session")
    from botocore.validate import ParamValidator

    shape = botocore.get_session().get_service_model("timestream-query").shape_for("QueryResponse")
    validator = ParamValidator()

    def check(response: dict) -> None:
        report = validator.validate(response, shape)
        assert not report.has_errors(), report.generate_report()

    return check


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_case(case, databases, response_shape):
    db = databases(case)
    where = f"{case.path.name}:{case.line}"
    if case.error is not None:
        with pytest.raises(tsql.Error) as info:
            db.query(case.sql).to_timestream()
        got = f"{type(info.value).__name__}: {info.value}"
        assert got == case.error, f"{where}: wrong error"
        return
    response = db.query(case.sql).to_timestream()
    response_shape(response)
    assert render_columns(response["ColumnInfo"]) == case.columns, f"{where}: wrong columns"
    rows = render_rows(response["Rows"])
    expected = list(case.rows)
    if not case.ordered:
        rows, expected = sorted(rows), sorted(expected)
    assert rows == expected, f"{where}: wrong rows"


def test_case_files_parse():
    """Every file under cases/ holds at least one case, and names are unique per file."""
    files = sorted(CASES_DIR.glob("*.test"))
    assert files
    for path in files:
        assert parse_file(path), path
