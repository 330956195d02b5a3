"""A plan cache keyed by the query text, so repeated queries skip parsing and binding.

A plan is reused while the catalog is unchanged (its `generation`) and only if it does
not depend on the time it was planned (`now()`, `ago()` fold into constants); for those
the parsed tree is reused and binding runs again. Metadata statements are never cached.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from .binder import Binder
from .parser import parse
from .plan import Plan
from .rules import optimize


class PlanCache:
    def __init__(self, size: int = 256):
        self.size = size
        self._trees: OrderedDict = OrderedDict()  # sql -> parsed tree
        self._plans: OrderedDict = OrderedDict()  # (sql, generation) -> plan
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def plan(self, sql: str, catalog, functions, now_ns: int, generation: int) -> Plan:
        key = (sql, generation)
        with self._lock:
            plan = self._plans.get(key)
            if plan is not None:
                self._plans.move_to_end(key)
                self.hits += 1
                return plan
            tree = self._trees.get(sql)
            self.misses += 1
        if tree is None:
            tree = parse(sql)
        binder = Binder(catalog, functions, now_ns)
        plan = optimize(binder.bind_statement(tree))
        with self._lock:
            self._put(self._trees, sql, tree)
            if binder.cacheable and not binder.uses_now:
                self._put(self._plans, key, plan)
        return plan

    def _put(self, store: OrderedDict, key, value) -> None:
        store[key] = value
        store.move_to_end(key)
        while len(store) > self.size:
            store.popitem(last=False)
