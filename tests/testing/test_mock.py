"""mock_timestream(): boto3's Timestream clients served in-process, others left alone."""

from __future__ import annotations

import boto3
import botocore.session
import pytest
from botocore.config import Config

import tsql
from tsql.testing import mock_timestream

from ..conftest import NOW

NOW_MS = NOW // 10**6


def _record(i: int, device: str = "a") -> dict:
    return {"Dimensions": [{"Name": "device", "Value": device}], "MeasureName": "temp",
            "MeasureValue": str(i), "Time": str(NOW_MS - i * 1000)}


def _setup(write) -> None:
    write.create_database(DatabaseName="app")
    write.create_table(DatabaseName="app", TableName="events")


@pytest.mark.parametrize("client_options", [
    {},
    {"region_name": "ap-southeast-2", "aws_access_key_id": "AKIAEXAMPLE", "aws_secret_access_key": "x"},
    {"region_name": "us-west-2", "endpoint_url": "https://ingest.timestream.us-west-2.amazonaws.com"},
])
def test_any_client_is_served_in_process(client_options):
    with mock_timestream(now=NOW) as ts:
        write = boto3.client("timestream-write", **client_options)
        _setup(write)
        response = write.write_records(DatabaseName="app", TableName="events", Records=[_record(i) for i in range(5)])
        assert response["RecordsIngested"] == {"Total": 5, "MemoryStore": 5, "MagneticStore": 0}
        query = botocore.session.get_session().create_client("timestream-query", **client_options)
        rows = query.query(QueryString="SELECT sum(measure_value::double) FROM app.events")["Rows"]
        assert rows == [{"Data": [{"ScalarValue": "10.0"}]}]
        assert ts.query("SELECT count(*) FROM app.events").scalar() == 5
        discovered = "endpoint_url" not in client_options  # an explicit endpoint skips discovery
        assert (ts.calls[0] == ("DescribeEndpoints", None)) == discovered


def test_errors_come_back_as_botocore_exceptions():
    with mock_timestream():
        write = boto3.client("timestream-write")
        with pytest.raises(write.exceptions.ResourceNotFoundException, match="The database nope does not exist."):
            write.describe_database(DatabaseName="nope")
        query = boto3.client("timestream-query")
        with pytest.raises(query.exceptions.ValidationException, match="line 1:15"):
            query.query(QueryString="SELECT * FROM nope.t")


def test_the_paginator_reads_every_page():
    with mock_timestream(now=NOW):
        write = boto3.client("timestream-write")
        _setup(write)
        write.write_records(DatabaseName="app", TableName="events", Records=[_record(i) for i in range(25)])
        pages = list(boto3.client("timestream-query").get_paginator("query").paginate(
            QueryString="SELECT measure_value::double AS v FROM app.events ORDER BY v",
            PaginationConfig={"PageSize": 10}))
        assert [len(p["Rows"]) for p in pages] == [10, 10, 5]


def test_other_services_and_clients_after_the_mock_are_left_alone():
    with mock_timestream():
        s3 = boto3.client("s3", region_name="us-east-1")
        write = boto3.client("timestream-write")
        assert write.meta.events.emit_until_response(
            "before-send.timestream-write.ListDatabases", request=_FakeRequest())[1] is not None
        assert s3.meta.events.emit_until_response("before-send.s3.ListBuckets", request=_FakeRequest())[1] is None
    # the client outlives the mock: it would go to the network again
    assert write.meta.events.emit_until_response(
        "before-send.timestream-write.ListDatabases", request=_FakeRequest())[1] is None
    from botocore.session import Session

    from tsql.testing import mock
    assert Session.create_client is mock._original_create_client or mock._original_create_client is None


class _FakeRequest:
    url = "https://x"
    headers = {"X-Amz-Target": "Timestream_20181101.ListDatabases", "User-Agent": "Boto3/1"}
    body = b"{}"


def test_as_a_decorator_each_call_gets_a_fresh_database():
    seen = []

    @mock_timestream(now=NOW)
    def app():
        write = boto3.client("timestream-write")
        seen.append(len(write.list_databases()["Databases"]))
        _setup(write)

    app()
    app()
    assert seen == [0, 0]


def test_a_given_database_is_served_and_not_closed():
    db = tsql.connect()
    db.create_database("given")
    with mock_timestream(db):
        names = [d["DatabaseName"] for d in boto3.client("timestream-write").list_databases()["Databases"]]
    assert names == ["given"]
    assert db.list_databases() == ["given"]
    db.close()


def test_nested_mocks_serve_the_innermost():
    with mock_timestream() as outer:
        outer.create_database("outer")
        with mock_timestream() as inner:
            inner.create_database("inner")
            names = [d["DatabaseName"] for d in boto3.client("timestream-write").list_databases()["Databases"]]
            assert names == ["inner"]
        names = [d["DatabaseName"] for d in boto3.client("timestream-write").list_databases()["Databases"]]
        assert names == ["outer"]


def test_bad_arguments():
    with pytest.raises(tsql.ValidationError, match="not both"):
        mock_timestream(faults=tsql.testing.Faults(), throttle_rate=0.5)
    with pytest.raises(tsql.ValidationError, match="throttle_rate must be between 0 and 1"):
        mock_timestream(throttle_rate=2)
    with pytest.raises(tsql.ValidationError, match="not active"):
        mock_timestream().query("SELECT 1")


@pytest.mark.tsql(now="2024-01-01T00:00:00Z")
def test_fixtures_share_the_database(tsql_db, timestream_mock):
    tsql_db.create_database("app")
    tsql_db.create_table("app", "events")
    tsql_db.write_records("app", "events", [_record(1)])
    rows = boto3.client("timestream-query", config=Config(retries={"total_max_attempts": 1})).query(
        QueryString="SELECT count(*) FROM app.events WHERE time > ago(1m)")["Rows"]
    assert rows == [{"Data": [{"ScalarValue": "1"}]}]
    assert timestream_mock.db is tsql_db
    assert tsql_db.clock.now_ns() == NOW
