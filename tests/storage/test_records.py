"""Timestream's write rules: which records are rejected, with which reason, and that
nothing of a rejected record is stored while the rest of its batch is."""

from __future__ import annotations

import pytest

import tsql

from ..conftest import NOW

MS = 10**6
DB, TABLE = "tsdb", "metrics"


def rec(value="1.0", mtype="DOUBLE", host="h1", ms_ago=1000, measure="cpu", dims=None, **extra) -> dict:
    r = {
        "Dimensions": dims if dims is not None else [{"Name": "hostname", "Value": host}],
        "MeasureName": measure,
        "MeasureValue": value,
        "MeasureValueType": mtype,
        "Time": str(NOW // MS - ms_ago),
    }
    r.update(extra)
    return r


def rejected(db, records) -> list[dict]:
    with pytest.raises(tsql.RejectedRecordsError) as e:
        db.write_records(DB, TABLE, records)
    assert str(e.value) == "One or more records have been rejected. See RejectedRecords for details."
    return e.value.rejected_records


def stored(db) -> list[tuple]:
    return db.query(f'SELECT hostname, measure_name, measure_value::double FROM "{DB}"."{TABLE}" '
                    "ORDER BY hostname, measure_name").rows


@pytest.mark.parametrize(
    "bad, reason",
    [
        (rec(value="abc"), "MeasureValue 'abc' is not a valid DOUBLE value."),
        (rec(value="NaN"), "MeasureValue 'NaN' is not a valid DOUBLE value."),
        (rec(value="1.5", mtype="BIGINT"), "MeasureValue '1.5' is not a valid BIGINT value."),
        (rec(value="yes", mtype="BOOLEAN"), "MeasureValue 'yes' is not a valid BOOLEAN value."),
        (rec(dims=[{"Name": "time", "Value": "x"}]),
         "The dimension name 'time' is reserved or invalid: names may not be time, measure_name, measure_value or "
         "ts_non_existent_col, start with ts_ or measure_value, or contain ':'."),
        (rec(dims=[{"Name": "ts_host", "Value": "x"}]),
         "The dimension name 'ts_host' is reserved or invalid: names may not be time, measure_name, measure_value or "
         "ts_non_existent_col, start with ts_ or measure_value, or contain ':'."),
        (rec(dims=[{"Name": "a:b", "Value": "x"}]),
         "The dimension name 'a:b' is reserved or invalid: names may not be time, measure_name, measure_value or "
         "ts_non_existent_col, start with ts_ or measure_value, or contain ':'."),
        (rec(dims=[{"Name": "hostname", "Value": "a"}, {"Name": "hostname", "Value": "b"}]),
         "The record has the dimension 'hostname' more than once."),
        (rec(dims=[{"Name": "hostname", "Value": ""}]), "The value of dimension 'hostname' is empty."),
        (rec(dims=[{"Name": "d" * 61, "Value": "x"}]),
         f"The dimension name '{'d' * 40}...' exceeds 60 bytes."),
        (rec(measure=""), "The record has no MeasureName."),
        (rec(value="1", mtype="TIMESTAMP"), "TIMESTAMP values are only allowed in multi-measure records."),
        (rec(ms_ago=25 * 3600 * 1000),
         "The record timestamp is outside the time range [2023-12-31T00:00:00.000Z, 2024-01-01T00:15:00.000Z) "
         "of the memory store."),
        (rec(ms_ago=-16 * 60 * 1000),
         "The record timestamp is outside the time range [2023-12-31T00:00:00.000Z, 2024-01-01T00:15:00.000Z) "
         "of the memory store."),
    ],
)
def test_rejected_record_with_reason_and_others_written(sample_db, bad, reason):
    good = rec(host="ok", ms_ago=500)
    assert rejected(sample_db, [good, bad]) == [{"RecordIndex": 1, "Reason": reason}]
    assert stored(sample_db) == [("ok", "cpu", 1.0)]


def test_a_measure_keeps_its_first_type(sample_db):
    sample_db.write_records(DB, TABLE, [rec("1.0")])
    reasons = rejected(sample_db, [rec("2", mtype="BIGINT", ms_ago=10)])
    assert reasons == [{"RecordIndex": 0, "Reason": "The measure 'cpu' has data type DOUBLE in this table; "
                                                     "a record of type BIGINT cannot be written to it."}]


def test_multi_measure_attribute_keeps_its_type_and_cannot_shadow_a_dimension(sample_db):
    multi = {"Dimensions": [{"Name": "hostname", "Value": "h"}], "MeasureName": "m", "MeasureValueType": "MULTI",
             "Time": str(NOW // MS - 10)}
    sample_db.write_records(DB, TABLE, [dict(multi, MeasureValues=[{"Name": "load", "Value": "1", "Type": "DOUBLE"}])])
    reasons = rejected(sample_db, [
        dict(multi, MeasureValues=[{"Name": "load", "Value": "x", "Type": "VARCHAR"}], Time=str(NOW // MS - 9)),
        dict(multi, MeasureValues=[{"Name": "hostname", "Value": "1", "Type": "DOUBLE"}], Time=str(NOW // MS - 8)),
    ])
    assert reasons == [
        {"RecordIndex": 0, "Reason": "The measure 'load' has data type DOUBLE in this table; "
                                     "a value of type VARCHAR cannot be written to it."},
        {"RecordIndex": 1, "Reason": "'hostname' is a dimension of this table and cannot also be a measure."},
    ]


def test_versions(sample_db):
    sample_db.write_records(DB, TABLE, [rec("1.0")])
    # the same record again (a retry): accepted, nothing changes
    assert sample_db.write_records(DB, TABLE, [rec("1.0")])["Total"] == 1
    assert stored(sample_db) == [("h1", "cpu", 1.0)]
    # another value with the same version: rejected with the stored version
    assert rejected(sample_db, [rec("2.0")]) == [{
        "RecordIndex": 0, "ExistingVersion": 1,
        "Reason": "A record already exists with the same time, dimensions, measure name, and record version. "
                  "A higher record version must be specified in order to update the measure value. "
                  "Specifying record version is supported by the latest SDKs.",
    }]
    # a higher version replaces the value
    sample_db.write_records(DB, TABLE, [rec("3.0", Version=5)])
    assert stored(sample_db) == [("h1", "cpu", 3.0)]
    # a lower version is rejected
    assert rejected(sample_db, [rec("4.0", Version=2)]) == [{
        "RecordIndex": 0, "ExistingVersion": 5,
        "Reason": "The record version 2 is lower than the existing version 5. A higher version is required to "
                  "update the measure value.",
    }]
    assert stored(sample_db) == [("h1", "cpu", 3.0)]
    assert sample_db.query(f'SELECT count(*) FROM "{DB}"."{TABLE}"').scalar() == 1


def test_versions_within_one_request(sample_db):
    reasons = rejected(sample_db, [rec("1.0"), rec("2.0"), rec("3.0", Version=2)])
    assert [r["RecordIndex"] for r in reasons] == [1]
    assert stored(sample_db) == [("h1", "cpu", 3.0)]


@pytest.mark.parametrize(
    "records, message",
    [
        ([], "Member must have length between 1 and 100, inclusive (got 0)"),
        ([rec()] * 100, "Member must have length between 1 and 100, inclusive (got 101)"),
        ([rec(TimeUnit="HOURS")], "Value 'HOURS' at 'records.2.member.timeUnit' failed to satisfy constraint"),
        ([rec(mtype="FLOAT")], "Value 'FLOAT' at 'records.2.member.measureValueType' failed to satisfy constraint"),
        ([rec(Version=0)], "Value '0' at 'records.2.member.version' failed to satisfy constraint"),
        ([rec(dims=[{"Name": "a", "Value": "b", "DimensionValueType": "BIGINT"}])],
         "Member must satisfy enum value set: [VARCHAR]"),
        ([{"Bogus": 1}], "Unknown record field(s) ['Bogus']"),
    ],
)
def test_malformed_requests_fail_whole(sample_db, records, message):
    """The first record is fine; a malformed one anywhere fails the call and stores nothing."""
    with pytest.raises(tsql.ValidationError) as e:
        sample_db.write_records(DB, TABLE, [rec(host="first", ms_ago=3)] + records if records else records)
    assert message in str(e.value)
    assert sample_db.query(f'SELECT count(*) FROM "{DB}"."{TABLE}"').scalar() == 0


def test_common_attributes_may_not_repeat_a_dimension(sample_db):
    with pytest.raises(tsql.ValidationError, match="given both in CommonAttributes and in record 0"):
        sample_db.write_records(DB, TABLE, [rec()], {"Dimensions": [{"Name": "hostname", "Value": "x"}]})


def test_time_units(sample_db):
    t = NOW - 5 * 10**9
    sample_db.write_records(DB, TABLE, [
        rec(host="s", Time=str(t // 10**9), TimeUnit="SECONDS"),
        rec(host="ms", Time=str(t // 10**6), TimeUnit="MILLISECONDS"),
        rec(host="us", Time=str(t // 10**3), TimeUnit="MICROSECONDS"),
        rec(host="ns", Time=str(t), TimeUnit="NANOSECONDS"),
    ])
    times = sample_db.query(f'SELECT DISTINCT time FROM "{DB}"."{TABLE}"').rows
    assert [r[0].value for r in times] == [t]


def test_unknown_table(db):
    db.create_database(DB)
    with pytest.raises(tsql.ResourceNotFoundError, match="The table metrics does not exist in database tsdb"):
        db.write_records(DB, TABLE, [rec()])


def test_a_rejected_record_adds_no_column(sample_db):
    sample_db.write_records(DB, TABLE, [rec(host="ok", ms_ago=10)])
    bad = rec(value="x", dims=[{"Name": "hostname", "Value": "h"}, {"Name": "rack", "Value": "r1"}],
              measure="temperature")
    assert rejected(sample_db, [bad])[0]["RecordIndex"] == 0
    columns = [row[0] for row in sample_db.query(f'DESCRIBE "{DB}"."{TABLE}"').rows]
    assert columns == ["hostname", "measure_value::double", "measure_name", "time"]
    assert [r[0] for r in sample_db.query(f'SHOW MEASURES FROM "{DB}"."{TABLE}"').rows] == ["cpu"]
