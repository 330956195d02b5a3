"""Columns and batches: the executor's data.

A `Vector` is a numpy array plus a null mask (None: no nulls). Values by type:
bigint/integer int64, double float64, boolean bool, varchar object (str),
timestamp int64 ns since the epoch, date int64 days, time int64 ns since midnight,
interval day to second int64 ns, interval year to month int64 months.
A `DictVector` is a dictionary-encoded varchar (codes into a dictionary; code -1 is
NULL) — dimension columns arrive this way from the series catalog, and string
functions run once per distinct value. `ListVector` (array, timeseries) keeps all
elements in one child column with offsets; `RowVector` keeps one column per field.

Inside expression evaluation a column of length 1 may stand for a constant and
broadcasts like a numpy scalar; `Batch` columns always have the batch's length.
"""

from __future__ import annotations

import numpy as np

from tsql.arrays import ranges_to_index
from tsql.types import (
    BIGINT, BOOLEAN, DATE, DOUBLE, INTEGER, INTERVAL_DAY_TO_SECOND, INTERVAL_YEAR_TO_MONTH, TIME, TIMESTAMP,
    UNKNOWN, VARCHAR, ArrayType, MapType, RowType, TimeSeriesType, Type,
)

_DTYPES = {
    BIGINT: np.int64, INTEGER: np.int64, DOUBLE: np.float64, BOOLEAN: np.bool_, VARCHAR: object,
    TIMESTAMP: np.int64, DATE: np.int64, TIME: np.int64, INTERVAL_DAY_TO_SECOND: np.int64,
    INTERVAL_YEAR_TO_MONTH: np.int64, UNKNOWN: object,
}
_FILL = {np.dtype(np.int64): 0, np.dtype(np.float64): 0.0, np.dtype(np.bool_): False, np.dtype(object): None}


def dtype_of(t: Type):
    return _DTYPES.get(t, object)


def _take_mask(nulls, idx):
    if nulls is None:
        return None
    out = nulls[idx]
    return out if out.any() else None


class Column:
    type: Type

    @property
    def nulls(self):
        raise NotImplementedError

    def null_mask(self) -> np.ndarray:
        m = self.nulls
        return m if m is not None else np.zeros(len(self), dtype=bool)

    def valid_mask(self) -> np.ndarray:
        m = self.nulls
        return ~m if m is not None else np.ones(len(self), dtype=bool)

    def filter(self, mask: np.ndarray) -> "Column":
        return self.take(np.flatnonzero(mask))

    def broadcast(self, n: int) -> "Column":
        if len(self) == n:
            return self
        if len(self) != 1:
            raise ValueError(f"cannot broadcast a column of length {len(self)} to {n}")
        return self.take(np.zeros(n, dtype=np.int64))

    def slice(self, start: int, stop: int) -> "Column":
        return self.take(np.arange(start, stop, dtype=np.int64))


class Vector(Column):
    __slots__ = ("type", "values", "_nulls")

    def __init__(self, type_: Type, values: np.ndarray, nulls: np.ndarray | None = None):
        self.type = type_
        self.values = values
        self._nulls = nulls if nulls is not None and nulls.any() else None

    @property
    def nulls(self):
        return self._nulls

    def __len__(self) -> int:
        return len(self.values)

    def take(self, idx) -> "Vector":
        return Vector(self.type, self.values[idx], _take_mask(self._nulls, idx))

    def slice(self, start, stop) -> "Vector":
        nulls = self._nulls[start:stop] if self._nulls is not None else None
        return Vector(self.type, self.values[start:stop], nulls)

    def to_pylist(self) -> list:
        values = self.values.tolist()
        if self._nulls is not None:
            for i in np.flatnonzero(self._nulls):
                values[i] = None
        return values

    def __repr__(self) -> str:
        return f"Vector({self.type}, {self.to_pylist()[:10]})"


class DictVector(Column):
    __slots__ = ("type", "codes", "dictionary", "_nulls")

    def __init__(self, codes: np.ndarray, dictionary: np.ndarray, type_: Type = VARCHAR):
        self.type = type_
        self.codes = codes
        self.dictionary = dictionary
        self._nulls = False  # computed on first use (columns are immutable)

    @property
    def nulls(self):
        if self._nulls is False:
            m = self.codes < 0
            self._nulls = m if m.any() else None
        return self._nulls

    def __len__(self) -> int:
        return len(self.codes)

    def take(self, idx) -> "DictVector":
        return DictVector(self.codes[idx], self.dictionary, self.type)

    def slice(self, start, stop) -> "DictVector":
        return DictVector(self.codes[start:stop], self.dictionary, self.type)

    def decode(self) -> Vector:
        nulls = self.codes < 0
        if len(self.dictionary) == 0:
            return Vector(self.type, np.full(len(self.codes), None, dtype=object), nulls)
        values = self.dictionary[np.where(nulls, 0, self.codes)]
        return Vector(self.type, values, nulls)

    def map_dictionary(self, fn, out_type: Type) -> Column:
        """Apply fn (object array -> array) to the distinct values only."""
        mapped = fn(self.dictionary)
        if out_type == VARCHAR and mapped.dtype == object:
            return DictVector(self.codes, mapped, out_type)
        nulls = self.codes < 0
        if len(mapped) == 0:
            return Vector(out_type, np.zeros(len(self.codes), dtype=dtype_of(out_type)), nulls)
        return Vector(out_type, mapped[np.where(nulls, 0, self.codes)], nulls)

    def to_pylist(self) -> list:
        return self.decode().to_pylist()

    def __repr__(self) -> str:
        return f"DictVector({self.to_pylist()[:10]})"


class ListVector(Column):
    """array(T) or timeseries(T): row i holds child[offsets[i]:offsets[i+1]]."""

    __slots__ = ("type", "offsets", "child", "_nulls")

    def __init__(self, type_: Type, offsets: np.ndarray, child: Column, nulls: np.ndarray | None = None):
        self.type = type_
        self.offsets = offsets
        self.child = child
        self._nulls = nulls if nulls is not None and nulls.any() else None

    @property
    def nulls(self):
        return self._nulls

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    def take(self, idx) -> "ListVector":
        idx = np.asarray(idx, dtype=np.int64)
        starts, ends = self.offsets[:-1][idx], self.offsets[1:][idx]
        child = self.child.take(ranges_to_index(starts, ends))
        offsets = np.concatenate(([0], np.cumsum(ends - starts))).astype(np.int64)
        return ListVector(self.type, offsets, child, _take_mask(self._nulls, idx))

    def to_pylist(self) -> list:
        flat = self.child.to_pylist()
        out = []
        nulls = self._nulls
        for i in range(len(self)):
            if nulls is not None and nulls[i]:
                out.append(None)
            else:
                out.append(flat[self.offsets[i]:self.offsets[i + 1]])
        return out

    def __repr__(self) -> str:
        return f"ListVector({self.type}, {self.to_pylist()[:5]})"


class RowVector(Column):
    __slots__ = ("type", "fields", "_nulls")

    def __init__(self, type_: RowType, fields: list, nulls: np.ndarray | None = None):
        self.type = type_
        self.fields = fields
        self._nulls = nulls if nulls is not None and nulls.any() else None

    @property
    def nulls(self):
        return self._nulls

    def __len__(self) -> int:
        return len(self.fields[0]) if self.fields else (len(self._nulls) if self._nulls is not None else 0)

    def take(self, idx) -> "RowVector":
        return RowVector(self.type, [f.take(idx) for f in self.fields], _take_mask(self._nulls, idx))

    def to_pylist(self) -> list:
        cols = [f.to_pylist() for f in self.fields]
        rows = list(zip(*cols)) if cols else [()] * len(self)
        if self._nulls is not None:
            for i in np.flatnonzero(self._nulls):
                rows[i] = None
        return rows


def element_type(t: Type) -> Type:
    if isinstance(t, ArrayType):
        return t.element
    if isinstance(t, TimeSeriesType):
        return t.row
    if isinstance(t, MapType):
        return RowType((("key", t.key), ("value", t.value)))
    raise TypeError(t)


def from_pylist(values: list, type_: Type) -> Column:
    """A column from Python values in the executor's representation (None: NULL)."""
    n = len(values)
    nulls = np.fromiter((v is None for v in values), dtype=bool, count=n)
    if isinstance(type_, (ArrayType, TimeSeriesType, MapType)):
        lengths = np.array([len(v) if v is not None else 0 for v in values], dtype=np.int64)
        offsets = np.concatenate(([0], np.cumsum(lengths))).astype(np.int64)
        flat = [x for v in values if v is not None for x in v]
        if isinstance(type_, MapType):
            flat = [tuple(x) for x in flat]
        return ListVector(type_, offsets, from_pylist(flat, element_type(type_)), nulls)
    if isinstance(type_, RowType):
        fields = []
        for j, (_, ft) in enumerate(type_.fields):
            fields.append(from_pylist([v[j] if v is not None else None for v in values], ft))
        if not type_.fields:
            return RowVector(type_, [], nulls)
        return RowVector(type_, fields, nulls)
    dtype = dtype_of(type_)
    if dtype is object:
        arr = np.empty(n, dtype=object)
        arr[:] = values
        return Vector(type_, arr, nulls)
    fill = _FILL[np.dtype(dtype)]
    arr = np.array([fill if v is None else v for v in values], dtype=dtype) if n else np.zeros(0, dtype=dtype)
    return Vector(type_, arr, nulls)


def constant(value, type_: Type, n: int = 1) -> Column:
    col = from_pylist([value], type_)
    return col if n == 1 else col.broadcast(n)


def nulls_of(type_: Type, n: int) -> Column:
    if isinstance(type_, (ArrayType, TimeSeriesType, MapType)):
        return ListVector(type_, np.zeros(n + 1, dtype=np.int64), from_pylist([], element_type(type_)), np.ones(n, bool))
    if isinstance(type_, RowType):
        return RowVector(type_, [nulls_of(t, n) for _, t in type_.fields], np.ones(n, bool))
    dtype = dtype_of(type_)
    values = np.full(n, _FILL[np.dtype(dtype)], dtype=dtype)
    return Vector(type_, values, np.ones(n, dtype=bool))


def concat(columns: list) -> Column:
    """One column from several of the same type."""
    if len(columns) == 1:
        return columns[0]
    first = columns[0]
    t = first.type
    if all(isinstance(c, DictVector) for c in columns):
        dictionary = first.dictionary
        if all(c.dictionary is dictionary for c in columns):
            return DictVector(np.concatenate([c.codes for c in columns]), dictionary, t)
        # different dictionaries (e.g. snapshots of different lengths): keep the longest
        # when the others are its prefixes, else decode
        longest = max(columns, key=lambda c: len(c.dictionary)).dictionary
        if all(c.dictionary.base is not None and c.dictionary.base is longest.base for c in columns):
            return DictVector(np.concatenate([c.codes for c in columns]), longest, t)
    if any(isinstance(c, DictVector) for c in columns):
        columns = [c.decode() if isinstance(c, DictVector) else c for c in columns]
    if isinstance(columns[0], Vector):
        values = np.concatenate([c.values for c in columns])
        if any(c.nulls is not None for c in columns):
            nulls = np.concatenate([c.null_mask() for c in columns])
        else:
            nulls = None
        return Vector(t, values, nulls)
    if isinstance(columns[0], ListVector):
        child = concat([c.child for c in columns])
        offsets = [np.zeros(1, dtype=np.int64)]
        base = 0
        for c in columns:
            offsets.append(c.offsets[1:] + base)
            base += int(c.offsets[-1])
        nulls = np.concatenate([c.null_mask() for c in columns]) if any(c.nulls is not None for c in columns) else None
        return ListVector(t, np.concatenate(offsets), child, nulls)
    if isinstance(columns[0], RowVector):
        fields = [concat([c.fields[j] for c in columns]) for j in range(len(columns[0].fields))]
        nulls = np.concatenate([c.null_mask() for c in columns]) if any(c.nulls is not None for c in columns) else None
        return RowVector(t, fields, nulls)
    raise TypeError(type(columns[0]))


def as_vector(col: Column) -> Column:
    """A plain Vector for scalar columns (dictionary decoded); nested columns as they are."""
    return col.decode() if isinstance(col, DictVector) else col


class Batch:
    """Equal-length columns. `sid` (series id per row) and `sorted` (rows ordered by
    series, then time) come along from scans so operators can use sorted runs."""

    __slots__ = ("columns", "length", "sid", "sorted")

    def __init__(self, columns: list, length: int | None = None, sid=None, sorted_=False):
        self.columns = columns
        self.length = length if length is not None else (len(columns[0]) if columns else 0)
        self.sid = sid
        self.sorted = sorted_

    def __len__(self) -> int:
        return self.length

    def take(self, idx) -> "Batch":
        idx = np.asarray(idx)
        return Batch([c.take(idx) for c in self.columns], len(idx),
                     self.sid[idx] if self.sid is not None else None,
                     self.sorted and _increasing(idx))

    def filter(self, mask: np.ndarray) -> "Batch":
        if mask.all():
            return self
        return self.take(np.flatnonzero(mask))

    def slice(self, start: int, stop: int) -> "Batch":
        stop = min(stop, self.length)
        start = min(start, stop)
        return Batch([c.slice(start, stop) for c in self.columns], stop - start,
                     self.sid[start:stop] if self.sid is not None else None, self.sorted)

    def select(self, indexes) -> "Batch":
        return Batch([self.columns[i] for i in indexes], self.length, self.sid, self.sorted)

    @staticmethod
    def concat(batches: list, types: list) -> "Batch":
        batches = [b for b in batches if len(b)]
        if not batches:
            return Batch([nulls_of(t, 0) for t in types], 0)
        if len(batches) == 1:
            return batches[0]
        columns = [concat([b.columns[j] for b in batches]) for j in range(len(types))]
        sid = None
        if all(b.sid is not None for b in batches):
            sid = np.concatenate([b.sid for b in batches])
        return Batch(columns, sum(len(b) for b in batches), sid, False)


def _increasing(idx: np.ndarray) -> bool:
    return len(idx) < 2 or bool(np.all(idx[1:] >= idx[:-1]))
