"""Database.update_table: the partition key's enforcement can change after creation."""

from __future__ import annotations

import pytest

import tsql

from ..conftest import NOW


def _record(dims: dict) -> dict:
    return {"Dimensions": [{"Name": k, "Value": v} for k, v in dims.items()], "MeasureName": "cpu",
            "MeasureValue": "1.5", "Time": str(NOW // 10**6)}


def test_partition_enforcement_can_be_relaxed_and_persists(tmp_path, clock):
    db = tsql.connect(str(tmp_path / "data"), clock=clock)
    db.create_database("tsdb")
    db.create_table("tsdb", "hosts", partition_key=("dimension", "host", "REQUIRED"))
    with pytest.raises(tsql.RejectedRecordsError):
        db.write_records("tsdb", "hosts", [_record({"region": "eu"})])

    described = db.update_table("tsdb", "hosts", partition_enforcement="OPTIONAL")
    assert described["Schema"]["CompositePartitionKey"] == [
        {"Type": "DIMENSION", "Name": "host", "EnforcementInRecord": "OPTIONAL"}]
    assert db.write_records("tsdb", "hosts", [_record({"region": "eu"})])["Total"] == 1
    db.close()

    reopened = tsql.connect(str(tmp_path / "data"), clock=clock)
    key = reopened.describe_table("tsdb", "hosts")["Schema"]["CompositePartitionKey"][0]
    assert key["EnforcementInRecord"] == "OPTIONAL"
    reopened.close()


def test_partition_enforcement_needs_a_dimension_key(db):
    db.create_database("tsdb")
    db.create_table("tsdb", "hosts")  # partitioned by measure name
    with pytest.raises(tsql.ValidationError, match="dimension partition key"):
        db.update_table("tsdb", "hosts", partition_enforcement="OPTIONAL")
    db.create_table("tsdb", "keyed", partition_key=("dimension", "host"))
    with pytest.raises(tsql.ValidationError):
        db.update_table("tsdb", "keyed", partition_enforcement="SOMETIMES")
