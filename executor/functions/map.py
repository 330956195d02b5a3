"""Map functions and aggregates: map(), map_keys, map_values, element_at and [] on maps,
map_concat, map_filter, transform_keys/values; map_agg, multimap_agg, histogram, map_union.

A map is a ListVector of row(key, value) entries, so every kernel reuses the array
machinery (array.py): keys become codes shared across columns, lookups match codes of
(row, key), duplicate keys are found with one factorization of (row, key code).
"""

from __future__ import annotations

import numpy as np

from tsql.arrays import factorize_rows
from tsql.types import BIGINT, BOOLEAN, ArrayType, MapType, RowType

from ..column import ListVector, RowVector, Vector, nulls_of
from .aggregates import _inputs
from .array import Lists, _element_codes, _first_in_row, _gather, broadcast, concat_arrays, keep_elements, \
    lambda_rows, make_list, truth
from .registry import REGISTRY, fail


def entry_type(t: MapType) -> RowType:
    return RowType((("key", t.key), ("value", t.value)))


def _entries(col: ListVector):
    """(Lists view, keys, values) of a map column."""
    lists = Lists(col)
    entries = lists.elements()
    return lists, entries.fields[0], entries.fields[1]


def _make_map(out_type: MapType, lengths, keys, values, nulls=None) -> ListVector:
    return make_list(out_type, lengths, RowVector(entry_type(out_type), [keys, values]), nulls)


def _check_keys(rows: np.ndarray, keys) -> None:
    if np.any(keys.null_mask()):
        fail("map key cannot be null")
    (key_codes,) = _element_codes(keys)
    first = _first_in_row(rows, key_codes)
    if not first.all():
        fail(f"Duplicate map keys ({keys.take(np.flatnonzero(~first)[:1]).to_pylist()[0]}) are not allowed")


# --- construction and access -------------------------------------------------------------------

@REGISTRY.scalar("map() -> map(unknown, unknown)")
def empty_map(args, out_type, ctx):
    return _make_map(out_type, np.zeros(1, dtype=np.int64), nulls_of(out_type.key, 0), nulls_of(out_type.value, 0))


@REGISTRY.scalar("map(array(K), array(V)) -> map(K, V)")
def map_(args, out_type, ctx):
    keys, values = broadcast(args)
    lk, lv = Lists(keys), Lists(values)
    nulls = lk.nulls | lv.nulls
    if np.any((lk.lengths != lv.lengths) & ~nulls):
        fail("Key and value arrays must be the same length")
    lists_k = Lists(ListVector(keys.type, keys.offsets, keys.child, nulls))
    lists_v = Lists(ListVector(values.type, values.offsets, values.child, nulls))
    k, v = lists_k.elements(), lists_v.elements()
    _check_keys(lists_k.rows, k)
    return _make_map(out_type, lists_k.lengths, k, v, nulls)


@REGISTRY.scalar("map_from_entries(array(row(K, V))) -> map(K, V)")
def map_from_entries(args, out_type, ctx):
    lists = Lists(args[0])
    entries = lists.elements()
    if np.any(entries.null_mask()):
        fail("map entry cannot be null")
    keys, values = entries.fields
    _check_keys(lists.rows, keys)
    return _make_map(out_type, lists.lengths, keys, values, lists.nulls)


@REGISTRY.scalar("map_entries(map(K, V)) -> array(row(K, V))")
def map_entries(args, out_type, ctx):
    col = args[0]
    return ListVector(out_type, col.offsets, RowVector(out_type.element, col.child.fields), col.nulls)


@REGISTRY.scalar("map_keys(map(K, V)) -> array(K)")
def map_keys(args, out_type, ctx):
    lists, keys, _ = _entries(args[0])
    return make_list(out_type, lists.lengths, keys, lists.nulls)


@REGISTRY.scalar("map_values(map(K, V)) -> array(V)")
def map_values(args, out_type, ctx):
    lists, _, values = _entries(args[0])
    return make_list(out_type, lists.lengths, values, lists.nulls)


@REGISTRY.scalar("cardinality(map(K, V)) -> bigint")
def map_cardinality(args, out_type, ctx):
    lists = Lists(args[0])
    return Vector(BIGINT, lists.lengths, lists.nulls)


def _lookup(args, out_type, strict: bool):
    col, key = broadcast(args)
    lists, keys, values = _entries(col)
    key_codes, wanted = _element_codes(keys, key)
    hit = key_codes == wanted[lists.rows]
    where = np.full(lists.n, -1, dtype=np.int64)
    where[lists.rows[hit]] = np.flatnonzero(hit)
    missing = lists.nulls | key.null_mask() | (where < 0)
    if strict and np.any((where < 0) & ~lists.nulls & ~key.null_mask()):
        absent = key.take(np.flatnonzero((where < 0) & ~lists.nulls & ~key.null_mask())[:1]).to_pylist()[0]
        fail(f"Key not present in map: {absent}")
    if len(values) == 0:
        return nulls_of(out_type, lists.n)
    holder = ListVector(ArrayType(out_type), np.array([0, len(values)]), values)
    return _gather(holder, np.maximum(where, 0), missing, out_type)


REGISTRY.scalar("element_at(map(K, V), K) -> V")(lambda args, out_type, ctx: _lookup(args, out_type, False))
REGISTRY.scalar("$subscript(map(K, V), K) -> V")(lambda args, out_type, ctx: _lookup(args, out_type, True))


@REGISTRY.scalar("map_concat(map(K, V)...) -> map(K, V)")
def map_concat(args, out_type, ctx):
    as_arrays = [ListVector(ArrayType(entry_type(out_type)), a.offsets, a.child, a.nulls) for a in args]
    both = concat_arrays(as_arrays, ArrayType(entry_type(out_type)), ctx)
    lists = Lists(both)
    (key_codes,) = _element_codes(lists.elements().fields[0])
    # the last map's value wins: keep the last occurrence of each (row, key)
    last = _first_in_row(lists.rows[::-1], key_codes[::-1])[::-1]
    out = keep_elements(lists, last, out_type)
    return ListVector(out_type, out.offsets, out.child, out.nulls)


def _apply_to_entries(args, empty_type):
    """(lists, keys, values, the lambda's value on every (key, value) entry)."""
    lam = args[1]
    (col,) = broadcast([args[0]], lambda_rows(args, lam))
    lists, keys, values = _entries(col)
    out = lam.apply([keys, values], lists.rows) if len(keys) else nulls_of(empty_type, 0)
    return lists, keys, values, out


@REGISTRY.scalar("map_filter(map(K, V), function(K, V, boolean)) -> map(K, V)")
def map_filter(args, out_type, ctx):
    lists, _, _, verdict = _apply_to_entries(args, BOOLEAN)
    keep, _ = truth(verdict)
    return keep_elements(lists, keep, out_type)


@REGISTRY.scalar("transform_values(map(K, V), function(K, V, U)) -> map(K, U)")
def transform_values(args, out_type, ctx):
    lists, keys, _, new = _apply_to_entries(args, out_type.value)
    return _make_map(out_type, lists.lengths, keys, new, lists.nulls)


@REGISTRY.scalar("transform_keys(map(K, V), function(K, V, U)) -> map(U, V)")
def transform_keys(args, out_type, ctx):
    lists, _, values, new = _apply_to_entries(args, out_type.key)
    _check_keys(lists.rows, new)
    return _make_map(out_type, lists.lengths, new, values, lists.nulls)


# --- aggregates -----------------------------------------------------------------------------------

def _group_entries(g, key_col):
    """Rows ordered by group (input order kept), and which of them first show their key."""
    order = g.order()
    ids = g.ids[order]
    keys = key_col.take(order)
    (key_codes,) = _element_codes(keys)
    return order, ids, keys, key_codes


def _keyed_rows(args, groups):
    """(groups, values, then _group_entries) of (key, value) rows, rows with a NULL key left out."""
    key, value = args
    idx = np.flatnonzero(~key.null_mask())
    g = groups.subset(idx) if len(idx) != len(key) else groups
    return (g, value.take(idx)) + _group_entries(g, key.take(idx))


@REGISTRY.aggregate("map_agg(K, V) -> map(K, V)")
def map_agg(args, groups, out_type, call):
    """Each group's key -> value pairs; a key seen twice keeps its first value."""
    g, value, order, ids, keys, key_codes = _keyed_rows(args, groups)
    first = _first_in_row(ids, key_codes)
    lengths = np.bincount(ids[first], minlength=g.count).astype(np.int64)
    return _make_map(out_type, lengths, keys.filter(first), value.take(order[first]), lengths == 0)


@REGISTRY.aggregate("map_union(map(K, V)) -> map(K, V)")
def map_union(args, groups, out_type, call):
    """The union of each group's maps; a key in several keeps the first value seen."""
    (col,), g = _inputs(args, groups)
    lists, keys, values = _entries(col)
    entry_groups = g.ids[lists.rows]
    order = np.argsort(entry_groups, kind="stable")
    ids = entry_groups[order]
    (key_codes,) = _element_codes(keys.take(order))
    first = _first_in_row(ids, key_codes)
    pick = order[first]
    lengths = np.bincount(ids[first], minlength=g.count).astype(np.int64)
    return _make_map(out_type, lengths, keys.take(pick), values.take(pick), lengths == 0)


@REGISTRY.aggregate("histogram(T) -> map(T, bigint)")
def histogram(args, groups, out_type, call):
    """Each group's distinct values with how often each occurs."""
    (x,), g = _inputs(args, groups)
    order, ids, values, value_codes = _group_entries(g, x)
    entry, first = factorize_rows([ids, value_codes])
    counts = np.bincount(entry).astype(np.int64)
    lengths = np.bincount(ids[first], minlength=g.count).astype(np.int64)
    return _make_map(out_type, lengths, values.take(first), Vector(BIGINT, counts), lengths == 0)


@REGISTRY.aggregate("multimap_agg(K, V) -> map(K, array(V))")
def multimap_agg(args, groups, out_type, call):
    """Each group's keys with the array of all their values, in input order."""
    g, value, order, ids, keys, key_codes = _keyed_rows(args, groups)
    entry, first = factorize_rows([ids, key_codes])  # entries numbered by first appearance
    by_entry = np.argsort(entry, kind="stable")
    arrays = make_list(out_type.value, np.bincount(entry).astype(np.int64), value.take(order[by_entry]))
    lengths = np.bincount(ids[first], minlength=g.count).astype(np.int64)
    return _make_map(out_type, lengths, keys.take(first), arrays, lengths == 0)


__all__ = ["entry_type"]
