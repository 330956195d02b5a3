"""The planner: SQL text -> optimized logical plan.

parse (lark -> sqlglot) -> bind (names, types, catalog) -> rules (pushdown, pruning).
It sees the catalog and the function library only through planner/catalog.py.
"""

from __future__ import annotations

from .binder import Binder
from .cache import PlanCache
from .parser import parse
from .plan import Plan
from .rules import optimize


def plan_statement(sql: str, catalog, functions, now_ns: int) -> Plan:
    tree = parse(sql)
    plan = Binder(catalog, functions, now_ns).bind_statement(tree)
    return optimize(plan)


__all__ = ["parse", "plan_statement", "Binder", "optimize", "Plan", "PlanCache"]
