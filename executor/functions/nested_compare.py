"""Comparison of arrays, rows and maps, element by element, as Presto compares them.

`=` is three-valued: false as soon as any element pair differs (or lengths differ),
else NULL if some pair involved a NULL, else true. IS [NOT] DISTINCT FROM takes NULLs
as equal to each other. `<` and friends decide at the first differing position (a
shorter prefix sorts first); reaching a NULL element there is an error, as in Presto.
Maps compare as their entries sorted by key, so the order of entries does not matter.

Everything works on whole columns: the elements of all rows are compared at once and
reduced per row with bincount, recursing once per level of nesting.
"""

from __future__ import annotations

import numpy as np

from tsql.arrays import ranges_to_index

from ..column import Column, DictVector, ListVector, RowVector
from ..grouping import canonical_map
from .registry import fail


def equal(a: Column, b: Column, null_safe: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(definitely unequal, unknown) per row of two equally long columns."""
    an, bn = a.null_mask(), b.null_mask()
    if isinstance(a, RowVector):
        unequal = np.zeros(len(a), dtype=bool)
        unknown = np.zeros(len(a), dtype=bool)
        for fa, fb in zip(a.fields, b.fields):
            f_unequal, f_unknown = equal(fa, fb, null_safe)
            unequal |= f_unequal
            unknown |= f_unknown
        unknown &= ~unequal
    elif isinstance(a, ListVector):
        unequal, unknown = _equal_lists(canonical_map(a), canonical_map(b), an | bn, null_safe)
    else:
        va, vb = _values(a), _values(b)
        with np.errstate(invalid="ignore"):
            differ = np.asarray(va != vb, dtype=bool)
        if null_safe and va.dtype.kind == "f":
            differ &= ~(np.isnan(va) & np.isnan(vb))  # NaN is not distinct from NaN
        unequal, unknown = differ, np.zeros(len(a), dtype=bool)
    return _top_level(unequal, unknown, an, bn, null_safe)


def _top_level(unequal, unknown, an, bn, null_safe):
    either = an | bn
    if null_safe:
        return np.where(either, an != bn, unequal), np.zeros(len(an), dtype=bool)
    return unequal & ~either, (unknown & ~unequal) | either


def _equal_lists(a: ListVector, b: ListVector, nulls, null_safe):
    la, lb = _lengths(a, nulls), _lengths(b, nulls)
    unequal = la != lb
    rows, ia, ib = _pairs(a, b, np.where(unequal, 0, la))
    e_unequal, e_unknown = equal(a.child.take(ia), b.child.take(ib), null_safe)
    unequal |= np.bincount(rows[e_unequal], minlength=len(la)) > 0
    unknown = np.bincount(rows[e_unknown], minlength=len(la)) > 0
    return unequal, unknown & ~unequal


def order(a: Column, b: Column) -> tuple[np.ndarray, np.ndarray]:
    """(-1/0/+1 comparing a with b, NULL) per row; NULL where either value is NULL."""
    an, bn = a.null_mask(), b.null_mask()
    if isinstance(a, RowVector):
        cmp = np.zeros(len(a), dtype=np.int8)
        for fa, fb in zip(a.fields, b.fields):
            f_cmp, f_null = order(fa, fb)
            undecided = (cmp == 0) & ~an & ~bn
            if np.any(undecided & f_null):
                fail("ROW comparison not supported for fields with null elements")
            cmp = np.where(undecided, f_cmp, cmp)
    elif isinstance(a, ListVector):
        cmp = _order_lists(a, b, an | bn)
    else:
        cmp = np.zeros(len(a), dtype=np.int8)
        live = ~(an | bn)  # NULL slots may hold None, which does not order
        va, vb = _values(a)[live], _values(b)[live]
        if va.dtype.kind == "f":  # NaN is the largest double
            na, nb = np.isnan(va), np.isnan(vb)
            va, vb = np.where(na, 0.0, va), np.where(nb, 0.0, vb)
            cmp[live] = np.where(na | nb, na.astype(np.int8) - nb, (va > vb).astype(np.int8) - (va < vb))
        else:
            cmp[live] = np.asarray(va > vb, dtype=np.int8) - np.asarray(va < vb, dtype=np.int8)
    either = an | bn
    return np.where(either, 0, cmp).astype(np.int8), either


def _order_lists(a: ListVector, b: ListVector, nulls) -> np.ndarray:
    la, lb = _lengths(a, nulls), _lengths(b, nulls)
    rows, ia, ib = _pairs(a, b, np.minimum(la, lb))
    e_cmp, e_null = order(a.child.take(ia), b.child.take(ib))
    deciding = (e_cmp != 0) | e_null
    cmp = np.sign(la - lb).astype(np.int8)  # a prefix sorts first
    if deciding.any():
        hits = np.flatnonzero(deciding)
        first_rows, first = np.unique(rows[hits], return_index=True)  # the first per row
        pick = hits[first]
        if e_null[pick].any():
            fail("ARRAY comparison not supported for arrays with null elements")
        cmp[first_rows] = e_cmp[pick]
    return cmp


def _pairs(a: ListVector, b: ListVector, counts: np.ndarray):
    """(row, position in a's child, position in b's child) of the first `counts[i]`
    elements of each row i of both lists."""
    rows = np.repeat(np.arange(len(counts), dtype=np.int64), counts)
    ia = ranges_to_index(a.offsets[:-1], a.offsets[:-1] + counts)
    ib = ranges_to_index(b.offsets[:-1], b.offsets[:-1] + counts)
    return rows, ia, ib


def _lengths(col: ListVector, nulls: np.ndarray) -> np.ndarray:
    return np.where(nulls, 0, col.lengths()).astype(np.int64)


def _values(col: Column) -> np.ndarray:
    if isinstance(col, DictVector):
        col = col.decode()
    return col.values


__all__ = ["equal", "order"]
