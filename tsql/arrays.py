"""Numpy helpers that several layers need: grouping rows by integer codes, ranges.

A leaf module: imports nothing of the project.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def factorize_rows(parts: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Group rows by several integer code columns (each code >= -1).

    Returns each row's group number (0..G-1, numbered by first appearance) and the first
    row of each group. The columns are folded into one int64 key, re-factorizing before
    it could overflow; a key spanning few values is grouped densely, without hashing.
    """
    n = len(parts[0]) if parts else 0
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    key = np.zeros(n, dtype=np.int64)
    span = 1
    for codes in parts:
        card = int(codes.max()) + 2
        if span * card >= 2**62:
            key, span = _factorize(key, span)
        key = key * card + (codes.astype(np.int64) + 1)
        span *= card
    inverse, count = _factorize(key, span)
    first = np.full(count, n, dtype=np.int64)
    np.minimum.at(first, inverse, np.arange(n, dtype=np.int64))
    # number groups by first appearance, so the result does not depend on key values
    order = np.argsort(first, kind="stable")
    rank = np.empty(count, dtype=np.int64)
    rank[order] = np.arange(count, dtype=np.int64)
    return rank[inverse], first[order]


def _factorize(key: np.ndarray, span: int) -> tuple[np.ndarray, int]:
    """Dense codes of a non-negative int64 key: (codes, number of distinct values)."""
    if span <= 4 * len(key) + 1024:
        present = np.zeros(span, dtype=bool)
        present[key] = True
        ids = np.cumsum(present) - 1
        return ids[key], int(present.sum())
    codes, uniques = pd.factorize(key)
    return codes.astype(np.int64), len(uniques)


def sorted_lookup(keys: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each value stands in ascending distinct `keys`, and whether it is there
    (positions of absent values are clamped into range, so they can index `keys`)."""
    if len(keys) == 0:
        return np.zeros(len(values), dtype=np.intp), np.zeros(len(values), dtype=bool)
    pos = np.minimum(np.searchsorted(keys, values), len(keys) - 1)
    return pos, keys[pos] == values


def ranges_to_index(starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Concatenated aranges [starts[i], ends[i]) without a Python loop."""
    starts = np.asarray(starts, dtype=np.int64)
    lengths = np.asarray(ends, dtype=np.int64) - starts
    total = int(lengths.sum())
    if total == 0:
        return np.empty(0, dtype=np.int64)
    shift = starts - np.concatenate(([0], np.cumsum(lengths)[:-1]))
    return np.repeat(shift, lengths) + np.arange(total, dtype=np.int64)


def run_starts(*keys: np.ndarray) -> np.ndarray:
    """Indices where any of the equally long key arrays changes value (0 included)."""
    n = len(keys[0])
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    change = np.zeros(n, dtype=bool)
    change[0] = True
    for k in keys:
        change[1:] |= k[1:] != k[:-1]
    return np.flatnonzero(change)


class RangeGather:
    """Gather the rows [starts[i], ends[i]) of several equally long arrays.

    Long ranges are copied as slices (a memcpy each, one output allocation); many short
    ones go through one index array, built once and shared by all the arrays.
    """

    def __init__(self, starts: np.ndarray, ends: np.ndarray):
        starts = np.asarray(starts, dtype=np.int64)
        ends = np.asarray(ends, dtype=np.int64)
        self.total = int((ends - starts).sum())
        if len(starts) > 1:  # a range that ends where the next begins joins it
            joined = ends[:-1] == starts[1:]
            if joined.any():
                starts = starts[np.concatenate(([True], ~joined))]
                ends = ends[np.concatenate((~joined, [True]))]
        self.starts, self.ends = starts, ends
        self.by_slices = len(self.starts) * 256 <= self.total
        self._index = None

    @property
    def index(self) -> np.ndarray:
        if self._index is None:
            self._index = ranges_to_index(self.starts, self.ends)
        return self._index

    def __call__(self, array: np.ndarray) -> np.ndarray:
        if not self.by_slices:
            return array[self.index]
        if len(self.starts) == 1:
            return array[self.starts[0]:self.ends[0]]
        return np.concatenate([array[s:e] for s, e in zip(self.starts.tolist(), self.ends.tolist())])
