"""Push filters down, into scans: time ranges and series predicates.

A Filter's conjuncts move below Projects (by substitution), Sorts, inner-join sides,
group keys and UNNEST inputs, until they reach a Scan. There, comparisons of `time`
with constants narrow the scan's [time_lo, time_hi) and conjuncts over dimensions and
measure_name become its series filter, resolved once per series instead of per row.
Both are exact, so those conjuncts leave the Filter. A disjunction whose every branch
bounds time or series (`(host = 'a' AND time > x) OR (host = 'b' AND time > y)`) also
narrows the scan to the hull of its branches, inexactly: it stays in the Filter.
"""

from __future__ import annotations

from dataclasses import replace

from tsql.types import BOOLEAN, TIMESTAMP

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
            b_lo, b_hi = _bound_range(*bound)
            if b_lo is not None:
                lo = b_lo if lo is None else max(lo, b_lo)
            if b_hi is not None:
                hi = b_hi if hi is None else min(hi, b_hi)
            continue
        refs = p.column_indexes()
        if refs and all(columns[i].kind in SERIES_KINDS for i in refs):
            series.append(_to_table_columns(scan, p))
            continue
        rest.append(p)
        hull = _disjunction_hull(p, columns)
        if hull is not None:  # inexact: p stays in the filter above the scan
            h_lo, h_hi, h_series = hull
            lo = h_lo if lo is None else (lo if h_lo is None else max(lo, h_lo))
            hi = h_hi if hi is None else (hi if h_hi is None else min(hi, h_hi))
            if h_series is not None:
                series.append(_to_table_columns(scan, h_series))
    series_filter = and_all(([scan.series_filter] if scan.series_filter is not None else []) + series)
    return replace(scan, time_lo=lo, time_hi=hi, series_filter=series_filter)


def _to_table_columns(scan: Scan, p: Expr) -> Expr:
    """Renumber a predicate from scan output positions to table column positions."""
    return remap_columns(p, lambda c: ColumnRef(scan.projection[c.index], c.type, c.name))


def _disjunction_hull(p: Expr, columns) -> tuple | None:
    """For p = b1 OR b2 OR ..., each branch a conjunction: the time range [lo, hi) and the
    series predicate that every row passing p satisfies (their hull over the branches),
    so the scan can skip the rest. None when that prunes nothing."""
    branches = _disjuncts(p)
    if len(branches) < 2:
        return None
    los, his, series = [], [], []
    for branch in branches:
        b_lo = b_hi = None
        b_series = []
        for c in conjuncts(branch):
            bound = _time_bound(c, columns)
            if bound is not None:
                c_lo, c_hi = _bound_range(*bound)
                b_lo = c_lo if b_lo is None else (b_lo if c_lo is None else max(b_lo, c_lo))
                b_hi = c_hi if b_hi is None else (b_hi if c_hi is None else min(b_hi, c_hi))
                continue
            refs = c.column_indexes()
            if refs and all(columns[i].kind in SERIES_KINDS for i in refs) and _pushable(c):
                b_series.append(c)
        los.append(b_lo)
        his.append(b_hi)
        series.append(and_all(b_series))
    lo = None if any(v is None for v in los) else min(los)
    hi = None if any(v is None for v in his) else max(his)
    either = None if any(s is None for s in series) else _or_all(series)
    if lo is None and hi is None and either is None:
        return None
    return lo, hi, either


def _disjuncts(p: Expr) -> list[Expr]:
    if isinstance(p, Call) and p.function == "$or":
        return _disjuncts(p.args[0]) + _disjuncts(p.args[1])
    return [p]


def _or_all(exprs: list[Expr]) -> Expr:
    out = exprs[0]
    for e in exprs[1:]:
        out = Call("$or", (out, e), BOOLEAN)
    return out


def _bound_range(op: str, value: int) -> tuple:
    """[lo, hi) of times satisfying `time op value` (None: unbounded)."""
    lo = value + (1 if op == "$gt" else 0) if op in ("$ge", "$gt", "$eq") else None
    hi = value + (0 if op == "$lt" else 1) if op in ("$le", "$lt", "$eq") else None
    return lo, hi


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
