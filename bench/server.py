"""`tsql serve` over HTTP: WriteRecords throughput and query latency, with boto3.

    python -m bench server --hosts 100 --hours 2

1. WriteRecords throughput: 1 and 16 concurrent boto3 clients sharing out 100-record
   requests of TSBS devops records, against a server with a data directory (WAL fsync'd
   per request) or, with --memory, in memory; and the same requests as plain JSON POSTs
   on one connection (the server's own cost: boto3 serializing and signing 100 records
   takes longer than the server's work). Median of --runs.
2. Query latency of two TSBS queries on the same data (generated, written to a data
   directory with write_frame, then served): in-process (`db.query` + `to_timestream`,
   the server's work minus HTTP), over raw HTTP (plain JSON POSTs on a keep-alive
   connection: the server's whole cost) and with a boto3 query client (what users see).
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np

import tsql
from tsql.sample_data import devops_frame, devops_start

from .tsbs import records_from_frame
from .tsbs_queries import make_query

QUERIES = ("single-groupby-1-1-1", "double-groupby-1")


class Serve:
    """A `tsql serve` subprocess on a free loopback port."""

    def __init__(self, *args: str):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tsql.cli", "serve", "--port", "0", "--audit-log", os.devnull, *args],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        for line in self.proc.stderr:
            m = re.search(r"listening on (\w+://\S+)", line)
            if m:
                self.url = m.group(1)
                break
        else:
            raise RuntimeError("tsql serve did not start")
        threading.Thread(target=self.proc.stderr.read, daemon=True).start()

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(60)


def _client(service: str, url: str):
    import boto3

    session = boto3.session.Session(aws_access_key_id="bench", aws_secret_access_key="bench-secret",
                                    region_name="us-east-1")
    return session.client(service, endpoint_url=url)


def write_throughput(url: str, batches: list[list], clients: int) -> float:
    """Records per second with `clients` threads sharing out `batches` of 100 records."""
    writers = [_client("timestream-write", url) for _ in range(clients)]
    share = [batches[i::clients] for i in range(clients)]
    start = threading.Barrier(clients + 1)

    def run(k: int) -> None:
        start.wait()
        for batch in share[k]:
            writers[k].write_records(DatabaseName="bench", TableName="cpu", Records=batch)

    threads = [threading.Thread(target=run, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    start.wait()
    began = time.perf_counter()
    for t in threads:
        t.join()
    return sum(len(b) for b in batches) / (time.perf_counter() - began)


def _raw_connection(url: str) -> http.client.HTTPConnection:
    """A keep-alive connection for plain JSON POSTs: no SDK serializing, signing, parsing."""
    return http.client.HTTPConnection(url.split("://")[1], timeout=60)


def _raw_post(raw: http.client.HTTPConnection, operation: str, body: str) -> dict:
    raw.request("POST", "/", body, {"X-Amz-Target": f"Timestream_20181101.{operation}",
                                    "Content-Type": "application/x-amz-json-1.0"})
    response = raw.getresponse()
    answer = response.read()
    if response.status != 200:
        raise RuntimeError(f"{operation} failed: {answer[:200]!r}")
    return json.loads(answer)


def raw_write_throughput(url: str, batches: list[list]) -> float:
    """Records per second of WriteRecords as plain JSON POSTs on one connection (bodies
    serialized beforehand): the server's part, without the SDK's."""
    raw = _raw_connection(url)
    bodies = [json.dumps({"DatabaseName": "bench", "TableName": "cpu", "Records": b}) for b in batches]
    began = time.perf_counter()
    for body in bodies:
        _raw_post(raw, "WriteRecords", body)
    return sum(len(b) for b in batches) / (time.perf_counter() - began)


def bench_writes(hosts: int, requests: int, runs: int, memory: bool) -> None:
    now = time.time_ns() // 10**9 * 10**9
    hours = max(1.0, requests * 100 / (hosts * 10 * 360))  # enough points for the requests
    frame = devops_frame(hosts, hours, now)
    records = records_from_frame(frame, requests * 100)
    batches = [records[i:i + 100] for i in range(0, len(records), 100)]
    mode = "in memory" if memory else "data directory, WAL fsync per request"
    print(f"WriteRecords: {len(batches)} requests of 100 records per run ({mode}), median of {runs} runs")
    for label, measure in (("boto3,  1 client ", lambda url: write_throughput(url, batches, 1)),
                           ("boto3, 16 clients", lambda url: write_throughput(url, batches, 16)),
                           ("raw HTTP, 1 conn.", lambda url: raw_write_throughput(url, batches))):
        rates = []
        for _ in range(runs):
            with tempfile.TemporaryDirectory() as tmp:
                server = Serve("--memory") if memory else Serve("--data", os.path.join(tmp, "data"))
                try:
                    w = _client("timestream-write", server.url)
                    w.create_database(DatabaseName="bench")
                    w.create_table(DatabaseName="bench", TableName="cpu", RetentionProperties={
                        "MemoryStoreRetentionPeriodInHours": int(math.ceil(hours)) + 1,
                        "MagneticStoreRetentionPeriodInDays": 1})
                    rates.append(measure(server.url))
                finally:
                    server.stop()
        print(f"  {label}: {statistics.median(rates):9,.0f} records/s "
              f"({statistics.median(rates) / 100:6,.0f} requests/s)   runs: "
              + ", ".join(f"{r:,.0f}" for r in rates))


def _time(fn, runs: int) -> float:
    fn()  # warm-up
    samples = []
    for _ in range(runs):
        began = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - began)
    return statistics.median(samples) * 1000


def bench_queries(hosts: int, hours: float, runs: int) -> None:
    now = time.time_ns() // 10**9 * 10**9
    frame = devops_frame(hosts, hours, now)
    rng = np.random.default_rng(7)
    queries = [make_query(name, hosts, devops_start(hours, now), now, rng) for name in QUERIES]
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "data")
        with tsql.connect(path) as db:
            db.create_database("tsbs")
            db.create_table("tsbs", "cpu", memory_retention_hours=int(math.ceil(hours)) + 1)
            db.write_frame("tsbs", "cpu", frame)
            local = {}
            for q in queries:
                def in_process(sql=q.tsql):
                    result = db.query(sql)
                    token = None
                    while True:  # every page, as the server builds them
                        page = result.to_timestream(1000, token)
                        token = page.get("NextToken")
                        if token is None:
                            return len(result)
                local[q.name] = (_time(in_process, runs), in_process())
        server = Serve("--data", path)
        try:
            client = _client("timestream-query", server.url)
            print(f"\nQueries over HTTP vs in-process: {len(frame):,} rows ({hosts} hosts x {hours} h), "
                  f"median of {runs} runs")
            print(f"  {'query':22} {'rows':>6} {'in-process ms':>14} {'raw HTTP ms':>12} {'boto3 ms':>9}")
            raw = _raw_connection(server.url)
            for q in queries:
                def over_http(sql=q.tsql):
                    pages = client.get_paginator("query").paginate(QueryString=sql)
                    return sum(len(p["Rows"]) for p in pages)

                def over_raw_http(sql=q.tsql):  # the server's part
                    rows, token = 0, None
                    while True:
                        body = {"QueryString": sql, **({"NextToken": token} if token else {})}
                        page = _raw_post(raw, "Query", json.dumps(body))
                        rows += len(page["Rows"])
                        token = page.get("NextToken")
                        if token is None:
                            return rows

                http_ms = _time(over_http, runs)
                raw_ms = _time(over_raw_http, runs)
                local_ms, rows = local[q.name]
                assert over_http() == rows == over_raw_http()
                print(f"  {q.name:22} {rows:6} {local_ms:14.2f} {raw_ms:12.2f} {http_ms:9.2f}")
        finally:
            server.stop()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench server", description=__doc__.split("\n\n")[0])
    parser.add_argument("--hosts", type=int, default=100)
    parser.add_argument("--hours", type=float, default=2, help="hours of devops data for the query latency")
    parser.add_argument("--requests", type=int, default=400, help="WriteRecords requests per throughput run")
    parser.add_argument("--runs", type=int, default=3, help="runs of each write measurement")
    parser.add_argument("--query-runs", type=int, default=20)
    parser.add_argument("--memory", action="store_true", help="measure writes against an in-memory server")
    args = parser.parse_args(argv)
    print(f"machine: {os.cpu_count()} cpus, Python {sys.version.split()[0]}")
    bench_writes(args.hosts, args.requests, args.runs, args.memory)
    bench_queries(args.hosts, args.hours, args.query_runs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
