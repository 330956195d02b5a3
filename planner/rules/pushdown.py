"""Push filters down, into scans: time ranges and series predicates.

A Filter's conjuncts move below Projects (by substitution), Sorts, inner-join sides,
group keys and UNNEST inputs, until they reach a Scan. There, comparisons of `time`
with constants narrow the scan's [time_lo, time_hi) and conjuncts over dimensions and
measure_name become its series filter, resolved once per series instead of per row.
Both are exact, so those conjuncts leave the Filter.
"""

from __future__ import annotations

from dataclasses import replace

from tsql.types import TIMESTAMP

from ..expressions import Call, ColumnRef, Expr, Literal, Subquery, and_all, conjuncts, remap_columns
from ..plan import Aggregate, Filter, Join, Limit, Plan, Project, Scan, Sort, Unnest, Window

SERIES_KINDS = ("dimension", "measure_name")
_FLIP = {"$lt": "$gt", "$le": "$ge", "$gt": "$lt", "$ge": "$le", "$eq": "$eq"}


def push_down_filters(plan: Plan) -> Plan:
    children = tuple(push_down_filters(c) for c in plan.children())
    if any(a is not b for a, b in zip(children, plan.children())):
        plan = plan.with_children(children)
    if isinstance(plan, Filter):
        return push_filter(plan.input, conjuncts(plan.predicate))
    return plan


def _pushable(e: Expr) -> bool:
    return all(not isinstance(x, Subquery) and not (isinstance(x, Call) and not x.deterministic) for x in e.walk())


def _wrap(plan: Plan, preds: list[Expr]) -> Plan:
    predicate = and_all(preds)
    return Filter(plan, predicate) if predicate is not None else plan


def push_filter(plan: Plan, preds: list[Expr]) -> Plan:
    """`plan` filtered by the conjuncts `preds`, with as many as possible pushed inside."""
    if not preds:
        return plan
    keep = [p for p in preds if not _pushable(p)]
    preds = [p for p in preds if _pushable(p)]
    if isinstance(plan, Scan):
        return _wrap(_into_scan(plan, preds, keep), keep)
    if isinstance(plan, Filter):
        return push_filter(plan.input, conjuncts(plan.predicate) + preds + keep)
    if isinstance(plan, Project):
        exprs = plan.exprs
        below = [remap_columns(p, lambda c: exprs[c.index]) for p in preds]
        if all(_pushable(b) for b in below):
            return _wrap(replace(plan, input=push_filter(plan.input, below)), keep)
    if isinstance(plan, Sort) and plan.limit is None:
        return _wrap(replace(plan, input=push_filter(plan.input, preds)), keep)
    if isinstance(plan, Join) and plan.kind in ("inner", "cross", "left"):
        n_left = len(plan.left.schema)
        left, right, stay = [], [], []
        for p in preds:
            refs = p.column_indexes()
            if refs and max(refs) < n_left:
                left.append(p)
            elif refs and min(refs) >= n_left and plan.kind != "left":
                right.append(remap_columns(p, lambda c: ColumnRef(c.index - n_left, c.type, c.name)))
            else:
                stay.append(p)
        new_left = push_filter(plan.left, left)
        new_right = push_filter(plan.right, right)
        if plan.kind in ("inner", "cross") and stay:
            condition = and_all(([plan.condition] if plan.condition is not None else []) + stay)
            return _wrap(replace(plan, left=new_left, right=new_right, kind="inner", condition=condition), keep)
        return _wrap(replace(plan, left=new_left, right=new_right), stay + keep)
    if isinstance(plan, Aggregate) and plan.grouping_sets is None:
        nkeys = len(plan.keys)
        below, stay = [], []
        for p in preds:
            refs = p.column_indexes()
            if refs and max(refs) < nkeys:
                below.append(remap_columns(p, lambda c: plan.keys[c.index]))
            else:
                stay.append(p)
        if below:
            return _wrap(replace(plan, input=push_filter(plan.input, below)), stay + keep)
    if isinstance(plan, Unnest):
        n_in = len(plan.input.schema)
        below = [p for p in preds if p.column_indexes() and max(p.column_indexes()) < n_in]
        if below:
            stay = [p for p in preds if p not in below]
            return _wrap(replace(plan, input=push_filter(plan.input, below)), stay + keep)
    if isinstance(plan, Window):
        pass  # a filter changes window results unless it is on partition keys only
    if isinstance(plan, Limit):
        pass
    return _wrap(plan, preds + keep)


def _into_scan(scan: Scan, preds: list[Expr], rest: list[Expr]) -> Scan:
    """Absorb time and series conjuncts into the scan; others are appended to `rest`."""
    columns = scan.columns
    lo, hi = scan.time_lo, scan.time_hi
    series = []
    for p in preds:
        bound = _time_bound(p, columns)
        if bound is not None:
            op, value = bound
            if op in ("$ge", "$gt", "$eq"):
                v = value + (1 if op == "$gt" else 0)
                lo = v if lo is None else max(lo, v)
            if op in ("$le", "$lt", "$eq"):
                v = value + (0 if op == "$lt" else 1)
                hi = v if hi is None else min(hi, v)
            continue
        refs = p.column_indexes()
        if refs and all(columns[i].kind in SERIES_KINDS for i in refs):
            # renumber from scan output positions to table column positions
            series.append(remap_columns(p, lambda c: ColumnRef(scan.projection[c.index], c.type, c.name)))
            continue
        rest.append(p)
    series_filter = and_all(([scan.series_filter] if scan.series_filter is not None else []) + series)
    return replace(scan, time_lo=lo, time_hi=hi, series_filter=series_filter)


def _time_bound(p: Expr, columns) -> tuple[str, int] | None:
    """(op, ns) when p compares the scan's time column with a constant timestamp."""
    if not isinstance(p, Call) or p.function not in _FLIP or len(p.args) != 2:
        return None
    a, b = p.args
    op = p.function
    if isinstance(b, ColumnRef) and isinstance(a, Literal):
        a, b, op = b, a, _FLIP[op]
    if (
        isinstance(a, ColumnRef)
        and columns[a.index].kind == "time"
        and isinstance(b, Literal)
        and b.type == TIMESTAMP
        and b.value is not None
    ):
        return op, int(b.value)
    return None
