"""Read only each series' last (or first) point when that is all a query needs.

`SELECT hostname, max(time), max_by(value, time) ... GROUP BY hostname` (TSBS
lastpoint, "latest reading per device") groups by series attributes and asks only for
extremes of `time`. The extreme row of a group is the extreme row of one of its series,
so the scan may return just the latest row of every series, found by one binary
search per series instead of reading all of them. Applies to an Aggregate directly
over a Scan whose keys are dimension or measure_name columns and whose aggregates are
all max(time)/max_by(_, time) (or all min(time)/min_by(_, time)), without FILTER,
DISTINCT or ORDER BY.
"""

from __future__ import annotations

from dataclasses import replace

from ..expressions import ColumnRef
from ..plan import Aggregate, Plan, Scan, transform_up

SERIES_KINDS = ("dimension", "measure_name")
_WHICH = {"max": "last", "max_by": "last", "min": "first", "min_by": "first"}


def use_series_extremes(plan: Plan) -> Plan:
    return transform_up(plan, _rewrite)


def _rewrite(plan: Plan) -> Plan:
    if not isinstance(plan, Aggregate) or not isinstance(plan.input, Scan) or plan.grouping_sets is not None:
        return plan
    scan = plan.input
    if scan.series_rows is not None or not plan.aggregates:
        return plan
    columns = scan.columns
    for key in plan.keys:
        if not isinstance(key, ColumnRef) or columns[key.index].kind not in SERIES_KINDS:
            return plan
    which = set()
    for call in plan.aggregates:
        if call.distinct or call.filter is not None or call.order or call.function not in _WHICH:
            return plan
        time_arg = call.args[-1]
        if not isinstance(time_arg, ColumnRef) or columns[time_arg.index].kind != "time":
            return plan
        which.add(_WHICH[call.function])
    if len(which) != 1:
        return plan
    return replace(plan, input=replace(scan, series_rows=which.pop()))
