"""Runs the developer guide's time-series and array examples (timeseries_guide.json) and
compares the Query API rows they return with the hand-computed ones in the file."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest

import tsql
from tsql.clock import FixedClock

SPEC = json.loads((Path(__file__).parent / "timeseries_guide.json").read_text())
NOW = 1_704_067_200 * 10**9  # 2024-01-01 00:00:00 UTC


@pytest.fixture(scope="module")
def guide_db():
    db = tsql.connect(clock=FixedClock(NOW))
    db.create_database(SPEC["database"])
    db.create_table(SPEC["database"], SPEC["table"], memory_retention_hours=24)
    records = []
    for series in SPEC["records"]:
        dims = [{"Name": k, "Value": v} for k, v in series["dims"].items()]
        for when, value in series["points"]:
            millis = pd.Timestamp(when).value // 10**6
            records.append({"Dimensions": dims, "MeasureName": series["measure"], "MeasureValue": repr(value),
                            "MeasureValueType": "DOUBLE", "Time": str(millis)})
    db.write_records(SPEC["database"], SPEC["table"], records)
    yield db
    db.close()


def plain(datum: dict):
    """A Query API Datum as plain JSON: text, None, lists (arrays, rows, [time, value] pairs)."""
    if datum.get("NullValue"):
        return None
    if "ScalarValue" in datum:
        return datum["ScalarValue"]
    if "ArrayValue" in datum:
        return [plain(d) for d in datum["ArrayValue"]]
    if "RowValue" in datum:
        return [plain(d) for d in datum["RowValue"]["Data"]]
    return [[p["Time"], plain(p["Value"])] for p in datum["TimeSeriesValue"]]


def same(got, want) -> bool:
    """Equal, with numbers in text compared to 1e-12 relative (last-digit rounding)."""
    if isinstance(want, list):
        return isinstance(got, list) and len(got) == len(want) and all(same(g, w) for g, w in zip(got, want))
    if got == want:
        return True
    try:
        g, w = float(got), float(want)
    except (TypeError, ValueError):
        return False
    return math.isclose(g, w, rel_tol=1e-12)


@pytest.mark.parametrize("case", SPEC["cases"], ids=[c["name"] for c in SPEC["cases"]])
def test_guide_example(guide_db, case):
    response = guide_db.query(case["sql"]).to_timestream()
    rows = [[plain(d) for d in row["Data"]] for row in response["Rows"]]
    if "columns" in case:
        assert [c["Name"] for c in response["ColumnInfo"]] == case["columns"]
    want = case["rows"]
    if not case.get("ordered", False) and len(want) > 1:
        rows, want = sorted(rows, key=json.dumps), sorted(want, key=json.dumps)
    assert same(rows, want), f"{case['name']}: got {rows}"
