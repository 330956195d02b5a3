"""String functions over object arrays of str; pyarrow.compute where it has the kernel.

A dictionary-encoded argument (a dimension) is processed once per distinct value by
the elementwise wrapper, so these loops run over the dictionary, not the rows.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .registry import REGISTRY, fail, map_strings, object_array


def _arrow(values: np.ndarray) -> pa.Array:
    return pa.array(values, type=pa.string())


def _back(arr: pa.Array) -> np.ndarray:
    return arr.to_numpy(zero_copy_only=False)


@REGISTRY.elementwise("lower(varchar) -> varchar")
def lower(s):
    return _back(pc.utf8_lower(_arrow(s))).astype(object)


@REGISTRY.elementwise("upper(varchar) -> varchar")
def upper(s):
    return _back(pc.utf8_upper(_arrow(s))).astype(object)


@REGISTRY.elementwise("length(varchar) -> bigint")
def length(s):
    return _back(pc.utf8_length(_arrow(s))).astype(np.int64)


@REGISTRY.elementwise("reverse(varchar) -> varchar")
def reverse(s):
    return _back(pc.utf8_reverse(_arrow(s))).astype(object)


@REGISTRY.elementwise("trim(varchar) -> varchar")
def trim(s):
    return map_strings(str.strip, s)


@REGISTRY.elementwise("ltrim(varchar) -> varchar")
def ltrim(s):
    return map_strings(str.lstrip, s)


@REGISTRY.elementwise("rtrim(varchar) -> varchar")
def rtrim(s):
    return map_strings(str.rstrip, s)


@REGISTRY.elementwise("substr(varchar, bigint) -> varchar", "substr(varchar, bigint, bigint) -> varchar",
                      aliases=("substring",))
def substr(s, start, length=None):
    n = max(len(s), len(start), len(length) if length is not None else 1)
    s = np.broadcast_to(s, (n,))
    start = np.broadcast_to(start, (n,))
    length = np.broadcast_to(length, (n,)) if length is not None else None
    out = []
    for i in range(n):
        text, st = s[i], int(start[i])
        size = len(text)
        if st == 0 or abs(st) > size:
            out.append("")
            continue
        begin = st - 1 if st > 0 else size + st
        if length is None:
            out.append(text[begin:])
        else:
            k = int(length[i])
            if k < 0:
                fail("Length must be greater than or equal to 0")
            out.append(text[begin:begin + k])
    return object_array(out)


@REGISTRY.elementwise("replace(varchar, varchar) -> varchar", "replace(varchar, varchar, varchar) -> varchar")
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


@REGISTRY.elementwise("strpos(varchar, varchar) -> bigint")
def strpos(s, sub):
    n = max(len(s), len(sub))
    s, sub = np.broadcast_to(s, (n,)), np.broadcast_to(sub, (n,))
    return np.array([a.find(b) + 1 for a, b in zip(s, sub)], dtype=np.int64)


@REGISTRY.elementwise("starts_with(varchar, varchar) -> boolean")
def starts_with(s, prefix):
    n = max(len(s), len(prefix))
    s, prefix = np.broadcast_to(s, (n,)), np.broadcast_to(prefix, (n,))
    return np.array([a.startswith(b) for a, b in zip(s, prefix)], dtype=bool)


@REGISTRY.elementwise("lpad(varchar, bigint, varchar) -> varchar")
def lpad(s, size, pad):
    return _pad(s, size, pad, left=True)


@REGISTRY.elementwise("rpad(varchar, bigint, varchar) -> varchar")
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
    return object_array([chr(int(c)) for c in code])


@REGISTRY.elementwise("codepoint(varchar) -> integer")
def codepoint(s):
    if any(len(x) != 1 for x in s):
        fail("Input string must be a single character string")
    return np.array([ord(x) for x in s], dtype=np.int64)


@REGISTRY.elementwise("split_part(varchar, varchar, bigint) -> varchar")
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


@REGISTRY.elementwise("hamming_distance(varchar, varchar) -> bigint")
def hamming_distance(a, b):
    n = max(len(a), len(b))
    a, b = np.broadcast_to(a, (n,)), np.broadcast_to(b, (n,))
    out = []
    for x, y in zip(a, b):
        if len(x) != len(y):
            fail("The input strings to hamming_distance function must have the same length")
        out.append(sum(c != d for c, d in zip(x, y)))
    return np.array(out, dtype=np.int64)


@REGISTRY.elementwise("levenshtein_distance(varchar, varchar) -> bigint")
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
