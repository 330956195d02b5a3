"""The function registry: name -> signatures + kernel, one table for the whole library.

Each family module (math.py, string.py, time.py, ...) registers its functions here
with a decorator, so adding a function touches one file. Kernels take numpy arrays,
never a Python call per row:

- `@REGISTRY.elementwise(sig, ...)`: kernel(*arrays) -> array, for strict functions.
  NULL in, NULL out is handled here; a single dictionary-encoded argument (with the
  others constant) is evaluated on the dictionary only. With `distinct=True` (kernels
  that loop over strings in Python) a plain varchar argument is factorized first, so
  the loop runs once per distinct string, never once per row. A kernel may return
  (values, nulls) to add NULLs of its own. With `nulls=True` the kernel also gets
  `nulls=` (the rows that will read NULL, or None), so that a check which raises
  (division by zero, overflow) skips the values that NULL rows happen to hold.
- `@REGISTRY.scalar(sig, ...)`: kernel(args: [Column], out_type, ctx) -> Column, with
  full control (non-strict functions, nested types, lambdas).
- `@REGISTRY.aggregate(sig, ...)` / `@REGISTRY.window(sig, ...)`: see aggregates.py
  and window.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from tsql.errors import QueryExecutionError
from tsql.planner.signatures import parse_signature, resolve
from tsql.types import VARCHAR, Type

from ..column import Column, DictVector, ListVector, RowVector, Vector, dtype_of


@dataclass
class Function:
    name: str
    kind: str  # scalar | aggregate | window
    signatures: list = field(default_factory=list)
    deterministic: bool = True


class Registry:
    def __init__(self):
        self.functions: dict[str, Function] = {}
        self.kernels: dict = {}  # (name, Signature) -> kernel
        self._resolved: dict = {}  # (name, argument types) -> kernel

    def _add(self, kind: str, signatures, kernel, deterministic=True, names=None) -> None:
        for sig in (parse_signature(s) for s in signatures):
            for name in names or [sig.name]:
                if name != sig.name:
                    sig = type(sig)(name, sig.params, sig.result, sig.variadic)
                fn = self.functions.get(name)
                if fn is None:
                    fn = self.functions[name] = Function(name, kind, [], deterministic)
                elif fn.kind != kind:
                    raise ValueError(f"{name} registered as {fn.kind} and {kind}")
                fn.signatures.append(sig)
                self.kernels[(name, sig)] = kernel

    def kind(self, name: str) -> str | None:
        fn = self.functions.get(name)
        return fn.kind if fn else None

    def signatures(self, name: str) -> list:
        fn = self.functions.get(name)
        return fn.signatures if fn else []

    def get(self, name: str) -> Function:
        return self.functions[name]

    def kernel_for(self, name: str, arg_types: tuple):
        """The kernel of the signature that the (already coerced) argument types select."""
        key = (name, arg_types)
        kernel = self._resolved.get(key)
        if kernel is None:
            fn = self.functions[name]
            if len(fn.signatures) == 1:
                sig = fn.signatures[0]
            else:
                resolved = resolve(fn.signatures, list(arg_types))
                if resolved is None:
                    raise QueryExecutionError(f"No implementation of {name} for ({', '.join(map(str, arg_types))})")
                sig = resolved.signature
            kernel = self._resolved[key] = self.kernels[(name, sig)]
        return kernel

    # --- decorators -------------------------------------------------------------------------

    def scalar(self, *signatures, deterministic=True, aliases=()):
        def register(kernel):
            self._add("scalar", signatures, kernel, deterministic)
            for alias in aliases:
                self._add("scalar", signatures, kernel, deterministic, names=[alias])
            return kernel

        return register

    def elementwise(self, *signatures, aliases=(), nulls=False, distinct=False):
        def register(fn):
            kernel = make_elementwise(fn, nulls, distinct)
            self._add("scalar", signatures, kernel)
            for alias in aliases:
                self._add("scalar", signatures, kernel, names=[alias])
            return fn

        return register

    def aggregate(self, *signatures, aliases=()):
        def register(impl):
            self._add("aggregate", signatures, impl)
            for alias in aliases:
                self._add("aggregate", signatures, impl, names=[alias])
            return impl

        return register

    def window(self, *signatures):
        def register(impl):
            self._add("window", signatures, impl)
            return impl

        return register


REGISTRY = Registry()


def values_of(col: Column) -> np.ndarray:
    if isinstance(col, DictVector):
        col = col.decode()
    return col.values


def make_elementwise(fn, pass_nulls: bool = False, distinct: bool = False):
    """Wrap kernel(*arrays) -> array into a Column kernel with NULL propagation."""
    call = (lambda arrays, nulls: _call(fn, arrays, nulls=nulls)) if pass_nulls else (lambda arrays, nulls: _call(fn, arrays))

    def kernel(args: list, out_type: Type, ctx) -> Column:
        if distinct:
            args = _factorized(args)
        dict_args = [i for i, a in enumerate(args) if isinstance(a, DictVector)]
        if len(dict_args) == 1 and all(len(a) == 1 for i, a in enumerate(args) if i != dict_args[0]):
            d = dict_args[0]
            col = args[d]
            others = [a for i, a in enumerate(args) if i != d]
            if all(a.nulls is None for a in others) and len(col) > len(col.dictionary):
                consts = [values_of(a) for a in others]
                return _on_dictionary(call, col, consts, d, out_type)
        arrays, nulls = [], None
        for a in args:
            if isinstance(a, (ListVector, RowVector)):
                raise TypeError("elementwise kernels take scalar columns")
            v = a.decode() if isinstance(a, DictVector) else a
            values = v.values
            m = v.nulls
            if m is not None:
                nulls = m if nulls is None else (nulls | m)
                if values.dtype == object:  # keep kernels away from None at NULL positions
                    values = np.where(m, "", values)
            arrays.append(values)
        out, extra = call(arrays, nulls)
        if extra is not None:
            nulls = extra if nulls is None else (nulls | extra)
        n = max(len(a) for a in arrays) if arrays else 1
        out = _ensure(out, out_type, n)
        if nulls is not None and len(nulls) != len(out):
            nulls = np.broadcast_to(nulls, out.shape).copy()
        if nulls is not None and out.dtype == object:
            out = np.where(nulls, None, out)
        return Vector(out_type, out, nulls)

    kernel.__name__ = fn.__name__
    kernel.__doc__ = fn.__doc__
    return kernel


def _on_dictionary(call, col: DictVector, consts: list, d: int, out_type: Type) -> Column:
    """The kernel run on a dictionary's distinct values, spread over the rows by code.
    Values no row uses are left out: a kernel that fails on a value must see only the
    column's own (a filter may have removed the rows holding the others)."""
    live = col.codes >= 0
    used = np.bincount(col.codes[live], minlength=len(col.dictionary)) > 0
    if not used.all():
        remap = np.cumsum(used) - 1
        col = DictVector(np.where(live, remap[np.where(live, col.codes, 0)], -1), col.dictionary[used], col.type)
    out, extra = call(consts[:d] + [col.dictionary] + consts[d:], None)
    out = _ensure(out, out_type, len(col.dictionary))
    if extra is None or not np.any(extra):
        if out_type == VARCHAR and out.dtype == object:
            return DictVector(col.codes, out, out_type)
        extra = None
    nulls = col.codes < 0
    if len(out) == 0:
        return Vector(out_type, np.zeros(len(col.codes), dtype=dtype_of(out_type)), nulls)
    idx = np.where(nulls, 0, col.codes)
    if extra is not None:
        nulls = nulls | np.broadcast_to(extra, out.shape)[idx]
    values = out[idx]
    if values.dtype == object:
        values = np.where(nulls, None, values)
    return Vector(out_type, values, nulls)


def _factorized(args: list) -> list:
    """The one plain varchar argument of many rows (the others constant) as a dictionary."""
    long = [i for i, a in enumerate(args) if len(a) > 1]
    if len(long) != 1:
        return args
    i = long[0]
    a = args[i]
    if not isinstance(a, Vector) or a.values.dtype != object:
        return args
    if a.nulls is None:
        codes, uniques = pd.factorize(a.values)
    else:  # the values under NULLs are no strings of the column's
        live = ~a.nulls
        codes = np.full(len(a), -1, dtype=np.int64)
        codes[live], uniques = pd.factorize(a.values[live])
    return args[:i] + [DictVector(codes, np.asarray(uniques, dtype=object), a.type)] + args[i + 1:]


def _call(fn, arrays, **kwargs):
    with np.errstate(all="ignore"):
        out = fn(*arrays, **kwargs)
    if isinstance(out, tuple):
        return out
    return out, None


def _ensure(out, out_type: Type, n: int) -> np.ndarray:
    out = np.asarray(out)
    want = dtype_of(out_type)
    if out.ndim == 0:
        out = out.reshape(1)
    if want is object and out.dtype != object:
        out = out.astype(object)
    elif want is not object and out.dtype != want:
        out = out.astype(want)
    if len(out) != n and len(out) == 1:
        out = np.broadcast_to(out, (n,)).copy()
    return out


def fail(message: str):
    raise QueryExecutionError(message)


def object_array(values) -> np.ndarray:
    arr = np.empty(len(values), dtype=object)
    arr[:] = values
    return arr


def map_strings(fn, arr: np.ndarray) -> np.ndarray:
    """Apply a str -> value function to each element of an object array."""
    return object_array([fn(s) for s in arr])


__all__ = ["REGISTRY", "Registry", "Function", "values_of", "fail", "object_array", "map_strings", "VARCHAR"]
