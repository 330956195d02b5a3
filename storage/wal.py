"""The write-ahead log: every accepted write, durable before the write call returns.

A log is a directory of segment files (`00000001.wal`, ...). Each entry is framed as
`length (u32) | crc32 (u32) | payload` and the segment is fdatasync'd after each append,
so an acknowledged write survives `kill -9`. Replay reads segments in order and stops
at the first torn or corrupt frame of the last segment (a write that never returned),
truncating it so new entries follow good ones. A checkpoint (checkpoint.py) rotates
to a new segment and, once the state before it is saved, drops the older segments.

A write entry's payload is an Arrow IPC stream: columns `sid`, `time`, `version` and
the value columns, with a JSON header in the schema metadata (table id, series first
seen in this write, the table schema when it changed).
"""

from __future__ import annotations

import io
import json
import os
import struct
import threading
import zlib

import numpy as np
import pyarrow as pa

from tsql.errors import InternalServerError

from .arrow import from_arrow, int64_column, to_arrow
from .files import fsync_dir
from .memory import Batch

_FRAME = struct.Struct("<II")


class WriteAheadLog:
    def __init__(self, directory: str, first: int = 1):
        """Open the log; `first` is the oldest segment still needed (see checkpoint.py)."""
        self.directory = directory
        os.makedirs(directory, exist_ok=True)
        self.lock = threading.Lock()
        segments = self.segments()
        self.sequence = max(segments[-1] if segments else 1, first)
        self._file = None
        # bytes per segment, kept here so that sizing the log never races a checkpoint
        self._sizes = {s: os.path.getsize(self.path(s)) for s in segments}
        self._sizes.setdefault(self.sequence, 0)

    def segments(self) -> list[int]:
        out = []
        for name in os.listdir(self.directory):
            if name.endswith(".wal") and name[:-4].isdigit():
                out.append(int(name[:-4]))
        return sorted(out)

    def path(self, sequence: int) -> str:
        return os.path.join(self.directory, f"{sequence:08d}.wal")

    def _open(self):
        if self._file is None:
            self._file = open(self.path(self.sequence), "ab")
        return self._file

    def append(self, payload: bytes) -> None:
        data = frame(payload)
        with self.lock:
            f = self._open()
            try:
                f.write(data)
                f.flush()
                os.fdatasync(f.fileno())
                self._sizes[self.sequence] += len(data)
            except OSError as e:
                raise InternalServerError(f"Could not write the write-ahead log: {e}") from e

    def size(self, first: int = 0) -> int:
        """Bytes in the segments >= first."""
        with self.lock:
            return sum(n for s, n in self._sizes.items() if s >= first)

    def replay(self, first: int = 0):
        """Yield every intact payload of segments >= first, oldest first; cut a torn tail
        off the last segment (a write that never returned) so new entries follow good ones."""
        segments = [s for s in self.segments() if s >= first]
        for i, seq in enumerate(segments):
            path = self.path(seq)
            with open(path, "rb") as f:
                data = f.read()
            payloads, pos = read_frames(data)
            yield from payloads
            if pos < len(data):
                if i != len(segments) - 1:
                    raise InternalServerError(f"The write-ahead log segment {path} is corrupt at byte {pos}.")
                with open(path, "r+b") as f:
                    f.truncate(pos)
                    os.fsync(f.fileno())
                self._sizes[seq] = pos

    def rotate(self) -> int:
        """Start a new segment; entries before it can be dropped once checkpointed."""
        with self.lock:
            if self._file is not None:
                self._file.close()
                self._file = None
            self.sequence += 1
            self._open()
            fsync_dir(self.directory)
            self._sizes[self.sequence] = 0
            return self.sequence

    def drop_before(self, sequence: int) -> None:
        for seq in self.segments():
            if seq < sequence:
                os.remove(self.path(seq))
                with self.lock:
                    self._sizes.pop(seq, None)

    def close(self) -> None:
        with self.lock:
            if self._file is not None:
                self._file.close()
                self._file = None


# --- frames and payloads ---------------------------------------------------------------

def frame(payload: bytes) -> bytes:
    return _FRAME.pack(len(payload), zlib.crc32(payload)) + payload


def read_frames(data: bytes) -> tuple[list, int]:
    """The intact payloads at the start of `data`, and where they end."""
    out = []
    pos = 0
    while pos + _FRAME.size <= len(data):
        length, crc = _FRAME.unpack_from(data, pos)
        start = pos + _FRAME.size
        payload = data[start:start + length]
        if len(payload) < length or zlib.crc32(payload) != crc:
            break
        out.append(payload)
        pos = start + length
    return out, pos


def encode_write(header: dict, batch: Batch, types: dict, compression: str | None = None) -> bytes:
    """A write entry: the header dict plus the rows as one Arrow record batch."""
    arrays = [pa.array(batch.sid, pa.int32()), pa.array(batch.time, pa.int64()), pa.array(batch.version, pa.int64())]
    names = ["sid", "time", "version"]
    for name, (values, nulls) in batch.columns.items():
        arrays.append(to_arrow(values, nulls, types[name]))
        names.append(name)
    header = dict(header, kind="write", types={n: types[n] for n in batch.columns})
    schema = pa.schema([pa.field(n, a.type) for n, a in zip(names, arrays)], metadata={"h": json.dumps(header)})
    sink = io.BytesIO()
    options = pa.ipc.IpcWriteOptions(compression=compression)
    with pa.ipc.new_stream(sink, schema, options=options) as writer:
        writer.write_batch(pa.record_batch(arrays, schema=schema))
    return sink.getvalue()


def decode(payload: bytes) -> tuple[dict, Batch]:
    reader = pa.ipc.open_stream(payload)
    header = json.loads(reader.schema.metadata[b"h"])
    table = reader.read_all()
    columns = {name: from_arrow(table.column(name), header["types"][name]) for name in table.column_names[3:]}
    batch = Batch(
        table.column("sid").to_numpy().astype(np.int32),
        int64_column(table.column("time")),
        int64_column(table.column("version")),
        columns,
    )
    return header, batch
