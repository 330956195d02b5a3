"""A small application that stores sensor readings in Amazon Timestream, written as
a user of boto3 would write it. Nothing here knows about tsql: the tests in
test_sensor_app.py run it against tsql's in-process mock and a `tsql serve` process.
"""

from __future__ import annotations

import time

RETRYABLE = ("ThrottlingException", "InternalServerException")


def write_readings(client, database: str, table: str, readings: list[dict], *, batch_size: int = 100,
                   max_attempts: int = 5, backoff: float = 0.05, sleep=time.sleep) -> dict:
    """Write readings ({"device", "time_ms", "temperature"}) in WriteRecords batches.

    Throttled and failed calls are retried with exponential backoff; records that come
    back rejected are sent again (a later attempt may take them). Returns
    {"written", "attempts", "rejected"}: rejected are the readings still refused after
    max_attempts."""
    written = attempts = 0
    rejected: list[dict] = []
    for start in range(0, len(readings), batch_size):
        pending = readings[start:start + batch_size]
        for attempt in range(max_attempts):
            attempts += 1
            records = [{
                "Dimensions": [{"Name": "device", "Value": r["device"]}],
                "MeasureName": "temperature",
                "MeasureValue": repr(float(r["temperature"])),
                "MeasureValueType": "DOUBLE",
                "Time": str(r["time_ms"]),
            } for r in pending]
            try:
                client.write_records(DatabaseName=database, TableName=table, Records=records)
                written += len(pending)
                pending = []
                break
            except client.exceptions.RejectedRecordsException as e:
                refused = {r["RecordIndex"] for r in e.response.get("RejectedRecords", [])}
                written += len(pending) - len(refused)
                pending = [r for i, r in enumerate(pending) if i in refused]
            except client.exceptions.ClientError as e:
                if e.response["Error"]["Code"] not in RETRYABLE:
                    raise
            sleep(backoff * 2 ** attempt)
        rejected += pending
    return {"written": written, "attempts": attempts, "rejected": rejected}


def hourly_temperatures(client, database: str, table: str, hours: int = 24) -> list[dict]:
    """Average temperature per device and hour over the last `hours`, read through the
    Query paginator (Timestream may answer with several pages, some of them empty)."""
    sql = (f"SELECT device, bin(time, 1h) AS hour, avg(measure_value::double) AS avg_temperature, "
           f"count(*) AS readings FROM \"{database}\".\"{table}\" "
           f"WHERE measure_name = 'temperature' AND time > ago({hours}h) "
           f"GROUP BY device, bin(time, 1h) ORDER BY device, hour")
    out = []
    for page in client.get_paginator("query").paginate(QueryString=sql):
        names = [c["Name"] for c in page["ColumnInfo"]]
        for row in page["Rows"]:
            values = dict(zip(names, (d.get("ScalarValue") for d in row["Data"])))
            out.append({"device": values["device"], "hour": values["hour"],
                        "avg_temperature": float(values["avg_temperature"]), "readings": int(values["readings"])})
    return out
