"""The protocol without sockets: shapes, errors, pages, the query cache, the
DescribeEndpoints address each SDK accepts, and boto3 served in-process through it."""

from __future__ import annotations

import json
import logging

import boto3
import pytest
from botocore.awsrequest import AWSResponse

import tsql
from tsql.errors import ConflictError, ValidationError
from tsql.server.auth import KeyStore
from tsql.server.protocol import Endpoint, Protocol, Request, endpoint_address, validate
from tsql.server.queries import QueryCache


def call(protocol: Protocol, operation: str, body: dict | None = None, **kwargs) -> tuple[int, dict]:
    response = protocol.handle(Request(operation, json.dumps(body or {}).encode(), **kwargs))
    return response.status, json.loads(response.body)


@pytest.fixture
def protocol(clock):
    db = tsql.connect(clock=clock)
    yield Protocol(db)
    db.close()


# --- DescribeEndpoints ---------------------------------------------------------------------

@pytest.mark.parametrize("agent, address", [
    ("Boto3/1.34.0 md/Botocore#1.34.0 ua/2.0 os/linux#6.1 md/arch#x86_64 lang/python#3.11.7 Botocore/1.34.0",
     "http://127.0.0.1:8086"),
    ("aws-cli/2.15.0 Python/3.11.6 Linux/6.1 exe/x86_64.ubuntu.22 prompt/off", "http://127.0.0.1:8086"),
    ("aws-sdk-go/1.44.300 (go1.21; linux; amd64)", "http://127.0.0.1:8086"),
    ("aws-sdk-ruby3/3.190.0 ua/2.0 api/timestream_write#1.0 os/linux", "http://127.0.0.1:8086"),
    ("aws-sdk-js/3.450.0 ua/2.0 os/linux#6.1 lang/js md/nodejs#20.9.0 api/timestream-write#3.450.0", "127.0.0.1"),
    ("aws-sdk-kotlin/1.0.30 ua/2.0 api/timestream-write#1.0.30 os/linux#6.1 lang/kotlin#1.9.20", "127.0.0.1"),
    ("aws-sdk-go-v2/1.24.0 os/linux lang/go#1.21.5 md/GOOS#linux api/timestreamwrite#1.23.6", "127.0.0.1:8086"),
    ("aws-sdk-java/2.21.0 Linux/6.1 OpenJDK_64-Bit_Server_VM/17 Java/17 vendor/Eclipse_Adoptium io/sync", "127.0.0.1:8086"),
    ("curl/8.4.0", "127.0.0.1:8086"),
    ("", "127.0.0.1:8086"),
])
def test_describe_endpoints_address_per_sdk(agent, address):
    assert endpoint_address(Endpoint("http", "127.0.0.1", 8086), agent) == address


def test_describe_endpoints_address_forms():
    assert endpoint_address(Endpoint("https", "ts.internal", 443), "Botocore/1.34") == "https://ts.internal"
    assert endpoint_address(Endpoint("https", "ts.internal", 443), "aws-sdk-go-v2/1.24") == "ts.internal"
    assert endpoint_address(Endpoint("http", "[::1]", 9000), "aws-sdk-go-v2/1.24") == "[::1]:9000"
    assert Endpoint.from_host_header("http", "example.com:8086", "127.0.0.1", 1) == Endpoint("http", "example.com", 8086)
    assert Endpoint.from_host_header("http", "[::1]:9000", "127.0.0.1", 1) == Endpoint("http", "[::1]", 9000)
    assert Endpoint.from_host_header("http", "localhost", "127.0.0.1", 1) == Endpoint("http", "localhost", None)
    assert Endpoint.from_host_header("http", None, "127.0.0.1", 7) == Endpoint("http", "127.0.0.1", 7)


def test_describe_endpoints_body(protocol):
    status, body = call(protocol, "DescribeEndpoints", endpoint=Endpoint("http", "10.0.0.5", 8086),
                        user_agent="aws-sdk-js/3.450.0")
    assert (status, body) == (200, {"Endpoints": [{"Address": "10.0.0.5", "CachePeriodInMinutes": 1440}]})


# --- shapes and errors -----------------------------------------------------------------------

def test_every_constraint_violation_is_reported():
    with pytest.raises(ValidationError) as e:
        validate("CreateTable", {"DatabaseName": "db1", "Tags": [{"Key": "", "Value": "v"}, {"Value": "w"}],
                                 "Schema": {"CompositePartitionKey": [{"Type": "COLUMN"}]}})
    assert e.value.message == (
        "4 validation errors detected: Value null at 'tableName' failed to satisfy constraint: Member must not be "
        "null; Value '' at 'tags.1.member.key' failed to satisfy constraint: Member must have length greater than "
        "or equal to 1; Value null at 'tags.2.member.key' failed to satisfy constraint: Member must not be null; "
        "Value 'COLUMN' at 'schema.compositePartitionKey.1.member.type' failed to satisfy constraint: Member must "
        "satisfy enum value set: [DIMENSION, MEASURE]")


def test_unknown_operations_and_services(protocol):
    assert call(protocol, "Query", {"QueryString": "SELECT 1"}, service="timestream-write") == (
        400, {"__type": "UnknownOperationException", "Message": "Unknown operation 'Query'."})
    assert call(protocol, "CreateBatchLoadTask", {}) [1]["__type"] == "UnknownOperationException"
    assert call(protocol, "Query", {"QueryString": "SELECT 1"}, service="timestream-query")[0] == 200
    assert call(protocol, "ListTagsForResource", {"ResourceARN": "x"}, service="timestream-query")[1]["__type"] == \
        "ValidationException"


def test_rejected_records_response(protocol, clock):
    call(protocol, "CreateDatabase", {"DatabaseName": "db1"})
    call(protocol, "CreateTable", {"DatabaseName": "db1", "TableName": "tbl"})
    now_ms = clock.now_ns() // 10**6
    records = [{"Dimensions": [{"Name": "h", "Value": "a"}], "MeasureName": "m", "MeasureValue": str(v),
                "Time": str(t)} for v, t in ((1.0, now_ms), (2.0, 0), (3.0, now_ms - 1))]
    response = protocol.handle(Request("WriteRecords", json.dumps(
        {"DatabaseName": "db1", "TableName": "tbl", "Records": records}).encode()))
    body = json.loads(response.body)
    assert response.status == 419 and response.headers["x-amzn-ErrorType"] == "RejectedRecordsException"
    assert body["__type"] == "RejectedRecordsException"
    assert [r["RecordIndex"] for r in body["RejectedRecords"]] == [1]
    assert (response.records_ingested, response.records_rejected) == (2, 1)
    assert (response.database, response.table) == ("db1", "tbl")


class _BrokenDatabase:
    def describe_database(self, name):
        raise RuntimeError("disk on fire at /var/secret/path")


def test_a_bug_becomes_internal_server_exception_and_a_log_line(caplog):
    protocol = Protocol(_BrokenDatabase())
    with caplog.at_level(logging.ERROR, logger="tsql.server"):
        response = protocol.handle(Request("DescribeDatabase", b'{"DatabaseName": "db1"}', request_id="req-1"))
    assert response.status == 500
    assert json.loads(response.body) == {"__type": "InternalServerException", "Message":
                                         "An internal error occurred (request req-1); the server log has details."}
    assert b"secret" not in response.body
    assert "InternalServerException in DescribeDatabase (request req-1)" in caplog.text
    assert "disk on fire" in caplog.text  # the traceback is in the log, not the answer


# --- queries and pages ----------------------------------------------------------------------

def _wide_rows(n: int, width: int) -> str:
    values = ",".join(f"({i})" for i in range(n))
    return f"SELECT x, lpad('', {width}, 'y') AS pad FROM (VALUES {values}) AS v(x) ORDER BY x"


def test_pages_stay_under_one_megabyte(protocol):
    sql = _wide_rows(1500, 1000)  # about 1.5 MB of rows
    first = protocol.handle(Request("Query", json.dumps({"QueryString": sql}).encode()))
    page1 = json.loads(first.body)
    assert len(first.body) <= 1_000_000 and "NextToken" in page1
    status, page2 = call(protocol, "Query", {"QueryString": sql, "NextToken": page1["NextToken"]})
    assert status == 200 and "NextToken" not in page2
    xs = [int(r["Data"][0]["ScalarValue"]) for r in page1["Rows"] + page2["Rows"]]
    assert xs == list(range(1500)) and len(page1["Rows"]) > 900
    status, capped = call(protocol, "Query", {"QueryString": sql, "MaxRows": 7})
    assert len(capped["Rows"]) == 7 and capped["NextToken"]


def test_a_row_over_one_megabyte_aborts(protocol):
    status, body = call(protocol, "Query", {"QueryString": "SELECT lpad('', 1100000, 'y')"})
    assert (status, body["__type"]) == (400, "ValidationException")
    assert body["Message"] == "Query aborted as max page response size has been exceeded by the output result row"


class _Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def _result(db, n=10):
    return db.query("SELECT x FROM (VALUES " + ",".join(f"({i})" for i in range(n)) + ") AS v(x)")


def test_tokens_expire_and_serve_a_few_calls(db):
    clock = _Clock()
    cache = QueryCache(ttl=3600, token_uses=5, clock=clock)
    result = _result(db)
    token = cache.store("Q1", result, "SELECT", "key", result.to_timestream(2)["NextToken"])
    for _ in range(5):  # a retried call may present the same token again
        assert cache.resume(token, "SELECT", "key")[0] == "Q1"
    with pytest.raises(ValidationError, match="Invalid pagination token"):
        cache.resume(token, "SELECT", "key")
    other = cache.next_token("Q1", result.to_timestream(4)["NextToken"])
    with pytest.raises(ValidationError, match="Invalid pagination token"):
        cache.resume(other, "SELECT 2", "key")
    with pytest.raises(ValidationError, match="Invalid pagination token"):
        cache.resume(other, "SELECT", "another key")
    clock.now += 3601
    with pytest.raises(ValidationError, match="Invalid pagination token"):
        cache.resume(other, "SELECT", "key")
    assert len(cache) == 0 and cache.cached_bytes == 0


def test_the_cache_is_bounded_and_forgets_the_oldest(db):
    result = _result(db, 100)
    cache = QueryCache(max_bytes=100 * 48 + 10)  # room for one such result
    first = cache.store("Q1", result, "SELECT", "key", "t")
    second = cache.store("Q2", result, "SELECT", "key", "t")
    assert len(cache) == 1 and cache.cached_bytes == 100 * 48
    with pytest.raises(ValidationError):
        cache.resume(first, "SELECT", "key")
    assert cache.resume(second, "SELECT", "key")[0] == "Q2"


def test_cancel_and_client_tokens(db):
    clock = _Clock()
    cache = QueryCache(clock=clock)
    result = _result(db)
    token = cache.store("Q1", result, "SELECT", "key", "t")
    assert cache.cancel("Q1") is None and cache.cached_bytes == 0
    assert cache.cancel("Q1") == "Query Q1 has already been cancelled."
    with pytest.raises(ConflictError, match="Q1 has been cancelled"):
        cache.resume(token, "SELECT", "key")
    cache.check_client_token("c" * 32, "SELECT 1", "key")
    cache.check_client_token("c" * 32, "SELECT 1", "key")  # a retry
    with pytest.raises(ValidationError, match="ClientToken has been used before"):
        cache.check_client_token("c" * 32, "SELECT 2", "key")
    clock.now += 301
    cache.check_client_token("c" * 32, "SELECT 2", "key")


def test_restricted_keys_need_select_on_every_table_a_query_reads(protocol):
    keys = KeyStore.from_document({"keys": [{"access_key_id": "AKIDR", "secret_access_key": "12345678", "policy": [
        {"Effect": "Allow", "Action": "timestream:Select", "Resource": "arn:aws:timestream:*:*:database/db1/table/a*"},
        {"Effect": "Allow", "Action": "timestream:SelectValues", "Resource": "*"}]}]})
    principal = keys.get("AKIDR").principal
    for table in ("aaa", "abc", "bbb"):
        call(protocol, "CreateDatabase", {"DatabaseName": "db1"})
        call(protocol, "CreateTable", {"DatabaseName": "db1", "TableName": table})

    def run(sql):
        return call(protocol, "Query", {"QueryString": sql}, principal=principal)

    assert run('SELECT * FROM "db1"."aaa"')[0] == 200
    assert run('SELECT * FROM db1.AAA')[0] == 200  # names resolve as the planner resolves them
    assert run("WITH t AS (SELECT 1 AS x) SELECT * FROM t")[0] == 200
    assert run('EXPLAIN SELECT * FROM "db1"."abc"')[0] == 200
    denied = run('SELECT * FROM "db1"."aaa" WHERE time IN (SELECT time FROM "db1"."bbb")')
    assert denied[0] == 403 and denied[1]["Message"].endswith("database/db1/table/bbb")
    assert run('DESCRIBE "db1"."aaa"')[1]["Message"].split(" on resource")[0].endswith("timestream:DescribeTable")
    assert "timestream:ListTables" in run('SHOW TABLES FROM "db1"')[1]["Message"]
    assert "timestream:ListMeasures" in run('SHOW MEASURES FROM "db1"."aaa"')[1]["Message"]


# --- boto3 served in-process through the same protocol -----------------------------------------

class _Body:
    def __init__(self, data: bytes):
        self.data = data

    def stream(self, **_):
        yield self.data


def in_process(service: str, protocol: Protocol):
    """A boto3 client whose requests never leave the process: botocore's before-send
    hook hands them to the protocol (what a testing toolkit would do)."""
    c = boto3.session.Session(aws_access_key_id="k", aws_secret_access_key="s", region_name="us-east-1").client(
        service, endpoint_url="http://tsql.invalid", config=boto3.session.Config(retries={"total_max_attempts": 1}))

    def send(request, **_):
        target = request.headers["X-Amz-Target"]
        target = target.decode() if isinstance(target, bytes) else target
        response = protocol.handle(Request(Protocol.operation_from_target(target), request.body or b"", service=service))
        return AWSResponse(request.url, response.status, response.headers, _Body(response.body))

    c.meta.events.register("before-send", send)
    return c


def test_boto3_in_process_raises_internal_server_exception():
    w = in_process("timestream-write", Protocol(_BrokenDatabase()))
    with pytest.raises(w.exceptions.InternalServerException, match=r"request [0-9a-f-]+\); the server log"):
        w.describe_database(DatabaseName="db1")


def test_boto3_in_process_round_trip(protocol):
    w, q = in_process("timestream-write", protocol), in_process("timestream-query", protocol)
    w.create_database(DatabaseName="inproc")
    with pytest.raises(w.exceptions.ConflictException):
        w.create_database(DatabaseName="inproc")
    assert q.query(QueryString="SELECT 40 + 2 AS answer")["Rows"] == [{"Data": [{"ScalarValue": "42"}]}]


def test_tag_and_list_token_errors(protocol):
    assert call(protocol, "CreateDatabase", {"DatabaseName": "db1", "Tags": [{"Key": "aws:owner", "Value": "x"}]}) == (
        400, {"__type": "ValidationException", "Message": "Tag keys starting with 'aws:' are reserved: 'aws:owner'."})
    assert call(protocol, "ListDatabases")[1] == {"Databases": []}  # nothing was created
    call(protocol, "CreateDatabase", {"DatabaseName": "db1"})
    arn = "arn:aws:timestream:us-east-1:123456789012:database/db1"  # region and account are not checked
    assert call(protocol, "TagResource", {"ResourceARN": arn, "Tags": [{"Key": "a", "Value": "1"},
                                                                    {"Key": "a", "Value": "2"}]})[1]["Message"] == \
        "Duplicate tag keys are not allowed."
    assert call(protocol, "TagResource", {"ResourceARN": arn, "Tags": [{"Key": "a", "Value": "1"}]})[0] == 200
    assert call(protocol, "ListTagsForResource", {"ResourceARN": arn})[1] == {"Tags": [{"Key": "a", "Value": "1"}]}
    assert call(protocol, "ListTables", {"NextToken": "%%%"})[1] == {
        "__type": "ValidationException", "Message": "Invalid pagination token"}
