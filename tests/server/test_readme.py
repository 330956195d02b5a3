"""The README's section on `tsql serve` says what runs: its boto3 example runs against a
real server, and its credentials file means what the text says."""

from __future__ import annotations

import contextlib
import io
import json
import pathlib
import re

from tsql.server.auth import KeyStore

README = pathlib.Path(__file__).resolve().parents[2] / "README.md"


def _blocks(language: str) -> list[str]:
    section = README.read_text().split("## Serving the AWS API: tsql serve", 1)[1].split("\n## ", 1)[0]
    return re.findall(rf"```{language}\n(.*?)```", section, re.S)


def test_the_boto3_example_runs(server):
    code = _blocks("python")[0].replace("http://127.0.0.1:8086", server.url)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README.md", "exec"), {})
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("[{'RecordIndex': 0, 'Reason': 'A record already exists") and "'ExistingVersion': 1" in lines[0]
    # host-k holds the values 40 + i for i = k, k + 4, ..., k + 96
    assert lines[1:] == [str(["host-0", "88.0"]), str(["host-1", "89.0"]), str(["host-2", "90.0"]),
                         str(["host-3", "91.0"])]


def test_the_credentials_example_means_what_it_says():
    keys = KeyStore.from_document(json.loads(_blocks("json")[0]))
    table = "arn:aws:timestream:local:000000000000:database/{}/table/{}"
    admin, ingest, dash = (keys.get(k).principal for k in ("AKIDADMIN", "AKIDINGEST", "AKIDDASH"))
    assert admin.unrestricted
    assert ingest.allows("timestream:WriteRecords", table.format("sensors", "metrics"))
    assert ingest.allows("timestream:DescribeDatabase", "arn:aws:timestream:local:000000000000:database/sensors")
    assert not ingest.allows("timestream:WriteRecords", table.format("other", "metrics"))
    assert not ingest.allows("timestream:Select", table.format("sensors", "metrics"))
    assert dash.allows("timestream:Select", table.format("sensors", "metrics"))
    assert not dash.allows("timestream:Select", table.format("billing", "invoices"))
    assert json.loads(_blocks("json")[1])["outcome"] == "OK"
