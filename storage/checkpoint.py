"""Checkpoints: the memory stores and series catalogs saved, so the WAL before them can go.

    checkpoint/CURRENT                 {"wal_from": N, "dir": "<N>"}; replacing it is the commit
    checkpoint/<N>/t<id>.series.arrow  table <id>'s series in id order (Arrow IPC): measure_name
                                       and one column per dimension, null where a series lacks it
    checkpoint/<N>/t<id>.memory        its memory store's rows: framed entries in the WAL's
                                       format (wal.py), zstd-compressed

Recovery is the checkpoint CURRENT names plus the WAL segments from N on. The series
catalog must outlive the WAL because magnetic manifests refer to series by id.
"""

from __future__ import annotations

import io
import json
import os
import shutil
from dataclasses import dataclass

import pyarrow as pa

from . import faults
from .files import DirectoryFiles
from .memory import MemorySnapshot
from .wal import decode, encode_write, frame, read_frames

CURRENT = "CURRENT"


@dataclass(frozen=True)
class TableState:
    """One table as the checkpoint saves it, captured at the WAL rotation."""

    table_id: int
    series: list  # series keys by id: (measure_name, ((dimension, value), ...))
    memory: MemorySnapshot
    types: dict  # value column -> measure type


def write(root: str, sequence: int, tables: list) -> None:
    """Save `tables` as the checkpoint covering the WAL before segment `sequence`."""
    files = DirectoryFiles(root)
    name = f"{sequence:08d}"
    for t in tables:
        files.write(f"{name}/t{t.table_id}.series.arrow", _encode_series(t.series))
        files.write(f"{name}/t{t.table_id}.memory", _encode_memory(t))
    faults.reached("checkpoint:written")
    files.replace(CURRENT, json.dumps({"wal_from": sequence, "dir": name}).encode())
    faults.reached("checkpoint:committed")


def load(root: str) -> tuple[int, dict]:
    """(first WAL segment to replay, {table id: (series keys, memory row batches)})."""
    files = DirectoryFiles(root)
    if not files.exists(CURRENT):
        return 1, {}
    current = json.loads(files.read(CURRENT))
    out = {}
    directory = os.path.join(root, current["dir"])
    for entry in sorted(os.listdir(directory)):
        if entry.endswith(".series.arrow"):
            table_id = int(entry[1:-len(".series.arrow")])
            series = _decode_series(files.read(f"{current['dir']}/{entry}"))
            payloads, _ = read_frames(files.read(f"{current['dir']}/t{table_id}.memory"))
            out[table_id] = (series, [decode(p)[1] for p in payloads])
    return current["wal_from"], out


def remove_others(root: str) -> None:
    """Delete checkpoint directories other than the current one."""
    files = DirectoryFiles(root)
    keep = json.loads(files.read(CURRENT))["dir"] if files.exists(CURRENT) else None
    for entry in os.listdir(root):
        if entry not in (CURRENT, keep):
            path = os.path.join(root, entry)
            shutil.rmtree(path) if os.path.isdir(path) else os.remove(path)


def _encode_memory(t: TableState) -> bytes:
    parts = [c.to_batch() for c in t.memory.chunks] + list(t.memory.pending)
    header = {"table": t.table_id, "series": []}
    return b"".join(frame(encode_write(header, b, t.types, compression="zstd")) for b in parts if len(b))


def _encode_series(series: list) -> bytes:
    dims: dict[str, list] = {}
    for sid, (_, pairs) in enumerate(series):  # a loop over series, not rows
        for name, value in pairs:
            dims.setdefault(name, [None] * len(series))[sid] = value
    names = ["measure_name"] + sorted(dims)
    arrays = [pa.array([m for m, _ in series], pa.string())] + [pa.array(dims[d], pa.string()) for d in names[1:]]
    sink = io.BytesIO()
    table = pa.table(arrays, names=names)
    with pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue()


def _decode_series(data: bytes) -> list:
    table = pa.ipc.open_file(pa.py_buffer(data)).read_all()
    measures = table.column("measure_name").to_pylist()
    dims = [(name, table.column(name).to_pylist()) for name in table.column_names[1:]]  # sorted by name
    return [
        (m, tuple((name, values[sid]) for name, values in dims if values[sid] is not None))
        for sid, m in enumerate(measures)
    ]
