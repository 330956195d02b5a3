"""Function signatures and overload resolution (Presto-style).

A signature is written as text: `round(double, integer) -> double`,
`array_max(array(T)) -> T`, `coalesce(T...) -> T` (variadic),
`filter(array(T), function(T, boolean)) -> array(T)` (a lambda argument).
`resolve` picks the cheapest signature whose parameters the argument types coerce to,
binding type variables on the way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tsql.types import (
    UNKNOWN, ArrayType, MapType, RowType, TimeSeriesType, Type, TypeVar, can_coerce, common_super_type,
    parse_type,
)


@dataclass(frozen=True)
class FunctionType(Type):
    """The type of a lambda parameter: function(T1, ..., R)."""

    params: tuple
    result: Type

    def __str__(self) -> str:
        return f"function({', '.join(map(str, self.params + (self.result,)))})"


@dataclass(frozen=True)
class Signature:
    name: str
    params: tuple
    result: Type
    variadic: bool = False  # the last parameter repeats

    def __str__(self) -> str:
        params = ", ".join(map(str, self.params)) + ("..." if self.variadic else "")
        return f"{self.name}({params})"

    def arity_ok(self, n: int) -> bool:
        if self.variadic:
            return n >= len(self.params) - 1
        return n == len(self.params)

    def param_at(self, i: int) -> Type:
        if self.variadic and i >= len(self.params) - 1:
            return self.params[-1]
        return self.params[i]


_SIG = re.compile(r"^\s*([a-z_$][a-z0-9_$]*)\s*\((.*)\)\s*->\s*(.+?)\s*$", re.I)


def parse_signature(text: str) -> Signature:
    m = _SIG.match(text)
    if not m:
        raise ValueError(f"bad signature {text!r}")
    name, params, result = m.groups()
    variadic = params.rstrip().endswith("...")
    if variadic:
        params = params.rstrip()[:-3]
    return Signature(name.lower(), tuple(_parse_param(p) for p in _split(params)), _parse_param(result), variadic)


def _split(text: str) -> list[str]:
    parts, depth, cur = [], 0, ""
    for ch in text:
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
            continue
        depth += ch == "("
        depth -= ch == ")"
        cur += ch
    if cur.strip():
        parts.append(cur)
    return [p.strip() for p in parts]


def _parse_param(text: str) -> Type:
    text = text.strip()
    if text.lower().startswith("function("):
        inner = _split(text[len("function("):-1])
        types = tuple(_parse_param(p) for p in inner)
        return FunctionType(types[:-1], types[-1])
    return parse_type(text)


class Bindings(dict):
    """Type variable -> bound type."""


def substitute(t: Type, b: dict) -> Type:
    if isinstance(t, TypeVar):
        return b.get(t.name, UNKNOWN)
    if isinstance(t, ArrayType):
        return ArrayType(substitute(t.element, b))
    if isinstance(t, TimeSeriesType):
        return TimeSeriesType(substitute(t.element, b))
    if isinstance(t, MapType):
        return MapType(substitute(t.key, b), substitute(t.value, b))
    if isinstance(t, RowType):
        return RowType(tuple((n, substitute(ft, b)) for n, ft in t.fields))
    if isinstance(t, FunctionType):
        return FunctionType(tuple(substitute(p, b) for p in t.params), substitute(t.result, b))
    return t


def _unify(param: Type, arg: Type, b: dict) -> int | None:
    """Cost of passing `arg` for `param` (0 exact, 1 per coercion), binding variables; None: no."""
    if isinstance(param, TypeVar):
        bound = b.get(param.name)
        if bound is None or bound == UNKNOWN:
            b[param.name] = arg
            return 0
        common = common_super_type(bound, arg)
        if common is None:
            return None
        b[param.name] = common
        return 0 if common == arg else 1
    if arg == UNKNOWN:
        return 1
    if isinstance(param, ArrayType):
        if not isinstance(arg, ArrayType):
            return None
        return _unify(param.element, arg.element, b)
    if isinstance(param, TimeSeriesType):
        if not isinstance(arg, TimeSeriesType):
            return None
        return _unify(param.element, arg.element, b)
    if isinstance(param, MapType):
        if not isinstance(arg, MapType):
            return None
        k = _unify(param.key, arg.key, b)
        v = _unify(param.value, arg.value, b)
        return None if k is None or v is None else k + v
    if isinstance(param, RowType) and isinstance(arg, RowType) and any(
        isinstance(ft, TypeVar) for _, ft in param.fields
    ):
        if len(param.fields) != len(arg.fields):
            return None
        cost = 0
        for (_, pf), (_, af) in zip(param.fields, arg.fields):
            c = _unify(pf, af, b)
            if c is None:
                return None
            cost += c
        return cost
    if param == arg:
        return 0
    if can_coerce(arg, param):
        return 1 + (param.name == "double" if hasattr(param, "name") else 0)
    return None


@dataclass(frozen=True)
class Resolved:
    signature: Signature
    params: tuple  # concrete parameter type per argument (lambdas: FunctionType)
    result: Type


LAMBDA = object()  # stands for a lambda argument whose type is not known yet


def resolve(signatures, arg_types: list) -> Resolved | None:
    """The best signature for these argument types (a lambda argument is a `Lambda`
    placeholder with .arity, or a FunctionType once its body is typed)."""
    best, best_cost = None, None
    for sig in signatures:
        if not sig.arity_ok(len(arg_types)):
            continue
        b = Bindings()
        cost = 0
        ok = True
        # unify plain arguments first, then lambdas (their result types bind variables)
        order = sorted(range(len(arg_types)), key=lambda i: isinstance(sig.param_at(i), FunctionType))
        for i in order:
            param, arg = sig.param_at(i), arg_types[i]
            if isinstance(param, FunctionType):
                if not isinstance(arg, (FunctionType, LambdaArity)):
                    ok = False
                    break
                if len(param.params) != arg.arity:
                    ok = False
                    break
                if isinstance(arg, FunctionType):
                    c = _unify(param.result, arg.result, b)
                    if c is None:
                        ok = False
                        break
                continue
            if isinstance(arg, (FunctionType, LambdaArity)):
                ok = False
                break
            c = _unify(param, arg, b)
            if c is None:
                ok = False
                break
            cost += c
        if not ok:
            continue
        # on equal cost the more specific signature wins: concat(varchar...) over concat(T, array(T))
        cost = (cost, _generality(sig))
        if best is None or cost < best_cost:
            params = tuple(substitute(sig.param_at(i), b) for i in range(len(arg_types)))
            best, best_cost = Resolved(sig, params, substitute(sig.result, b)), cost
    return best


def _generality(sig: Signature) -> int:
    """How many type variables a signature's parameters hold."""
    def count(t) -> int:
        if isinstance(t, TypeVar):
            return 1
        if isinstance(t, (ArrayType, TimeSeriesType)):
            return count(t.element)
        if isinstance(t, MapType):
            return count(t.key) + count(t.value)
        if isinstance(t, RowType):
            return sum(count(ft) for _, ft in t.fields)
        if isinstance(t, FunctionType):
            return sum(count(p) for p in t.params) + count(t.result)
        return 0

    return sum(count(p) for p in sig.params)


@dataclass(frozen=True)
class LambdaArity:
    """A lambda argument before its body is bound: only its parameter count is known."""

    arity: int


FunctionType.arity = property(lambda self: len(self.params))
