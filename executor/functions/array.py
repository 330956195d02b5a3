"""Array functions and the lambda constructs over arrays (filter, transform, reduce, ...).

Arrays are ListVectors: all rows' elements in one child column, row i holding
child[offsets[i]:offsets[i+1]]. Kernels work on the flat child with each element's row
number (`Lists.rows`), so no Python runs per row or per element: set operations use
codes over (row, value), sorting uses one lexsort keyed by row, lambda bodies are
evaluated once over all elements of all rows. `reduce` steps through element positions
(0..longest) with the state of every row held in one column.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from tsql.arrays import factorize_rows, ranges_to_index
from tsql.planner.expressions import ColumnRef, Lambda, LambdaVar, OuterRef, Subquery
from tsql.types import BIGINT, BOOLEAN, VARCHAR

from ..column import Column, ListVector, RowVector, Vector, as_vector, concat, nulls_of
from ..grouping import codes, sort_ranks
from .cast import cast
from .registry import REGISTRY, fail

# A guard against a query asking for a billion-element array by mistake (tsql's choice;
# Presto's limit of 10,000 is too small for a day of second-by-second timestamps).
MAX_ELEMENTS = 10_000_000


# --- the flat view of a list column ------------------------------------------------------------

class Lists:
    """A list column seen as flat elements: `starts`/`lengths` per row (0 for NULL rows),
    `index` the elements' positions in `col.child`, `rows` each element's row."""

    def __init__(self, col: ListVector):
        self.col = col
        self.n = len(col)
        self.nulls = col.null_mask()
        self.starts = col.offsets[:-1].astype(np.int64)
        self.lengths = np.where(self.nulls, 0, col.offsets[1:] - col.offsets[:-1]).astype(np.int64)
        self._rows = None
        self._index = None

    @property
    def rows(self) -> np.ndarray:
        if self._rows is None:
            self._rows = np.repeat(np.arange(self.n, dtype=np.int64), self.lengths)
        return self._rows

    @property
    def index(self) -> np.ndarray:
        if self._index is None:
            raw = self.col.offsets[1:] - self.col.offsets[:-1]
            if (self.n == 0 or self.starts[0] == 0) and int(raw.sum()) == len(self.col.child) and \
                    np.array_equal(self.lengths, raw):
                self._index = np.arange(len(self.col.child), dtype=np.int64)
            else:
                self._index = ranges_to_index(self.starts, self.starts + self.lengths)
        return self._index

    def elements(self) -> Column:
        """The child restricted to live elements, in row order."""
        idx = self.index
        return self.col.child if len(idx) == len(self.col.child) else self.col.child.take(idx)

    @property
    def position(self) -> np.ndarray:
        """Each element's 0-based position within its row."""
        firsts = np.concatenate(([0], np.cumsum(self.lengths)[:-1])).astype(np.int64)
        return np.arange(len(self.rows), dtype=np.int64) - np.repeat(firsts, self.lengths)


def make_list(type_, lengths: np.ndarray, child: Column, nulls=None) -> ListVector:
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    if int(offsets[-1]) > MAX_ELEMENTS:
        fail(f"Result of the function would have more than {MAX_ELEMENTS} elements")
    return ListVector(type_, offsets, child, nulls if nulls is not None and np.any(nulls) else None)


def lists_per_string(fn, strings: np.ndarray, nulls: np.ndarray, type_) -> ListVector:
    """The list column of fn(string) (a list of str or None) for every row, fn called
    once per distinct string (split, regexp_split, regexp_extract_all); NULL rows: NULL."""
    live = ~nulls
    codes = np.full(len(strings), -1, dtype=np.int64)
    codes[live], uniques = pd.factorize(strings[live])
    pieces = [fn(u) for u in uniques]  # one call per distinct string
    sizes = np.array([len(p) for p in pieces], dtype=np.int64)
    flat = np.empty(int(sizes.sum()), dtype=object)
    flat[:] = [x for p in pieces for x in p]
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1])).astype(np.int64)
    safe = np.maximum(codes, 0)
    lengths = np.where(live, sizes[safe], 0) if len(sizes) else np.zeros(len(codes), dtype=np.int64)
    first = starts[safe] if len(starts) else np.zeros(len(codes), dtype=np.int64)
    values = flat[ranges_to_index(first, first + lengths)]
    element_nulls = np.array([v is None for v in values], dtype=bool) if len(values) else None
    return make_list(type_, lengths, Vector(type_.element, values, element_nulls), nulls)


def keep_elements(lists: Lists, keep: np.ndarray, type_) -> ListVector:
    """The list column holding only the live elements where `keep` is true."""
    lengths = np.bincount(lists.rows[keep], minlength=lists.n).astype(np.int64)
    return make_list(type_, lengths, lists.elements().filter(keep), lists.nulls)


def row_count(args) -> int:
    return max((len(a) for a in args), default=1)


def broadcast(args, n=None) -> list:
    n = row_count(args) if n is None else n
    return [a.broadcast(n) for a in args]


def _element_codes(*columns: Column) -> list[np.ndarray]:
    """Equal-value codes shared across several element columns (NULL: -1)."""
    sizes = [len(c) for c in columns]
    nonempty = [c for c in columns if len(c)]
    if not nonempty:
        return [np.zeros(0, dtype=np.int64) for _ in columns]
    all_codes = codes(concat(nonempty) if len(nonempty) > 1 else nonempty[0])
    out, pos = [], 0
    for s in sizes:
        out.append(all_codes[pos:pos + s])
        pos += s
    return out


def _first_in_row(rows: np.ndarray, element_codes: np.ndarray) -> np.ndarray:
    """True at the first occurrence of each (row, value)."""
    if len(rows) == 0:
        return np.zeros(0, dtype=bool)
    _, first = factorize_rows([rows, element_codes])
    keep = np.zeros(len(rows), dtype=bool)
    keep[first] = True
    return keep


def _in_other(rows_a, codes_a, rows_b, codes_b) -> np.ndarray:
    """For each element of a: does the same value occur in b's list of the same row?"""
    if len(rows_a) == 0 or len(rows_b) == 0:
        return np.zeros(len(rows_a), dtype=bool)
    ids, _ = factorize_rows([np.concatenate([rows_a, rows_b]), np.concatenate([codes_a, codes_b])])
    present = np.zeros(int(ids.max()) + 1, dtype=bool)
    present[ids[len(rows_a):]] = True
    return present[ids[:len(rows_a)]]


def _sorted_order(lists: Lists, descending=False) -> np.ndarray:
    """Element order (into lists.elements()) sorting each row's elements, NULLs last."""
    elements = lists.elements()
    keys = sort_ranks(as_vector(elements), descending, nulls_first=False) if len(elements) else []
    return np.lexsort(keys + [lists.rows]) if len(elements) else np.zeros(0, dtype=np.int64)


# --- size, access, construction ---------------------------------------------------------------

@REGISTRY.scalar("cardinality(array(T)) -> bigint")
def cardinality(args, out_type, ctx):
    lists = Lists(args[0])
    return Vector(BIGINT, lists.lengths, lists.nulls)


@REGISTRY.scalar("element_at(array(T), bigint) -> T")
def element_at(args, out_type, ctx):
    arr, index = broadcast(args)
    lists = Lists(arr)
    idx = as_vector(index)
    i = idx.values.astype(np.int64)
    nulls = lists.nulls | idx.null_mask()
    if np.any((i == 0) & ~nulls):
        fail("SQL array indices start at 1")
    pos = np.where(i > 0, i - 1, lists.lengths + i)  # negative: from the end
    missing = nulls | (pos < 0) | (pos >= lists.lengths)
    return _gather(arr, np.where(missing, 0, lists.starts + pos), missing, out_type)


def _gather(arr: ListVector, pos: np.ndarray, missing: np.ndarray, out_type) -> Column:
    """child[pos] per row, NULL where `missing`."""
    if len(arr.child) == 0:
        return nulls_of(out_type, len(pos))
    out = arr.child.take(np.where(missing, 0, pos))
    if missing.any():
        from .operators import _with_nulls

        out = _with_nulls(out, missing)
    return out


@REGISTRY.scalar("repeat(T, bigint) -> array(T)")
def repeat(args, out_type, ctx):
    element, count = broadcast(args)
    c = as_vector(count)
    nulls = c.null_mask()
    k = np.where(nulls, 0, c.values.astype(np.int64))
    if np.any(k < 0):
        fail("count argument of repeat function must be greater than or equal to 0")
    rows = np.repeat(np.arange(len(k)), k)
    return make_list(out_type, k, element.take(rows), nulls)


@REGISTRY.scalar("concat(array(T)...) -> array(T)", "concat(array(T), T) -> array(T)", "concat(T, array(T)) -> array(T)")
def concat_arrays(args, out_type, ctx):
    n = row_count(args)
    arrays = []
    for a in args:
        if not isinstance(a, ListVector) or a.type != out_type:
            a = ListVector(out_type, np.arange(len(a) + 1, dtype=np.int64), a)  # an element: a 1-element array
        arrays.append(a.broadcast(n))
    parts = [Lists(a) for a in arrays]
    nulls = np.zeros(n, dtype=bool)
    for p in parts:
        nulls |= p.nulls
    children = [p.elements() for p in parts]
    bases = np.cumsum([0] + [len(c) for c in children[:-1]])
    firsts = [np.concatenate(([0], np.cumsum(p.lengths)[:-1])) + b for p, b in zip(parts, bases)]
    lengths = np.stack([np.where(nulls, 0, p.lengths) for p in parts], axis=1)
    starts = np.stack(firsts, axis=1)
    index = ranges_to_index(starts.ravel(), (starts + lengths).ravel())
    child = concat(children).take(index) if len(index) else nulls_of(out_type.element, 0)
    return make_list(out_type, lengths.sum(axis=1), child, nulls)


@REGISTRY.scalar("reverse(array(T)) -> array(T)")
def reverse(args, out_type, ctx):
    lists = Lists(args[0])
    pos = lists.position
    order = np.repeat(np.concatenate(([0], np.cumsum(lists.lengths)[:-1])), lists.lengths) + \
        (np.repeat(lists.lengths, lists.lengths) - 1 - pos)
    return make_list(out_type, lists.lengths, lists.elements().take(order), lists.nulls)


@REGISTRY.scalar("shuffle(array(T)) -> array(T)", deterministic=False)
def shuffle(args, out_type, ctx):
    lists = Lists(args[0])
    order = np.lexsort((np.random.default_rng().random(len(lists.rows)), lists.rows))
    return make_list(out_type, lists.lengths, lists.elements().take(order), lists.nulls)


@REGISTRY.scalar("slice(array(T), bigint, bigint) -> array(T)")
def slice_(args, out_type, ctx):
    arr, start, length = broadcast(args)
    lists = Lists(arr)
    s, k = as_vector(start), as_vector(length)
    nulls = lists.nulls | s.null_mask() | k.null_mask()
    sv, kv = s.values.astype(np.int64), k.values.astype(np.int64)
    if np.any((sv == 0) & ~nulls):
        fail("SQL array indices start at 1")
    if np.any((kv < 0) & ~nulls):
        fail("length must be greater than or equal to 0")
    first = np.where(sv > 0, sv - 1, lists.lengths + sv)
    first = np.where(first < 0, lists.lengths, first)  # a start before the beginning: empty
    stop = np.minimum(first + kv, lists.lengths)
    take = np.where(nulls, 0, np.maximum(stop - first, 0))
    firsts = np.concatenate(([0], np.cumsum(lists.lengths)[:-1]))
    index = ranges_to_index(firsts + first, firsts + first + take)
    return make_list(out_type, take, lists.elements().take(index), nulls)


@REGISTRY.scalar(*(f"zip({', '.join(f'array({v})' for v in vs)}) -> array(row({', '.join(vs)}))"
                   for vs in (("T", "U"), ("T", "U", "V"), ("T", "U", "V", "W"), ("T", "U", "V", "W", "X"))))
def zip_(args, out_type, ctx):
    arrays = broadcast(args)
    parts = [Lists(a) for a in arrays]
    nulls = np.zeros(len(arrays[0]), dtype=bool)
    for p in parts:
        nulls |= p.nulls
    lengths = np.where(nulls, 0, np.max([p.lengths for p in parts], axis=0))
    fields = [padded(p, lengths, ft) for p, (_, ft) in zip(parts, out_type.element.fields)]
    return make_list(out_type, lengths, RowVector(out_type.element, fields), nulls)


def padded(lists: Lists, lengths: np.ndarray, type_) -> Column:
    """Each row's elements stretched to `lengths` with NULLs (zip, zip_with)."""
    rows = np.repeat(np.arange(len(lengths)), lengths)
    firsts = np.concatenate(([0], np.cumsum(lengths)[:-1])).astype(np.int64)
    pos = np.arange(len(rows), dtype=np.int64) - np.repeat(firsts, lengths)
    present = pos < lists.lengths[rows]
    if len(lists.col.child) == 0:
        return nulls_of(type_, len(rows))
    return _gather(lists.col, lists.starts[rows] + pos, ~present, type_)


@REGISTRY.scalar("sequence(bigint, bigint) -> array(bigint)", "sequence(bigint, bigint, bigint) -> array(bigint)",
                 "sequence(timestamp, timestamp) -> array(timestamp)",
                 "sequence(timestamp, timestamp, interval day to second) -> array(timestamp)",
                 "sequence(timestamp, timestamp, interval year to month) -> array(timestamp)",
                 "sequence(date, date) -> array(date)",
                 "sequence(date, date, interval day to second) -> array(date)",
                 "sequence(date, date, interval year to month) -> array(date)")
def sequence(args, out_type, ctx):
    from tsql.formatting import DAY_NS
    from tsql.types import DATE, INTERVAL_YEAR_TO_MONTH, TIMESTAMP

    cols = [as_vector(a) for a in broadcast(args)]
    start, stop = cols[0].values.astype(np.int64), cols[1].values.astype(np.int64)
    nulls = cols[0].null_mask() | cols[1].null_mask()
    element = out_type.element
    months = len(cols) == 3 and cols[2].type == INTERVAL_YEAR_TO_MONTH
    if len(cols) == 3:
        nulls = nulls | cols[2].null_mask()
        step = cols[2].values.astype(np.int64)
        if element == DATE and not months:
            if np.any(step % DAY_NS != 0):
                fail("sequence step must be a day interval if start and end values are dates")
            step = step // DAY_NS
    elif element == TIMESTAMP:
        step = np.full(len(start), DAY_NS, dtype=np.int64)  # tsql's default: one day
    else:
        step = np.where(stop >= start, 1, -1).astype(np.int64)
    live = ~nulls
    if np.any((step == 0) & live):
        fail("step must not be zero")
    wrong = live & (((step > 0) & (stop < start)) | ((step < 0) & (stop > start)))
    if wrong.any():
        fail("sequence stop value should be greater than or equal to start value if step is greater than zero "
             "otherwise stop should be less than or equal to start")
    safe_step = np.where(live, step, 1)
    if months:
        return _month_sequence(start, stop, safe_step, nulls, out_type)
    counts = np.where(live, (stop - start) // safe_step + 1, 0)
    if int(counts.sum()) > MAX_ELEMENTS:
        fail(f"Result of sequence function must not have more than {MAX_ELEMENTS} entries")
    rows = np.repeat(np.arange(len(start)), counts)
    firsts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    pos = np.arange(len(rows), dtype=np.int64) - np.repeat(firsts, counts)
    values = start[rows] + pos * safe_step[rows]
    return make_list(out_type, counts, Vector(element, values), nulls)


def _month_sequence(start, stop, step, nulls, out_type):
    from tsql.formatting import DAY_NS
    from tsql.types import DATE

    from .time import add_months

    scale = DAY_NS if out_type.element == DATE else 1
    s, e = start * scale, stop * scale
    # an upper bound on the count from the month difference, then drop what passes stop
    span = np.abs((e - s) // (28 * DAY_NS)) + 2
    bound = np.where(nulls, 0, span // np.abs(step) + 2)
    rows = np.repeat(np.arange(len(s)), bound)
    firsts = np.concatenate(([0], np.cumsum(bound)[:-1]))
    pos = np.arange(len(rows), dtype=np.int64) - np.repeat(firsts, bound)
    values = add_months(s[rows], pos * step[rows])
    inside = np.where(step[rows] > 0, values <= e[rows], values >= e[rows])
    counts = np.bincount(rows[inside], minlength=len(s)).astype(np.int64)
    return make_list(out_type, counts, Vector(out_type.element, values[inside] // scale), nulls)


# --- searching and set operations --------------------------------------------------------------

def _matches(args):
    """(lists, element codes, wanted codes per row, elements equal to their row's wanted one)."""
    arr, element = broadcast(args)
    lists = Lists(arr)
    ec, vc = _element_codes(lists.elements(), element)
    return lists, ec, vc, (ec == vc[lists.rows]) & (ec >= 0)


@REGISTRY.scalar("contains(array(T), T) -> boolean")
def contains(args, out_type, ctx):
    lists, ec, vc, hit = _matches(args)
    found = np.bincount(lists.rows[hit], minlength=lists.n) > 0
    has_null = np.bincount(lists.rows[ec < 0], minlength=lists.n) > 0
    nulls = lists.nulls | (vc < 0) | (~found & has_null)
    return Vector(BOOLEAN, found & ~nulls, nulls)


@REGISTRY.scalar("array_position(array(T), T) -> bigint")
def array_position(args, out_type, ctx):
    lists, _, vc, hit = _matches(args)
    first = np.full(lists.n, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first, lists.rows[hit], lists.position[hit])
    out = np.where(first == np.iinfo(np.int64).max, 0, first + 1)
    return Vector(BIGINT, out, lists.nulls | (vc < 0))


@REGISTRY.scalar("array_remove(array(T), T) -> array(T)")
def array_remove(args, out_type, ctx):
    lists, _, vc, hit = _matches(args)
    out = keep_elements(lists, ~hit, out_type)
    if np.any(vc < 0):  # removing NULL: the result is NULL
        out = ListVector(out_type, out.offsets, out.child, out.null_mask() | (vc < 0))
    return out


@REGISTRY.scalar("array_distinct(array(T)) -> array(T)")
def array_distinct(args, out_type, ctx):
    lists = Lists(args[0])
    (ec,) = _element_codes(lists.elements())
    return keep_elements(lists, _first_in_row(lists.rows, ec), out_type)


def _two_lists(args):
    a, b = broadcast(args)
    la, lb = Lists(a), Lists(b)
    ca, cb = _element_codes(la.elements(), lb.elements())
    return la, lb, ca, cb, la.nulls | lb.nulls


@REGISTRY.scalar("array_intersect(array(T), array(T)) -> array(T)")
def array_intersect(args, out_type, ctx):
    la, lb, ca, cb, nulls = _two_lists(args)
    keep = _first_in_row(la.rows, ca) & _in_other(la.rows, ca, lb.rows, cb)
    out = keep_elements(la, keep, out_type)
    return ListVector(out_type, out.offsets, out.child, nulls)


@REGISTRY.scalar("array_except(array(T), array(T)) -> array(T)")
def array_except(args, out_type, ctx):
    la, lb, ca, cb, nulls = _two_lists(args)
    keep = _first_in_row(la.rows, ca) & ~_in_other(la.rows, ca, lb.rows, cb)
    out = keep_elements(la, keep, out_type)
    return ListVector(out_type, out.offsets, out.child, nulls)


@REGISTRY.scalar("array_union(array(T), array(T)) -> array(T)")
def array_union(args, out_type, ctx):
    both = concat_arrays(args, out_type, ctx)
    return array_distinct([both], out_type, ctx)


@REGISTRY.scalar("arrays_overlap(array(T), array(T)) -> boolean")
def arrays_overlap(args, out_type, ctx):
    la, lb, ca, cb, nulls = _two_lists(args)
    common = _in_other(la.rows, ca, lb.rows, cb) & (ca >= 0)
    found = np.bincount(la.rows[common], minlength=la.n) > 0
    any_null = (np.bincount(la.rows[ca < 0], minlength=la.n) > 0) | (np.bincount(lb.rows[cb < 0], minlength=lb.n) > 0)
    # an empty array overlaps nothing, NULL elements or not (Presto returns false first)
    any_null &= (la.lengths > 0) & (lb.lengths > 0)
    nulls = nulls | (~found & any_null)
    return Vector(BOOLEAN, found & ~nulls, nulls)


# --- ordering and extremes ---------------------------------------------------------------------

@REGISTRY.scalar("array_sort(array(T)) -> array(T)")
def array_sort(args, out_type, ctx):
    lists = Lists(args[0])
    return make_list(out_type, lists.lengths, lists.elements().take(_sorted_order(lists)), lists.nulls)


def _array_extreme(is_max: bool):
    def kernel(args, out_type, ctx):
        lists = Lists(args[0])
        elements = lists.elements()
        order = _sorted_order(lists, descending=is_max)
        firsts = np.concatenate(([0], np.cumsum(lists.lengths)[:-1])).astype(np.int64)
        has_null = np.bincount(lists.rows[elements.null_mask()], minlength=lists.n) > 0 if len(elements) else \
            np.zeros(lists.n, dtype=bool)
        missing = lists.nulls | (lists.lengths == 0) | has_null
        if len(elements) == 0:
            return nulls_of(out_type, lists.n)
        pick = order[np.minimum(firsts, len(order) - 1)]
        out = elements.take(pick)
        if missing.any():
            from .operators import _with_nulls

            out = _with_nulls(out, missing)
        return out

    return kernel


REGISTRY.scalar("array_max(array(T)) -> T")(_array_extreme(True))
REGISTRY.scalar("array_min(array(T)) -> T")(_array_extreme(False))


@REGISTRY.scalar("array_join(array(T), varchar) -> varchar", "array_join(array(T), varchar, varchar) -> varchar")
def array_join(args, out_type, ctx):
    """Elements as CAST to varchar, NULL ones left out or replaced, joined by pyarrow."""
    arr, delimiter, *replacement = broadcast(args)
    lists = Lists(arr)
    text = as_vector(cast(lists.elements(), VARCHAR))
    delims = as_vector(delimiter)
    nulls = lists.nulls | delims.null_mask()
    values, element_nulls = text.values, text.null_mask()
    if replacement:
        null_text = as_vector(replacement[0])
        nulls = nulls | null_text.null_mask()
        values = np.where(element_nulls, null_text.values[lists.rows], values)
        lengths = lists.lengths
    else:
        values = values[~element_nulls]
        lengths = np.bincount(lists.rows[~element_nulls], minlength=lists.n)
    offsets = np.concatenate(([0], np.cumsum(lengths))).astype(np.int64)
    joined = pc.binary_join(pa.LargeListArray.from_arrays(pa.array(offsets), pa.array(values, pa.string())),
                            pa.array(np.where(nulls, "", delims.values), pa.string()))
    out = joined.to_numpy(zero_copy_only=False).astype(object)
    return Vector(VARCHAR, np.where(nulls, None, out), nulls)


# --- lambdas -----------------------------------------------------------------------------------

def needs_rows(lam) -> bool:
    """Whether a lambda's body reads more than its parameters (columns, outer lambdas,
    subqueries), so it must be evaluated against each element's batch row."""
    body = lam.lam.body
    own = set(lam.lam.params)
    for e in body.walk():
        if isinstance(e, Lambda):
            own |= set(e.params)
    for e in body.walk():
        if isinstance(e, (ColumnRef, OuterRef, Subquery)):
            return True
        if isinstance(e, LambdaVar) and e.name not in own:
            return True
    return False


def lambda_rows(args, lam) -> int:
    """The number of rows a lambda call works on."""
    n = row_count([a for a in args if a is not lam])
    return len(lam.batch) if needs_rows(lam) else n


def truth(col: Column) -> tuple[np.ndarray, np.ndarray]:
    """(is TRUE, is NULL) of a boolean column."""
    v = as_vector(col)
    nulls = v.null_mask()
    return v.values.astype(bool) & ~nulls, nulls


def filter_lists(args, out_type, ctx):
    lam = args[1]
    (arr,) = broadcast([args[0]], lambda_rows(args, lam))
    lists = Lists(arr)
    elements = lists.elements()
    keep, _ = truth(lam.apply([elements], lists.rows)) if len(elements) else (np.zeros(0, bool), None)
    return keep_elements(lists, keep, out_type)


REGISTRY.scalar("filter(array(T), function(T, boolean)) -> array(T)")(filter_lists)


@REGISTRY.scalar("transform(array(T), function(T, U)) -> array(U)")
def transform(args, out_type, ctx):
    lam = args[1]
    (arr,) = broadcast([args[0]], lambda_rows(args, lam))
    lists = Lists(arr)
    elements = lists.elements()
    child = lam.apply([elements], lists.rows) if len(elements) else nulls_of(out_type.element, 0)
    return make_list(out_type, lists.lengths, child, lists.nulls)


def reduce_lists(args, out_type, ctx):
    arr, init, step, output = args
    n = max(lambda_rows([arr, init], step), lambda_rows([arr, init], output))
    arr, state = broadcast([arr, init], n)
    lists = Lists(arr)
    from ..evaluate import scatter

    state_type = state.type
    all_rows = np.arange(n, dtype=np.int64)
    longest = int(lists.lengths.max()) if n else 0
    # one step per element position, every row's state advanced together
    for k in range(longest):
        active = np.flatnonzero(lists.lengths > k)
        x = lists.col.child.take(lists.starts[active] + k)
        new = step.apply([state.take(active), x], active)
        if len(active) == n:
            state = new
        else:
            rest = np.flatnonzero(lists.lengths <= k)
            state = scatter([(rest, state.take(rest)), (active, new)], n, state_type)
    out = output.apply([state], all_rows)
    if lists.nulls.any():
        from .operators import _with_nulls

        out = _with_nulls(out, lists.nulls)
    return out


REGISTRY.scalar("reduce(array(T), S, function(S, T, S), function(S, R)) -> R")(reduce_lists)


def _match(kind: str):
    """any_match / all_match / none_match, with SQL's three-valued logic."""

    def kernel(args, out_type, ctx):
        lam = args[1]
        (arr,) = broadcast([args[0]], lambda_rows(args, lam))
        lists = Lists(arr)
        elements = lists.elements()
        if len(elements):
            true, null = truth(lam.apply([elements], lists.rows))
        else:
            true = null = np.zeros(0, dtype=bool)
        false = ~true & ~null
        any_true = np.bincount(lists.rows[true], minlength=lists.n) > 0
        any_false = np.bincount(lists.rows[false], minlength=lists.n) > 0
        any_null = np.bincount(lists.rows[null], minlength=lists.n) > 0
        if kind == "any":
            value, unknown = any_true, ~any_true & any_null
        elif kind == "all":
            value, unknown = ~any_false & ~any_null, ~any_false & any_null
        else:
            value, unknown = ~any_true & ~any_null, ~any_true & any_null
        nulls = lists.nulls | unknown
        return Vector(BOOLEAN, value & ~nulls, nulls)

    return kernel


for _kind in ("any", "all", "none"):
    REGISTRY.scalar(f"{_kind}_match(array(T), function(T, boolean)) -> boolean")(_match(_kind))


@REGISTRY.scalar("zip_with(array(T), array(U), function(T, U, R)) -> array(R)")
def zip_with(args, out_type, ctx):
    lam = args[2]
    a, b = broadcast(args[:2], lambda_rows(args, lam))
    la, lb = Lists(a), Lists(b)
    nulls = la.nulls | lb.nulls
    lengths = np.where(nulls, 0, np.maximum(la.lengths, lb.lengths))
    rows = np.repeat(np.arange(len(lengths)), lengths)
    xs = padded(la, lengths, a.type.element)
    ys = padded(lb, lengths, b.type.element)
    child = lam.apply([xs, ys], rows) if len(rows) else nulls_of(out_type.element, 0)
    return make_list(out_type, lengths, child, nulls)


__all__ = ["Lists", "make_list", "lists_per_string", "keep_elements", "broadcast", "filter_lists", "reduce_lists", "lambda_rows",
           "truth", "MAX_ELEMENTS"]
