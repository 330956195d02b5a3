"""Tiering and retention: data moves from the memory store to the magnetic store as it
ages past the memory retention, expires past the magnetic retention, and magnetic
partitions are compacted; a background thread does this while a database is open.

A move of a table to a new boundary B':
  1. under the table lock: note B' as `moving_to` (writers of points older than B' now
     wait for the move, on the magnetic lock, so those rows cannot change) and take a
     snapshot of the memory store;
  2. without locks: write the rows older than B' into new Parquet files per partition;
  3. commit: partition manifests, then the root manifest with boundary B' (the commit
     point: after a crash, recovery drops WAL and checkpoint rows older than B');
  4. under the table lock: install the new magnetic view and drop the moved rows from
     the memory store, so a snapshot sees each point in exactly one tier.
"""

from __future__ import annotations

import logging
import threading
import time as _time
from dataclasses import replace

from . import faults
from .magnetic import merge_files
from .memory import rows_between

log = logging.getLogger("tsql.storage")

MOVE_GRANULE_NS = 10 * 60 * 10**9  # background moves go in steps of this much time
DELETED_SHARE = 4  # a file with more than 1/4 of its rows replaced is rewritten


def _magnetic_context(table) -> tuple:
    """What writing files needs to know of a table, taken under its lock."""
    return table.series.view(), list(table.info.schema.dimensions), table.value_types(), \
        table.bucket_codes.view()[: len(table.series)]


def move(table, cutoff: int, expired_before: int) -> int:
    """Move the memory store's points older than `cutoff` to the magnetic store (those
    older than `expired_before` are dropped instead). Returns the rows moved."""
    store = table.magnetic
    with table.magnetic_lock:
        with table.lock:
            base = store.view
            if table.deleted or cutoff <= base.boundary:
                return 0
            table.moving_to = cutoff
            table.memory.seal()
            chunks = table.memory.snapshot().chunks
            context = _magnetic_context(table)
        try:
            types = context[2]
            rows = rows_between(chunks, max(base.boundary, expired_before), cutoff, types)
            changes = store.add_rows(base, rows, context[3], context[0], context[1], types, table.label,
                                     step="move") if len(rows) else {}
            view = store.commit(changes, boundary=cutoff, step="move")
            with table.lock:
                store.install(view)
                table.memory.drop_before(cutoff)
            faults.reached("move:installed")
        finally:
            with table.lock:
                table.moving_to = None
        store.collect()
        return len(rows)


def expire(table, expired_before: int) -> int:
    """Apply the magnetic retention: points older than `expired_before` are hidden from
    queries at once (TableSnapshot); here whole partitions of them are deleted and the
    memory store forgets them. Returns partitions deleted."""
    store = table.magnetic
    with table.magnetic_lock:
        base = store.view
        if table.deleted or expired_before <= base.expired_before:
            return 0
        with table.lock:  # only when the memory retention outlasts the magnetic one
            if base.boundary < expired_before and table.memory.nrows:
                table.memory.drop_before(expired_before)
        window = store.settings.window_ns
        gone = [p for p in base.partitions if p.window + window <= expired_before]
        if not gone and min((p.tmin for p in base.partitions), default=expired_before) >= expired_before:
            return 0  # nothing stored is that old: no need to commit
        view = store.commit({p.name: None for p in gone}, expired_before=expired_before, step="expire")
        with table.lock:
            store.install(view)
        store.collect()
        return len(gone)


def compaction_plan(partition) -> list:
    """Files of a partition to merge into one: the newest files while each older one is
    at most twice the size of those after it (so a partition keeps O(log n) files and a
    row is rewritten O(log n) times), or a file many of whose rows were replaced."""
    files = list(partition.files)
    size, k = files[-1].live_rows, 1
    while k < len(files) and size * 2 >= files[-k - 1].live_rows:
        size += files[-k - 1].live_rows
        k += 1
    if k >= 2:
        return files[-k:]
    for f in files:
        if len(f.deleted) * DELETED_SHARE > f.rows:
            return [f]
    return []


def compact(table) -> int:
    """Merge files within partitions (see compaction_plan). Returns files merged away."""
    store = table.magnetic
    with table.magnetic_lock:
        base = store.view
        plans = {p.name: compaction_plan(p) for p in base.partitions if not table.deleted}
        plans = {name: files for name, files in plans.items() if files}
        if not plans:
            return 0
        with table.lock:
            series, dimensions, types, _ = _magnetic_context(table)
        changes = {}
        try:
            for name, files in plans.items():
                part = base.partition(name)
                merged = merge_files(store, files, types)
                kept = [f for f in part.files if f not in files]
                if len(merged):
                    kept.append(store.write_file(name, merged, series, dimensions, types, table.label))
                changes[name] = replace(part, files=tuple(kept))
            faults.reached("compact:files-written")
        except BaseException:
            store.abort()
            raise
        view = store.commit(changes, step="compact")
        with table.lock:
            store.install(view)
        store.collect()
        return sum(len(f) for f in plans.values())


def maintain_table(table, now_ns: int, exact: bool) -> dict:
    """One pass over a table: retention, move, compaction. `exact` moves everything
    past the memory retention; the background pass moves in granules."""
    info = table.info
    expired_before = now_ns - info.magnetic_retention_ns
    cutoff = now_ns - info.memory_retention_ns
    if not exact:
        cutoff = cutoff // MOVE_GRANULE_NS * MOVE_GRANULE_NS
    dropped = expire(table, expired_before)
    moved = move(table, cutoff, expired_before)
    compacted = compact(table)
    table.magnetic.collect()  # files that queries running at the last commit still read
    return {"moved_rows": moved, "expired_partitions": dropped, "compacted_files": compacted}


class Maintainer:
    """The background thread: a maintenance pass every `interval` seconds, or sooner
    when woken (a large WAL, many small magnetic files). Errors are logged and kept in
    `last_error`; the thread goes on with the next pass."""

    def __init__(self, run_pass, interval: float):
        self.run_pass = run_pass
        self.interval = interval
        self.last_error: BaseException | None = None
        self.passes = 0
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._run, name="tsql-maintenance", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.interval)
            self._wake.clear()
            if self._stop.is_set():
                return
            started = _time.perf_counter()
            try:
                self.run_pass()
                self.passes += 1
            except Exception as e:  # logged and kept: a failed pass must not stop the next
                log.exception("tsql: background maintenance pass failed")
                self.last_error = e
            log.debug("tsql: maintenance pass took %.3f s", _time.perf_counter() - started)

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join()
