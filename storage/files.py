"""Where storage keeps its files: a directory on disk, or a dict in RAM for `connect()`.

Both offer the same few operations on names relative to their root ("a/b.parquet"),
so the magnetic store and checkpoints run the same code with or without a disk. On
disk every write is fsync'd before it returns, and `replace` is atomic (write a
temporary file, fsync, rename, fsync the directory): a crash leaves the old or the
new content, never a mix.
"""

from __future__ import annotations

import os
import shutil
import threading

import pyarrow as pa

from tsql.errors import InternalServerError


class DirectoryFiles:
    def __init__(self, root: str):
        self.root = root
        os.makedirs(root, exist_ok=True)

    def path(self, name: str) -> str:
        return os.path.join(self.root, name)

    def write(self, name: str, data) -> int:
        """Create `name` with `data` (bytes or a pyarrow Buffer), durable on return."""
        path = self.path(name)
        directory = os.path.dirname(path)
        new_dir = not os.path.isdir(directory)
        try:
            os.makedirs(directory, exist_ok=True)
            with open(path, "wb") as f:
                f.write(memoryview(data))
                f.flush()
                os.fsync(f.fileno())
            fsync_dir(directory)
            if new_dir:
                fsync_dir(os.path.dirname(directory))
        except OSError as e:
            raise InternalServerError(f"Could not write {path}: {e}") from e
        return len(memoryview(data))

    def replace(self, name: str, data) -> None:
        atomic_write(self.path(name), bytes(memoryview(data)))

    def read(self, name: str) -> bytes:
        with open(self.path(name), "rb") as f:
            return f.read()

    def source(self, name: str):
        """Something pyarrow can open: here the file's path."""
        return self.path(name)

    def exists(self, name: str) -> bool:
        return os.path.exists(self.path(name))

    def remove(self, name: str) -> None:
        try:
            os.remove(self.path(name))
        except FileNotFoundError:
            pass
        directory = os.path.dirname(self.path(name))
        if directory != self.root and os.path.isdir(directory) and not os.listdir(directory):
            os.rmdir(directory)

    def names(self) -> list[str]:
        out = []
        for dirpath, _, filenames in os.walk(self.root):
            rel = os.path.relpath(dirpath, self.root)
            for f in filenames:
                out.append(f if rel == "." else os.path.join(rel, f))
        return out

    def destroy(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


class MemoryFiles:
    """The same interface over a dict: for databases that live in memory only."""

    def __init__(self):
        self.blobs: dict[str, pa.Buffer] = {}
        self.lock = threading.Lock()

    def write(self, name: str, data) -> int:
        buf = data if isinstance(data, pa.Buffer) else pa.py_buffer(bytes(data))
        with self.lock:
            self.blobs[name] = buf
        return buf.size

    replace = write

    def read(self, name: str) -> bytes:
        return self.blobs[name].to_pybytes()

    def source(self, name: str):
        return pa.BufferReader(self.blobs[name])

    def exists(self, name: str) -> bool:
        return name in self.blobs

    def remove(self, name: str) -> None:
        with self.lock:
            self.blobs.pop(name, None)

    def names(self) -> list[str]:
        with self.lock:
            return list(self.blobs)

    def destroy(self) -> None:
        with self.lock:
            self.blobs.clear()


def atomic_write(path: str, data: bytes) -> None:
    """Replace `path` with `data` so that a crash leaves either the old or the new file."""
    tmp = path + ".tmp"
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        fsync_dir(os.path.dirname(path) or ".")
    except OSError as e:
        raise InternalServerError(f"Could not write {path}: {e}") from e


def fsync_dir(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
