"""Prune columns: every node produces only what the nodes above it read.

`prune(plan, required)` returns a plan whose schema keeps the `required` positions of
the original (in order) and a map old position -> new position, so the parent can
renumber its expressions. Scans end up reading only the columns a query touches.
"""

from __future__ import annotations

from dataclasses import replace

from ..expressions import ColumnRef, Expr, remap_columns
from ..plan import (
    Aggregate, Explain, Filter, Join, Limit, Plan, Project, Scan, SetOp, Sort, Unnest, Values, Window,
)


def prune_columns(plan: Plan) -> Plan:
    new, _ = prune(plan, None)
    return new


def _refs(exprs) -> set[int]:
    out: set[int] = set()
    for e in exprs:
        if e is not None:
            out |= e.column_indexes()
    return out


def _renumber(e: Expr, mapping: dict) -> Expr:
    return remap_columns(e, lambda c: ColumnRef(mapping[c.index], c.type, c.name))


def _identity(plan: Plan) -> dict:
    return {i: i for i in range(len(plan.schema))}


def prune(plan: Plan, required: set[int] | None) -> tuple[Plan, dict]:
    width = len(plan.schema)
    if required is None:
        required = set(range(width))
    if any(s.correlated for s in plan.subqueries()):
        # a subquery run per row reads the input row by position (OuterRef): keep it whole
        children = tuple(prune(c, None)[0] for c in plan.children())
        return (plan.with_children(children) if children else plan), _identity(plan)

    if isinstance(plan, Scan):
        keep = sorted(required)
        if not keep:  # count(*) and friends still need rows: read the cheapest column
            time_pos = [i for i, c in enumerate(plan.columns) if c.kind == "time"]
            keep = time_pos[:1] or [0]
        projection = tuple(plan.projection[i] for i in keep)
        return replace(plan, projection=projection), {old: new for new, old in enumerate(keep)}

    if isinstance(plan, Filter):
        child, m = prune(plan.input, required | plan.predicate.column_indexes())
        new = Filter(child, _renumber(plan.predicate, m))
        return new, m

    if isinstance(plan, Project):
        keep = sorted(required)
        exprs = [plan.exprs[i] for i in keep]
        child, m = prune(plan.input, _refs(exprs))
        new = Project(child, tuple(_renumber(e, m) for e in exprs), tuple(plan.schema[i] for i in keep))
        return new, {old: new_i for new_i, old in enumerate(keep)}

    if isinstance(plan, Aggregate):
        nkeys = len(plan.keys)
        keep_aggs = [i for i in range(len(plan.aggregates)) if nkeys + i in required and nkeys + i < len(plan.schema)]
        aggs = [plan.aggregates[i] for i in keep_aggs]
        needed = _refs(plan.keys)
        for a in aggs:
            needed |= _refs(a.args) | _refs([a.filter]) | _refs([k.expr for k in a.order])
        child, m = prune(plan.input, needed)
        keys = tuple(_renumber(k, m) for k in plan.keys)
        new_aggs = tuple(
            replace(
                a,
                args=tuple(_renumber(x, m) for x in a.args),
                filter=_renumber(a.filter, m) if a.filter is not None else None,
                order=tuple(replace(k, expr=_renumber(k.expr, m)) for k in a.order),
            )
            for a in aggs
        )
        schema = plan.schema[:nkeys] + tuple(plan.schema[nkeys + i] for i in keep_aggs)
        mapping = {i: i for i in range(nkeys)}
        mapping.update({nkeys + old: nkeys + new for new, old in enumerate(keep_aggs)})
        if plan.grouping_sets is not None:  # the set index column stays last
            schema += plan.schema[-1:]
            mapping[len(plan.schema) - 1] = len(schema) - 1
        return replace(plan, input=child, keys=keys, aggregates=new_aggs, schema=schema), mapping

    if isinstance(plan, Sort):
        child, m = prune(plan.input, required | _refs(k.expr for k in plan.keys))
        keys = tuple(replace(k, expr=_renumber(k.expr, m)) for k in plan.keys)
        return replace(plan, input=child, keys=keys), m

    if isinstance(plan, Limit):
        child, m = prune(plan.input, required)
        return replace(plan, input=child), m

    if isinstance(plan, Window):
        n_in = len(plan.input.schema)
        keep_fns = [i for i in range(len(plan.functions)) if n_in + i in required]
        fns = [plan.functions[i] for i in keep_fns]
        needed = {i for i in required if i < n_in}
        for f in fns:
            needed |= _refs(f.args) | _refs(f.partition) | _refs(k.expr for k in f.order)
            if f.frame is not None:
                needed |= _refs([b[1] for b in (f.frame.start, f.frame.end)])
        child, m = prune(plan.input, needed)
        new_fns = tuple(
            replace(
                f,
                args=tuple(_renumber(a, m) for a in f.args),
                partition=tuple(_renumber(p, m) for p in f.partition),
                order=tuple(replace(k, expr=_renumber(k.expr, m)) for k in f.order),
            )
            for f in fns
        )
        n_new = len(child.schema)
        schema = child.schema + tuple(plan.schema[n_in + i] for i in keep_fns)
        mapping = dict(m)
        mapping.update({n_in + old: n_new + new for new, old in enumerate(keep_fns)})
        return replace(plan, input=child, functions=new_fns, schema=schema), mapping

    if isinstance(plan, Join):
        n_left = len(plan.left.schema)
        cond = plan.condition.column_indexes() if plan.condition is not None else set()
        need = required | cond
        left, ml = prune(plan.left, {i for i in need if i < n_left})
        right, mr = prune(plan.right, {i - n_left for i in need if i >= n_left})
        n_new_left = len(left.schema)
        mapping = {old: new for old, new in ml.items()}
        mapping.update({n_left + old: n_new_left + new for old, new in mr.items()})
        condition = _renumber(plan.condition, mapping) if plan.condition is not None else None
        schema = left.schema + right.schema
        return replace(plan, left=left, right=right, condition=condition, schema=schema), mapping

    if isinstance(plan, Unnest):
        n_in = len(plan.input.schema)
        needed = {i for i in required if i < n_in} | _refs(plan.exprs)
        child, m = prune(plan.input, needed)
        n_new = len(child.schema)
        exprs = tuple(_renumber(e, m) for e in plan.exprs)
        schema = child.schema + plan.schema[n_in:]
        mapping = dict(m)
        mapping.update({n_in + j: n_new + j for j in range(width - n_in)})
        return replace(plan, input=child, exprs=exprs, schema=schema), mapping

    if isinstance(plan, SetOp):
        left, _ = prune(plan.left, None)
        right, _ = prune(plan.right, None)
        return replace(plan, left=left, right=right), _identity(plan)

    if isinstance(plan, Explain):
        child, _ = prune(plan.input, None)
        return replace(plan, input=child), {}

    if isinstance(plan, Values):
        return plan, _identity(plan)

    raise TypeError(f"prune: unknown plan node {type(plan).__name__}")
