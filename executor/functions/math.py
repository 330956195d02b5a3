"""Mathematical functions, as numpy ufuncs over whole columns."""

from __future__ import annotations

import numpy as np

from ..column import Vector, as_vector
from .registry import REGISTRY, fail

NUM = ("integer", "bigint", "double")


@REGISTRY.elementwise(*(f"abs({t}) -> {t}" for t in NUM))
def abs_(x):
    return np.abs(x)


@REGISTRY.elementwise(*(f"sign({t}) -> {t}" for t in NUM))
def sign(x):
    return np.sign(x)


def _unary_double(name, fn, *aliases):
    REGISTRY.elementwise(f"{name}(double) -> double", aliases=aliases)(fn)


_unary_double("sqrt", np.sqrt)
_unary_double("cbrt", np.cbrt)
_unary_double("exp", np.exp)
_unary_double("ln", np.log)
_unary_double("log2", np.log2)
_unary_double("log10", np.log10)
_unary_double("sin", np.sin)
_unary_double("cos", np.cos)
_unary_double("tan", np.tan)
_unary_double("asin", np.arcsin)
_unary_double("acos", np.arccos)
_unary_double("atan", np.arctan)
_unary_double("sinh", np.sinh)
_unary_double("cosh", np.cosh)
_unary_double("tanh", np.tanh)
_unary_double("degrees", np.degrees)
_unary_double("radians", np.radians)


@REGISTRY.elementwise("atan2(double, double) -> double")
def atan2(y, x):
    return np.arctan2(y, x)


@REGISTRY.elementwise("power(double, double) -> double", aliases=("pow",))
def power(x, y):
    return np.power(x, y)


@REGISTRY.elementwise("log(double, double) -> double")
def log(base, x):
    return np.log(x) / np.log(base)


@REGISTRY.elementwise(*(f"mod({t}, {t}) -> {t}" for t in NUM))
def mod(a, b):
    if a.dtype.kind in "iu" and np.any(b == 0):
        fail("Division by zero")
    return np.fmod(a, b)


@REGISTRY.elementwise("floor(double) -> double", "floor(bigint) -> bigint", "floor(integer) -> integer")
def floor(x):
    return np.floor(x) if x.dtype.kind == "f" else x


@REGISTRY.elementwise("ceil(double) -> double", "ceil(bigint) -> bigint", "ceil(integer) -> integer",
                      aliases=("ceiling",))
def ceil(x):
    return np.ceil(x) if x.dtype.kind == "f" else x


@REGISTRY.elementwise("truncate(double) -> double")
def truncate(x):
    return np.trunc(x)


def _round_half_up(x: np.ndarray, digits) -> np.ndarray:
    """Round half away from zero, as Presto does (numpy rounds half to even)."""
    scale = np.power(10.0, digits)
    scaled = np.abs(x) * scale
    out = np.sign(x) * np.floor(scaled + 0.5) / scale
    # values too large to scale safely keep their value
    return np.where(np.isfinite(scaled), out, x)


@REGISTRY.elementwise("round(double) -> double", "round(double, integer) -> double",
                      "round(bigint) -> bigint", "round(integer) -> integer",
                      "round(bigint, integer) -> bigint", "round(integer, integer) -> integer")
def round_(x, digits=None):
    if digits is None:
        digits = np.zeros(1, dtype=np.int64)
    if x.dtype.kind in "iu":
        if np.all(digits >= 0):
            return x
        scale = np.power(10, -digits.astype(np.int64))
        return (np.sign(x) * ((np.abs(x) + scale // 2) // scale) * scale).astype(np.int64)
    return _round_half_up(x, digits.astype(np.float64))


@REGISTRY.elementwise("e() -> double")
def e():
    return np.array([np.e])


@REGISTRY.elementwise("pi() -> double")
def pi():
    return np.array([np.pi])


@REGISTRY.elementwise("nan() -> double")
def nan():
    return np.array([np.nan])


@REGISTRY.elementwise("infinity() -> double")
def infinity():
    return np.array([np.inf])


@REGISTRY.elementwise("is_nan(double) -> boolean")
def is_nan(x):
    return np.isnan(x)


@REGISTRY.elementwise("is_finite(double) -> boolean")
def is_finite(x):
    return np.isfinite(x)


@REGISTRY.elementwise("is_infinite(double) -> boolean")
def is_infinite(x):
    return np.isinf(x)


@REGISTRY.elementwise(*(f"greatest({t}...) -> {t}" for t in NUM + ("varchar", "timestamp", "date")))
def greatest(*xs):
    out = xs[0]
    for x in xs[1:]:
        out = np.where(x > out, x, out) if out.dtype == object else np.maximum(out, x)
    return out


@REGISTRY.elementwise(*(f"least({t}...) -> {t}" for t in NUM + ("varchar", "timestamp", "date")))
def least(*xs):
    out = xs[0]
    for x in xs[1:]:
        out = np.where(x < out, x, out) if out.dtype == object else np.minimum(out, x)
    return out


# --- bases ------------------------------------------------------------------------------------

_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


def _check_radix(radix) -> None:
    if np.any((radix < 2) | (radix > 36)):
        fail("Radix must be between 2 and 36")


@REGISTRY.elementwise("from_base(varchar, bigint) -> bigint")
def from_base(s, radix):
    _check_radix(radix)
    n = max(len(s), len(radix))
    s, radix = np.broadcast_to(s, (n,)), np.broadcast_to(radix, (n,))
    out = np.empty(n, dtype=np.int64)
    for i in range(n):  # a rare, text-parsing function: one int() per value
        try:
            value = int(s[i], int(radix[i]))
        except ValueError:
            fail(f"Not a valid base-{radix[i]} number: {s[i]}")
        if not -(2**63) <= value < 2**63 or s[i].strip() != s[i] or "_" in s[i]:
            fail(f"Not a valid base-{radix[i]} number: {s[i]}")
        out[i] = value
    return out


@REGISTRY.elementwise("to_base(bigint, bigint) -> varchar")
def to_base(x, radix):
    _check_radix(radix)
    n = max(len(x), len(radix))
    x, radix = np.broadcast_to(x, (n,)), np.broadcast_to(radix, (n,))
    out = np.empty(n, dtype=object)
    for i in range(n):  # one conversion per value
        value, base = int(x[i]), int(radix[i])
        digits = []
        rest = abs(value)
        while True:
            rest, d = divmod(rest, base)
            digits.append(_DIGITS[d])
            if rest == 0:
                break
        out[i] = ("-" if value < 0 else "") + "".join(reversed(digits))
    return out


# --- random numbers (not folded: a new value per row) ------------------------------------------

@REGISTRY.scalar("rand() -> double", deterministic=False)
def rand(args, out_type, ctx):
    n = getattr(ctx, "batch_rows", 1)
    return Vector(out_type, np.random.default_rng().random(n))


REGISTRY.scalar("random() -> double", deterministic=False)(rand)


@REGISTRY.scalar("random(integer) -> integer", "random(bigint) -> bigint", "rand(integer) -> integer",
                 "rand(bigint) -> bigint", deterministic=False)
def random_below(args, out_type, ctx):
    bound = as_vector(args[0])
    if np.any(bound.values[bound.valid_mask()] <= 0):
        fail("bound must be positive")
    high = np.where(bound.valid_mask(), bound.values, 1)
    return Vector(out_type, np.random.default_rng().integers(0, high), bound.nulls)
