"""Measure value columns between numpy (values + null mask) and Arrow, per Timestream type.

The WAL, checkpoints and magnetic files all store value columns through Arrow; this is
the one place that knows how each measure type maps. In files meant for other tools
(Parquet), TIMESTAMP measures are Arrow timestamps; internally they stay int64 ns.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

ARROW_TYPES = {
    "DOUBLE": pa.float64(), "BIGINT": pa.int64(), "BOOLEAN": pa.bool_(),
    "TIMESTAMP": pa.int64(), "VARCHAR": pa.string(),
}
TIME_TYPE = pa.timestamp("ns", tz="UTC")


def to_arrow(values: np.ndarray, nulls: np.ndarray | None, mtype: str, for_files: bool = False) -> pa.Array:
    arr = pa.array(values, ARROW_TYPES[mtype], mask=nulls)
    if for_files and mtype == "TIMESTAMP":
        arr = arr.cast(TIME_TYPE)
    return arr


def from_arrow(col, mtype: str) -> tuple[np.ndarray, np.ndarray | None]:
    """(values, nulls or None) of an Arrow column (Array or ChunkedArray)."""
    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)
    if pa.types.is_timestamp(col.type):
        col = col.cast(pa.int64())
    nulls = col.is_null().to_numpy(zero_copy_only=False) if col.null_count else None
    if mtype == "VARCHAR":
        values = col.to_numpy(zero_copy_only=False)
        if values.dtype != object:
            values = values.astype(object)
    else:
        if nulls is not None:
            col = col.fill_null(False if mtype == "BOOLEAN" else 0)
        values = col.to_numpy(zero_copy_only=False)
    return values, nulls


def int64_column(col) -> np.ndarray:
    """An int64 (or timestamp) Arrow column without nulls as a numpy array."""
    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)
    values = col.to_numpy(zero_copy_only=False)
    return values.view(np.int64) if values.dtype.kind == "M" else values.astype(np.int64, copy=False)
