"""write_frame in wide form keeps the role a column already has in the table: a text
column that is a VARCHAR measure stays a measure, a numeric one that is a dimension
stays a dimension."""

from __future__ import annotations

import pandas as pd

from tests.conftest import NOW


def test_wide_frame_respects_known_measures_and_dimensions(sample_db):
    sample_db.write_records("tsdb", "metrics", [{
        "Dimensions": [{"Name": "truck", "Value": "7"}], "MeasureName": "stats", "MeasureValueType": "MULTI",
        "MeasureValues": [{"Name": "location", "Value": "north", "Type": "VARCHAR"},
                          {"Name": "speed", "Value": "1.5", "Type": "DOUBLE"}],
        "Time": str(NOW // 10**6 - 2000),
    }])
    frame = pd.DataFrame({
        "time": pd.to_datetime([NOW - 10**9], unit="ns"), "truck": [8], "location": ["south"], "speed": [2.5],
    })
    assert sample_db.write_frame("tsdb", "metrics", frame, measure_name="stats")["Total"] == 1
    res = sample_db.query('SELECT truck, location, speed FROM "tsdb"."metrics" ORDER BY time')
    assert res.rows == [("7", "north", 1.5), ("8", "south", 2.5)]
    described = sample_db.query('DESCRIBE "tsdb"."metrics"').rows
    assert [(r[0], r[2]) for r in described] == [
        ("truck", "DIMENSION"), ("location", "MULTI"), ("speed", "MULTI"),
        ("measure_name", "MEASURE_NAME"), ("time", "TIMESTAMP"),
    ]
