"""Overload resolution (planner/signatures.py): cheapest coercions, then the most
specific signature."""

from __future__ import annotations

from tsql.planner.signatures import parse_signature, resolve
from tsql.types import BIGINT, DOUBLE, INTEGER, UNKNOWN, VARCHAR, ArrayType

SIGS = [parse_signature(s) for s in (
    "concat(T, array(T)) -> array(T)", "concat(array(T)...) -> array(T)", "concat(varchar...) -> varchar",
    "f(bigint) -> bigint", "f(double) -> double",
)]


def pick(name, *types):
    resolved = resolve([s for s in SIGS if s.name == name], list(types))
    return None if resolved is None else resolved.result


def test_exact_match_wins():
    assert pick("f", BIGINT) == BIGINT and pick("f", DOUBLE) == DOUBLE


def test_the_cheapest_coercion_wins():
    assert pick("f", INTEGER) == BIGINT  # integer -> bigint before integer -> double


def test_an_unknown_argument_prefers_the_concrete_signature():
    assert pick("concat", VARCHAR, UNKNOWN) == VARCHAR
    assert pick("concat", VARCHAR, ArrayType(VARCHAR)) == ArrayType(VARCHAR)


def test_no_signature_fits():
    assert pick("f", VARCHAR) is None
