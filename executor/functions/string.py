"""String functions over object arrays of str; pyarrow.compute where it has the kernel.

A dictionary-encoded argument (a dimension) is processed once per distinct value by
the elementwise wrapper; kernels that loop in Python are registered `distinct=True`, so
a plain varchar column is factorized first: the loops run over distinct strings.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..column import as_vector, from_pylist
from .array import lists_per_string
from .registry import REGISTRY, fail, object_array


def _arrow(values: np.ndarray) -> pa.Array:
    return pa.array(values, type=pa.string())


def _back(arr: pa.Array) -> np.ndarray:
    return arr.to_numpy(zero_copy_only=False)


@REGISTRY.elementwise("lower(varchar) -> varchar")
def lower(s):
    return _back(pc.utf8_lower(_arrow(s))).astype(object)


@REGISTRY.elementwise("upper(varchar) -> varchar")
def upper(s):
    out = _back(pc.utf8_upper(_arrow(s))).astype(object)
    # Presto maps code point by code point (Java's Character.toUpperCase): ß stays ß, where
    # utf8proc gives ẞ; the rare strings holding ß are mapped that way instead
    sharp = _back(pc.match_substring(_arrow(s), "ß")).astype(bool) if len(s) else np.zeros(0, bool)
    for i in np.flatnonzero(sharp):
        out[i] = "".join(c.upper() if len(c.upper()) == 1 else c for c in s[i])
    return out


@REGISTRY.elementwise("length(varchar) -> bigint")
def length(s):
    return _back(pc.utf8_length(_arrow(s))).astype(np.int64)


@REGISTRY.elementwise("reverse(varchar) -> varchar")
def reverse(s):
    return _back(pc.utf8_reverse(_arrow(s))).astype(object)


# Java's Character.isWhitespace, which Presto's trim functions use (no no-break spaces)
WHITESPACE = " \t\n\x0b\x0c\r\x1c\x1d\x1e\x1f\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2008\u2009\u200a\u2028\u2029\u205f\u3000"


@REGISTRY.elementwise("trim(varchar) -> varchar")
def trim(s):
    return _back(pc.utf8_trim(_arrow(s), characters=WHITESPACE)).astype(object)


@REGISTRY.elementwise("ltrim(varchar) -> varchar")
def ltrim(s):
    return _back(pc.utf8_ltrim(_arrow(s), characters=WHITESPACE)).astype(object)


@REGISTRY.elementwise("rtrim(varchar) -> varchar")
def rtrim(s):
    return _back(pc.utf8_rtrim(_arrow(s), characters=WHITESPACE)).astype(object)


@REGISTRY.elementwise("substr(varchar, bigint) -> varchar", "substr(varchar, bigint, bigint) -> varchar",
                      aliases=("substring",))
def substr(s, start, length=None):
    """1-based; a negative start counts from the end; past either end, or a length
    below 1, gives an empty string (as Presto)."""
    if len(start) == 1 and (length is None or len(length) == 1):
        return _substr_constant(s, int(start[0]), None if length is None else int(length[0]))
    n = max(len(s), len(start), len(length) if length is not None else 1)
    s = np.broadcast_to(s, (n,))
    start = np.broadcast_to(start, (n,))
    length = np.broadcast_to(length, (n,)) if length is not None else None
    out = []
    for i in range(n):  # per-row positions: one slice per row
        out.append(_substr_one(s[i], int(start[i]), None if length is None else int(length[i])))
    return object_array(out)


def _substr_one(text: str, start: int, length: int | None) -> str:
    size = len(text)
    if start == 0 or abs(start) > size or (length is not None and length <= 0):
        return ""
    begin = start - 1 if start > 0 else size + start
    return text[begin:] if length is None else text[begin:begin + length]


def _substr_constant(s: np.ndarray, start: int, length: int | None) -> np.ndarray:
    if start == 0 or (length is not None and length <= 0):
        return np.full(len(s), "", dtype=object)
    arr = _arrow(s)
    begin = start - 1 if start > 0 else start
    stop = None if length is None else begin + length
    if stop is not None and begin < 0 and stop >= 0:
        stop = None  # the slice runs to the end
    out = _back(pc.utf8_slice_codeunits(arr, start=begin, stop=stop)).astype(object)
    if start < 0:  # a start before the beginning gives an empty string, not a clamped one
        too_short = _back(pc.utf8_length(arr)) < -start
        out = np.where(too_short, "", out)
    return out


@REGISTRY.elementwise("replace(varchar, varchar) -> varchar", "replace(varchar, varchar, varchar) -> varchar", distinct=True)
def replace(s, search, replacement=None):
    if replacement is None:
        replacement = np.array([""], dtype=object)
    n = max(len(s), len(search), len(replacement))
    s, search, replacement = (np.broadcast_to(a, (n,)) for a in (s, search, replacement))
    return object_array([_replace(a, b, c) for a, b, c in zip(s, search, replacement)])


def _replace(text: str, search: str, replacement: str) -> str:
    if search == "":  # Presto inserts the replacement between characters
        return replacement + replacement.join(text) + replacement if text else replacement
    return text.replace(search, replacement)


@REGISTRY.elementwise("strpos(varchar, varchar) -> bigint", distinct=True)
def strpos(s, sub):
    n = max(len(s), len(sub))
    s, sub = np.broadcast_to(s, (n,)), np.broadcast_to(sub, (n,))
    return np.array([a.find(b) + 1 for a, b in zip(s, sub)], dtype=np.int64)


def _nth(text: str, sub: str, instance: int, from_end: bool) -> int:
    """1-based position of the instance-th occurrence of sub (counted from the end), or
    0; occurrences may overlap, as in Presto."""
    if instance <= 0:
        fail("'instance' must be a positive number.")
    if not from_end:
        pos = -1
        for _ in range(instance):
            pos = text.find(sub, pos + 1)
            if pos < 0:
                return 0
        return pos + 1
    end = len(text)
    for _ in range(instance):
        pos = text.rfind(sub, 0, end)
        if pos < 0:
            return 0
        end = pos - 1 + len(sub)
    return pos + 1


@REGISTRY.elementwise("strpos(varchar, varchar, bigint) -> bigint", distinct=True)
def strpos_instance(s, sub, instance):
    n = max(len(s), len(sub), len(instance))
    s, sub, instance = (np.broadcast_to(a, (n,)) for a in (s, sub, instance))
    return np.array([_nth(a, b, int(k), False) for a, b, k in zip(s, sub, instance)], dtype=np.int64)


@REGISTRY.elementwise("strrpos(varchar, varchar) -> bigint", "strrpos(varchar, varchar, bigint) -> bigint", distinct=True)
def strrpos(s, sub, instance=None):
    if instance is None:
        instance = np.ones(1, dtype=np.int64)
    n = max(len(s), len(sub), len(instance))
    s, sub, instance = (np.broadcast_to(a, (n,)) for a in (s, sub, instance))
    return np.array([_nth(a, b, int(k), True) for a, b, k in zip(s, sub, instance)], dtype=np.int64)


@REGISTRY.scalar("split(varchar, varchar) -> array(varchar)", "split(varchar, varchar, bigint) -> array(varchar)")
def split(args, out_type, ctx):
    """The pieces between delimiters (all of them, or limit - 1 splits with the rest in
    the last piece); an empty delimiter splits into characters."""
    n = max(len(a) for a in args)
    cols = [as_vector(a.broadcast(n)) for a in args]
    nulls = np.zeros(n, dtype=bool)
    for c in cols:
        nulls |= c.null_mask()
    limits = cols[2].values if len(cols) > 2 else None
    if limits is not None and np.any(limits[~nulls] <= 0):
        fail("Limit must be positive")

    def pieces(text, delimiter, limit):
        cut = int(limit) - 1 if limit is not None else -1
        if delimiter == "":
            return list(text) if cut < 0 or cut >= len(text) else list(text[:cut]) + [text[cut:]]
        return text.split(delimiter, cut)

    if all(len(a) == 1 for a in args[1:]) and not nulls.all():
        delimiter, limit = cols[1].values[0], (limits[0] if limits is not None else None)
        return lists_per_string(lambda t: pieces(t, delimiter, limit), cols[0].values, nulls, out_type)
    values = [None if nulls[i] else pieces(cols[0].values[i], cols[1].values[i], limits[i] if limits is not None else None)
              for i in range(n)]  # per-row delimiters: rare
    return from_pylist(values, out_type)


@REGISTRY.elementwise("starts_with(varchar, varchar) -> boolean", distinct=True)
def starts_with(s, prefix):
    n = max(len(s), len(prefix))
    s, prefix = np.broadcast_to(s, (n,)), np.broadcast_to(prefix, (n,))
    return np.array([a.startswith(b) for a, b in zip(s, prefix)], dtype=bool)


@REGISTRY.elementwise("lpad(varchar, bigint, varchar) -> varchar", distinct=True)
def lpad(s, size, pad):
    return _pad(s, size, pad, left=True)


@REGISTRY.elementwise("rpad(varchar, bigint, varchar) -> varchar", distinct=True)
def rpad(s, size, pad):
    return _pad(s, size, pad, left=False)


def _pad(s, size, pad, left):
    n = max(len(s), len(size), len(pad))
    s, size, pad = (np.broadcast_to(a, (n,)) for a in (s, size, pad))
    out = []
    for text, k, p in zip(s, size, pad):
        k = int(k)
        if k < 0:
            fail("Target size must be non-negative")
        if len(text) >= k:
            out.append(text[:k])
            continue
        if not p:
            fail("Padding string must not be empty")
        fill = (p * (k // len(p) + 1))[: k - len(text)]
        out.append(fill + text if left else text + fill)
    return object_array(out)


@REGISTRY.elementwise("chr(bigint) -> varchar")
def chr_(code):
    bad = (code < 0) | (code > 0x10FFFF) | ((code >= 0xD800) & (code <= 0xDFFF))
    if bad.any():
        fail(f"Not a valid Unicode code point: {code[np.flatnonzero(bad)[0]]}")
    distinct, inverse = np.unique(code, return_inverse=True)
    return object_array([chr(int(c)) for c in distinct])[inverse.reshape(-1)]


@REGISTRY.elementwise("codepoint(varchar) -> integer", distinct=True)
def codepoint(s):
    if any(len(x) != 1 for x in s):
        fail("Input string must be a single character string")
    return np.array([ord(x) for x in s], dtype=np.int64)


@REGISTRY.elementwise("split_part(varchar, varchar, bigint) -> varchar", distinct=True)
def split_part(s, delimiter, index):
    n = max(len(s), len(delimiter), len(index))
    s, delimiter, index = (np.broadcast_to(a, (n,)) for a in (s, delimiter, index))
    out, nulls = [], np.zeros(n, dtype=bool)
    for i, (text, d, k) in enumerate(zip(s, delimiter, index)):
        k = int(k)
        if k < 1:
            fail("Index must be greater than zero")
        parts = text.split(d) if d else list(text)
        if k > len(parts):
            out.append(None)
            nulls[i] = True
        else:
            out.append(parts[k - 1])
    return object_array(out), nulls


@REGISTRY.elementwise("hamming_distance(varchar, varchar) -> bigint", distinct=True)
def hamming_distance(a, b):
    n = max(len(a), len(b))
    a, b = np.broadcast_to(a, (n,)), np.broadcast_to(b, (n,))
    out = []
    for x, y in zip(a, b):
        if len(x) != len(y):
            fail("The input strings to hamming_distance function must have the same length")
        out.append(sum(c != d for c, d in zip(x, y)))
    return np.array(out, dtype=np.int64)


@REGISTRY.elementwise("levenshtein_distance(varchar, varchar) -> bigint", distinct=True)
def levenshtein_distance(a, b):
    n = max(len(a), len(b))
    a, b = np.broadcast_to(a, (n,)), np.broadcast_to(b, (n,))
    return np.array([_levenshtein(x, y) for x, y in zip(a, b)], dtype=np.int64)


def _levenshtein(x: str, y: str) -> int:
    prev = list(range(len(y) + 1))
    for i, cx in enumerate(x, 1):
        cur = [i]
        for j, cy in enumerate(y, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (cx != cy)))
        prev = cur
    return prev[-1]
