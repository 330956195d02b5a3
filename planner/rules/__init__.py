"""Plan rewrite rules, each `plan -> plan`, applied in order by `optimize`."""

from __future__ import annotations

from ..plan import Plan
from .prune import prune_columns
from .pushdown import push_down_filters
from .series_extremes import use_series_extremes

RULES = (push_down_filters, prune_columns, use_series_extremes)


def optimize(plan: Plan) -> Plan:
    for rule in RULES:
        plan = rule(plan)
    return plan
