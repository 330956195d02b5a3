"""The magnetic store's files: Parquet that other tools read with the same rows, compact
on disk, with manifests that describe them, and a partition key that lays them out."""

from __future__ import annotations

import glob
import json
import os

import duckdb
import numpy as np
import pandas as pd
import pyarrow.feather as feather
import pyarrow.parquet as pq
import pytest

import tsql
from tsql.sample_data import devops_frame
from tsql.storage.magnetic import MagneticSettings, bucket_of

from ..conftest import NOW
from .helpers import DB, HOUR, MINUTE, TABLE, open_db, points, tiers


@pytest.fixture
def moved(tmp_path):
    """Devops data (4 hosts, 3 hours) written, then all moved to the magnetic store on disk."""
    path = str(tmp_path / "data")
    db = open_db(path, magnetic=MagneticSettings())
    db.create_database(DB)
    db.create_table(DB, TABLE, memory_retention_hours=4)
    frame = devops_frame(4, 3, NOW)
    db.write_frame(DB, TABLE, frame)
    db.clock.advance(5 * HOUR)
    db.maintain()
    assert tiers(db) == (0, len(frame))
    yield db, path, frame
    db.close()


def test_other_tools_read_the_same_rows(moved):
    db, path, frame = moved
    files = glob.glob(os.path.join(path, "tables", "*", "*", "*.parquet"))
    assert len(files) == db.storage_status(DB, TABLE)["MagneticStore"]["Files"] > 1
    cols = "hostname, region, measure_name, time, \"measure_value::double\""
    theirs = duckdb.sql(f"SELECT {cols} FROM read_parquet({files!r}) ORDER BY hostname, measure_name, time").fetchall()
    ours = db.query(f'SELECT hostname, region, measure_name, time, measure_value::double FROM "{DB}"."{TABLE}" '
                    "ORDER BY hostname, measure_name, time").rows
    assert len(theirs) == len(ours) == len(frame)
    assert [(h, r, m, pd.Timestamp(t).tz_convert(None), v) for h, r, m, t, v in theirs] == ours
    # pyarrow: one file, rows ordered by (series, time), dimensions dictionary-encoded
    table = pq.read_table(files[0])
    sid, t = table.column("ts_series_id").to_numpy(), table.column("time").to_numpy().astype(np.int64)
    assert np.all((sid[1:] > sid[:-1]) | ((sid[1:] == sid[:-1]) & (t[1:] > t[:-1])))
    assert str(table.schema.field("hostname").type) == "dictionary<values=string, indices=int32, ordered=0>"
    meta = pq.read_metadata(files[0])
    assert meta.row_group(0).column(0).compression == "ZSTD"


def test_manifests_describe_the_files(moved):
    db, path, frame = moved
    root = json.load(open(os.path.join(path, "tables", "1", "manifest.json")))
    assert sum(p["rows"] for p in root["partitions"]) == len(frame)
    part = root["partitions"][0]
    index = feather.read_table(os.path.join(path, "tables", "1", part["manifest"])).to_pandas()
    assert list(index.columns) == ["file", "sid", "row_start", "row_end", "tmin", "tmax"]
    data = pq.read_table(glob.glob(os.path.join(path, "tables", "1", part["name"], "*.parquet"))[0]).to_pandas()
    for seg in index.itertuples():  # every segment names its series' rows and their times
        rows = data.iloc[seg.row_start:seg.row_end]
        assert (rows["ts_series_id"] == seg.sid).all()
        assert rows["time"].iloc[0].value == seg.tmin and rows["time"].iloc[-1].value == seg.tmax
    assert index.groupby("sid")["row_end"].max().sum() - index.groupby("sid")["row_start"].min().sum() == len(data)


def test_on_disk_size_is_at_most_a_third_of_memory(moved):
    db, path, frame = moved
    raw = len(frame) * (8 + 8 + 8)  # time, version and value of each point in the memory store
    on_disk = sum(os.path.getsize(f) for f in glob.glob(os.path.join(path, "tables", "**", "*"), recursive=True)
                  if os.path.isfile(f))
    assert on_disk * 3 <= raw


def test_dimension_partition_key_lays_out_partitions():
    db = open_db(magnetic=MagneticSettings(buckets=4))
    try:
        db.create_database(DB)
        desc = db.create_table(DB, TABLE, memory_retention_hours=1, magnetic_store_writes=True,
                               partition_key=("dimension", "host", "OPTIONAL"))
        assert desc["Schema"] == {"CompositePartitionKey": [
            {"Type": "DIMENSION", "Name": "host", "EnforcementInRecord": "OPTIONAL"}]}
        hosts = ["a", "b", "d", "e", "c"]  # buckets 3, 1, 0, 2 and 3 again
        db.write_frame(DB, TABLE, points(hosts, NOW - 3 * HOUR, NOW - 2 * HOUR))
        db.write_records(DB, TABLE, [{"MeasureName": "cpu", "MeasureValue": "1", "Time": str((NOW - 3 * HOUR) // 10**6),
                                      "Dimensions": [{"Name": "rack", "Value": "r1"}]}])  # no host: OPTIONAL
        view = db.storage.table(DB, TABLE).magnetic.view
        by_bucket = {p.bucket: p.rows for p in view.partitions}
        assert by_bucket == {3: 120, 1: 60, 0: 61, 2: 60}
        assert bucket_of(None, 4) == 0
        res = db.query(f'SELECT count(*) FROM "{DB}"."{TABLE}" WHERE host = \'c\'')
        assert res.scalar() == 60
        assert (res.status.partitions_scanned, res.status.partitions_pruned) == (1, 3)
    finally:
        db.close()


def test_partition_key_enforcement(sample_db):
    db = sample_db
    db.create_table("tsdb", "keyed", partition_key=("dimension", "host"))
    with pytest.raises(tsql.RejectedRecordsError) as e:
        db.write_records("tsdb", "keyed", [
            {"MeasureName": "cpu", "MeasureValue": "1", "Time": str(NOW // 10**6), "Dimensions": [{"Name": "host", "Value": "x"}]},
            {"MeasureName": "cpu", "MeasureValue": "1", "Time": str(NOW // 10**6), "Dimensions": [{"Name": "rack", "Value": "r"}]},
        ])
    reason = "The record is missing the dimension 'host', which the table's partition key requires."
    assert e.value.rejected_records == [{"RecordIndex": 1, "Reason": reason}]
    frame = pd.DataFrame({"time": pd.to_datetime([NOW - MINUTE, NOW - MINUTE], unit="ns"), "host": ["y", None],
                          "measure_name": ["cpu", "cpu"], "measure_value::double": [1.0, 2.0]})
    with pytest.raises(tsql.RejectedRecordsError) as e:
        db.write_frame("tsdb", "keyed", frame)
    assert e.value.rejected_records == [{"RecordIndex": 1, "Reason": reason}]
    desc = db.update_table("tsdb", "keyed", partition_enforcement="OPTIONAL")
    assert desc["Schema"]["CompositePartitionKey"][0]["EnforcementInRecord"] == "OPTIONAL"
    assert db.write_frame("tsdb", "keyed", frame.assign(time=frame["time"] - pd.Timedelta(seconds=1)))["Total"] == 2


def test_measure_name_is_the_default_partition_key():
    db = open_db(magnetic=MagneticSettings(buckets=4))
    try:
        db.create_database(DB)
        desc = db.create_table(DB, TABLE, memory_retention_hours=1, magnetic_store_writes=True)
        assert desc["Schema"] == {"CompositePartitionKey": [{"Type": "MEASURE"}]}
        db.write_frame(DB, TABLE, points(["a", "b"], NOW - 3 * HOUR, NOW - 2 * HOUR, measures=("cpu", "net")))
        assert {p.bucket for p in db.storage.table(DB, TABLE).magnetic.view.partitions} == {2, 3}
        s = db.query(f'SELECT count(*) FROM "{DB}"."{TABLE}" WHERE measure_name = \'net\'').status
        assert (s.partitions_scanned, s.partitions_pruned, s.rows_scanned) == (1, 1, 120)
    finally:
        db.close()


@pytest.mark.parametrize("key, message", [
    (("dimension", "time"), "The dimension name 'time' is reserved or invalid"),
    (("dimension", ""), "must be 1 to 60 bytes of text"),
    (("dimension", "host", "MAYBE"), "REQUIRED or OPTIONAL"),
    (("dimension",), "partition_key must be"),
])
def test_invalid_partition_keys(db, key, message):
    db.create_database(DB)
    with pytest.raises(tsql.ValidationError, match=message):
        db.create_table(DB, TABLE, partition_key=key)


def test_an_unreadable_file_is_an_internal_error(moved):
    db, path, frame = moved
    db.storage.cache.clear()
    for f in glob.glob(os.path.join(path, "tables", "1", "*", "*.parquet")):
        with open(f, "r+b") as fh:
            fh.truncate(100)
    db.storage.table(DB, TABLE).magnetic.readers.clear()
    with pytest.raises(tsql.InternalServerError, match="Could not read the magnetic store file"):
        db.query(f'SELECT count(*) FROM "{DB}"."{TABLE}"')
