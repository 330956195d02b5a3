"""Authentication (SigV4 against a credentials file), per-key permissions, TLS, and the
rule that only loopback may be served without credentials."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys
import urllib.request

import botocore.auth
import pytest
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError, SSLError

from .conftest import ServerProcess, client, now_ms, post, record

ADMIN = ("AKIDADMIN", "admin-secret-0001")
READER = ("AKIDREADER", "reader-secret-0002")
WRITER = ("AKIDWRITER", "writer-secret-0003")
SENSORS = "arn:aws:timestream:*:*:database/sensors"

KEYS = {"keys": [
    {"access_key_id": ADMIN[0], "secret_access_key": ADMIN[1], "name": "admin"},
    {"access_key_id": READER[0], "secret_access_key": READER[1], "name": "dashboards", "policy": [
        {"Effect": "Allow", "Action": ["timestream:Select", "timestream:Describe*", "timestream:ListTables"],
         "Resource": [SENSORS, SENSORS + "/table/*"]},
        {"Effect": "Allow", "Action": "timestream:DescribeEndpoints", "Resource": "*"},
    ]},
    {"access_key_id": WRITER[0], "secret_access_key": WRITER[1], "name": "ingest", "policy": {"Statement": [
        {"Effect": "Allow", "Action": "timestream:writerecords", "Resource": SENSORS + "/table/*"},
        {"Effect": "Deny", "Action": "timestream:*", "Resource": SENSORS + "/table/secret"},
    ]}},
]}


@pytest.fixture(scope="module")
def secured(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("secured")
    (tmp / "keys.json").write_text(json.dumps(KEYS))
    proc = ServerProcess("--memory", "--credentials", str(tmp / "keys.json"), audit_log=str(tmp / "audit.log"))
    admin = client("timestream-write", proc.url, *ADMIN)
    admin.create_database(DatabaseName="sensors")
    admin.create_database(DatabaseName="billing")
    for db, table in (("sensors", "metrics"), ("sensors", "secret"), ("billing", "invoices")):
        admin.create_table(DatabaseName=db, TableName=table)
        admin.write_records(DatabaseName=db, TableName=table, Records=[record("h1", 1.0, now_ms())])
    yield proc
    proc.stop()


def _code(e: ClientError) -> tuple[str, int, str]:
    return e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"], e.response["Error"]["Message"]


def test_the_server_says_authentication_is_on(secured):
    assert "authentication: AWS Signature Version 4, 3 key(s)" in secured.output()


def test_signed_requests_are_accepted(secured):
    q = client("timestream-query", secured.url, *ADMIN)
    assert q.query(QueryString='SELECT count(*) FROM "sensors"."metrics"')["Rows"] == [
        {"Data": [{"ScalarValue": "1"}]}]


def test_wrong_secret_unknown_key_and_stale_date_are_refused(secured, monkeypatch):
    with pytest.raises(ClientError) as e:
        client("timestream-write", secured.url, ADMIN[0], "wrong-secret").list_databases()
    assert _code(e.value) == ("InvalidSignatureException", 403, (
        "The request signature we calculated does not match the signature you provided. Check your AWS Secret "
        "Access Key and signing method. Consult the service documentation for details."))

    with pytest.raises(ClientError) as e:
        client("timestream-write", secured.url, "AKIDNOBODY", "whatever-secret").list_databases()
    assert _code(e.value) == ("UnrecognizedClientException", 403, "The security token included in the request is invalid.")

    stale = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None) - dt.timedelta(minutes=20)
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: stale)
    with pytest.raises(ClientError) as e:
        client("timestream-write", secured.url, *ADMIN).list_databases()
    code, status, message = _code(e.value)
    assert (code, status) == ("InvalidSignatureException", 403)
    assert message.startswith(f"Signature expired: {stale:%Y%m%dT%H%M%S}Z is now earlier than ")


def _signed(secured, body: bytes, key=ADMIN, target="Timestream_20181101.ListDatabases") -> AWSRequest:
    request = AWSRequest("POST", secured.url + "/", data=body, headers={
        "Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": target})
    botocore.auth.SigV4Auth(Credentials(*key), "timestream", "eu-west-1").add_auth(request)
    return request


def _send(secured, request: AWSRequest, body: bytes | None = None) -> tuple[int, dict]:
    return post(request.url, request.body if body is None else body, dict(request.headers.items()))


def test_a_signature_covers_the_body_and_is_required(secured):
    request = _signed(secured, b'{"MaxResults": 5}')
    assert _send(secured, request)[0] == 200
    status, body = _send(secured, request, b'{"MaxResults": 6}')  # tampered after signing
    assert status == 403 and body["__type"] == "InvalidSignatureException"
    assert post(secured.url + "/", b"{}", {"Content-Type": "application/x-amz-json-1.0",
                                           "X-Amz-Target": "Timestream_20181101.ListDatabases"}) == (
        403, {"__type": "MissingAuthenticationTokenException", "Message": "Missing Authentication Token"})


def test_permissions_limit_what_a_key_reads_and_writes(secured):
    reader_q = client("timestream-query", secured.url, *READER)
    reader_w = client("timestream-write", secured.url, *READER)
    writer_q = client("timestream-query", secured.url, *WRITER)
    writer_w = client("timestream-write", secured.url, *WRITER)

    assert reader_q.query(QueryString='SELECT count(*) FROM "sensors"."metrics"')["Rows"][0]["Data"] == [
        {"ScalarValue": "1"}]
    assert reader_q.query(QueryString='DESCRIBE "sensors"."metrics"')["Rows"]
    assert [t["TableName"] for t in reader_w.list_tables(DatabaseName="sensors")["Tables"]] == ["metrics", "secret"]
    with pytest.raises(reader_q.exceptions.AccessDeniedException) as e:
        reader_q.query(QueryString='SELECT m.time FROM "sensors"."metrics" m JOIN "billing"."invoices" i '
                                   'ON m.time = i.time')
    assert _code(e.value)[1:] == (403, (
        "User: arn:aws:iam::000000000000:user/dashboards is not authorized to perform: timestream:Select on "
        "resource: arn:aws:timestream:local:000000000000:database/billing/table/invoices"))
    with pytest.raises(reader_q.exceptions.AccessDeniedException, match="timestream:ListDatabases"):
        reader_q.query(QueryString="SHOW DATABASES")
    with pytest.raises(reader_w.exceptions.AccessDeniedException, match="timestream:WriteRecords"):
        reader_w.write_records(DatabaseName="sensors", TableName="metrics", Records=[record("h2", 2.0, now_ms())])
    with pytest.raises(reader_w.exceptions.AccessDeniedException, match="timestream:DeleteTable"):
        reader_w.delete_table(DatabaseName="sensors", TableName="metrics")

    assert writer_w.write_records(DatabaseName="sensors", TableName="metrics",
                                  Records=[record("h2", 2.0, now_ms())])["RecordsIngested"]["Total"] == 1
    with pytest.raises(writer_w.exceptions.AccessDeniedException, match="table/secret"):  # an explicit Deny wins
        writer_w.write_records(DatabaseName="sensors", TableName="secret", Records=[record("h2", 2.0, now_ms())])
    with pytest.raises(writer_q.exceptions.AccessDeniedException, match="timestream:Select"):
        writer_q.query(QueryString='SELECT * FROM "sensors"."metrics"')
    with pytest.raises(writer_w.exceptions.AccessDeniedException, match="timestream:DescribeEndpoints"):
        writer_w.describe_endpoints()


def test_a_next_token_belongs_to_the_key_that_started_the_query(secured):
    sql = 'SELECT * FROM "sensors"."metrics"'
    admin_q = client("timestream-query", secured.url, *ADMIN)
    client("timestream-write", secured.url, *ADMIN).write_records(
        DatabaseName="sensors", TableName="metrics", Records=[record(f"t{i}", i, now_ms()) for i in range(5)])
    first = admin_q.query(QueryString=sql, MaxRows=2)
    reader_q = client("timestream-query", secured.url, *READER)
    with pytest.raises(reader_q.exceptions.ValidationException, match="Invalid pagination token"):
        reader_q.query(QueryString=sql, NextToken=first["NextToken"])
    assert len(admin_q.query(QueryString=sql, MaxRows=2, NextToken=first["NextToken"])["Rows"]) == 2


def test_the_audit_log_names_key_action_and_table(secured):
    writer_w = client("timestream-write", secured.url, *WRITER)
    with pytest.raises(ClientError):
        writer_w.write_records(DatabaseName="sensors", TableName="secret", Records=[record("h3", 3.0, now_ms())])
    entry = [e for e in secured.audit() if e["table"] == "secret" and e["key_id"] == WRITER[0]][-1]
    assert {k: entry[k] for k in ("key_id", "principal", "action", "database", "table", "status", "outcome")} == {
        "key_id": "AKIDWRITER", "principal": "ingest", "action": "WriteRecords", "database": "sensors",
        "table": "secret", "status": 403, "outcome": "AccessDeniedException"}
    refused = [e for e in secured.audit() if e["outcome"] == "UnrecognizedClientException"]
    assert refused and refused[-1]["key_id"] is None and refused[-1]["status"] == 403


def test_only_loopback_is_served_without_credentials(tmp_path):
    run = subprocess.run([sys.executable, "-m", "tsql.cli", "serve", "--memory", "--host", "0.0.0.0", "--port", "0"],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 2
    assert "refusing to listen on 0.0.0.0 without --credentials" in run.stderr


def _self_signed(tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True, timeout=60)
    return cert, key


def test_tls(tmp_path):
    cert, key = _self_signed(tmp_path)
    (tmp_path / "keys.json").write_text(json.dumps(KEYS))
    proc = ServerProcess("--memory", "--credentials", str(tmp_path / "keys.json"), "--tls-cert", str(cert),
                         "--tls-key", str(key), audit_log=str(tmp_path / "audit.log"))
    try:
        assert proc.url.startswith("https://127.0.0.1:")
        w = client("timestream-write", proc.url, *ADMIN, verify=str(cert))  # trust the self-signed certificate
        assert w.describe_endpoints()["Endpoints"][0]["Address"] == proc.url
        w.create_database(DatabaseName="secure")
        assert w.describe_database(DatabaseName="secure")["Database"]["DatabaseName"] == "secure"
        with pytest.raises(SSLError):  # the default trust store does not know this certificate
            client("timestream-write", proc.url, *ADMIN).list_databases()
        with pytest.raises(Exception):  # plain HTTP to the TLS port gets no API answer
            urllib.request.urlopen(proc.url.replace("https", "http") + "/", data=b"{}", timeout=5)
    finally:
        assert proc.stop() == 0
