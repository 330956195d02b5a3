"""Testing code that uses Timestream with tsql: the example of the README.

Installing tsql (`pip install tsql`, with boto3) makes the fixtures `timestream_mock`,
`tsql_server` and `tsql_db` available to pytest; nothing else to configure.
"""

import boto3
import pandas as pd
import pytest
from botocore.config import Config

from sensor_app import hourly_temperatures, write_readings

NOW_MS = 1_704_067_200_000  # 2024-01-01T00:00:00Z, where the tests freeze the clock
NO_RETRIES = Config(retries={"total_max_attempts": 1})  # the application retries by itself


def readings(devices=3, minutes=120):
    """One reading a minute per device, over the last two hours."""
    return [{"device": f"dev-{d}", "time_ms": NOW_MS - m * 60_000, "temperature": 20 + d + (m % 10) / 10}
            for d in range(devices) for m in range(minutes)]


def make_table(write):
    write.create_database(DatabaseName="sensors")
    write.create_table(DatabaseName="sensors", TableName="readings")


@pytest.mark.tsql(now="2024-01-01T00:00:00Z")
def test_readings_are_written_and_averaged(timestream_mock):
    write = boto3.client("timestream-write", region_name="eu-west-1")
    make_table(write)
    result = write_readings(write, "sensors", "readings", readings())
    assert result == {"written": 360, "attempts": 4, "rejected": []}

    # the mock answers as the database does: look at what the application stored
    assert timestream_mock.query("SELECT count(*) FROM sensors.readings").scalar() == 360

    hours = hourly_temperatures(boto3.client("timestream-query", region_name="eu-west-1"), "sensors", "readings")
    assert [(h["device"], h["hour"], h["readings"]) for h in hours[:3]] == [
        ("dev-0", "2023-12-31 22:00:00.000000000", 59),  # 01:59 to 00:01 before now
        ("dev-0", "2023-12-31 23:00:00.000000000", 60),
        ("dev-0", "2024-01-01 00:00:00.000000000", 1),
    ]
    assert hours[0]["avg_temperature"] == pytest.approx(sum(20 + m % 10 / 10 for m in range(61, 120)) / 59)


@pytest.mark.tsql(now="2024-01-01T00:00:00Z")
def test_the_last_hours_move_with_the_clock(timestream_mock):
    write = boto3.client("timestream-write", region_name="eu-west-1")
    make_table(write)
    write_readings(write, "sensors", "readings", readings(devices=1))
    query = boto3.client("timestream-query", region_name="eu-west-1")
    assert sum(h["readings"] for h in hourly_temperatures(query, "sensors", "readings", hours=24)) == 120

    timestream_mock.clock.advance("23h")  # a day after the first reading: an hour of them is left
    assert sum(h["readings"] for h in hourly_temperatures(query, "sensors", "readings", hours=24)) == 60


@pytest.mark.tsql(now="2024-01-01T00:00:00Z", throttle_calls=(3, 4), reject_rate=0.1, seed=7)
def test_throttling_and_rejections_are_retried(timestream_mock):
    write = boto3.client("timestream-write", region_name="eu-west-1", config=NO_RETRIES)
    make_table(write)  # calls 1 and 2
    result = write_readings(write, "sensors", "readings", readings(), sleep=lambda s: None)
    assert result["written"] == 360 and result["rejected"] == []
    # each of the two throttled calls and each call that had records rejected cost one more
    injected = timestream_mock.injected
    assert injected["ThrottlingException"] == 2 and injected["RejectedRecords"] > 0
    rejected_calls = sum(1 for op, error in timestream_mock.calls if error == "RejectedRecordsException")
    assert result["attempts"] == 4 + 2 + rejected_calls
    assert timestream_mock.query("SELECT count(*) FROM sensors.readings").scalar() == 360


@pytest.mark.tsql(now="2024-01-01T00:00:00Z", page_rows=2, empty_pages=2)
def test_the_query_follows_empty_pages(timestream_mock):
    write = boto3.client("timestream-write", region_name="eu-west-1")
    make_table(write)
    write_readings(write, "sensors", "readings", readings())
    hours = hourly_temperatures(boto3.client("timestream-query", region_name="eu-west-1"), "sensors", "readings")
    assert len(hours) == 9  # three devices, three hours; read 2 rows a page after 2 empty pages
    queries = [op for op, _ in timestream_mock.calls if op == "Query"]
    assert len(queries) == 2 + 5


@pytest.mark.tsql(now="2024-01-01T00:00:00Z")
def test_the_query_reads_data_the_test_wrote_directly(tsql_db, timestream_mock):
    # tsql_db sets the scene without going through boto3; the mock then serves it
    tsql_db.create_database("sensors")
    tsql_db.create_table("sensors", "readings")
    tsql_db.write_frame("sensors", "readings", pd.DataFrame({
        "time": pd.to_datetime([NOW_MS - 90 * 60_000, NOW_MS - 30 * 60_000], unit="ms"),
        "device": ["dev-9", "dev-9"],
        "measure_name": ["temperature", "temperature"],
        "measure_value::double": [18.0, 19.0],
    }))
    hours = hourly_temperatures(boto3.client("timestream-query"), "sensors", "readings")
    assert [(h["hour"], h["avg_temperature"]) for h in hours] == [
        ("2023-12-31 22:00:00.000000000", 18.0), ("2023-12-31 23:00:00.000000000", 19.0)]


@pytest.mark.tsql(now="2024-01-01T00:00:00Z", throttle_calls=(3,))
def test_against_a_real_server(tsql_server):
    write = boto3.client("timestream-write", endpoint_url=tsql_server, region_name="us-east-1",
                         aws_access_key_id="test", aws_secret_access_key="test", config=NO_RETRIES)
    make_table(write)
    result = write_readings(write, "sensors", "readings", readings(devices=1, minutes=150),
                            sleep=lambda s: None)
    assert result == {"written": 150, "attempts": 3, "rejected": []}  # 2 batches, one throttled once
    query = boto3.client("timestream-query", endpoint_url=tsql_server, region_name="us-east-1",
                         aws_access_key_id="test", aws_secret_access_key="test")
    assert sum(h["readings"] for h in hourly_temperatures(query, "sensors", "readings")) == 150
