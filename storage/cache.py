"""Decoded magnetic-store columns kept in RAM: the row groups queries read recently.

Entries are numpy (values, nulls) keyed by (file, row group, column). Magnetic files
never change, so an entry stays valid until its file is deleted (`forget`); the least
recently used entries go once the cache holds more than its byte budget. Shared by all
tables of a database and safe to use from several threads.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict

MIN_CACHE_BYTES = 256 << 20


def default_cache_bytes() -> int:
    """A quarter of the machine's RAM (at least 256 MB): scan engines keep whole tables in
    memory, so a cache much smaller than the working set makes repeated queries re-decode
    Parquet and lose to them (1,000 hosts x 12 h thrashed a fixed 256 MB)."""
    try:
        ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # no sysconf (Windows): the floor
        return MIN_CACHE_BYTES
    return max(MIN_CACHE_BYTES, ram // 4)


class BlockCache:
    def __init__(self, capacity_bytes: int):
        self.capacity = capacity_bytes
        self.size = 0
        self.hits = 0
        self.misses = 0
        self._entries: OrderedDict = OrderedDict()  # key -> (value, nbytes)
        self._by_file: dict[str, set] = {}
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return entry[0]

    def put(self, key, value, nbytes: int) -> None:
        if nbytes > self.capacity:
            return
        with self._lock:
            if key in self._entries:
                return
            self._entries[key] = (value, nbytes)
            self._by_file.setdefault(key[0], set()).add(key)
            self.size += nbytes
            while self.size > self.capacity:
                old, (_, n) = self._entries.popitem(last=False)
                self.size -= n
                self._by_file[old[0]].discard(old)

    def forget(self, file: str) -> None:
        with self._lock:
            for key in self._by_file.pop(file, ()):
                _, n = self._entries.pop(key, (None, 0))
                self.size -= n

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._by_file.clear()
            self.size = 0
