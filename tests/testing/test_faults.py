"""Fault injection, through boto3 on the in-process mock (tsql serve takes the same Faults)."""

from __future__ import annotations

import time

import boto3
import pytest
from botocore.config import Config

import tsql
from tsql.testing import Faults, mock_timestream
from tsql.testing.server import _fault_flags

from ..conftest import NOW

NO_RETRIES = Config(retries={"total_max_attempts": 1})


def _records(n: int) -> list[dict]:
    return [{"Dimensions": [{"Name": "device", "Value": f"d{i}"}], "MeasureName": "temp",
             "MeasureValue": str(i), "Time": str(NOW // 10**6 - 1000)} for i in range(n)]


def _outcomes(calls: int, **faults) -> list:
    """What each of `calls` ListDatabases calls got: None or the error code."""
    out = []
    with mock_timestream(**faults):
        write = boto3.client("timestream-write", config=NO_RETRIES)
        for _ in range(calls):
            try:
                write.list_databases()
                out.append(None)
            except write.exceptions.ClientError as e:
                out.append(e.response["Error"]["Code"])
    return out


def test_throttling_on_given_calls_and_internal_errors():
    got = _outcomes(5, throttle_calls=(2, 3), internal_error_calls=(5,))
    assert got == [None, "ThrottlingException", "ThrottlingException", None, "InternalServerException"]


def test_a_rate_is_reproducible_from_its_seed():
    first = _outcomes(40, throttle_rate=0.3, seed=11)
    assert first == _outcomes(40, throttle_rate=0.3, seed=11)
    assert 4 <= first.count("ThrottlingException") <= 20
    assert first != _outcomes(40, throttle_rate=0.3, seed=12)


def test_botocore_retries_throttled_calls_by_itself():
    with mock_timestream(throttle_calls=(1, 2)) as ts:
        boto3.client("timestream-write", config=Config(retries={"mode": "standard", "total_max_attempts": 3},
                                                       )).list_databases()
        assert [e for op, e in ts.calls if op == "ListDatabases"] == ["ThrottlingException"] * 2 + [None]


def test_partial_rejections_store_the_other_records():
    with mock_timestream(now=NOW, reject_rate=0.25, seed=3) as ts:
        write = boto3.client("timestream-write", config=NO_RETRIES)
        write.create_database(DatabaseName="app")
        write.create_table(DatabaseName="app", TableName="tbl")
        with pytest.raises(write.exceptions.RejectedRecordsException) as info:
            write.write_records(DatabaseName="app", TableName="tbl", Records=_records(40))
        rejected = [r["RecordIndex"] for r in info.value.response["RejectedRecords"]]
        assert 0 < len(rejected) < 40 and rejected == sorted(rejected)
        assert all("fault injection" in r["Reason"] for r in info.value.response["RejectedRecords"])
        stored = {row[0] for row in ts.query("SELECT device FROM app.tbl").rows}
        assert stored == {f"d{i}" for i in range(40) if i not in rejected}
        assert ts.injected["RejectedRecords"] == len(rejected)


def test_rejections_by_the_rules_and_by_faults_together():
    with mock_timestream(now=NOW, reject_rate=0.5, seed=1) as ts:
        ts.create_database("app")
        ts.create_table("app", "tbl")
        records = _records(10)
        records[9]["MeasureValue"] = "not a number"
        write = boto3.client("timestream-write", config=NO_RETRIES)
        with pytest.raises(write.exceptions.RejectedRecordsException) as info:
            write.write_records(DatabaseName="app", TableName="tbl", Records=records)
        reasons = {r["RecordIndex"]: r["Reason"] for r in info.value.response["RejectedRecords"]}
        assert 9 in reasons
        kept = [i for i in range(10) if i not in reasons]
        assert sorted(int(r[0][1:]) for r in ts.query("SELECT device FROM app.tbl").rows) == kept


def test_pages_split_with_empty_pages_first():
    with mock_timestream(now=NOW, page_rows=3, empty_pages=2) as ts:
        ts.create_database("app")
        ts.create_table("app", "tbl")
        ts.write_records("app", "tbl", _records(7))
        query = boto3.client("timestream-query")
        pages = list(query.get_paginator("query").paginate(QueryString="SELECT device FROM app.tbl ORDER BY device"))
        assert [len(p["Rows"]) for p in pages] == [0, 0, 3, 3, 1]
        assert all(p["ColumnInfo"] == [{"Name": "device", "Type": {"ScalarType": "VARCHAR"}}] for p in pages)
        assert [r["Data"][0]["ScalarValue"] for p in pages for r in p["Rows"]] == [f"d{i}" for i in range(7)]
        # a caller asking for fewer rows than page_rows gets its MaxRows
        first = query.query(QueryString="SELECT device FROM app.tbl", MaxRows=1)
        assert first["Rows"] == [] and "NextToken" in first


def test_latency_and_operations():
    with mock_timestream(latency=0.05, operations={"WriteRecords"}, throttle_rate=1.0) as ts:
        write = boto3.client("timestream-write", config=NO_RETRIES)
        started = time.perf_counter()
        write.list_databases()  # not among the operations: answered, only late
        assert time.perf_counter() - started >= 0.05
        ts.create_database("app")
        ts.create_table("app", "tbl")
        with pytest.raises(write.exceptions.ThrottlingException):
            write.write_records(DatabaseName="app", TableName="tbl", Records=_records(1))


def test_faults_are_checked_and_become_server_flags():
    with pytest.raises(tsql.ValidationError, match="page_rows must be between 1 and 1000"):
        Faults(page_rows=0)
    flags = _fault_flags(Faults(throttle_calls=(2, 5), reject_rate=0.1, seed=4))
    assert flags == ["--throttle-calls", "2,5", "--reject-rate", "0.1", "--fault-seed", "4"]
