"""Operators: arithmetic, comparison, logic, IN, LIKE, IS NULL, constructors, access.

They are functions named `$add`, `$eq`, ... so the binder types them like any other
function and the evaluator runs them like any other kernel.
"""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tsql.types import BOOLEAN

from ..column import Column, DictVector, ListVector, RowVector, Vector, as_vector
from . import nested_compare
from .registry import REGISTRY, fail, values_of

NUM = ("integer", "bigint", "double")

# --- arithmetic ---------------------------------------------------------------------------
# integer and bigint arithmetic fails on overflow, as Presto's Math.*Exact does; `integer`
# values are int64 here, so their results are checked against the 32-bit range.

INT32 = (-(2**31), 2**31 - 1)
INT64_MIN = np.iinfo(np.int64).min


def _first(bad: np.ndarray, nulls) -> int | None:
    """The first row where `bad` holds and the row is not NULL, or None."""
    if nulls is not None:
        bad = bad & ~nulls  # broadcasts: a constant check against the rows' NULLs
    hits = np.flatnonzero(bad)
    return int(hits[0]) if len(hits) else None


def _overflow(type_name: str, word: str, symbol: str, a, b, bad, nulls):
    i = _first(bad, nulls)
    if i is not None:
        shape = np.broadcast(a, b).shape
        a, b = np.broadcast_to(a, shape), np.broadcast_to(b, shape)
        fail(f"{type_name} {word} overflow: {a[i]} {symbol} {b[i]}")


def _int32_checked(word, symbol, op):
    def kernel(a, b, nulls=None):
        r = op(a, b)
        _overflow("integer", word, symbol, a, b, (r < INT32[0]) | (r > INT32[1]), nulls)
        return r

    return kernel


def _add64(a, b, nulls=None):
    r = a + b
    _overflow("bigint", "addition", "+", a, b, ((a ^ r) & (b ^ r)) < 0, nulls)
    return r


def _subtract64(a, b, nulls=None):
    r = a - b
    _overflow("bigint", "subtraction", "-", a, b, ((a ^ b) & (a ^ r)) < 0, nulls)
    return r


def _multiply64(a, b, nulls=None):
    r = a * b
    # exact: without overflow r is a * b, so r // b gives back a
    safe_b = np.where(b == 0, 1, b)
    bad = (b != 0) & ((r // safe_b != a) | ((a == -1) & (b == INT64_MIN)) | ((b == -1) & (a == INT64_MIN)))
    _overflow("bigint", "multiplication", "*", a, b, bad, nulls)
    return r


def _plain(op):
    return lambda a, b: op(a, b)


REGISTRY.elementwise("$add(integer, integer) -> integer", nulls=True)(_int32_checked("addition", "+", np.add))
REGISTRY.elementwise("$add(bigint, bigint) -> bigint", nulls=True)(_add64)
REGISTRY.elementwise(
    "$add(double, double) -> double",
    "$add(timestamp, interval day to second) -> timestamp",
    "$add(interval day to second, timestamp) -> timestamp",
    "$add(time, interval day to second) -> time",
    "$add(interval day to second, interval day to second) -> interval day to second",
    "$add(interval year to month, interval year to month) -> interval year to month",
)(_plain(np.add))
REGISTRY.elementwise("$subtract(integer, integer) -> integer", nulls=True)(
    _int32_checked("subtraction", "-", np.subtract))
REGISTRY.elementwise("$subtract(bigint, bigint) -> bigint", nulls=True)(_subtract64)
REGISTRY.elementwise(
    "$subtract(double, double) -> double",
    "$subtract(timestamp, interval day to second) -> timestamp",
    "$subtract(time, interval day to second) -> time",
    "$subtract(interval day to second, interval day to second) -> interval day to second",
    "$subtract(interval year to month, interval year to month) -> interval year to month",
)(_plain(np.subtract))
REGISTRY.elementwise("$multiply(integer, integer) -> integer", nulls=True)(
    _int32_checked("multiplication", "*", np.multiply))
REGISTRY.elementwise("$multiply(bigint, bigint) -> bigint", nulls=True)(_multiply64)
REGISTRY.elementwise("$multiply(double, double) -> double")(_plain(np.multiply))


@REGISTRY.elementwise(
    "$multiply(interval day to second, bigint) -> interval day to second",
    "$multiply(bigint, interval day to second) -> interval day to second",
    "$multiply(interval day to second, double) -> interval day to second",
    "$multiply(double, interval day to second) -> interval day to second",
)
def interval_product(a, b):
    r = a * b
    return np.round(r).astype(np.int64) if r.dtype.kind == "f" else r


def _check_int_zero(b, nulls):
    if b.dtype.kind in "iu" and _first(b == 0, nulls) is not None:
        fail("Division by zero")


@REGISTRY.elementwise(*(f"$divide({t}, {t}) -> {t}" for t in NUM),
                      "$divide(interval day to second, bigint) -> interval day to second",
                      "$divide(interval day to second, double) -> interval day to second", nulls=True)
def divide(a, b, nulls=None):
    if a.dtype.kind in "iu" and b.dtype.kind in "iu":
        _check_int_zero(b, nulls)
        safe = np.where(b == 0, 1, b)
        q = np.abs(a) // np.abs(safe)
        return np.where((a < 0) != (safe < 0), -q, q)  # truncate toward zero, as Presto does
    r = a / b
    return np.round(r).astype(np.int64) if a.dtype.kind in "iu" else r


@REGISTRY.elementwise(*(f"$modulus({t}, {t}) -> {t}" for t in NUM), nulls=True)
def modulus(a, b, nulls=None):
    if a.dtype.kind in "iu" and b.dtype.kind in "iu":
        _check_int_zero(b, nulls)
        return np.fmod(a, np.where(b == 0, 1, b))
    return np.fmod(a, b)  # the sign follows the dividend, as in Java


@REGISTRY.elementwise("$negate(integer) -> integer", nulls=True)
def negate_integer(a, nulls=None):
    i = _first(a == INT32[0], nulls)
    if i is not None:
        fail(f"integer negation overflow: {a[min(i, len(a) - 1)]}")
    return -a


@REGISTRY.elementwise("$negate(bigint) -> bigint", nulls=True)
def negate_bigint(a, nulls=None):
    i = _first(a == INT64_MIN, nulls)
    if i is not None:
        fail(f"bigint negation overflow: {a[min(i, len(a) - 1)]}")
    return -a


@REGISTRY.elementwise("$negate(double) -> double",
                      "$negate(interval day to second) -> interval day to second",
                      "$negate(interval year to month) -> interval year to month")
def negate(a):
    return -a


def _calendar(sign):
    """timestamp/date +/- interval year to month, and date +/- whole days."""

    def kernel(args, out_type, ctx):
        from .time import DAY_NS, add_months

        a, b = as_vector(args[0]), as_vector(args[1])
        nulls = _or_nulls(a, b)
        if str(b.type) == "interval day to second":
            if np.any(b.values % DAY_NS != 0):
                fail("Cannot add hour, minute or second intervals to a date")
            return Vector(out_type, a.values + sign * (b.values // DAY_NS), nulls)
        if str(out_type) == "date":
            return Vector(out_type, add_months(a.values * DAY_NS, sign * b.values) // DAY_NS, nulls)
        return Vector(out_type, add_months(a.values, sign * b.values), nulls)

    return kernel


REGISTRY.scalar(
    "$add(timestamp, interval year to month) -> timestamp",
    "$add(date, interval year to month) -> date",
    "$add(date, interval day to second) -> date",
)(_calendar(1))
REGISTRY.scalar(
    "$subtract(timestamp, interval year to month) -> timestamp",
    "$subtract(date, interval year to month) -> date",
    "$subtract(date, interval day to second) -> date",
)(_calendar(-1))


def _or_nulls(*cols):
    out = None
    for c in cols:
        m = c.nulls
        if m is not None:
            out = m if out is None else (out | m)
    return out


# --- comparison ---------------------------------------------------------------------------

_COMPARE = {"$eq": np.equal, "$ne": np.not_equal, "$lt": np.less, "$le": np.less_equal,
            "$gt": np.greater, "$ge": np.greater_equal}


def _comparison(op):
    ufunc = _COMPARE[op]

    def kernel(args, out_type, ctx):
        a, b = args
        if isinstance(a, DictVector) and isinstance(b, DictVector) and a.dictionary is b.dictionary and op in ("$eq", "$ne"):
            nulls = (a.codes < 0) | (b.codes < 0)
            return Vector(BOOLEAN, ufunc(a.codes, b.codes), nulls)
        if isinstance(a, (ListVector, RowVector)) or isinstance(b, (ListVector, RowVector)):
            return _compare_nested(op, a, b)
        return _elementwise[op](args, out_type, ctx)

    return kernel


def _compare_nested(op, a, b):
    n = max(len(a), len(b))
    a, b = a.broadcast(n), b.broadcast(n)
    if op in ("$eq", "$ne"):
        unequal, unknown = nested_compare.equal(a, b)
        return Vector(BOOLEAN, unequal if op == "$ne" else ~unequal, unknown)
    cmp, nulls = nested_compare.order(a, b)
    return Vector(BOOLEAN, _ORDERED[op](cmp, 0), nulls)


_ORDERED = {"$lt": np.less, "$le": np.less_equal, "$gt": np.greater, "$ge": np.greater_equal}


_elementwise = {}
for _op, _ufunc in _COMPARE.items():
    from .registry import make_elementwise

    _elementwise[_op] = make_elementwise(lambda a, b, _u=_ufunc: _u(a, b))
    REGISTRY.scalar(f"{_op}(T, T) -> boolean")(_comparison(_op))


@REGISTRY.scalar("$is_distinct_from(T, T) -> boolean")
def is_distinct_from(args, out_type, ctx):
    a, b = args
    n = max(len(a), len(b))
    if isinstance(a, (ListVector, RowVector)) or isinstance(b, (ListVector, RowVector)):
        distinct, _ = nested_compare.equal(a.broadcast(n), b.broadcast(n), null_safe=True)
        return Vector(BOOLEAN, distinct)
    an, bn = a.broadcast(n).null_mask(), b.broadcast(n).null_mask()
    eq = _comparison("$eq")(args, BOOLEAN, ctx)
    eqv = np.broadcast_to(eq.values, (n,)) & ~eq.null_mask() if len(eq) == n else np.broadcast_to(eq.values, (n,))
    distinct = np.where(an | bn, an != bn, ~eqv)
    return Vector(BOOLEAN, distinct)


# --- logic (three-valued) -----------------------------------------------------------------

def _bool_parts(col: Column):
    v = as_vector(col)
    nulls = v.null_mask() if len(v) else np.zeros(0, bool)
    values = v.values.astype(bool) if v.values.dtype != bool else v.values
    return values & ~nulls, nulls


@REGISTRY.scalar("$and(boolean, boolean) -> boolean")
def and_(args, out_type, ctx):
    (av, an), (bv, bn) = (_bool_parts(a) for a in args)
    false = (~av & ~an) | (~bv & ~bn)
    nulls = (an | bn) & ~false
    return Vector(BOOLEAN, av & bv, nulls)


@REGISTRY.scalar("$or(boolean, boolean) -> boolean")
def or_(args, out_type, ctx):
    (av, an), (bv, bn) = (_bool_parts(a) for a in args)
    true = av | bv
    nulls = (an | bn) & ~true
    return Vector(BOOLEAN, true, nulls)


@REGISTRY.elementwise("$not(boolean) -> boolean")
def not_(a):
    return ~a.astype(bool)


@REGISTRY.scalar("$is_null(T) -> boolean")
def is_null(args, out_type, ctx):
    (a,) = args
    return Vector(BOOLEAN, a.null_mask().copy())


# --- IN -----------------------------------------------------------------------------------

@REGISTRY.scalar("$in(T, T...) -> boolean")
def in_(args, out_type, ctx):
    value, items = args[0], args[1:]
    if all(len(i) == 1 for i in items) and not isinstance(value, (ListVector, RowVector)):
        consts = [values_of(i)[0] for i in items if i.nulls is None]
        has_null = any(i.nulls is not None for i in items)
        if isinstance(value, DictVector):
            member = np.isin(value.dictionary, np.array(consts, dtype=object)) if len(value.dictionary) else np.zeros(0, bool)
            hit = np.where(value.codes >= 0, member[np.maximum(value.codes, 0)] if len(member) else False, False)
            nulls = value.codes < 0
        else:
            v = as_vector(value)
            arr = np.array(consts, dtype=v.values.dtype if v.values.dtype != object else object)
            hit = np.isin(v.values, arr)
            nulls = v.null_mask()
        if has_null:
            nulls = nulls | ~hit
        return Vector(BOOLEAN, hit & ~nulls, nulls)
    # general: OR of equalities, three-valued
    result = None
    for item in items:
        eq = _comparison("$eq")([value, item], BOOLEAN, ctx)
        result = eq if result is None else or_([result, eq], BOOLEAN, ctx)
    return result


# --- LIKE ---------------------------------------------------------------------------------

def like_regex(pattern: str, escape: str | None = None) -> str:
    out = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if escape is not None and ch == escape:
            if i + 1 >= len(pattern) or pattern[i + 1] not in ("%", "_", escape):
                fail("Escape character must be followed by '%', '_' or the escape character itself")
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if ch == "%" else "." if ch == "_" else re.escape(ch))
        i += 1
    return "^" + "".join(out) + r"\Z"


def regex_match(values: np.ndarray, regex: str, search: bool = False) -> np.ndarray:
    """Vectorized regular-expression match over an object array of strings (no NULLs)."""
    if len(values) == 0:
        return np.zeros(0, dtype=bool)
    arr = pa.array(values, type=pa.string())
    try:
        out = pc.match_substring_regex(arr, regex)
        return out.to_numpy(zero_copy_only=False).astype(bool)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        compiled = re.compile(regex, re.S)
        f = compiled.search if search else compiled.match
        return np.fromiter((f(s) is not None for s in values), dtype=bool, count=len(values))


@REGISTRY.scalar("$like(varchar, varchar) -> boolean", "$like(varchar, varchar, varchar) -> boolean")
def like(args, out_type, ctx):
    value, pattern = args[0], args[1]
    escape = args[2] if len(args) > 2 else None
    if len(pattern) == 1 and (escape is None or len(escape) == 1):
        if pattern.nulls is not None or (escape is not None and escape.nulls is not None):
            return Vector(BOOLEAN, np.zeros(len(value), bool), np.ones(len(value), bool))
        esc = values_of(escape)[0] if escape is not None else None
        if esc is not None and len(esc) != 1:
            fail("Escape string must be a single character")
        regex = like_regex(values_of(pattern)[0], esc)
        if isinstance(value, DictVector):
            return value.map_dictionary(lambda d: regex_match(d, regex), BOOLEAN)
        v = as_vector(value)
        nulls = v.nulls
        values = np.where(nulls, "", v.values) if nulls is not None else v.values
        return Vector(BOOLEAN, regex_match(values, regex), nulls)
    # per-row patterns
    n = max(len(a) for a in args)
    cols = [as_vector(a.broadcast(n)) for a in args]
    nulls = _or_nulls(*cols)
    out = np.zeros(n, dtype=bool)
    for i in range(n):
        if nulls is not None and nulls[i]:
            continue
        esc = cols[2].values[i] if len(cols) > 2 else None
        out[i] = re.match(like_regex(cols[1].values[i], esc), cols[0].values[i], re.S) is not None
    return Vector(BOOLEAN, out, nulls)


# --- constructors and access ----------------------------------------------------------------

@REGISTRY.scalar("$array(T...) -> array(T)")
def array_constructor(args, out_type, ctx):
    from ..column import concat, nulls_of

    k = len(args)
    n = max((len(a) for a in args), default=1)
    if k == 0:
        return ListVector(out_type, np.zeros(n + 1, dtype=np.int64), nulls_of(out_type.element, 0))
    cols = [a.broadcast(n) for a in args]
    # element j of row i is at i*k + j: interleave by taking from the concatenation
    stacked = concat(cols)
    order = (np.arange(k)[None, :] * n + np.arange(n)[:, None]).ravel()
    child = stacked.take(order)
    offsets = np.arange(0, (n + 1) * k, k, dtype=np.int64)
    return ListVector(out_type, offsets, child)


@REGISTRY.scalar("$grouping(bigint, array(bigint)) -> bigint")
def grouping(args, out_type, ctx):
    """grouping()'s value: the bit mask of the row's grouping set (binder.Binder._grouping)."""
    sets, masks = as_vector(args[0]), args[1]
    table = np.asarray(masks.child.to_pylist() if isinstance(masks, ListVector) else list(masks), dtype=np.int64)
    return Vector(out_type, table[sets.values])


@REGISTRY.scalar("$row(T...) -> T")
def row_constructor(args, out_type, ctx):
    n = max((len(a) for a in args), default=1)
    return RowVector(out_type, [a.broadcast(n) for a in args])


@REGISTRY.scalar("$field(T, integer) -> T")
def field_access(args, out_type, ctx):
    row, index = args
    i = int(values_of(index)[0])
    if not isinstance(row, RowVector):
        fail("Field access on a value that is not a row")
    col = row.fields[i]
    if row.nulls is not None:
        col = _with_nulls(col, row.nulls)
    return col


def _with_nulls(col: Column, nulls: np.ndarray) -> Column:
    if isinstance(col, DictVector):
        return DictVector(np.where(nulls, -1, col.codes), col.dictionary, col.type)
    if isinstance(col, Vector):
        return Vector(col.type, col.values, col.null_mask() | nulls)
    if isinstance(col, ListVector):
        return ListVector(col.type, col.offsets, col.child, col.null_mask() | nulls)
    return RowVector(col.type, col.fields, col.null_mask() | nulls)


@REGISTRY.scalar("$subscript(array(T), bigint) -> T")
def subscript(args, out_type, ctx):
    arr, index = args
    n = max(len(arr), len(index))
    arr = arr.broadcast(n)
    idx = as_vector(index.broadcast(n))
    lengths = arr.lengths()
    nulls = arr.null_mask() | idx.null_mask()
    i = idx.values.astype(np.int64)
    bad = ~nulls & ((i < 1) | (i > lengths))
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        if i[k] == 0:
            fail("SQL array indices start at 1")
        if i[k] < 0:
            fail(f"Array subscript is negative: {i[k]}")
        fail(f"Array subscript must be less than or equal to array length: {i[k]} > {lengths[k]}")
    pos = arr.offsets[:-1] + np.where(nulls, 1, i) - 1
    pos = np.where(nulls, 0, pos) if len(arr.child) else np.zeros(n, dtype=np.int64)
    if len(arr.child) == 0:
        from ..column import nulls_of

        return nulls_of(out_type, n)
    out = arr.child.take(pos)
    return _with_nulls(out, nulls) if nulls.any() else out


@REGISTRY.elementwise("concat(varchar...) -> varchar")
def concat_strings(*arrays):
    n = max(len(a) for a in arrays)
    columns = [pa.array(np.broadcast_to(a, (n,)), pa.string()) for a in arrays]
    return pc.binary_join_element_wise(*columns, "").to_numpy(zero_copy_only=False).astype(object)
