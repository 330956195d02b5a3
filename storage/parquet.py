"""The magnetic store's file format: Parquet, zstd, rows ordered by (series, time).

A file is readable by any Parquet reader and means the same there as in tsql: the
dimension columns and `measure_name` (dictionary-encoded; rows of a series are
adjacent, so they cost next to nothing), `time` (timestamp ns UTC, delta-encoded),
the measure value columns by their Timestream names, `ts_version` (the record
version) and `ts_series_id` (the table's series id). Names starting with `ts_` are
reserved in Timestream, so these two can never clash with a user's column.

`encode` also returns the file's `Layout` (per series and row group its row range and
time range), which the partition manifest keeps so a scan can go straight to the row
groups holding the series and times it wants.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from tsql.arrays import run_starts

from .arrow import TIME_TYPE, from_arrow, int64_column, to_arrow
from .memory import Batch

SERIES_COLUMN = "ts_series_id"
VERSION_COLUMN = "ts_version"


@dataclass(frozen=True, eq=False)
class Layout:
    """Where the rows of a file are: its row groups, and its segments - the rows of one
    series within one row group - each with its row range and first and last time,
    ordered by (series, row). A series' segments are adjacent and its times ascend
    through them, so a time range selects a contiguous run of them."""

    row_groups: np.ndarray  # int64, one offset per row group plus the row count
    sids: np.ndarray  # int32 per segment
    starts: np.ndarray  # int64
    ends: np.ndarray  # int64
    tmin: np.ndarray  # int64
    tmax: np.ndarray  # int64

    @property
    def rows(self) -> int:
        return int(self.row_groups[-1])

    def series_count(self) -> int:
        return len(np.unique(self.sids))


def encode(batch: Batch, series, dimensions: list, types: dict, row_group_rows: int,
           metadata: dict) -> tuple[pa.Buffer, Layout]:
    """A Parquet file of `batch` (sorted by series, time; each (series, time) once).

    `series` is the table's SeriesView (dimension values and measure names by series
    id), `dimensions` the table's dimension names, `types` its value column types."""
    n = len(batch)
    starts = run_starts(batch.sid)
    ends = np.append(starts[1:], n).astype(np.int64)
    sids = batch.sid[starts].astype(np.int32)
    lengths = ends - starts
    arrays, names = [], []
    for name in dimensions:
        if name in series.dimensions:
            codes, dictionary = series.dimensions[name]
            arrays.append(_dictionary_column(codes[sids], dictionary, lengths))
            names.append(name)
    arrays.append(_dictionary_column(series.measure_codes[sids], series.measure_names, lengths))
    names.append("measure_name")
    arrays.append(pa.array(batch.time, pa.int64()).cast(TIME_TYPE))
    names.append("time")
    for name, (values, nulls) in batch.columns.items():
        arrays.append(to_arrow(values, nulls, types[name], for_files=True))
        names.append(name)
    arrays.append(pa.array(batch.version, pa.int64()))
    names.append(VERSION_COLUMN)
    arrays.append(pa.array(batch.sid, pa.int32()))
    names.append(SERIES_COLUMN)
    table = pa.table(arrays, names=names).replace_schema_metadata({"tsql": json.dumps(metadata)})
    sink = pa.BufferOutputStream()
    pq.write_table(
        table, sink, row_group_size=row_group_rows, compression="zstd",
        use_dictionary=[c for c in names if c != "time"],
        column_encoding={"time": "DELTA_BINARY_PACKED"},
    )
    row_groups = np.append(np.arange(0, n, row_group_rows), n).astype(np.int64)
    seg_starts = np.union1d(starts, row_groups[:-1]).astype(np.int64)
    seg_ends = np.append(seg_starts[1:], n).astype(np.int64)
    layout = Layout(row_groups, batch.sid[seg_starts].astype(np.int32), seg_starts, seg_ends,
                    batch.time[seg_starts].astype(np.int64), batch.time[seg_ends - 1].astype(np.int64))
    return sink.getvalue(), layout


def _dictionary_column(series_codes: np.ndarray, dictionary: np.ndarray, lengths: np.ndarray) -> pa.Array:
    """Per-row dictionary strings from one code per series, with only the values used."""
    present = series_codes >= 0
    used, local = np.unique(series_codes[present], return_inverse=True)
    codes = np.full(len(series_codes), -1, dtype=np.int32)
    codes[present] = local
    rows = np.repeat(codes, lengths)
    indices = pa.array(rows, pa.int32(), mask=rows < 0)
    return pa.DictionaryArray.from_arrays(indices, pa.array(list(dictionary[used]), pa.string()))


class FileReader:
    """An open magnetic file: its Parquet footer read once (files never change)."""

    def __init__(self, source):
        self.metadata = pq.read_metadata(source)
        self.schema = self.metadata.schema.to_arrow_schema()
        md = self.metadata
        self.column_index = {md.schema.column(j).name: j for j in range(md.num_columns)}
        self.group_rows = np.array([md.row_group(i).num_rows for i in range(md.num_row_groups)], dtype=np.int64)
        self.chunk_bytes = np.array(
            [[md.row_group(i).column(j).total_compressed_size for j in range(md.num_columns)]
             for i in range(md.num_row_groups)], dtype=np.int64,
        ).reshape(md.num_row_groups, md.num_columns)

    def has(self, name: str) -> bool:
        return name in self.column_index

    def disk_bytes(self, row_groups, columns) -> int:
        cols = [self.column_index[c] for c in columns if c in self.column_index]
        return int(self.chunk_bytes[np.ix_(np.asarray(row_groups, dtype=np.int64), cols)].sum())

    def read(self, source, row_groups, columns: list, types: dict, version: bool = False,
             cache=None, name: str = ""):
        """time, version (or None), {column: (values, nulls)} of whole row groups (value
        columns this file lacks are left out: they are all null here), and the groups
        read from the file - with a BlockCache, the others come from it."""
        present = [c for c in columns if c in self.column_index]
        wanted = ["time"] + present + ([VERSION_COLUMN] if version else [])
        groups = [int(g) for g in row_groups]
        parts: dict = {}
        missing = groups
        if cache is not None:
            missing = []
            for g in groups:  # a loop over row groups and columns, not rows
                for c in wanted:
                    hit = cache.get((name, g, c))
                    if hit is None:
                        missing.append(g)
                        break
                    parts[g, c] = hit
        decoded = {}
        if missing:
            pf = pq.ParquetFile(source, metadata=self.metadata)
            table = pf.read_row_groups(missing, columns=wanted, use_threads=len(missing) > 1)
            decoded = {c: self._decode(table.column(c), c, types) for c in wanted}
            if cache is not None:
                ends = np.cumsum(self.group_rows[missing])
                for g, a, b in zip(missing, ends - self.group_rows[missing], ends):
                    for c, (v, m) in decoded.items():
                        piece = (v[a:b].copy(), None if m is None else m[a:b].copy())
                        cache.put((name, g, c), piece, _nbytes(piece))
                        parts[g, c] = piece
        if len(missing) == len(groups):
            out = decoded
        else:
            out = {}
            for c in wanted:
                pieces = [parts[g, c] for g in groups]
                nulls = None
                if any(m is not None for _, m in pieces):
                    nulls = np.concatenate([m if m is not None else np.zeros(len(v), bool) for v, m in pieces])
                out[c] = (np.concatenate([v for v, _ in pieces]), nulls)
        versions = out[VERSION_COLUMN][0] if version else None
        return out["time"][0], versions, {c: out[c] for c in present}, missing

    @staticmethod
    def _decode(col, name: str, types: dict):
        if name in ("time", VERSION_COLUMN):
            return int64_column(col), None
        return from_arrow(col, types[name])


def _nbytes(piece) -> int:
    values, nulls = piece
    size = values.nbytes + (nulls.nbytes if nulls is not None else 0)
    return size + (48 * len(values) if values.dtype == object else 0)  # the strings themselves
