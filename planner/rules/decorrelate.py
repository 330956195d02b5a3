"""Decorrelate EXISTS and IN subqueries that are correlated by equalities only.

`EXISTS (SELECT ... FROM u WHERE u.k = t.k AND p(u))` would run once per outer row.
When the only references to the outer query are equality conjuncts of the subquery's
WHERE (`inner expression = outer expression`), the subquery runs once instead, without
them, producing its side of each equality (and, for IN, the value); the outer row then
looks its side up in that result (Subquery.keys), as a semi-join would. Other shapes
(outer references elsewhere, aggregates or LIMIT above the WHERE, nested subqueries)
stay correlated and run per row.
"""

from __future__ import annotations

import dataclasses

from ..expressions import Call, ColumnRef, Expr, OuterRef, Subquery, and_all, conjuncts, remap_columns
from ..plan import Field, Filter, Plan, Project


def decorrelate(sub: Subquery) -> Subquery:
    """An uncorrelated, keyed equivalent of an EXISTS or IN subquery, or `sub` itself."""
    if not sub.correlated or sub.kind not in ("exists", "in"):
        return sub
    plan = sub.plan
    value = None
    if isinstance(plan, Project):
        if sub.kind == "in":
            value = plan.exprs[0]
        plan = plan.input
    if not isinstance(plan, Filter):
        return sub
    child = plan.input
    if _outer_refs(child) or (value is not None and _has_outer(value)):
        return sub
    inner_keys, outer_keys, rest = [], [], []
    for c in conjuncts(plan.predicate):
        pair = _key_pair(c)
        if pair is not None:
            inner_keys.append(pair[0])
            outer_keys.append(pair[1])
        elif _has_outer(c):
            return sub
        else:
            rest.append(c)
    if not inner_keys:
        return sub
    source = Filter(child, and_all(rest)) if rest else child
    exprs = tuple(inner_keys) + ((value,) if value is not None else ())
    schema = tuple(Field(f"$key{i}", e.type) for i, e in enumerate(exprs))
    # the outer side in the outer query's own terms: OuterRef(1, i) is its column i
    outer = tuple(remap_columns(k, lambda r: ColumnRef(r.index, r.type, r.name), OuterRef) for k in outer_keys)
    return dataclasses.replace(sub, plan=Project(source, exprs, schema), correlated=False, keys=outer)


def _key_pair(c: Expr):
    """(inner side, outer side) of `inner = outer` with each side purely one scope's."""
    if not (isinstance(c, Call) and c.function == "$eq"):
        return None
    a, b = c.args
    for inner, outer in ((a, b), (b, a)):
        if _pure_inner(inner) and _pure_outer(outer):
            return inner, outer
    return None


def _pure_inner(e: Expr) -> bool:
    return not _has_outer(e) and any(isinstance(x, ColumnRef) for x in e.walk()) and \
        not any(isinstance(x, Subquery) for x in e.walk())


def _pure_outer(e: Expr) -> bool:
    refs = [x for x in e.walk() if isinstance(x, OuterRef)]
    return bool(refs) and all(r.depth == 1 for r in refs) and not any(
        isinstance(x, (ColumnRef, Subquery)) for x in e.walk())


def _has_outer(e: Expr) -> bool:
    return any(isinstance(x, (OuterRef, Subquery)) for x in e.walk())


def _outer_refs(plan: Plan) -> bool:
    """Whether any expression of the plan (or a subquery in it) reaches outside it."""
    for node in _nodes(plan):
        for e in node.expressions():
            if any(isinstance(x, (OuterRef, Subquery)) for x in e.walk()):
                return True
    return False


def _nodes(plan: Plan):
    yield plan
    for c in plan.children():
        yield from _nodes(c)
