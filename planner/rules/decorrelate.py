"""Decorrelate subqueries that are correlated by equalities only.

`EXISTS (SELECT ... FROM u WHERE u.k = t.k AND p(u))` would run once per outer row.
When the only references to the outer query are equality conjuncts of the subquery's
WHERE (`inner expression = outer expression`), the subquery runs once instead, without
them, producing its side of each equality (and, for IN, the value; for a scalar
aggregate, the aggregate grouped by that side); the outer row then looks its side up in
that result (Subquery.keys), as a semi-join or a grouped join would. Other shapes (outer
references elsewhere, HAVING, LIMIT, nested subqueries) stay correlated and run per row.
"""

from __future__ import annotations

import dataclasses

from tsql.types import BOOLEAN

from ..expressions import Call, ColumnRef, Expr, Literal, OuterRef, Subquery, and_all, conjuncts, remap_columns
from ..plan import Aggregate, Field, Filter, Plan, Project


def decorrelate(sub: Subquery) -> Subquery:
    """An uncorrelated, keyed equivalent of a subquery, or `sub` itself."""
    if not sub.correlated:
        return sub
    if sub.kind in ("exists", "in"):
        return _membership(sub)
    if sub.kind == "scalar":
        return _scalar_aggregate(sub)
    return sub


def _membership(sub: Subquery) -> Subquery:
    """EXISTS / IN: the plan yields the inner keys (and the IN value) of its rows."""
    plan = sub.plan
    value = None
    if isinstance(plan, Project):
        if sub.kind == "in":
            value = plan.exprs[0]
        plan = plan.input
    if not isinstance(plan, Filter) or (value is not None and _has_outer(value)):
        return sub
    split = _split(plan)
    if split is None:
        return sub
    source, inner_keys, outer_keys = split
    exprs = tuple(inner_keys) + ((value,) if value is not None else ())
    return _keyed(sub, Project(source, exprs, _fields(exprs)), outer_keys)


def _scalar_aggregate(sub: Subquery) -> Subquery:
    """`(SELECT f(agg(x)) FROM u WHERE u.k = t.k ...)`: the aggregate runs once, grouped by
    the inner keys; a row whose keys have no group takes the aggregate of no rows (count
    0, others NULL), which `default` (the plan with a false WHERE) computes."""
    plan = sub.plan
    if not (isinstance(plan, Project) and isinstance(plan.input, Aggregate) and not plan.input.keys
            and plan.input.grouping_sets is None and isinstance(plan.input.input, Filter)):
        return sub
    aggregate = plan.input
    if any(_has_outer(e) for e in plan.exprs) or any(_has_outer(e) for e in aggregate.expressions()):
        return sub
    split = _split(aggregate.input)
    if split is None:
        return sub
    source, inner_keys, outer_keys = split
    k = len(inner_keys)
    grouped = Aggregate(source, tuple(inner_keys), aggregate.aggregates,
                        _fields(inner_keys) + tuple(aggregate.schema), None)
    shifted = tuple(remap_columns(e, lambda c: ColumnRef(c.index + k, c.type, c.name)) for e in plan.exprs)
    keys = tuple(ColumnRef(i, e.type) for i, e in enumerate(inner_keys))
    keyed = Project(grouped, keys + shifted, _fields(inner_keys) + tuple(plan.schema))
    empty = replace_input(plan, replace_input(aggregate, Filter(aggregate.input.input, Literal(False, BOOLEAN))))
    return dataclasses.replace(_keyed(sub, keyed, outer_keys), default=empty)


def _split(where: Filter):
    """(the Filter's input with its uncorrelated conjuncts, inner keys, outer keys), or
    None unless the only outer references are in `inner = outer` conjuncts."""
    child = where.input
    if _outer_refs(child):
        return None
    inner_keys, outer_keys, rest = [], [], []
    for c in conjuncts(where.predicate):
        pair = _key_pair(c)
        if pair is not None:
            inner_keys.append(pair[0])
            outer_keys.append(pair[1])
        elif _has_outer(c):
            return None
        else:
            rest.append(c)
    if not inner_keys:
        return None
    return (Filter(child, and_all(rest)) if rest else child), inner_keys, outer_keys


def _keyed(sub: Subquery, plan: Plan, outer_keys: list) -> Subquery:
    # the outer side in the outer query's own terms: OuterRef(1, i) is its column i
    outer = tuple(remap_columns(k, lambda r: ColumnRef(r.index, r.type, r.name), OuterRef) for k in outer_keys)
    return dataclasses.replace(sub, plan=plan, correlated=False, keys=outer)


def _fields(exprs) -> tuple:
    return tuple(Field(f"$key{i}", e.type) for i, e in enumerate(exprs))


def replace_input(plan: Plan, child: Plan) -> Plan:
    return plan.with_children((child,))


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
