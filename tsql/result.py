"""Query results: columns with Timestream types, rows as Python values, conversions to
pandas and to the Query API's response shape, and what the query touched (`status`)."""

from __future__ import annotations

import base64
import datetime as _dt
import json
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .errors import ValidationError
from .formatting import format_value, format_values
from .types import (
    BIGINT, BOOLEAN, DATE, DOUBLE, INTEGER, INTERVAL_DAY_TO_SECOND, TIME, TIMESTAMP, VARCHAR, ArrayType, MapType,
    RowType, TimeSeriesType, Type, column_info_type,
)

MB = 1_000_000
MIN_METERED = 10 * MB
PAGE_BYTES = MB  # a Query page holds at most 1 MB of JSON
PAGE_CHUNK_ROWS = 1000  # rows converted to Datum at a time while filling a page


@dataclass(frozen=True)
class ColumnInfo:
    name: str
    type: Type

    def __repr__(self) -> str:
        return f"{self.name} {self.type}"


@dataclass
class QueryStatus:
    """What a query read, and what pruning let it skip (see EXPLAIN ANALYZE)."""

    bytes_scanned: int = 0
    bytes_metered: int = 0
    bytes_pruned: int = 0
    partitions_scanned: int = 0
    partitions_pruned: int = 0
    series_scanned: int = 0
    series_pruned: int = 0
    rows_scanned: int = 0
    files_scanned: int = 0  # magnetic-store files
    files_pruned: int = 0
    row_groups_scanned: int = 0  # Parquet row groups of those files
    row_groups_pruned: int = 0
    disk_bytes_read: int = 0  # compressed bytes read from magnetic files (bytes_scanned is logical)
    elapsed_seconds: float = 0.0
    plan_seconds: float = 0.0

    def to_timestream(self) -> dict:
        return {
            "ProgressPercentage": 100.0,
            "CumulativeBytesScanned": int(self.bytes_scanned),
            "CumulativeBytesMetered": int(self.bytes_metered),
        }

    @staticmethod
    def metered(bytes_scanned: int) -> int:
        """Timestream meters scanned bytes rounded up to the MB, at least 10 MB a query."""
        return max(MIN_METERED, math.ceil(bytes_scanned / MB) * MB)


class Result:
    """The answer of `Database.query`. Rows are built from the columns on first use."""

    def __init__(self, columns: list, data: list, length: int, status: QueryStatus, query_id: str = ""):
        self.columns = columns  # [ColumnInfo]
        self._data = data  # one executor Column per column
        self._length = length
        self.status = status
        self.query_id = query_id
        self._rows = None

    def __len__(self) -> int:
        return self._length

    @property
    def rows(self) -> list[tuple]:
        if self._rows is None:
            cols = [_python_values(c.to_pylist(), info.type) for c, info in zip(self._data, self.columns)]
            self._rows = list(zip(*cols)) if cols else [()] * self._length
        return self._rows

    def __iter__(self):
        return iter(self.rows)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def scalar(self):
        """The single value of a one-row, one-column result."""
        if self._length != 1 or len(self.columns) != 1:
            raise ValidationError(f"scalar() needs one row and one column, not {self._length} x {len(self.columns)}")
        return self.rows[0][0]

    def to_pandas(self) -> pd.DataFrame:
        data = {}
        for col, info in zip(self._data, self.columns):
            data[info.name] = _pandas_column(col, info.type)
        frame = pd.DataFrame(data, columns=[c.name for c in self.columns]) if data else pd.DataFrame(index=range(self._length))
        if len(set(self.names)) != len(self.names):  # duplicate names: build positionally
            frame = pd.concat([pd.Series(_pandas_column(c, i.type), name=i.name) for c, i in zip(self._data, self.columns)], axis=1)
        return frame

    def to_timestream(self, max_rows: int | None = None, next_token: str | None = None) -> dict:
        """One page of the Query API response: Rows of Datum, ColumnInfo, QueryStatus, and a
        NextToken when rows remain (pass it back for the next page). A page holds at most
        `max_rows` rows (1..1000) and, as Timestream's, at most 1 MB of JSON."""
        start = 0
        if next_token is not None:
            start = _decode_token(next_token, self.query_id)
        if max_rows is not None and not 1 <= max_rows <= 1000:
            raise ValidationError("MaxRows must be between 1 and 1000.")
        column_info = [{"Name": c.name, "Type": column_info_type(c.type)} for c in self.columns]
        status = self.status.to_timestream()
        budget = PAGE_BYTES - len(_compact(column_info)) - len(_compact(status)) - 256
        stop = self._length if max_rows is None else min(self._length, start + max_rows)
        rows, end = self._page_rows(start, stop, budget)
        response = {"QueryId": self.query_id, "Rows": rows, "ColumnInfo": column_info, "QueryStatus": status}
        if end < self._length:
            response["NextToken"] = _encode_token(self.query_id, end)
        return response

    def _page_rows(self, start: int, stop: int, budget: int) -> tuple[list, int]:
        """The rows from `start` that fit `budget` bytes (up to `stop`), and where they end;
        converted a chunk at a time, so a small page of a large result stays cheap."""
        rows: list = []
        used = 0
        position = start
        while position < stop:
            chunk_end = min(stop, position + PAGE_CHUNK_ROWS)
            data = [_datum_column(c.slice(position, chunk_end), info.type) for c, info in zip(self._data, self.columns)]
            chunk = [{"Data": list(r)} for r in zip(*data)] if data else [{"Data": []} for _ in range(chunk_end - position)]
            whole = len(_compact(chunk)) - 1  # the rows' sizes as counted below, in one call
            if used + whole <= budget:
                rows.extend(chunk)
                used += whole
                position = chunk_end
                continue
            for row in chunk:
                size = len(_compact(row)) + 1
                if used + size > budget:
                    if not rows:
                        raise ValidationError(
                            "Query aborted as max page response size has been exceeded by the output result row")
                    return rows, position
                rows.append(row)
                used += size
                position += 1
        return rows, position

    def __repr__(self) -> str:
        from .render import format_table

        shown = self.rows[:50]
        text = format_table(self.names, [[display(v, c.type) for v, c in zip(r, self.columns)] for r in shown])
        more = f"\n({self._length} rows, showing 50)" if self._length > 50 else f"\n({self._length} row{'s' if self._length != 1 else ''})"
        return text + more


# --- Python values ------------------------------------------------------------------------------

def _python_values(values: list, t: Type) -> list:
    conv = _python_converter(t)
    if conv is None:
        return values
    return [None if v is None else conv(v) for v in values]


def _python_converter(t: Type):
    if t == TIMESTAMP:
        return lambda v: pd.Timestamp(int(v), unit="ns")
    if t == DATE:
        return lambda v: _dt.date(1970, 1, 1) + _dt.timedelta(days=int(v))
    if t == TIME:
        return lambda v: (_dt.datetime(1970, 1, 1) + _dt.timedelta(microseconds=int(v) // 1000)).time()
    if t == INTERVAL_DAY_TO_SECOND:
        return lambda v: pd.Timedelta(int(v), unit="ns")
    if isinstance(t, ArrayType):
        inner = _python_converter(t.element)
        return (lambda v: [None if x is None else inner(x) for x in v]) if inner else list
    if isinstance(t, TimeSeriesType):
        inner = _python_converter(t.element)
        ts = _python_converter(TIMESTAMP)
        return lambda v: [(ts(x[0]), x[1] if inner is None or x[1] is None else inner(x[1])) for x in v]
    if isinstance(t, RowType):
        convs = [_python_converter(ft) for _, ft in t.fields]
        return lambda v: tuple(x if c is None or x is None else c(x) for x, c in zip(v, convs))
    if isinstance(t, MapType):
        return lambda v: {k: x for k, x in v}
    return None


def display(value, t: Type) -> str:
    """A value as the REPL shows it: as Timestream's ScalarValue text, NULL as 'NULL'."""
    if value is None:
        return "NULL"
    if t == TIMESTAMP:
        return format_value(value.value if isinstance(value, pd.Timestamp) else value, "timestamp")
    if t == DOUBLE:
        return format_value(value, "double")
    if t == BOOLEAN:
        return "true" if value else "false"
    if t == INTERVAL_DAY_TO_SECOND and isinstance(value, pd.Timedelta):
        return format_value(value.value, "interval day to second")
    if isinstance(t, (ArrayType, TimeSeriesType, RowType, MapType)):
        return json.dumps(value, default=str)
    return str(value)


def _pandas_column(col, t: Type):
    values = col.to_pylist()
    if t == TIMESTAMP:
        arr = np.array([v if v is not None else np.iinfo(np.int64).min for v in values], dtype=np.int64)
        return pd.Series(arr.view("datetime64[ns]"))
    if t == DOUBLE:
        return pd.Series(np.array([np.nan if v is None else v for v in values], dtype=np.float64))
    if t in (BIGINT, INTEGER):
        return pd.array(values, dtype="Int64")
    if t == BOOLEAN:
        return pd.array(values, dtype="boolean")
    if t == VARCHAR:
        return pd.Series(values, dtype=object)
    return pd.Series(_python_values(values, t), dtype=object)


# --- the Query API's Datum -----------------------------------------------------------------

def _datum_column(col, t: Type) -> list:
    if isinstance(t, (ArrayType, TimeSeriesType, RowType, MapType)):
        return [_datum(v, t) for v in col.to_pylist()]
    return [{"NullValue": True} if s is None else {"ScalarValue": s} for s in format_values(col.to_pylist(), t.name)]


def _datum(v, t: Type) -> dict:
    if v is None:
        return {"NullValue": True}
    if isinstance(t, ArrayType):
        return {"ArrayValue": [_datum(x, t.element) for x in v]}
    if isinstance(t, TimeSeriesType):
        return {"TimeSeriesValue": [
            {"Time": format_value(x[0], "timestamp"), "Value": _datum(x[1], t.element)} for x in v
        ]}
    if isinstance(t, RowType):
        return {"RowValue": {"Data": [_datum(x, ft) for x, (_, ft) in zip(v, t.fields)]}}
    if isinstance(t, MapType):
        row = RowType((("key", t.key), ("value", t.value)))
        return {"ArrayValue": [_datum(tuple(x), row) for x in v]}
    return {"ScalarValue": format_value(v, t.name)}


def _compact(value) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _encode_token(query_id: str, offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"q": query_id, "o": offset}).encode()).decode()


def _decode_token(token: str, query_id: str) -> int:
    try:
        doc = json.loads(base64.urlsafe_b64decode(token.encode()))
        if doc["q"] != query_id:
            raise ValueError
        return int(doc["o"])
    except (ValueError, KeyError, TypeError):
        raise ValidationError("Invalid pagination token") from None


__all__ = ["Result", "ColumnInfo", "QueryStatus", "display"]
