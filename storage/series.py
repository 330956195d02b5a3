"""The series catalog of a table: series id -> measure name and dimension values.

A series is one combination of dimension values and a measure name. Its attributes are
dictionary-encoded: per dimension, a code per series into that dimension's dictionary
(-1 where the series lacks the dimension). Queries resolve dimension predicates here,
once per series rather than once per row, and dimension columns of a scan are these
codes gathered by series id.

Everything grows append-only, so a snapshot is a prefix (`view()`), valid while
writers go on appending.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


class GrowableArray:
    """A numpy array with amortised appends; views of old prefixes stay valid."""

    def __init__(self, dtype, fill=0, capacity: int = 64):
        self.dtype = np.dtype(dtype)
        self.fill = fill
        self.data = np.full(capacity, fill, dtype=self.dtype)
        self.size = 0

    def _reserve(self, n: int) -> None:
        if n > len(self.data):
            cap = max(n, 2 * len(self.data))
            new = np.full(cap, self.fill, dtype=self.dtype)
            new[: self.size] = self.data[: self.size]
            self.data = new  # old views keep the old buffer, which is never written again

    def append(self, value) -> int:
        self._reserve(self.size + 1)
        self.data[self.size] = value
        self.size += 1
        return self.size - 1

    def extend(self, values) -> None:
        values = np.asarray(values, dtype=self.dtype)
        self._reserve(self.size + len(values))
        self.data[self.size: self.size + len(values)] = values
        self.size += len(values)

    def resize(self, n: int) -> None:
        """Grow to n entries, new ones holding the fill value."""
        self._reserve(n)
        self.size = max(self.size, n)

    def set(self, index: int, value) -> None:
        self.data[index] = value

    def view(self) -> np.ndarray:
        return self.data[: self.size]


class Dictionary:
    """Distinct strings of one column, each with a stable integer code."""

    def __init__(self):
        self.codes: dict[str, int] = {}
        self.values = GrowableArray(object, None, capacity=16)

    def code(self, value: str) -> int:
        code = self.codes.get(value)
        if code is None:
            code = self.values.append(value)
            self.codes[value] = code
        return code

    def __len__(self) -> int:
        return self.values.size


@dataclass(frozen=True)
class SeriesView:
    """A consistent snapshot of a series catalog (numpy arrays indexed by series id)."""

    count: int
    measure_codes: np.ndarray  # int32 per series
    measure_names: np.ndarray  # dictionary of measure names (object)
    dimensions: dict  # name -> (codes int32 per series, dictionary object array)

    def dimension_values(self, name: str, sid: int):
        codes, dictionary = self.dimensions[name]
        code = codes[sid]
        return None if code < 0 else dictionary[code]


class SeriesCatalog:
    """All series of one table. Not thread-safe: the table's writer lock guards it."""

    def __init__(self):
        self.ids: dict[tuple, int] = {}
        self.measures = Dictionary()
        self.measure_codes = GrowableArray(np.int32, -1)
        self.dim_dicts: dict[str, Dictionary] = {}
        self.dim_codes: dict[str, GrowableArray] = {}
        self.definitions: list[tuple] = []  # sid -> (measure_name, ((dim, value), ...))

    def __len__(self) -> int:
        return self.measure_codes.size

    @staticmethod
    def key(measure_name: str, dims) -> tuple:
        """The identity of a series: its measure name and its dimensions, sorted by name."""
        return (measure_name, tuple(sorted(dims)))

    def lookup(self, key: tuple) -> int | None:
        return self.ids.get(key)

    def add(self, key: tuple) -> int:
        """Register a new series (its key not yet known) and return its id."""
        measure_name, dims = key
        sid = self.measure_codes.append(self.measures.code(measure_name))
        for name, value in dims:
            codes = self.dim_codes.get(name)
            if codes is None:
                self.dim_dicts[name] = Dictionary()
                codes = self.dim_codes[name] = GrowableArray(np.int32, -1)
            codes.resize(sid + 1)
            codes.set(sid, self.dim_dicts[name].code(value))
        self.ids[key] = sid
        self.definitions.append(key)
        return sid

    def get_or_add(self, key: tuple) -> tuple[int, bool]:
        sid = self.ids.get(key)
        if sid is not None:
            return sid, False
        return self.add(key), True

    def view(self) -> SeriesView:
        n = len(self)
        dims = {}
        for name, codes in self.dim_codes.items():
            codes.resize(n)  # series added before the dimension existed lack it (-1)
            dims[name] = (codes.view()[:n], self.dim_dicts[name].values.view())
        return SeriesView(n, self.measure_codes.view()[:n], self.measures.values.view(), dims)
