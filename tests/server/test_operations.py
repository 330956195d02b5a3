"""Operating `tsql serve`: many concurrent clients, throttling and request size limits,
graceful shutdown on SIGTERM, the /metrics endpoint and the audit log."""

from __future__ import annotations

import calendar
import re
import threading
import time
import urllib.request

import pytest
from botocore.exceptions import ClientError

import tsql

from .conftest import ServerProcess, client, metric_value, now_ms, record

RETRIES_OFF = {"retries": {"total_max_attempts": 1}}


def _slow_query(n: int) -> str:
    """A query that keeps the server busy for a while: an n x n cross join comparing strings."""
    values = ",".join(f"({i})" for i in range(n))
    return (f"WITH t AS (SELECT * FROM (VALUES {values}) AS v(x)) SELECT count(*) FROM t a CROSS JOIN t b "
            "WHERE levenshtein_distance(cast(a.x AS varchar), cast(b.x AS varchar)) < 2")


def test_sixteen_writers_and_four_readers(server, write):
    write.create_database(DatabaseName="busy")
    write.create_table(DatabaseName="busy", TableName="points", RetentionProperties={
        "MemoryStoreRetentionPeriodInHours": 24, "MagneticStoreRetentionPeriodInDays": 1})
    writers, batches, readers = 16, 8, 4
    base = now_ms() - 3_600_000
    acknowledged = [0] * writers
    errors: list = []
    seen: list = []
    done = threading.Event()

    def writer(k: int) -> None:
        w = client("timestream-write", server.url)
        for b in range(batches):
            records = [record(f"w{k}", b * 100 + i, base + (b * 100 + i) * 10) for i in range(100)]
            try:
                w.write_records(DatabaseName="busy", TableName="points", Records=records)
                acknowledged[k] += 100
            except ClientError as e:
                errors.append(e)

    def reader() -> None:
        q = client("timestream-query", server.url)
        counts = []
        while not done.is_set():
            try:
                rows = q.query(QueryString='SELECT count(*) FROM "busy"."points"')["Rows"]
                counts.append(int(rows[0]["Data"][0]["ScalarValue"]))
            except ClientError as e:
                errors.append(e)
        seen.append(counts)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(writers)]
    reading = [threading.Thread(target=reader) for _ in range(readers)]
    for t in threads + reading:
        t.start()
    for t in threads:
        t.join(120)
    done.set()
    for t in reading:
        t.join(60)

    assert all(e.response["Error"]["Code"] == "ThrottlingException" for e in errors), errors[:3]
    rows = client("timestream-query", server.url).query(
        QueryString='SELECT host, count(*) FROM "busy"."points" GROUP BY host ORDER BY host')["Rows"]
    stored = {r["Data"][0]["ScalarValue"]: int(r["Data"][1]["ScalarValue"]) for r in rows}
    assert stored == {f"w{k}": acknowledged[k] for k in range(writers) if acknowledged[k]}
    assert sum(acknowledged) == writers * batches * 100 - 100 * len(errors)
    for counts in seen:  # every reader saw the table only grow
        assert counts == sorted(counts) and all(c <= writers * batches * 100 for c in counts)


def test_metrics_and_audit_log_account_for_every_request(server, write, query):
    write.create_database(DatabaseName="accounted")
    write.create_table(DatabaseName="accounted", TableName="cpu")
    before = server.metrics()
    lines_before = len(server.audit())
    t = now_ms()
    write.write_records(DatabaseName="accounted", TableName="cpu", Records=[record("a", i, t - i) for i in range(40)])
    with pytest.raises(write.exceptions.RejectedRecordsException):
        write.write_records(DatabaseName="accounted", TableName="cpu",
                            Records=[record("a", 99, t), record("b", 1, t)])  # the first clashes
    result = query.query(QueryString='SELECT count(*) FROM "accounted"."cpu"')
    with pytest.raises(query.exceptions.ValidationException):
        query.query(QueryString='SELECT nope FROM "accounted"."cpu"')
    after = server.metrics()

    def delta(name, labels=""):
        return metric_value(after, name, labels) - metric_value(before, name, labels)

    assert delta("tsql_records_ingested_total") == 41
    assert delta("tsql_records_rejected_total") == 1
    assert delta("tsql_requests_total", 'operation="WriteRecords",outcome="OK"') == 1
    assert delta("tsql_requests_total", 'operation="WriteRecords",outcome="RejectedRecordsException"') == 1
    assert delta("tsql_queries_total", 'outcome="OK"') == 1
    assert delta("tsql_queries_total", 'outcome="ValidationException"') == 1
    assert delta("tsql_query_bytes_scanned_total") == result["QueryStatus"]["CumulativeBytesScanned"] > 0
    assert delta("tsql_request_duration_seconds_count", 'operation="Query"') == 2

    # the exposition format: HELP and TYPE for each family, samples "name{labels} value",
    # cumulative histogram buckets ending in +Inf = _count
    sample = re.compile(r'^[a-z_]+(\{([a-z_]+="[^"]*",?)*\})? -?[0-9.e+Inf]+$')
    for line in after.splitlines():
        assert line.startswith(("# HELP ", "# TYPE ")) or sample.match(line), line
    buckets = [float(v) for v in re.findall(
        r'^tsql_request_duration_seconds_bucket\{operation="Query",le="[^"]+"\} (\S+)$', after, re.M)]
    assert buckets == sorted(buckets) and buckets[-1] == metric_value(
        after, "tsql_request_duration_seconds_count", 'operation="Query"')
    with urllib.request.urlopen(server.url + "/metrics", timeout=10) as r:
        assert r.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"

    entries = server.audit()[lines_before:]
    assert [(e["action"], e["outcome"]) for e in entries] == [
        ("WriteRecords", "OK"), ("WriteRecords", "RejectedRecordsException"),
        ("Query", "OK"), ("Query", "ValidationException")]
    assert entries[0]["records_ingested"] == 40 and entries[0]["database"] == "accounted"
    assert entries[0]["table"] == "cpu" and entries[0]["key_id"] is None and entries[0]["status"] == 200
    assert (entries[1]["records_ingested"], entries[1]["records_rejected"], entries[1]["status"]) == (1, 1, 419)
    assert entries[2]["bytes_scanned"] == result["QueryStatus"]["CumulativeBytesScanned"]
    assert all(e["ms"] >= 0 and e["request_id"] and e["remote"] == "127.0.0.1" for e in entries)


@pytest.fixture(scope="module")
def limited(tmp_path_factory):
    """A server that runs one request at a time, queues none, and takes small requests."""
    tmp = tmp_path_factory.mktemp("limited")
    proc = ServerProcess("--memory", "--max-concurrency", "1", "--max-queue", "0", "--max-request-bytes", "4096",
                         audit_log=str(tmp / "audit.log"))
    yield proc
    proc.stop()


def test_a_saturated_server_answers_throttling(limited):
    sql = _slow_query(250)
    clients = [client("timestream-query", limited.url, **RETRIES_OFF) for _ in range(8)]
    start = threading.Barrier(len(clients))
    outcomes: list = []

    def run(q) -> None:
        start.wait()
        try:
            q.query(QueryString=sql)
            outcomes.append("OK")
        except q.exceptions.ThrottlingException as e:
            outcomes.append((e.response["ResponseMetadata"]["HTTPStatusCode"], e.response["Error"]["Code"]))

    threads = [threading.Thread(target=run, args=(q,)) for q in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert len(outcomes) == 8 and "OK" in outcomes
    throttled = [o for o in outcomes if o != "OK"]
    assert throttled and set(throttled) == {(429, "ThrottlingException")}
    assert metric_value(limited.metrics(), "tsql_requests_throttled_total") == len(throttled)


def test_request_size_limit(limited):
    w = client("timestream-write", limited.url, **RETRIES_OFF)
    big = [record("h" * 40, i, now_ms()) for i in range(100)]
    with pytest.raises(w.exceptions.ValidationException) as e:
        w.write_records(DatabaseName="db1", TableName="t1", Records=big)
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 413
    assert re.fullmatch(r"Request size \d+ bytes exceeds the limit of 4096 bytes\.", e.value.response["Error"]["Message"])
    assert w.list_databases()["Databases"] == []  # the connection after it works


def test_sigterm_finishes_requests_in_flight(tmp_path):
    data = tmp_path / "data"
    proc = ServerProcess("--data", str(data), audit_log=str(tmp_path / "audit.log"))
    w = client("timestream-write", proc.url, **RETRIES_OFF)
    w.create_database(DatabaseName="drain")
    w.create_table(DatabaseName="drain", TableName="points")
    base = now_ms() - 60_000
    acknowledged = [0] * 4
    writer_errors: list = []
    slow: dict = {}
    sql = _slow_query(600)

    writers = [client("timestream-write", proc.url, **RETRIES_OFF) for _ in range(4)]

    def writer(k: int) -> None:
        c = writers[k]
        for b in range(1000):
            try:
                c.write_records(DatabaseName="drain", TableName="points",
                                Records=[record(f"w{k}", i, base + b * 100 + i) for i in range(100)])
            except Exception as e:  # after shutdown: refused or closed connections
                writer_errors.append(e)
                return
            acknowledged[k] += 100

    def slow_query() -> None:
        try:
            slow["rows"] = client("timestream-query", proc.url, read_timeout=120, **RETRIES_OFF).query(
                QueryString=sql)["Rows"]
        except Exception as e:
            slow["error"] = e

    threads = [threading.Thread(target=slow_query)]
    threads[0].start()
    deadline = time.time() + 30
    while metric_value(proc.metrics(), "tsql_requests_in_flight") < 1:  # the slow query runs
        assert time.time() < deadline, "the slow query never arrived"
        time.sleep(0.02)
    threads += [threading.Thread(target=writer, args=(k,)) for k in range(4)]
    for t in threads[1:]:
        t.start()
    while not all(acknowledged):  # every writer is going
        assert time.time() < deadline and not writer_errors, writer_errors
        time.sleep(0.01)
    signalled = time.time()
    assert proc.stop() == 0
    for t in threads:
        t.join(60)

    assert "error" not in slow, slow.get("error")
    query_entry = [e for e in proc.audit() if e["action"] == "Query"][-1]
    finished = calendar.timegm(time.strptime(query_entry["time"][:19], "%Y-%m-%dT%H:%M:%S"))
    assert query_entry["outcome"] == "OK" and finished >= int(signalled)  # it was in flight at SIGTERM
    assert "shutting down" in proc.output() and "tsql serve: stopped" in proc.output()
    for e in writer_errors:  # a write refused during the drain is a 503, never a 5xx of the engine
        if isinstance(e, ClientError):
            assert e.response["Error"]["Code"] == "ServiceUnavailableException"

    with tsql.connect(str(data)) as db:  # every acknowledged write is on disk
        stored = dict(db.query('SELECT host, count(*) FROM "drain"."points" GROUP BY host').rows)
        assert {h: n for h, n in stored.items()} == {f"w{k}": acknowledged[k] for k in range(4) if acknowledged[k]}
        assert slow["rows"] == [{"Data": [{"ScalarValue": str(db.query(sql).scalar())}]}]
