"""The public Python API, as DESIGN.md states its contract."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import tsql
from tsql.clock import FixedClock
from tsql.types import BIGINT, DOUBLE, TIMESTAMP, VARCHAR

from ..conftest import NOW

MS = 10**6


def record(host: str, value: float, ms_ago: int, measure: str = "cpu", **extra) -> dict:
    r = {
        "Dimensions": [{"Name": "region", "Value": "us-east-1"}, {"Name": "hostname", "Value": host}],
        "MeasureName": measure,
        "MeasureValue": str(value),
        "MeasureValueType": "DOUBLE",
        "Time": str(NOW // MS - ms_ago),
    }
    r.update(extra)
    return r


def test_databases_and_tables_lifecycle(db):
    assert db.list_databases() == []
    desc = db.create_database("sampleDB")
    assert desc["DatabaseName"] == "sampleDB" and desc["TableCount"] == 0
    assert desc["Arn"].endswith(":database/sampleDB")
    with pytest.raises(tsql.ConflictError):
        db.create_database("sampleDB")
    table = db.create_table("sampleDB", "DevOps", memory_retention_hours=12, magnetic_retention_days=30)
    assert table["TableName"] == "DevOps" and table["TableStatus"] == "ACTIVE"
    assert table["RetentionProperties"] == {
        "MemoryStoreRetentionPeriodInHours": 12, "MagneticStoreRetentionPeriodInDays": 30,
    }
    assert table["MagneticStoreWriteProperties"] == {"EnableMagneticStoreWrites": False}
    db.create_table("sampleDB", "IoT")
    assert db.list_tables("sampleDB") == ["DevOps", "IoT"]
    assert db.describe_database("sampleDB")["TableCount"] == 2
    with pytest.raises(tsql.ValidationError, match="still has 2 table"):
        db.delete_database("sampleDB")
    db.delete_table("sampleDB", "IoT")
    db.delete_table("sampleDB", "DevOps")
    with pytest.raises(tsql.ResourceNotFoundError):
        db.describe_table("sampleDB", "DevOps")
    db.delete_database("sampleDB")
    assert db.list_databases() == []


@pytest.mark.parametrize("name", ["ab", "bad name", "x" * 257, "semi;colon", ""])
def test_invalid_names_are_rejected(db, name):
    with pytest.raises(tsql.ValidationError, match="Invalid database name"):
        db.create_database(name)


def test_table_properties_are_validated(db):
    db.create_database("tsdb")
    with pytest.raises(tsql.ValidationError, match="MemoryStoreRetentionPeriodInHours"):
        db.create_table("tsdb", "metrics", memory_retention_hours=0)
    with pytest.raises(tsql.ValidationError, match="MagneticStoreRetentionPeriodInDays"):
        db.create_table("tsdb", "metrics", magnetic_retention_days=73001)
    with pytest.raises(tsql.ResourceNotFoundError, match="The database nope does not exist"):
        db.create_table("nope", "metrics")


def test_write_records_and_query(sample_db):
    ingested = sample_db.write_records("tsdb", "metrics", [record("h1", 1.5, 1000), record("h2", 2.5, 2000)])
    assert ingested == {"Total": 2, "MemoryStore": 2, "MagneticStore": 0}
    res = sample_db.query('SELECT hostname, measure_value::double, time FROM "tsdb"."metrics" ORDER BY hostname')
    assert [(c.name, c.type) for c in res.columns] == [
        ("hostname", VARCHAR), ("measure_value::double", DOUBLE), ("time", TIMESTAMP),
    ]
    assert res.rows == [
        ("h1", 1.5, pd.Timestamp(NOW - 1000 * MS, unit="ns")),
        ("h2", 2.5, pd.Timestamp(NOW - 2000 * MS, unit="ns")),
    ]
    assert len(res) == 2


def test_common_attributes_time_units_and_multi_measure(sample_db):
    common = {"Dimensions": [{"Name": "fleet", "Value": "alpha"}], "TimeUnit": "SECONDS"}
    records = [
        {"Dimensions": [{"Name": "truck", "Value": "t1"}], "MeasureName": "speed", "MeasureValue": "42",
         "MeasureValueType": "BIGINT", "Time": str(NOW // 10**9 - 5)},
        {"Dimensions": [{"Name": "truck", "Value": "t1"}], "MeasureName": "metrics", "MeasureValueType": "MULTI",
         "MeasureValues": [{"Name": "load", "Value": "7.25", "Type": "DOUBLE"},
                           {"Name": "ok", "Value": "true", "Type": "BOOLEAN"},
                           {"Name": "note", "Value": "fine", "Type": "VARCHAR"}],
         "Time": str(NOW // 10**9 - 5)},
    ]
    sample_db.write_records("tsdb", "metrics", records, common_attributes=common)
    res = sample_db.query('SELECT fleet, truck, measure_name, measure_value::bigint, load, ok, note '
                          'FROM "tsdb"."metrics" ORDER BY measure_name')
    assert res.rows == [
        ("alpha", "t1", "metrics", None, 7.25, True, "fine"),
        ("alpha", "t1", "speed", 42, None, None, None),
    ]
    cols = [row[0] for row in sample_db.query('DESCRIBE "tsdb"."metrics"').rows]
    assert cols == ["fleet", "truck", "measure_value::bigint", "load", "ok", "note", "measure_name", "time"]


def test_write_frame_long_and_wide(sample_db):
    times = pd.to_datetime([NOW - 3 * 10**9, NOW - 2 * 10**9, NOW - 10**9], unit="ns")
    long = pd.DataFrame({
        "time": times, "hostname": ["a", "b", "a"], "measure_name": ["cpu", "cpu", "mem"],
        "measure_value::double": [1.0, 2.0, 3.0],
    })
    assert sample_db.write_frame("tsdb", "metrics", long)["Total"] == 3
    wide = pd.DataFrame({"time": times, "truck": ["x", "y", "z"], "speed": [10.5, 20.5, None], "gear": [1, 2, 3]})
    assert sample_db.write_frame("tsdb", "metrics", wide, measure_name="metrics")["Total"] == 3
    res = sample_db.query(
        'SELECT measure_name, count(*), sum(measure_value::double), sum(speed), sum(gear) FROM "tsdb"."metrics" '
        "GROUP BY measure_name ORDER BY 1"
    )
    assert res.rows == [("cpu", 2, 3.0, None, None), ("mem", 1, 3.0, None, None), ("metrics", 3, None, 31.0, 6)]
    with pytest.raises(tsql.ValidationError, match="needs a 'measure_name' column or the measure_name argument"):
        sample_db.write_frame("tsdb", "metrics", wide)


def test_to_pandas(sample_db):
    sample_db.write_records("tsdb", "metrics", [record("h1", 1.5, 1000), record("h2", 2.5, 2000)])
    frame = sample_db.query('SELECT hostname, measure_value::double AS v, time, 1 AS one FROM "tsdb"."metrics" '
                            "ORDER BY hostname").to_pandas()
    assert list(frame.columns) == ["hostname", "v", "time", "one"]
    assert frame["v"].tolist() == [1.5, 2.5]
    assert frame["time"].dtype == np.dtype("datetime64[ns]")
    assert frame["time"].iloc[0] == pd.Timestamp(NOW - 1000 * MS, unit="ns")
    assert str(frame["one"].dtype) == "Int64"


def test_to_timestream_shape(sample_db):
    sample_db.write_records("tsdb", "metrics", [record("h1", 35.0, 0)])
    res = sample_db.query('SELECT hostname, measure_value::double, time, NULL AS nothing, count(*) OVER () AS n '
                          'FROM "tsdb"."metrics"')
    out = res.to_timestream()
    assert out["ColumnInfo"] == [
        {"Name": "hostname", "Type": {"ScalarType": "VARCHAR"}},
        {"Name": "measure_value::double", "Type": {"ScalarType": "DOUBLE"}},
        {"Name": "time", "Type": {"ScalarType": "TIMESTAMP"}},
        {"Name": "nothing", "Type": {"ScalarType": "UNKNOWN"}},
        {"Name": "n", "Type": {"ScalarType": "BIGINT"}},
    ]
    assert out["Rows"] == [{"Data": [
        {"ScalarValue": "h1"}, {"ScalarValue": "35.0"}, {"ScalarValue": "2024-01-01 00:00:00.000000000"},
        {"NullValue": True}, {"ScalarValue": "1"},
    ]}]
    assert out["QueryStatus"]["ProgressPercentage"] == 100.0
    assert out["QueryStatus"]["CumulativeBytesScanned"] > 0
    assert out["QueryStatus"]["CumulativeBytesMetered"] == 10_000_000  # Timestream's 10 MB minimum
    assert out["QueryId"]


def test_unnamed_columns_are_named_by_position(db):
    res = db.query("SELECT 1, 'a' AS b, 2.5")
    assert res.names == ["_col0", "b", "_col2"]
    assert [c.type for c in res.columns] == [tsql.types.INTEGER, VARCHAR, DOUBLE]


def test_query_errors_name_the_thing_and_its_position(sample_db):
    with pytest.raises(tsql.ValidationError) as e:
        sample_db.query('SELECT x FROM "tsdb"."nope"')
    assert str(e.value) == "line 1:15: Table 'tsdb.nope' does not exist"
    with pytest.raises(tsql.ValidationError) as e:
        sample_db.query('SELECT nope FROM "tsdb"."metrics"')
    assert str(e.value) == "line 1:8: Column 'nope' does not exist"
    with pytest.raises(tsql.ValidationError) as e:
        sample_db.query("SELECT 1 +")
    assert str(e.value).startswith("line 1:11: mismatched input '<EOF>'. Expecting: <expression>")
    with pytest.raises(tsql.ValidationError) as e:
        sample_db.query("SELECT nosuch(1)")
    assert str(e.value) == "line 1:8: Function nosuch not registered"


def test_persistent_database_survives_reopen(tmp_path):
    path = tmp_path / "data"
    with tsql.connect(str(path), clock=FixedClock(NOW)) as db:
        db.create_database("tsdb")
        db.create_table("tsdb", "metrics")
        db.write_records("tsdb", "metrics", [record("h1", 1.0, 10), record("h2", 2.0, 20)])
    with tsql.connect(str(path), clock=FixedClock(NOW)) as db:
        assert db.list_tables("tsdb") == ["metrics"]
        assert db.query('SELECT sum(measure_value::double) FROM "tsdb"."metrics"').scalar() == 3.0


def test_in_memory_database_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    db = tsql.connect(clock=FixedClock(NOW))
    db.create_database("tsdb")
    db.create_table("tsdb", "metrics")
    db.write_records("tsdb", "metrics", [record("h1", 1.0, 10)])
    db.close()
    assert list(tmp_path.iterdir()) == []


def test_a_data_directory_has_one_owner(tmp_path):
    with tsql.connect(str(tmp_path / "d")):
        with pytest.raises(tsql.ValidationError, match="in use by another tsql process"):
            tsql.connect(str(tmp_path / "d"))


def test_closed_database_refuses_work(db):
    db.close()
    with pytest.raises(tsql.ValidationError, match="closed"):
        db.query("SELECT 1")


def test_column_types_of_a_bigint_measure(sample_db):
    sample_db.write_records("tsdb", "metrics", [record("h", 0, 0, measure="n", MeasureValue="7", MeasureValueType="BIGINT")])
    res = sample_db.query('SELECT measure_value::bigint FROM "tsdb"."metrics"')
    assert res.columns[0].type == BIGINT and res.rows == [(7,)]
