"""Unmodified boto3 clients against a real `tsql serve`: every operation, and the
exception classes botocore raises for each AWS error."""

from __future__ import annotations

import datetime as dt

import boto3
import pytest

from .conftest import REGION, client, now_ms, post, record


def test_describe_endpoints_answers_the_address_boto3_uses(server, write, query):
    expected = [{"Address": server.url, "CachePeriodInMinutes": 1440}]
    assert write.describe_endpoints()["Endpoints"] == expected
    assert query.describe_endpoints()["Endpoints"] == expected


def test_endpoint_discovery_when_the_endpoint_is_configured_not_passed(server, monkeypatch):
    # configured endpoints (not endpoint_url=) leave botocore's endpoint discovery on:
    # it calls DescribeEndpoints, then sends the call to the address it was given
    monkeypatch.setenv("AWS_ENDPOINT_URL_TIMESTREAM_WRITE", server.url)
    monkeypatch.setenv("AWS_ENDPOINT_URL_TIMESTREAM_QUERY", server.url)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    session = boto3.session.Session(aws_access_key_id="AKIDTEST", aws_secret_access_key="secret-secret",
                                    region_name=REGION)
    sent = []
    for service in ("timestream-write", "timestream-query"):
        c = session.client(service)
        c.meta.events.register("before-send", lambda request, **_: sent.append(
            (request.headers["X-Amz-Target"].decode().split(".")[1], request.url)))
        if service == "timestream-write":
            c.list_databases()
        else:
            c.query(QueryString="SELECT 1")
    # the configured endpoint gets a path ("/"); a discovered Address is used as it is
    assert sent == [("DescribeEndpoints", server.url + "/"), ("ListDatabases", server.url),
                    ("DescribeEndpoints", server.url + "/"), ("Query", server.url)]


def test_database_lifecycle(write):
    created = write.create_database(DatabaseName="lifecycle", KmsKeyId="my-key")["Database"]
    assert created["DatabaseName"] == "lifecycle" and created["TableCount"] == 0
    assert created["KmsKeyId"] == "my-key"
    assert created["Arn"] == "arn:aws:timestream:local:000000000000:database/lifecycle"
    assert isinstance(created["CreationTime"], dt.datetime)
    with pytest.raises(write.exceptions.ConflictException, match="lifecycle already exists"):
        write.create_database(DatabaseName="lifecycle")

    assert write.describe_database(DatabaseName="lifecycle")["Database"] == created
    updated = write.update_database(DatabaseName="lifecycle", KmsKeyId="other-key")["Database"]
    assert updated["KmsKeyId"] == "other-key" and updated["LastUpdatedTime"] >= created["CreationTime"]

    write.delete_database(DatabaseName="lifecycle")
    with pytest.raises(write.exceptions.ResourceNotFoundException, match="lifecycle does not exist"):
        write.describe_database(DatabaseName="lifecycle")
    with pytest.raises(write.exceptions.ResourceNotFoundException):
        write.delete_database(DatabaseName="lifecycle")
    with pytest.raises(write.exceptions.ValidationException, match="at 'databaseName' failed to satisfy "
                       "constraint: Member must satisfy regular expression pattern"):
        write.create_database(DatabaseName="no spaces")
    with pytest.raises(write.exceptions.ValidationException, match="Invalid database name 'ab': must be 3 to 256"):
        write.create_database(DatabaseName="ab")


def test_list_databases_pages_by_max_results(write):
    names = [f"listing_{i}" for i in range(5)]
    for n in names:
        write.create_database(DatabaseName=n)
    everything = [d["DatabaseName"] for d in write.list_databases()["Databases"]]
    assert everything == sorted(everything) and set(names) <= set(everything)

    pages, token = [], None
    while True:
        kwargs = {"MaxResults": 2, **({"NextToken": token} if token else {})}
        response = write.list_databases(**kwargs)
        pages.append([d["DatabaseName"] for d in response["Databases"]])
        token = response.get("NextToken")
        if not token:
            break
    assert all(len(p) <= 2 for p in pages) and sum(pages, []) == everything
    for n in names:
        write.delete_database(DatabaseName=n)


def test_table_lifecycle(write):
    write.create_database(DatabaseName="tables_db")
    table = write.create_table(
        DatabaseName="tables_db", TableName="metrics",
        RetentionProperties={"MemoryStoreRetentionPeriodInHours": 12, "MagneticStoreRetentionPeriodInDays": 30},
        MagneticStoreWriteProperties={"EnableMagneticStoreWrites": True},
        Schema={"CompositePartitionKey": [{"Type": "DIMENSION", "Name": "host", "EnforcementInRecord": "REQUIRED"}]},
    )["Table"]
    assert table["TableName"] == "metrics" and table["DatabaseName"] == "tables_db"
    assert table["TableStatus"] == "ACTIVE"
    assert table["RetentionProperties"] == {"MemoryStoreRetentionPeriodInHours": 12,
                                            "MagneticStoreRetentionPeriodInDays": 30}
    assert table["MagneticStoreWriteProperties"] == {"EnableMagneticStoreWrites": True}
    assert table["Schema"]["CompositePartitionKey"] == [
        {"Type": "DIMENSION", "Name": "host", "EnforcementInRecord": "REQUIRED"}]
    write.create_table(DatabaseName="tables_db", TableName="other")
    assert write.describe_database(DatabaseName="tables_db")["Database"]["TableCount"] == 2
    assert write.describe_table(DatabaseName="tables_db", TableName="metrics")["Table"] == table

    listed = write.list_tables(DatabaseName="tables_db")["Tables"]
    assert [t["TableName"] for t in listed] == ["metrics", "other"]
    first = write.list_tables(DatabaseName="tables_db", MaxResults=1)
    assert [t["TableName"] for t in first["Tables"]] == ["metrics"]
    second = write.list_tables(DatabaseName="tables_db", MaxResults=1, NextToken=first["NextToken"])
    assert [t["TableName"] for t in second["Tables"]] == ["other"] and "NextToken" not in second
    across = [(t["DatabaseName"], t["TableName"]) for t in write.list_tables()["Tables"]]
    assert ("tables_db", "metrics") in across and across == sorted(across)

    updated = write.update_table(
        DatabaseName="tables_db", TableName="metrics",
        RetentionProperties={"MemoryStoreRetentionPeriodInHours": 24, "MagneticStoreRetentionPeriodInDays": 60},
        MagneticStoreWriteProperties={"EnableMagneticStoreWrites": False},
        Schema={"CompositePartitionKey": [{"Type": "DIMENSION", "Name": "host", "EnforcementInRecord": "OPTIONAL"}]},
    )["Table"]
    assert updated["RetentionProperties"]["MemoryStoreRetentionPeriodInHours"] == 24
    assert updated["MagneticStoreWriteProperties"] == {"EnableMagneticStoreWrites": False}
    assert updated["Schema"]["CompositePartitionKey"][0]["EnforcementInRecord"] == "OPTIONAL"
    with pytest.raises(write.exceptions.ValidationException, match="cannot be changed"):
        write.update_table(DatabaseName="tables_db", TableName="metrics",
                           Schema={"CompositePartitionKey": [{"Type": "DIMENSION", "Name": "rack"}]})

    with pytest.raises(write.exceptions.ValidationException, match="still has 2 table"):
        write.delete_database(DatabaseName="tables_db")
    write.delete_table(DatabaseName="tables_db", TableName="metrics")
    with pytest.raises(write.exceptions.ResourceNotFoundException, match="metrics does not exist"):
        write.describe_table(DatabaseName="tables_db", TableName="metrics")
    write.delete_table(DatabaseName="tables_db", TableName="other")
    write.delete_database(DatabaseName="tables_db")


def test_table_errors(write):
    with pytest.raises(write.exceptions.ResourceNotFoundException):
        write.create_table(DatabaseName="no_such_db", TableName="metrics")
    write.create_database(DatabaseName="table_errors")
    with pytest.raises(write.exceptions.ValidationException, match="Only 1 partition keys can be specified"):
        write.create_table(DatabaseName="table_errors", TableName="metrics", Schema={"CompositePartitionKey": [
            {"Type": "DIMENSION", "Name": "a"}, {"Type": "DIMENSION", "Name": "b"}]})
    with pytest.raises(write.exceptions.ValidationException, match="Value '9000' at 'retentionProperties."
                       "memoryStoreRetentionPeriodInHours' failed to satisfy constraint: Member must have value "
                       "less than or equal to 8766"):
        write.create_table(DatabaseName="table_errors", TableName="metrics", RetentionProperties={
            "MemoryStoreRetentionPeriodInHours": 9000, "MagneticStoreRetentionPeriodInDays": 1})
    write.create_table(DatabaseName="table_errors", TableName="metrics")
    with pytest.raises(write.exceptions.ConflictException):
        write.create_table(DatabaseName="table_errors", TableName="metrics")
    with pytest.raises(write.exceptions.ResourceNotFoundException):
        write.list_tables(DatabaseName="no_such_db")


def test_server_side_validation_messages(server):
    # with botocore's own checks off, the server's answer is what AWS's would be
    unchecked = client("timestream-write", server.url, parameter_validation=False)
    with pytest.raises(unchecked.exceptions.ValidationException) as e:
        unchecked.list_databases(MaxResults=21)
    assert e.value.response["Error"]["Message"] == (
        "1 validation error detected: Value '21' at 'maxResults' failed to satisfy constraint: "
        "Member must have value less than or equal to 20")
    with pytest.raises(unchecked.exceptions.ValidationException) as e:
        unchecked.write_records(DatabaseName="d", TableName="t", Records=[record("h", 1, now_ms())] * 101)
    assert "at 'records' failed to satisfy constraint: Member must have length less than or equal to 100" \
        in e.value.response["Error"]["Message"]
    with pytest.raises(unchecked.exceptions.ValidationException) as e:
        unchecked.describe_table(DatabaseName="d")
    assert e.value.response["Error"]["Message"] == (
        "1 validation error detected: Value null at 'tableName' failed to satisfy constraint: Member must not be null")


def test_write_records_and_rejections(write, query):
    write.create_database(DatabaseName="writes")
    write.create_table(DatabaseName="writes", TableName="cpu")
    t = now_ms()
    recs = [record(f"h{i % 4}", i * 0.5, t - i * 1000) for i in range(100)]
    assert write.write_records(DatabaseName="writes", TableName="cpu", Records=recs)["RecordsIngested"] == {
        "Total": 100, "MemoryStore": 100, "MagneticStore": 0}

    common = {"Dimensions": [{"Name": "host", "Value": "h9"}], "MeasureValueType": "DOUBLE", "Time": str(t)}
    out = write.write_records(DatabaseName="writes", TableName="cpu", CommonAttributes=common,
                              Records=[{"MeasureName": "mem", "MeasureValue": "3.5"}])
    assert out["RecordsIngested"]["Total"] == 1

    with pytest.raises(write.exceptions.RejectedRecordsException) as e:
        write.write_records(DatabaseName="writes", TableName="cpu", Records=[
            record("h0", 999, t),  # same point as recs[0], another value, same version
            record("h0", 1, t - 10**9),  # far outside the memory store's 6 hours
            record("h5", 2, t),  # fine: written
        ])
    rejected = e.value.response["RejectedRecords"]
    assert [r["RecordIndex"] for r in rejected] == [0, 1]
    assert rejected[0]["ExistingVersion"] == 1 and "A record already exists" in rejected[0]["Reason"]
    assert "outside the time range" in rejected[1]["Reason"]
    assert e.value.response["Error"]["Message"] == \
        "One or more records have been rejected. See RejectedRecords for details."

    rows = query.query(QueryString='SELECT host, count(*) FROM "writes"."cpu" GROUP BY host ORDER BY host')["Rows"]
    assert [[d["ScalarValue"] for d in r["Data"]] for r in rows] == [
        ["h0", "25"], ["h1", "25"], ["h2", "25"], ["h3", "25"], ["h5", "1"], ["h9", "1"]]

    with pytest.raises(write.exceptions.ResourceNotFoundException):
        write.write_records(DatabaseName="writes", TableName="missing", Records=recs[:1])
    with pytest.raises(write.exceptions.ValidationException, match="VARCHAR"):
        write.write_records(DatabaseName="writes", TableName="cpu", Records=[
            dict(recs[0], Dimensions=[{"Name": "host", "Value": "x", "DimensionValueType": "BIGINT"}])])


@pytest.fixture(scope="module")
def series(write):
    """250 points of one series, a second apart, oldest first."""
    write.create_database(DatabaseName="paging")
    write.create_table(DatabaseName="paging", TableName="points")
    t = now_ms() // 1000 * 1000 - 300_000
    for start in range(0, 250, 100):
        write.write_records(DatabaseName="paging", TableName="points",
                            Records=[record("h", i, t + i * 1000) for i in range(start, min(250, start + 100))])
    return 'SELECT measure_value::double AS v, time FROM "paging"."points" ORDER BY time'


def test_query_shape(query, series):
    out = query.query(QueryString=series.replace("SELECT", "SELECT host,", 1) + " LIMIT 2")
    assert out["ColumnInfo"] == [
        {"Name": "host", "Type": {"ScalarType": "VARCHAR"}},
        {"Name": "v", "Type": {"ScalarType": "DOUBLE"}},
        {"Name": "time", "Type": {"ScalarType": "TIMESTAMP"}},
    ]
    assert [r["Data"][:2] for r in out["Rows"]] == [
        [{"ScalarValue": "h"}, {"ScalarValue": "0.0"}], [{"ScalarValue": "h"}, {"ScalarValue": "1.0"}]]
    assert out["QueryStatus"]["ProgressPercentage"] == 100.0
    assert out["QueryStatus"]["CumulativeBytesScanned"] > 0
    assert out["QueryStatus"]["CumulativeBytesMetered"] == 10_000_000
    assert out["QueryId"].isalnum() and "NextToken" not in out


def test_query_paginator(query, series):
    pages = list(query.get_paginator("query").paginate(QueryString=series, PaginationConfig={"PageSize": 100}))
    assert [len(p["Rows"]) for p in pages] == [100, 100, 50]
    assert len({p["QueryId"] for p in pages}) == 1
    values = [float(r["Data"][0]["ScalarValue"]) for p in pages for r in p["Rows"]]
    assert values == [float(i) for i in range(250)]
    whole = query.get_paginator("query").paginate(QueryString=series).build_full_result()
    assert len(whole["Rows"]) == 250 and whole["ColumnInfo"] == pages[0]["ColumnInfo"]
    assert len(query.query(QueryString=series)["Rows"]) == 250  # no MaxRows: one page (under 1 MB)


def test_next_token_is_tied_to_its_query(query, series):
    first = query.query(QueryString=series, MaxRows=10)
    with pytest.raises(query.exceptions.ValidationException, match="Invalid pagination token"):
        query.query(QueryString=series + " LIMIT 20", NextToken=first["NextToken"])
    with pytest.raises(query.exceptions.ValidationException, match="Invalid pagination token"):
        query.query(QueryString=series, NextToken="made-up")
    second = query.query(QueryString=series, MaxRows=10, NextToken=first["NextToken"])
    assert second["QueryId"] == first["QueryId"] and second["Rows"][0]["Data"][0]["ScalarValue"] == "10.0"


def test_cancel_query(query, series):
    first = query.query(QueryString=series, MaxRows=5)
    assert "CancellationMessage" not in query.cancel_query(QueryId=first["QueryId"])
    with pytest.raises(query.exceptions.ConflictException, match="cancelled"):
        query.query(QueryString=series, NextToken=first["NextToken"])
    again = query.cancel_query(QueryId=first["QueryId"])
    assert again["CancellationMessage"] == f"Query {first['QueryId']} has already been cancelled."
    done = query.query(QueryString="SELECT 1")
    assert "already finished" in query.cancel_query(QueryId=done["QueryId"])["CancellationMessage"]


def test_query_errors(query):
    with pytest.raises(query.exceptions.ValidationException) as e:
        query.query(QueryString="SELECT FROM WHERE")
    assert e.value.response["Error"]["Message"].startswith("line 1:")
    with pytest.raises(query.exceptions.ValidationException, match="Requested database 'nope' not found for identifier 'nope.t' at line 1:15"):
        query.query(QueryString='SELECT * FROM "nope"."t"')
    with pytest.raises(query.exceptions.QueryExecutionException, match="Division by zero"):
        query.query(QueryString="SELECT 1 / 0")


def test_tags(write):
    arn = write.create_database(DatabaseName="tagged", Tags=[{"Key": "team", "Value": "a"}])["Database"]["Arn"]
    assert write.list_tags_for_resource(ResourceARN=arn)["Tags"] == [{"Key": "team", "Value": "a"}]
    write.tag_resource(ResourceARN=arn, Tags=[{"Key": "team", "Value": "b"}, {"Key": "env", "Value": "ci"}])
    assert sorted(write.list_tags_for_resource(ResourceARN=arn)["Tags"], key=lambda t: t["Key"]) == [
        {"Key": "env", "Value": "ci"}, {"Key": "team", "Value": "b"}]
    write.untag_resource(ResourceARN=arn, TagKeys=["team", "absent"])
    assert write.list_tags_for_resource(ResourceARN=arn)["Tags"] == [{"Key": "env", "Value": "ci"}]

    table_arn = write.create_table(DatabaseName="tagged", TableName="metrics", Tags=[
        {"Key": "k", "Value": "v"}])["Table"]["Arn"]
    assert write.list_tags_for_resource(ResourceARN=table_arn)["Tags"] == [{"Key": "k", "Value": "v"}]
    with pytest.raises(write.exceptions.ServiceQuotaExceededException):
        write.tag_resource(ResourceARN=table_arn, Tags=[{"Key": f"a{i}", "Value": "x"} for i in range(200)])
    with pytest.raises(write.exceptions.ResourceNotFoundException):
        write.list_tags_for_resource(ResourceARN=arn.replace("tagged", "untagged"))
    with pytest.raises(write.exceptions.ValidationException, match="Invalid resource ARN"):
        write.tag_resource(ResourceARN="arn:aws:s3:::bucket", Tags=[])

    write.delete_table(DatabaseName="tagged", TableName="metrics")
    write.create_table(DatabaseName="tagged", TableName="metrics")  # a namesake starts untagged
    assert write.list_tags_for_resource(ResourceARN=table_arn)["Tags"] == []


def test_query_service_answers_tag_calls_too(query, write):
    arn = write.create_database(DatabaseName="tagged_q")["Database"]["Arn"]
    query.tag_resource(ResourceARN=arn, Tags=[{"Key": "a", "Value": "b"}])
    assert query.list_tags_for_resource(ResourceARN=arn)["Tags"] == [{"Key": "a", "Value": "b"}]


def _post(server, target: str | None, body: bytes) -> tuple[int, dict]:
    headers = {"Content-Type": "application/x-amz-json-1.0"}
    if target:
        headers["X-Amz-Target"] = target
    return post(server.url + "/", body, headers)


def test_malformed_requests(server):
    assert _post(server, "Timestream_20181101.DropEverything", b"{}") == (
        400, {"__type": "UnknownOperationException", "Message": "Unknown operation 'DropEverything'."})
    assert _post(server, None, b"{}")[1]["__type"] == "UnknownOperationException"
    status, body = _post(server, "Timestream_20181101.ListDatabases", b"{not json")
    assert status == 400 and body["__type"] == "SerializationException"
    status, body = _post(server, "Timestream_20181101.DescribeDatabase", b'{"DatabaseName": 7}')
    assert status == 400 and body["__type"] == "SerializationException"
    status, body = _post(server, "Timestream_20181101.ListDatabases", b"")
    assert status == 200 and "Databases" in body
