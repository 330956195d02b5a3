"""The binder: a sqlglot tree -> a logical plan with typed, resolved expressions.

It resolves table and column names against the catalog, function names and argument
types against the function catalog (inserting coercions), evaluates `now()` and `ago()`
once per query, folds constants, and shapes SELECT into
Scan/Join -> Filter -> Aggregate -> Filter(HAVING) -> Window -> Project -> Sort -> Limit.
Errors name the thing and its position, as Timestream's (Presto's) do.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field, replace

from sqlglot import exp

from tsql.errors import QueryExecutionError, ValidationError
from tsql.types import (
    BIGINT, BOOLEAN, DATE, DOUBLE, INTEGER, INTERVAL_DAY_TO_SECOND, INTERVAL_YEAR_TO_MONTH, TIME, TIMESTAMP,
    UNKNOWN, VARCHAR, ArrayType, MapType, RowType, TimeSeriesType, Type, common_super_type, is_comparable,
    is_orderable, parse_type,
)

from . import ast as tsast
from .ast import position, to_sql
from .catalog import CatalogView, FunctionCatalog
from .expressions import (
    AggregateCall, Call, Case, Cast, Coalesce, ColumnRef, Expr, Lambda, LambdaVar, Literal, OuterRef, SortKey,
    Subquery, Try, WindowCall, WindowFrame, and_all,
)
from .plan import (
    Aggregate, Explain, Field, Filter, Join, Limit, Plan, Project, Scan, SetOp, Sort, TableRef, Unnest, Values,
    Window,
)
from .rules import optimize
from .rules.decorrelate import decorrelate
from .signatures import FunctionType, LambdaArity, resolve

NS = {"ns": 1, "nanosecond": 1, "us": 10**3, "microsecond": 10**3, "ms": 10**6, "millisecond": 10**6,
      "s": 10**9, "second": 10**9, "m": 60 * 10**9, "minute": 60 * 10**9, "h": 3600 * 10**9,
      "hour": 3600 * 10**9, "d": 86400 * 10**9, "day": 86400 * 10**9}
MONTHS = {"y": 12, "year": 12, "month": 1}
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)([a-z]+)$")

ARITHMETIC = {exp.Add: "$add", exp.Sub: "$subtract", exp.Mul: "$multiply", exp.Div: "$divide", exp.Mod: "$modulus"}
COMPARISON = {exp.EQ: "$eq", exp.NEQ: "$ne", exp.LT: "$lt", exp.LTE: "$le", exp.GT: "$gt", exp.GTE: "$ge"}
OPERATOR_TEXT = {"$add": "+", "$subtract": "-", "$multiply": "*", "$divide": "/", "$modulus": "%",
                 "$eq": "=", "$ne": "<>", "$lt": "<", "$le": "<=", "$gt": ">", "$ge": ">=",
                 "$negate": "-", "$concat": "||", "$like": "LIKE", "$subscript": "[]"}
RANKING = {"row_number", "rank", "dense_rank", "percent_rank", "cume_dist", "ntile"}
EXTRACT_FIELDS = {
    "YEAR": "year", "QUARTER": "quarter", "MONTH": "month", "WEEK": "week", "DAY": "day",
    "DAY_OF_MONTH": "day", "DAY_OF_WEEK": "day_of_week", "DOW": "day_of_week", "DAY_OF_YEAR": "day_of_year",
    "DOY": "day_of_year", "YEAR_OF_WEEK": "year_of_week", "YOW": "year_of_week", "HOUR": "hour",
    "MINUTE": "minute", "SECOND": "second", "MILLISECOND": "millisecond", "NANOSECOND": "nanosecond",
    "TIMEZONE_HOUR": "timezone_hour", "TIMEZONE_MINUTE": "timezone_minute",
}


def error(message: str, node: exp.Expression | None = None) -> ValidationError:
    line, column = position(node) if node is not None else (None, None)
    return ValidationError(message, line, column)


def parse_duration_text(text: str, node=None) -> tuple[int, Type]:
    """`15m` -> (ns, interval day to second); `2y` -> (months, interval year to month)."""
    m = _DURATION.match(text.strip().lower())
    if not m:
        raise error(f"Invalid duration literal '{text}'", node)
    number, unit = m.groups()
    if unit in NS:
        return round(float(number) * NS[unit]), INTERVAL_DAY_TO_SECOND
    if unit in MONTHS and "." not in number:
        return int(number) * MONTHS[unit], INTERVAL_YEAR_TO_MONTH
    raise error(f"Invalid duration literal '{text}'", node)


# The names tsql gives unnamed columns (VALUES, UNNEST, unaliased expressions); Presto's
# fields have no name there, so `*` names them by their position in the new select list.
_ANONYMOUS = re.compile(r"_col\d+")


def column_name(node: exp.Expression, i: int) -> str:
    if isinstance(node, exp.Alias):
        return node.alias
    if isinstance(node, exp.Column) and not isinstance(node.this, exp.Star):
        if node.meta.get("star") and _ANONYMOUS.fullmatch(node.name):
            return f"_col{i}"  # an unnamed column stays unnamed: named by its new position
        return node.name
    if isinstance(node, exp.Dot):  # a row's field: named after it
        return node.expression.name
    return f"_col{i}"


# --- scopes -------------------------------------------------------------------------------

@dataclass
class Scope:
    """The columns an expression may reference: one Field per input column, in order."""

    fields: list
    outer: "Scope | None" = None

    def lookup(self, name: str, qualifier: str | None, node) -> int | None:
        def matches(f: Field, exact: bool) -> bool:
            if f.hidden and f.name.startswith("$"):
                return False
            if qualifier is not None and (f.qualifier is None or (
                f.qualifier != qualifier if exact else f.qualifier.lower() != qualifier.lower())):
                return False
            return f.name == name if exact else f.name.lower() == name.lower()

        for exact in (True, False):
            hits = [i for i, f in enumerate(self.fields) if matches(f, exact)]
            if len(hits) > 1 and qualifier is None:
                # after JOIN ... USING, a bare name means the joined column, not the hidden originals
                visible = [i for i in hits if not self.fields[i].hidden]
                if len(visible) == 1:
                    return visible[0]
            if len(hits) == 1:
                return hits[0]
            if len(hits) > 1:
                if len({self.fields[i].qualifier for i in hits}) == 1 and qualifier is None and exact:
                    # the same name twice in one relation (e.g. USING) resolves to the first
                    return hits[0]
                raise error(f"Column '{name}' is ambiguous", node)
        return None

    def has_qualifier(self, qualifier: str) -> bool:
        return any(f.qualifier is not None and f.qualifier.lower() == qualifier.lower() for f in self.fields)


@dataclass
class Context:
    """Where an expression is bound: its scope and what it may contain."""

    scope: Scope
    hook: object = None  # node -> Expr | None: resolves aggregates/group keys/windows first
    lambdas: dict = field(default_factory=dict)  # name -> LambdaVar
    clause: str = "SELECT"
    allow_aggregates: bool = False
    ctes: dict = field(default_factory=dict)
    correlated: list = field(default_factory=list)  # set when an OuterRef is made


class Binder:
    def __init__(self, catalog: CatalogView, functions: FunctionCatalog, now_ns: int):
        self.catalog = catalog
        self.functions = functions
        self._now_ns = now_ns
        self.uses_now = False  # the plan depends on the time it was made (now(), ago(), ...)
        self.cacheable = True  # metadata statements read the catalog while planning
        self._subquery_ids = itertools.count(1)

    @property
    def now_ns(self) -> int:
        self.uses_now = True
        return self._now_ns

    # --- statements ---------------------------------------------------------------------------

    def bind_statement(self, node: exp.Expression) -> Plan:
        if isinstance(node, tsast.Explain):
            return Explain(self.bind_statement(node.this), bool(node.args.get("analyze")))
        if isinstance(node, (tsast.Show, tsast.Describe)):
            self.cacheable = False
            return self.bind_show(node) if isinstance(node, tsast.Show) else self.bind_describe(node)
        return self.bind_query(node, None, {})

    def _metadata(self, names, types, rows, like=None, like_column=0) -> Plan:
        if like is not None:
            pattern = _like_regex(like.this)
            rows = [r for r in rows if pattern.match(r[like_column])]
        schema = tuple(Field(n, t) for n, t in zip(names, types))
        return Values(tuple(tuple(Literal(v, t) for v, t in zip(r, types)) for r in rows), schema)

    def bind_show(self, node: tsast.Show) -> Plan:
        kind, like = node.args["kind"], node.args.get("like")
        if kind == "DATABASES":
            rows = [(d,) for d in sorted(self.catalog.list_databases())]
            return self._metadata(["Database"], [VARCHAR], rows, like)
        if kind == "TABLES":
            db = node.this.name if node.this is not None else None
            if db is None:  # the tables of every database
                rows = sorted((t,) for d in self.catalog.list_databases() for t in self.catalog.list_tables(d))
                return self._metadata(["Table"], [VARCHAR], rows, like)
            if not self.catalog.has_database(db):
                raise error(f"Database '{db}' does not exist", node.this)
            rows = [(t,) for t in sorted(self.catalog.list_tables(db))]
            return self._metadata(["Table"], [VARCHAR], rows, like)
        db, table = self._table_name(node.this)
        dims_type = ArrayType(RowType((("dimension_name", VARCHAR), ("data_type", VARCHAR))))
        rows = [(m, t, [tuple(d) for d in dims]) for m, t, dims in self.catalog.list_measures(db, table)]
        return self._metadata(["measure_name", "data_type", "dimensions"], [VARCHAR, VARCHAR, dims_type], rows, like)

    def bind_describe(self, node: tsast.Describe) -> Plan:
        db, table = self._table_name(node.this)
        rows = []
        columns = self.catalog.table_columns(db, table)
        for c in (columns[i] for i in _column_order(columns)):
            attr = {"dimension": "DIMENSION", "measure_name": "MEASURE_NAME", "time": "TIMESTAMP",
                    "measure_value": "MEASURE_VALUE", "multi": "MULTI"}[c.kind]
            rows.append((c.name, str(c.type), attr))
        return self._metadata(["Column", "Type", "Timestream attribute type"], [VARCHAR] * 3, rows)

    def _table_name(self, table: exp.Table) -> tuple[str, str]:
        db_ident = table.args.get("db")
        name = table.name
        if db_ident is None:
            raise error(f"Table '{name}' must be qualified with its database: \"db\".\"{name}\"", table)
        db = db_ident.name
        if not self.catalog.has_database(db):
            # Timestream's own wording, with the position at the end
            line, column = position(table)
            e = ValidationError(f"Requested database '{db}' not found for identifier '{db}.{name}' at line {line}:{column}")
            e.line, e.column = line, column
            raise e
        resolved = self.catalog.resolve_table(db, name)
        if resolved is None:
            raise error(f"Table '{db}.{name}' does not exist", table)
        return resolved

    # --- queries ------------------------------------------------------------------------------

    def bind_query(self, node: exp.Expression, outer: Scope | None, ctes: dict, correlated=None) -> Plan:
        ctes = dict(ctes)
        with_ = node.args.get("with_")
        if with_ is not None:
            for cte in with_.expressions:
                name = cte.alias
                plan = self.bind_query(cte.this, outer, ctes, correlated)
                columns = cte.args["alias"].columns if cte.args.get("alias") else None
                ctes[name] = _rename(plan, [c.name for c in columns] if columns else None, name, cte)
        if isinstance(node, exp.Select):
            return self.bind_select(node, outer, ctes, correlated)
        if isinstance(node, exp.Subquery):
            plan = self.bind_query(node.this, outer, ctes, correlated)
        elif isinstance(node, exp.Values):
            plan = self.bind_values(node)
        elif isinstance(node, (exp.Union, exp.Intersect, exp.Except)):
            plan = self.bind_set_op(node, outer, ctes, correlated)
        else:
            raise error(f"Unsupported statement: {to_sql(node)[:60]}", node)
        return self._order_limit_on_output(node, plan)

    def _order_limit_on_output(self, node, plan: Plan) -> Plan:
        """ORDER BY / LIMIT on a set operation or parenthesised query: output columns only."""
        order = node.args.get("order")
        if order is not None:
            scope = Scope([replace(f, qualifier=None) for f in plan.schema])
            keys = []
            for item in order.expressions:
                expr = item.this
                if isinstance(expr, exp.Literal) and not expr.is_string:
                    keys.append(self._sort_key(self._ordinal_ref(expr, plan.schema), item))
                    continue
                keys.append(self._sort_key(self.bind_expr(expr, Context(scope, clause="ORDER BY")), item))
            plan = Sort(plan, tuple(keys))
        return self._limit(node, plan)

    def _ordinal_ref(self, literal: exp.Literal, schema) -> ColumnRef:
        k = int(literal.this)
        if not 1 <= k <= len([f for f in schema if not f.hidden]):
            raise error(f"ORDER BY position {k} is not in select list", literal)
        return ColumnRef(k - 1, schema[k - 1].type, schema[k - 1].name)

    def _limit(self, node, plan: Plan) -> Plan:
        limit = node.args.get("limit")
        offset = node.args.get("offset")
        if limit is None and offset is None:
            return plan
        n = int(limit.expression.this) if limit is not None else None
        k = int(offset.expression.this) if offset is not None else 0
        if isinstance(plan, Sort) and n is not None:
            plan = replace(plan, limit=n + k)
        return Limit(plan, n, k)

    def bind_values(self, node: exp.Values) -> Plan:
        rows = []
        for t in node.expressions:
            ctx = Context(Scope([]), clause="VALUES")
            rows.append([self.bind_expr(e, ctx) for e in t.expressions])
        width = len(rows[0])
        if any(len(r) != width for r in rows):
            raise error("Values rows have mismatched types", node)
        types = []
        for i in range(width):
            t = rows[0][i].type
            for r in rows[1:]:
                common = common_super_type(t, r[i].type)
                if common is None:
                    raise error(f"Values rows have mismatched types: {t} vs {r[i].type}", node)
                t = common
            types.append(t)
        rows = tuple(tuple(self.coerce(e, t) for e, t in zip(r, types)) for r in rows)
        alias = node.args.get("alias")
        return Values(rows, tuple(Field(f"_col{i}", t) for i, t in enumerate(types)))

    def bind_set_op(self, node, outer, ctes, correlated) -> Plan:
        left = self.bind_query(node.this, outer, ctes, correlated)
        right = self.bind_query(node.expression, outer, ctes, correlated)
        lf = [f for f in left.schema if not f.hidden]
        rf = [f for f in right.schema if not f.hidden]
        kind = {exp.Union: "union", exp.Intersect: "intersect", exp.Except: "except"}[type(node)]
        if len(lf) != len(rf):
            raise error(f"{kind.upper()} query has different number of fields: {len(lf)}, {len(rf)}", node)
        types = []
        for a, b in zip(lf, rf):
            t = common_super_type(a.type, b.type)
            if t is None:
                raise error(f"column types of {kind.upper()} do not match: {a.type} and {b.type}", node)
            types.append(t)
        left = self._project_to(left, types)
        right = self._project_to(right, types)
        schema = tuple(Field(f.name, t) for f, t in zip(lf, types))
        distinct = node.args.get("distinct", True) is not False
        return SetOp(kind, distinct, left, right, schema)

    def _project_to(self, plan: Plan, types: list) -> Plan:
        visible = [(i, f) for i, f in enumerate(plan.schema) if not f.hidden]
        if len(visible) == len(plan.schema) and all(f.type == t for (_, f), t in zip(visible, types)):
            return plan
        exprs = tuple(self.coerce(ColumnRef(i, f.type, f.name), t) for (i, f), t in zip(visible, types))
        return Project(plan, exprs, tuple(Field(f.name, t) for (_, f), t in zip(visible, types)))

    # --- SELECT -------------------------------------------------------------------------------

    def bind_select(self, select: exp.Select, outer: Scope | None, ctes: dict, correlated=None) -> Plan:
        correlated = correlated if correlated is not None else []
        from_ = select.args.get("from_")
        if from_ is None:
            plan: Plan = Values(((),), ())
            fields: list = []
        else:
            plan, fields = self.bind_relation(from_.this, outer, ctes, correlated)
            for join in select.args.get("joins") or []:
                plan, fields = self.bind_join(plan, fields, join, outer, ctes, correlated)
        scope = Scope(fields, outer)

        def context(clause, **kw):
            return Context(scope, clause=clause, ctes=ctes, correlated=correlated, **kw)

        where = select.args.get("where")
        if where is not None:
            self._forbid(where.this, "WHERE")
            predicate = self.bind_predicate(where.this, context("WHERE"))
            plan = Filter(plan, predicate)

        items = self._expand_stars(select.expressions, fields, select)
        order = select.args.get("order")
        order_items = order.expressions if order is not None else []
        having = select.args.get("having")
        group = select.args.get("group")

        agg_nodes = []
        for item in items:
            agg_nodes += self._find_aggregates(item)
        if having is not None:
            agg_nodes += self._find_aggregates(having.this)
        for o in order_items:
            agg_nodes += self._find_aggregates(o.this)

        hook = None
        if group is not None or agg_nodes:
            plan, hook, scope = self._bind_aggregate(plan, scope, items, group, agg_nodes, select, ctes, correlated)
            if having is not None:
                plan = Filter(plan, self.bind_predicate(having.this, Context(
                    scope, hook, clause="HAVING", ctes=ctes, correlated=correlated)))
        elif having is not None:
            raise error("HAVING clause requires an aggregation or GROUP BY", having)

        window_nodes = []
        for item in items:
            window_nodes += self._find_windows(item)
        for o in order_items:
            window_nodes += self._find_windows(o.this)
        if window_nodes:
            plan, hook, scope = self._bind_windows(plan, scope, hook, window_nodes, ctes, correlated)

        ctx = Context(scope, hook, clause="SELECT", ctes=ctes, correlated=correlated)
        exprs, out_fields = [], []
        for i, item in enumerate(items):
            expr = self.bind_expr(item.this if isinstance(item, exp.Alias) else item, ctx)
            exprs.append(expr)
            qualifier = None
            inner = item.this if isinstance(item, exp.Alias) else item
            if isinstance(expr, ColumnRef) and not isinstance(item, exp.Alias) and isinstance(inner, exp.Column):
                qualifier = scope.fields[expr.index].qualifier
            out_fields.append(Field(column_name(item, i), expr.type, qualifier))

        distinct = select.args.get("distinct") is not None
        sort_keys = []
        extra = []
        for o in order_items:
            expr = self._bind_order_item(o, items, exprs, out_fields, ctx, distinct)
            if isinstance(expr, tuple):  # ("extra", bound) -> hidden column
                extra.append(expr[1])
                expr = ColumnRef(len(exprs) + len(extra) - 1, expr[1].type, str(expr[1]))
            sort_keys.append(self._sort_key(expr, o))

        all_exprs = exprs + extra
        schema = tuple(out_fields) + tuple(Field(f"$order{i}", e.type, hidden=True) for i, e in enumerate(extra))
        plan = Project(plan, tuple(all_exprs), schema)
        if distinct:
            plan = Aggregate(
                plan, tuple(ColumnRef(i, f.type, f.name) for i, f in enumerate(plan.schema)), (), plan.schema
            )
        if sort_keys:
            plan = Sort(plan, tuple(sort_keys))
        plan = self._limit(select, plan)
        if extra:
            plan = Project(plan, tuple(ColumnRef(i, f.type, f.name) for i, f in enumerate(out_fields)), tuple(out_fields))
        return plan

    def _bind_order_item(self, o, items, exprs, out_fields, ctx, distinct):
        expr = o.this
        if isinstance(expr, exp.Literal) and not expr.is_string:
            k = int(expr.this)
            if not 1 <= k <= len(exprs):
                raise error(f"ORDER BY position {k} is not in select list", expr)
            return ColumnRef(k - 1, exprs[k - 1].type, out_fields[k - 1].name)
        if isinstance(expr, exp.Column) and not expr.table and not isinstance(expr.this, exp.Star):
            hits = [i for i, f in enumerate(out_fields) if f.name == expr.name]
            if not hits:
                hits = [i for i, f in enumerate(out_fields) if f.name.lower() == expr.name.lower()]
            aliased = [i for i in hits if isinstance(items[i], exp.Alias)]
            if len(hits) == 1 or (hits and len({exprs[i] for i in hits}) == 1):
                i = hits[0]
                return ColumnRef(i, exprs[i].type, out_fields[i].name)
            if len(aliased) > 1:
                raise error(f"Column '{expr.name}' is ambiguous", expr)
        bound = self.bind_expr(expr, replace(ctx, clause="ORDER BY"))
        for i, e in enumerate(exprs):
            if e == bound:
                return ColumnRef(i, e.type, out_fields[i].name)
        if distinct:
            raise error("For SELECT DISTINCT, ORDER BY expressions must appear in select list", expr)
        return ("extra", bound)

    def _sort_key(self, expr: Expr, item: exp.Ordered) -> SortKey:
        if not is_orderable(expr.type) and expr.type != UNKNOWN:
            raise error(f"Type {expr.type} is not orderable", item)
        desc = bool(item.args.get("desc"))
        nulls_first = item.args.get("nulls_first")
        return SortKey(expr, desc, bool(nulls_first) if nulls_first is not None else False)

    def _expand_stars(self, items, fields, select) -> list:
        out = []
        for item in items:
            if isinstance(item, exp.Star):
                visible = [f for f in fields if not f.hidden]
                if not visible and select.args.get("from_") is None:
                    raise error("SELECT * not allowed in queries without FROM clause", item)
                out += [_column_node(f, item) for f in visible]
            elif isinstance(item, exp.Column) and isinstance(item.this, exp.Star):
                q = item.table
                visible = [f for f in fields if not f.hidden and f.qualifier is not None and f.qualifier.lower() == q.lower()]
                if not visible:
                    raise error(f"Table '{q}' not found", item)
                out += [_column_node(f, item) for f in visible]
            else:
                out.append(item)
        return out

    # --- aggregation --------------------------------------------------------------------------

    def _is_aggregate_call(self, node) -> bool:
        return isinstance(node, exp.Anonymous) and self.functions.kind(node.name.lower()) == "aggregate"

    def _find_aggregates(self, node) -> list:
        """Aggregate calls in node, outside subqueries and window functions."""
        found = []

        def visit(n, in_agg=False):
            if isinstance(n, (exp.Subquery, exp.Exists)) or (isinstance(n, exp.In) and n.args.get("query")):
                if isinstance(n, exp.In):
                    visit(n.this)
                return
            if isinstance(n, exp.Window):
                for arg in (n.this.expressions if isinstance(n.this, exp.Anonymous) else []):
                    visit(arg)
                for p in n.args.get("partition_by") or []:
                    visit(p)
                order = n.args.get("order")
                if order is not None:
                    for o in order.expressions:
                        visit(o.this)
                return
            target = n.this if isinstance(n, exp.Filter) else n
            if self._is_aggregate_call(target):
                if in_agg:
                    raise error("Cannot nest aggregations inside aggregation", n)
                found.append(n)
                for child in target.expressions:
                    visit(child, True)
                return
            for child in n.iter_expressions():
                visit(child, in_agg)

        visit(node)
        return found

    def _find_windows(self, node) -> list:
        found = []

        def visit(n):
            if isinstance(n, (exp.Subquery, exp.Exists)):
                return
            if isinstance(n, exp.Window):
                found.append(n)
                return
            for child in n.iter_expressions():
                visit(child)

        visit(node)
        return found

    def _forbid(self, node, clause: str) -> None:
        if self._find_aggregates(node):
            raise error(f"{clause} clause cannot contain aggregations or window functions", node)
        if self._find_windows(node):
            raise error(f"{clause} clause cannot contain aggregations or window functions", node)

    def _bind_aggregate(self, plan, scope, items, group, agg_nodes, select, ctes, correlated):
        base = Context(scope, clause="GROUP BY", ctes=ctes, correlated=correlated)
        keys: list[Expr] = []
        key_nodes = []
        sets = None
        if group is not None:
            plain = list(group.expressions)
            for e in plain:
                keys.append(self._group_key(e, items, base))
                key_nodes.append(e)
            extras = []
            for kind in ("rollup", "cube", "grouping_sets"):
                for g in group.args.get(kind) or []:
                    extras.append((kind, g))
            if extras:
                sets = self._grouping_sets(extras, keys, key_nodes, items, base)
        key_index = {}
        for i, k in enumerate(keys):
            key_index.setdefault(k, i)
        # aggregates, deduplicated by their bound form
        aggs: list[AggregateCall] = []
        agg_ref: dict[int, int] = {}
        for node in agg_nodes:
            call = self._bind_aggregate_call(node, base)
            if call not in aggs:
                aggs.append(call)
            agg_ref[id(node)] = aggs.index(call)
        nkeys = len(keys)
        schema = []
        for i, k in enumerate(keys):
            name = str(k) if not isinstance(k, ColumnRef) else scope.fields[k.index].name
            qualifier = scope.fields[k.index].qualifier if isinstance(k, ColumnRef) else None
            schema.append(Field(name, k.type, qualifier))
        for a in aggs:
            schema.append(Field(str(a), a.type))
        if sets is not None:  # which grouping set a row comes from, for grouping()
            schema.append(Field("$grouping_set", BIGINT, hidden=True))
        plan = Aggregate(plan, tuple(keys), tuple(aggs), tuple(schema), sets)
        out_scope = Scope(schema, scope.outer)

        def hook(node, ctx):
            if id(node) in agg_ref:
                i = nkeys + agg_ref[id(node)]
                return ColumnRef(i, schema[i].type, schema[i].name)
            if isinstance(node, exp.Anonymous) and node.name.lower() == "grouping":
                return self._grouping(node, ctx, scope, keys, sets, len(schema) - 1)
            if any(isinstance(n, exp.Anonymous) and n.name.lower() == "grouping" for n in node.walk()):
                return None  # bind the parts: the grouping() call among them is this hook's
            if isinstance(node, exp.Window) or self._find_aggregates(node) or self._find_windows(node):
                return None
            if isinstance(node, (exp.Literal, exp.Boolean, exp.Null, tsast.Duration)):
                return None
            bound = self.bind_expr(node, replace(ctx, scope=scope, hook=None))
            if bound in key_index:
                i = key_index[bound]
                return ColumnRef(i, keys[i].type, schema[i].name)
            refs = [e for e in bound.walk() if isinstance(e, ColumnRef)]
            if refs:
                if isinstance(node, exp.Column):
                    raise error(f"'{to_sql(node)}' must be an aggregate expression or appear in GROUP BY clause", node)
                return None  # look inside: parts of it may be keys
            return bound

        return plan, hook, out_scope

    def _grouping(self, node, ctx, scope, keys, sets, set_column) -> Expr:
        """grouping(k1, ..., kn): a bit per argument, the first the highest, set where the
        row's grouping set leaves that key out (so its NULL is a subtotal's)."""
        positions = []
        for arg in node.expressions:
            bound = self.bind_expr(arg, replace(ctx, scope=scope, hook=None))
            if bound not in keys:
                raise error("The arguments to GROUPING() must be expressions referenced by the GROUP BY", arg)
            positions.append(keys.index(bound))
        if sets is None:
            return Literal(0, BIGINT)
        masks = tuple(sum(1 << (len(positions) - 1 - j) for j, p in enumerate(positions) if p not in key_set)
                      for key_set in sets)
        return Call("$grouping", (ColumnRef(set_column, BIGINT, "$grouping_set"), Literal(masks, ArrayType(BIGINT))),
                    BIGINT)

    def _fn_grouping(self, node, args, ctx):
        raise error("GROUPING() needs a GROUP BY", node)

    def _group_key(self, e, items, ctx) -> Expr:
        if isinstance(e, exp.Literal) and not e.is_string:
            k = int(e.this)
            if not 1 <= k <= len(items):
                raise error(f"GROUP BY position {k} is not in select list", e)
            item = items[k - 1]
            item = item.this if isinstance(item, exp.Alias) else item
            if self._find_aggregates(item):
                raise error(f"GROUP BY position {k} cannot be an aggregate", e)
            return self.bind_expr(item, ctx)
        self._forbid(e, "GROUP BY")
        return self.bind_expr(e, ctx)

    def _grouping_sets(self, extras, keys, key_nodes, items, ctx):
        """Expand ROLLUP/CUBE/GROUPING SETS (combined with plain keys) into sets of key positions."""
        def key_pos(e) -> int:
            bound = self._group_key(e, items, ctx)
            if bound not in keys:
                keys.append(bound)
                key_nodes.append(e)
            return keys.index(bound)

        base = tuple(range(len(keys)))
        result = [base]
        for kind, g in extras:
            if kind == "rollup":
                cols = [key_pos(e) for e in g.expressions]
                options = [tuple(cols[:i]) for i in range(len(cols), -1, -1)]
            elif kind == "cube":
                cols = [key_pos(e) for e in g.expressions]
                options = []
                for r in range(len(cols), -1, -1):
                    options += list(itertools.combinations(cols, r))
            else:
                options = [tuple(key_pos(e) for e in t.expressions) for t in g.expressions]
            result = [tuple(dict.fromkeys(a + b)) for a in result for b in options]
        return tuple(result)

    def _bind_aggregate_call(self, node, ctx) -> AggregateCall:
        filter_ = None
        if isinstance(node, exp.Filter):
            filter_ = self.bind_predicate(node.expression.this, replace(ctx, clause="FILTER"))
            node = node.this
        name = node.name.lower()
        args = list(node.expressions)
        distinct = False
        if len(args) == 1 and isinstance(args[0], exp.Distinct):
            distinct = True
            args = list(args[0].expressions)
        if len(args) == 1 and isinstance(args[0], exp.Star):
            if name != "count":
                raise error(f"'*' is only allowed in count(*)", node)
            args = []
        bound = [self.bind_expr(a, ctx) for a in args]
        resolved = self._resolve(name, bound, node)
        bound = [self.coerce(b, t) for b, t in zip(bound, resolved.params)]
        order = ()
        if node.args.get("order") is not None:
            order = tuple(self._sort_key(self.bind_expr(o.this, ctx), o) for o in node.args["order"].expressions)
        return AggregateCall(name, tuple(bound), resolved.result, distinct, filter_, order)

    # --- windows ----------------------------------------------------------------------------

    def _bind_windows(self, plan, scope, hook, nodes, ctes, correlated):
        ctx = Context(scope, hook, clause="window", ctes=ctes, correlated=correlated)
        calls, refs = [], {}
        width = len(plan.schema)
        for node in nodes:
            call = self._bind_window_call(node, ctx)
            if call not in calls:
                calls.append(call)
            refs[id(node)] = width + calls.index(call)
        schema = tuple(plan.schema) + tuple(Field(str(c), c.type, hidden=False) for c in calls)
        plan = Window(plan, tuple(calls), schema)
        new_scope = Scope(list(scope.fields) + [Field(f"$window{i}", c.type, hidden=True) for i, c in enumerate(calls)], scope.outer)
        previous = hook

        def window_hook(node, c):
            if id(node) in refs:
                i = refs[id(node)]
                return ColumnRef(i, schema[i].type, schema[i].name)
            if previous is not None:
                return previous(node, replace(c, scope=scope))
            return None

        return plan, window_hook, new_scope

    def _bind_window_call(self, node: exp.Window, ctx) -> WindowCall:
        func = node.this
        if isinstance(func, exp.Filter):
            raise error("FILTER is not supported with window functions", node)
        name = func.name.lower()
        args = list(func.expressions)
        distinct = False
        if len(args) == 1 and isinstance(args[0], exp.Distinct):
            distinct, args = True, list(args[0].expressions)
        if len(args) == 1 and isinstance(args[0], exp.Star):
            args = []
        kind = self.functions.kind(name)
        if kind not in ("aggregate", "window"):
            raise error(f"Not a window function: {name}", func)
        bound = [self.bind_expr(a, ctx) for a in args]
        resolved = self._resolve(name, bound, func)
        bound = tuple(self.coerce(b, t) for b, t in zip(bound, resolved.params))
        partition = tuple(self.bind_expr(p, ctx) for p in node.args.get("partition_by") or [])
        order_node = node.args.get("order")
        order = tuple(self._sort_key(self.bind_expr(o.this, ctx), o) for o in order_node.expressions) if order_node else ()
        spec = node.args.get("spec")
        frame = None
        if spec is not None:
            def bound_of(value, side):
                if value == "UNBOUNDED":
                    return (f"UNBOUNDED {side}", None)
                if value == "CURRENT ROW":
                    return ("CURRENT ROW", None)
                return (side, self.bind_expr(value, ctx))

            start = bound_of(spec.args.get("start"), spec.args.get("start_side"))
            end = bound_of(spec.args.get("end"), spec.args.get("end_side"))
            _check_frame(spec.args["kind"], start[0], end[0], len(order), node)
            frame = WindowFrame(spec.args["kind"], start, end)
        return WindowCall(name, bound, resolved.result, partition, order, frame, kind == "aggregate", distinct)

    # --- relations ----------------------------------------------------------------------------

    def bind_relation(self, node, outer, ctes, correlated) -> tuple[Plan, list]:
        alias_node = node.args.get("alias")
        alias = alias_node.name if alias_node is not None and alias_node.name else None
        col_aliases = [c.name for c in alias_node.columns] if alias_node is not None and alias_node.columns else None
        if isinstance(node, exp.Table):
            if node.args.get("db") is None and node.name in ctes:
                plan = ctes[node.name]
                qualifier = alias or node.name
            elif node.args.get("db") is None and node.name.lower() in {k.lower() for k in ctes}:
                key = [k for k in ctes if k.lower() == node.name.lower()][0]
                plan, qualifier = ctes[key], alias or key
            else:
                db, table = self._table_name(node)
                columns = tuple(self.catalog.table_columns(db, table))
                qualifier = alias or table
                plan = Scan(TableRef(db, table), columns, tuple(_column_order(columns)), qualifier)
            return self._aliased(plan, qualifier, col_aliases, node)
        if isinstance(node, exp.Subquery):
            plan = self.bind_query(node.this, outer, ctes, correlated)
            return self._aliased(plan, alias, col_aliases, node)
        if isinstance(node, exp.Unnest):
            plan, fields = Values(((),), ()), []
            return self._bind_unnest(plan, fields, node, outer, ctes, correlated, alias, col_aliases)
        if isinstance(node, exp.Lateral):
            plan = self.bind_query(node.this.this, outer, ctes, correlated)
            return self._aliased(plan, alias, col_aliases, node)
        raise error(f"Unsupported relation: {to_sql(node)[:60]}", node)

    def _aliased(self, plan: Plan, qualifier, col_aliases, node) -> tuple[Plan, list]:
        visible = [f for f in plan.schema if not f.hidden]
        if col_aliases is not None:
            if len(col_aliases) != len(visible):
                raise error(f"Column alias list has {len(col_aliases)} entries but relation has {len(visible)} columns", node)
            plan = _rename(plan, col_aliases, qualifier, node)
        fields = [replace(f, qualifier=qualifier) for f in plan.schema]
        return plan, fields

    def _bind_unnest(self, plan, fields, node: exp.Unnest, outer, ctes, correlated, alias, col_aliases, kind="cross"):
        ctx = Context(Scope(fields, outer), clause="UNNEST", ctes=ctes, correlated=correlated)
        exprs = [self.bind_expr(e, ctx) for e in node.expressions]
        out_types = []
        for e, src in zip(exprs, node.expressions):
            if isinstance(e.type, ArrayType):
                el = e.type.element
                if isinstance(el, RowType):
                    out_types += [(n, t) for n, t in el.fields]
                else:
                    out_types.append((None, el))
            elif isinstance(e.type, TimeSeriesType):
                out_types += [("time", TIMESTAMP), ("value", e.type.element)]
            elif isinstance(e.type, MapType):  # unnamed, as in Presto
                out_types += [(None, e.type.key), (None, e.type.value)]
            else:
                raise error(f"Cannot unnest type: {e.type}", src)
        ordinality = bool(node.args.get("ordinality"))
        if ordinality:
            out_types.append((None, BIGINT))
        names = [n or f"_col{i}" for i, (n, _) in enumerate(out_types)]
        if col_aliases is not None:
            if len(col_aliases) != len(out_types):
                raise error(f"Column alias list has {len(col_aliases)} entries but UNNEST has {len(out_types)} columns", node)
            names = col_aliases
        qualifier = alias
        new_fields = [Field(n, t, qualifier) for n, (_, t) in zip(names, out_types)]
        schema = tuple(plan.schema) + tuple(Field(f.name, f.type) for f in new_fields)
        plan = Unnest(plan, tuple(exprs), ordinality, schema, outer=kind == "left")
        return plan, list(fields) + new_fields

    def bind_join(self, left, left_fields, join: exp.Join, outer, ctes, correlated):
        right_node = join.this
        side = (join.args.get("side") or "").lower()
        kind = (join.args.get("kind") or "").lower()
        if isinstance(right_node, exp.Unnest):
            alias_node = right_node.args.get("alias")
            alias = alias_node.name if alias_node is not None and alias_node.name else None
            cols = [c.name for c in alias_node.columns] if alias_node is not None and alias_node.columns else None
            on = join.args.get("on")
            if side not in ("", "left") or (on is not None and not (isinstance(on, exp.Boolean) and on.this)):
                raise error("UNNEST may only be joined by CROSS JOIN or LEFT JOIN ... ON true", join)
            return self._bind_unnest(left, left_fields, right_node, outer, ctes, correlated, alias, cols,
                                     "left" if side == "left" else "cross")
        if isinstance(right_node, exp.Lateral):
            raise error("LATERAL subqueries are not supported", join)
        right, right_fields = self.bind_relation(right_node, outer, ctes, correlated)
        fields = list(left_fields) + list(right_fields)
        schema = tuple(Field(f.name, f.type, f.qualifier, f.hidden) for f in fields)
        join_kind = side or ("cross" if kind == "cross" else "inner")
        condition = None
        using = join.args.get("using")
        if using:
            conds = []
            for ident in using:
                li = Scope(left_fields).lookup(ident.name, None, ident)
                ri = Scope(right_fields).lookup(ident.name, None, ident)
                if li is None or ri is None:
                    raise error(f"Column '{ident.name}' is missing from the {'left' if li is None else 'right'} side of USING", ident)
                lt, rt = left_fields[li].type, right_fields[ri].type
                t = common_super_type(lt, rt)
                if t is None:
                    raise error(f"USING column '{ident.name}' has types {lt} and {rt}", ident)
                conds.append(self.call("$eq", [self.coerce(ColumnRef(li, lt, ident.name), t),
                                               self.coerce(ColumnRef(len(left_fields) + ri, rt, ident.name), t)], ident))
            condition = and_all(conds)
            # USING columns appear once, unqualified, first; the originals are hidden
            plan = Join(left, right, join_kind, condition, schema)
            return self._using_projection(plan, fields, left_fields, right_fields, using, join_kind)
        on = join.args.get("on")
        if on is not None:
            self._forbid(on, "JOIN")
            condition = self.bind_predicate(on, Context(Scope(fields, outer), clause="ON", ctes=ctes, correlated=correlated))
        elif join_kind not in ("cross",):
            raise error("A JOIN needs ON or USING", join)
        return Join(left, right, join_kind, condition, schema), fields

    def _using_projection(self, plan, fields, left_fields, right_fields, using, join_kind):
        names = [u.name for u in using]
        exprs, out = [], []
        n_left = len(left_fields)
        for name in names:
            li = Scope(left_fields).lookup(name, None, None)
            ri = n_left + Scope(right_fields).lookup(name, None, None)
            lref = ColumnRef(li, fields[li].type, name)
            rref = ColumnRef(ri, fields[ri].type, name)
            t = common_super_type(lref.type, rref.type)
            if join_kind in ("right",):
                e = self.coerce(rref, t)
            elif join_kind == "full":
                e = Coalesce((self.coerce(lref, t), self.coerce(rref, t)), t)
            else:
                e = self.coerce(lref, t)
            exprs.append(e)
            out.append(Field(name, t, None))
        for i, f in enumerate(fields):
            exprs.append(ColumnRef(i, f.type, f.name))
            hide = f.name in names
            out.append(Field(f.name, f.type, f.qualifier, hidden=hide or f.hidden))
        return Project(plan, tuple(exprs), tuple(out)), out

    # --- expressions --------------------------------------------------------------------------

    def bind_predicate(self, node, ctx: Context) -> Expr:
        expr = self.bind_expr(node, ctx)
        if expr.type not in (BOOLEAN, UNKNOWN):
            raise error(f"{ctx.clause} clause must evaluate to a boolean: actual type {expr.type}", node)
        return self.coerce(expr, BOOLEAN)

    def bind_expr(self, node: exp.Expression, ctx: Context) -> Expr:
        if ctx.hook is not None:
            hooked = ctx.hook(node, ctx)
            if hooked is not None:
                return hooked
        method = getattr(self, "_bind_" + type(node).__name__.lower(), None)
        if method is None:
            cls = type(node)
            if cls in ARITHMETIC:
                return self._arith(ARITHMETIC[cls], node, ctx)
            if cls in COMPARISON:
                return self._compare(COMPARISON[cls], node, ctx)
            raise error(f"Unsupported expression: {to_sql(node)[:80]}", node)
        return method(node, ctx)

    def _bind_paren(self, node, ctx):
        return self.bind_expr(node.this, ctx)

    def _bind_column(self, node: exp.Column, ctx: Context) -> Expr:
        name = node.name
        qualifier = node.table or None
        if isinstance(node.this, exp.Star):
            raise error("'*' is not allowed here", node)
        if qualifier is None and name in ctx.lambdas:
            return ctx.lambdas[name]
        if qualifier is not None and qualifier in ctx.lambdas:  # x.time on a lambda's row
            return self._field_access(ctx.lambdas[qualifier], name, node)
        if node.args.get("db") is not None:  # a.b.c: qualified column's field, or db.table.column
            base = exp.Column(this=node.args["table"], table=node.args["db"])
            base.meta.update(node.meta)
            return self._field_access(self._bind_column(base, ctx), name, node)
        star_field = node.meta.get("field")
        if star_field is not None:
            for index, f in enumerate(ctx.scope.fields):
                if f is star_field:
                    return ColumnRef(index, f.type, f.name)
        scope, depth = ctx.scope, 0
        while scope is not None:
            index = scope.lookup(name, qualifier, node)
            if index is not None:
                f = scope.fields[index]
                if depth == 0:
                    return ColumnRef(index, f.type, f.name)
                ctx.correlated.append(depth)
                return OuterRef(depth, index, f.type, f.name)
            if qualifier is not None and not scope.has_qualifier(qualifier):
                # `a.b` where `a` is a row-typed column, not a relation
                row_index = scope.lookup(qualifier, None, node)
                if row_index is not None:
                    f = scope.fields[row_index]
                    base = ColumnRef(row_index, f.type, f.name) if depth == 0 else OuterRef(depth, row_index, f.type, f.name)
                    return self._field_access(base, name, node)
            scope, depth = scope.outer, depth + 1
        shown = f"{qualifier}.{name}" if qualifier else name
        raise error(f"Column '{shown}' does not exist", node)

    def _field_access(self, base: Expr, name: str, node) -> Expr:
        t = base.type
        if isinstance(t, RowType):
            i = t.field_index(name)
            if i is not None:
                return Call("$field", (base, Literal(i, INTEGER)), t.fields[i][1])
        raise error(f"Column '{name}' does not exist in {t}", node)

    def _bind_dot(self, node: exp.Dot, ctx):
        return self._field_access(self.bind_expr(node.this, ctx), node.expression.name, node)

    def _bind_literal(self, node: exp.Literal, ctx) -> Expr:
        if node.is_string:
            return Literal(node.this, VARCHAR)
        text = node.this
        if re.fullmatch(r"-?\d+", text):
            v = int(text)
            if -(2**31) <= v < 2**31:
                return Literal(v, INTEGER)
            if -(2**63) <= v < 2**63:
                return Literal(v, BIGINT)
            raise error(f"Invalid numeric literal: {text}", node)
        return Literal(float(text), DOUBLE)

    def _bind_boolean(self, node, ctx):
        return Literal(bool(node.this), BOOLEAN)

    def _bind_null(self, node, ctx):
        return Literal(None, UNKNOWN)

    def _bind_duration(self, node, ctx):
        value, t = parse_duration_text(node.name, node)
        return Literal(value, t)

    def _bind_interval(self, node: exp.Interval, ctx):
        text = node.this.this if isinstance(node.this, exp.Literal) else to_sql(node.this)
        unit = node.args["unit"].name.upper() if node.args.get("unit") else "DAY"
        try:
            value, t = _interval_value(text.strip(), unit)
        except ValueError:
            raise error(f"Invalid INTERVAL literal: '{text}' {unit}", node) from None
        return Literal(value, t)

    def _bind_neg(self, node, ctx):
        arg = self.bind_expr(node.this, ctx)
        return self.call("$negate", [arg], node)

    def _arith(self, function: str, node, ctx) -> Expr:
        left = self.bind_expr(node.this, ctx)
        right = self.bind_expr(node.expression, ctx)
        return self.call(function, [left, right], node)

    def _compare(self, function: str, node, ctx) -> Expr:
        right_node = node.expression
        if isinstance(right_node, (exp.All, exp.Any)):
            return self._quantified(function, node, ctx)
        left = self.bind_expr(node.this, ctx)
        right = self.bind_expr(right_node, ctx)
        return self.call(function, [left, right], node)

    def _bind_and(self, node, ctx):
        return self._logical("$and", node, ctx)

    def _bind_or(self, node, ctx):
        return self._logical("$or", node, ctx)

    def _logical(self, function, node, ctx):
        args = []
        for side in (node.this, node.expression):
            e = self.bind_expr(side, ctx)
            if e.type not in (BOOLEAN, UNKNOWN):
                word = "AND" if function == "$and" else "OR"
                raise error(f"Value of {word} must evaluate to a boolean: actual type {e.type}", side)
            args.append(self.coerce(e, BOOLEAN))
        return self.fold(Call(function, tuple(args), BOOLEAN))

    def _bind_not(self, node, ctx):
        e = self.bind_expr(node.this, ctx)
        if e.type not in (BOOLEAN, UNKNOWN):
            raise error(f"Value of NOT must evaluate to a boolean: actual type {e.type}", node)
        return self.fold(Call("$not", (self.coerce(e, BOOLEAN),), BOOLEAN))

    def _bind_between(self, node: exp.Between, ctx):
        value = self.bind_expr(node.this, ctx)
        low = self.bind_expr(node.args["low"], ctx)
        high = self.bind_expr(node.args["high"], ctx)
        common = common_super_type(common_super_type(value.type, low.type) or UNKNOWN, high.type)
        if common_super_type(value.type, low.type) is None or common is None:
            raise error(f"Cannot check if {value.type} is BETWEEN {low.type} and {high.type}", node)
        return self.fold(Call("$and", (self.call("$ge", [value, low], node), self.call("$le", [value, high], node)), BOOLEAN))

    def _bind_in(self, node: exp.In, ctx):
        value = self.bind_expr(node.this, ctx)
        if node.args.get("query") is not None:
            return self._subquery("in", node.args["query"], ctx, node, value)
        items = [self.bind_expr(e, ctx) for e in node.expressions]
        t = value.type
        for item, src in zip(items, node.expressions):
            common = common_super_type(t, item.type)
            if common is None:
                raise error(f"IN value and list items must be the same type: {value.type}", src)
            t = common
        if not is_comparable(t):
            raise error(f"Type {t} is not comparable", node)
        args = [self.coerce(value, t)] + [self.coerce(i, t) for i in items]
        return self.fold(Call("$in", tuple(args), BOOLEAN))

    def _bind_like(self, node: exp.Like, ctx, escape=None):
        value = self.bind_expr(node.this, ctx)
        pattern = self.bind_expr(node.expression, ctx)
        for side, what in ((value, "Left side of LIKE expression"), (pattern, "Pattern for LIKE expression")):
            if side.type not in (VARCHAR, UNKNOWN):
                raise error(f"{what} must evaluate to a varchar (actual: {side.type})", node)
        args = [value, pattern] + ([escape] if escape is not None else [])
        return self.call("$like", args, node)

    def _bind_escape(self, node: exp.Escape, ctx):
        escape = self.bind_expr(node.expression, ctx)
        return self._bind_like(node.this, ctx, escape)

    def _bind_is(self, node: exp.Is, ctx):
        value = self.bind_expr(node.this, ctx)
        target = node.expression
        if isinstance(target, exp.Null):
            return self.fold(Call("$is_null", (value,), BOOLEAN))
        if isinstance(target, exp.Boolean):  # x IS TRUE == x IS NOT DISTINCT FROM TRUE: never NULL
            if value.type not in (BOOLEAN, UNKNOWN):
                raise error(f"IS {'TRUE' if target.this else 'FALSE'} needs a boolean, not {value.type}", node)
            distinct = Call("$is_distinct_from", (self.coerce(value, BOOLEAN), Literal(bool(target.this), BOOLEAN)), BOOLEAN)
            return self.fold(Call("$not", (distinct,), BOOLEAN))
        raise error("Unsupported IS expression", node)

    def _bind_nullsafeneq(self, node, ctx):
        return self.call("$is_distinct_from", [self.bind_expr(node.this, ctx), self.bind_expr(node.expression, ctx)], node)

    def _bind_nullsafeeq(self, node, ctx):
        inner = self.call("$is_distinct_from", [self.bind_expr(node.this, ctx), self.bind_expr(node.expression, ctx)], node)
        return self.fold(Call("$not", (inner,), BOOLEAN))

    def _bind_dpipe(self, node, ctx):
        left = self.bind_expr(node.this, ctx)
        right = self.bind_expr(node.expression, ctx)
        return self.call("concat", [left, right], node, operator="||")

    def _bind_case(self, node: exp.Case, ctx):
        operand = self.bind_expr(node.this, ctx) if node.this is not None else None
        conds, results = [], []
        for w in node.args.get("ifs") or []:
            cond = self.bind_expr(w.this, ctx)
            if operand is not None:
                cond = self.call("$eq", [operand, cond], w)
            elif cond.type not in (BOOLEAN, UNKNOWN):
                raise error(f"CASE WHEN clause must evaluate to a boolean: actual type {cond.type}", w.this)
            conds.append(self.coerce(cond, BOOLEAN))
            results.append(self.bind_expr(w.args["true"], ctx))
        default = self.bind_expr(node.args["default"], ctx) if node.args.get("default") is not None else Literal(None, UNKNOWN)
        return self._case(conds, results, default, node)

    def _case(self, conds, results, default, node) -> Expr:
        t = default.type
        for r in results:
            common = common_super_type(t, r.type)
            if common is None:
                raise error(f"All CASE results must be the same type: {t}, {r.type}", node)
            t = common
        whens = tuple((c, self.coerce(r, t)) for c, r in zip(conds, results))
        return Case(whens, self.coerce(default, t), t)

    def _bind_cast(self, node: exp.Cast, ctx, safe=False):
        value = self.bind_expr(node.this, ctx)
        try:
            target = parse_type(node.args["to"].name)
        except ValueError:
            raise error(f"Unknown type: {node.args['to'].name}", node) from None
        if value.type == target:
            return value
        castable = getattr(self.functions, "castable", None)
        if castable is not None and not castable(value.type, target):
            raise error(f"Cannot cast {value.type} to {target}", node)
        cast = Cast(value, target, safe or isinstance(node, exp.TryCast))
        return self.fold(cast)

    def _bind_trycast(self, node, ctx):
        return self._bind_cast(node, ctx, safe=True)

    def _bind_extract(self, node: exp.Extract, ctx):
        field_name = node.this.name.upper()
        function = EXTRACT_FIELDS.get(field_name)
        if function is None:
            raise error(f"Invalid EXTRACT field: {field_name}", node)
        return self.call(function, [self.bind_expr(node.expression, ctx)], node)

    def _bind_array(self, node: exp.Array, ctx):
        items = [self.bind_expr(e, ctx) for e in node.expressions]
        t = UNKNOWN
        for item, src in zip(items, node.expressions):
            common = common_super_type(t, item.type)
            if common is None:
                raise error(f"All ARRAY elements must be the same type: {t}, {item.type}", src)
            t = common
        return self.fold(Call("$array", tuple(self.coerce(i, t) for i in items), ArrayType(t)))

    def _bind_tuple(self, node: exp.Tuple, ctx):
        items = [self.bind_expr(e, ctx) for e in node.expressions]
        return self.fold(Call("$row", tuple(items), RowType(tuple((None, i.type) for i in items))))

    def _bind_bracket(self, node: exp.Bracket, ctx):
        base = self.bind_expr(node.this, ctx)
        index = self.bind_expr(node.expressions[0], ctx)
        if isinstance(base.type, RowType):
            if not isinstance(index, Literal) or index.type not in (INTEGER, BIGINT):
                raise error("A row subscript must be a constant integer", node)
            i = int(index.value) - 1
            if not 0 <= i < len(base.type.fields):
                raise error(f"Invalid field index {i + 1} for {base.type}", node)
            return Call("$field", (base, Literal(i, INTEGER)), base.type.fields[i][1])
        return self.call("$subscript", [base, index], node)

    def _bind_attimezone(self, node, ctx):
        value = self.bind_expr(node.this, ctx)
        zone = self.bind_expr(node.args["zone"], ctx)
        if isinstance(zone, Literal) and str(zone.value).upper() in ("UTC", "Z", "+00:00", "GMT"):
            return value
        raise error("Timestream keeps every time in UTC: AT TIME ZONE supports only 'UTC'", node)

    def _bind_lambda(self, node, ctx):
        raise error("A lambda expression is only allowed as a function argument", node)

    def _bind_star(self, node, ctx):
        raise error("'*' is not allowed here", node)

    def _bind_window(self, node, ctx):
        raise error(f"Window functions are not allowed in {ctx.clause}", node)

    def _bind_filter(self, node, ctx):
        raise error(f"Aggregate functions are not allowed in {ctx.clause}", node)

    def _bind_subquery(self, node, ctx):
        return self._subquery("scalar", node, ctx, node)

    def _bind_exists(self, node, ctx):
        return self._subquery("exists", node.this, ctx, node)

    def _subquery(self, kind, query_node, ctx, node, arg=None) -> Expr:
        inner = query_node.this if isinstance(query_node, exp.Subquery) else query_node
        correlated: list = []
        plan = self.bind_query(inner, ctx.scope, ctx.ctes, correlated)
        visible = [f for f in plan.schema if not f.hidden]
        is_correlated = any(d == 1 for d in correlated)
        # deeper references belong to the scopes out there
        ctx.correlated.extend(d - 1 for d in correlated if d > 1)
        pid = next(self._subquery_ids)
        if kind == "exists":
            return _planned(Subquery("exists", plan, BOOLEAN, None, is_correlated, pid))
        if len(visible) != 1:
            raise error(f"Multiple columns returned by subquery are not supported", node)
        if kind == "scalar":
            return _planned(Subquery("scalar", plan, visible[0].type, None, is_correlated, pid))
        t = common_super_type(arg.type, visible[0].type)
        if t is None:
            raise error(f"Value expression and result of subquery must be of the same type for IN expression: {arg.type} vs {visible[0].type}", node)
        if t != visible[0].type:
            plan = Project(plan, (self.coerce(ColumnRef(0, visible[0].type), t),), (Field(visible[0].name, t),))
        return _planned(Subquery("in", plan, BOOLEAN, self.coerce(arg, t), is_correlated, pid))

    def _quantified(self, function, node, ctx):
        left = self.bind_expr(node.this, ctx)
        wrapper = node.expression
        inner = wrapper.this.this if isinstance(wrapper.this, exp.Subquery) else wrapper.this
        correlated: list = []
        plan = self.bind_query(inner, ctx.scope, ctx.ctes, correlated)
        visible = [f for f in plan.schema if not f.hidden]
        if len(visible) != 1:
            raise error("Multiple columns returned by subquery are not supported", node)
        t = common_super_type(left.type, visible[0].type)
        if t is None:
            raise error(f"'{OPERATOR_TEXT[function]}' cannot be applied to {left.type}, {visible[0].type}", node)
        quant = "all" if isinstance(wrapper, exp.All) else "any"
        pid = next(self._subquery_ids)
        return _planned(Subquery(f"{quant}{function}", plan, BOOLEAN, self.coerce(left, t),
                                 any(d == 1 for d in correlated), pid))

    # --- functions ----------------------------------------------------------------------------

    def _bind_anonymous(self, node: exp.Anonymous, ctx: Context) -> Expr:
        name = node.name.lower()
        args = list(node.expressions)
        special = getattr(self, "_fn_" + name, None)
        if special is not None:
            return special(node, args, ctx)
        kind = self.functions.kind(name)
        if kind is None:
            raise error(f"Function {name} not registered", node)
        if kind == "aggregate":
            raise error(f"Aggregate function {name} is not allowed in {ctx.clause}" if ctx.clause != "SELECT"
                        else f"Aggregate function {name} is not allowed here", node)
        if kind == "window":
            raise error(f"Window function {name} requires an OVER clause", node)
        if args and isinstance(args[0], exp.Distinct):
            raise error(f"DISTINCT is only allowed in aggregate functions, not in {name}", node)
        bound = []
        lambdas = []
        for a in args:
            if isinstance(a, exp.Lambda):
                bound.append(None)
                lambdas.append(a)
            else:
                bound.append(self.bind_expr(a, ctx))
                lambdas.append(None)
        if any(lambdas):
            return self._call_with_lambdas(name, bound, lambdas, node, ctx)
        return self.call(name, bound, node)

    def _call_with_lambdas(self, name, bound, lambdas, node, ctx) -> Expr:
        sigs = self.functions.signatures(name)
        arg_types = [LambdaArity(len(l.expressions)) if l is not None else b.type for b, l in zip(bound, lambdas)]
        resolved = resolve(sigs, arg_types)
        if resolved is None:
            raise self._no_match(name, [b.type if b is not None else "lambda" for b in bound], node)
        # bind each lambda body with its parameter types, then resolve again with its result type;
        # a result type may widen a type variable (reduce's state: 0 -> double), so rebind the
        # lambdas whose parameter types changed until they agree
        args = list(bound)
        bound_params = {}
        for _ in range(3):
            for i, lam in enumerate(lambdas):
                if lam is None or bound_params.get(i) == resolved.params[i].params:
                    continue
                ftype = resolved.params[i]
                params = [p.name for p in lam.expressions]
                inner = dict(ctx.lambdas)
                for p, t in zip(params, ftype.params):
                    inner[p] = LambdaVar(p, t)
                body = self.bind_expr(lam.this, replace(ctx, lambdas=inner, hook=None))
                args[i] = Lambda(tuple(params), tuple(ftype.params), body, body.type)
                arg_types[i] = FunctionType(tuple(ftype.params), body.type)
                bound_params[i] = ftype.params
            resolved = resolve(sigs, arg_types)
            if resolved is None:
                raise self._no_match(name, [str(t) for t in arg_types], node)
            if all(bound_params[i] == resolved.params[i].params for i in bound_params):
                break
        final = []
        for a, t in zip(args, resolved.params):
            if isinstance(a, Lambda):
                body = self.coerce(a.body, t.result)
                final.append(Lambda(a.params, a.param_types, body, body.type))
            else:
                final.append(self.coerce(a, t))
        return self.fold(Call(name, tuple(final), resolved.result))

    # functions the binder evaluates or rewrites itself ------------------------------------------

    def _no_args(self, name, args, node):
        if args:
            raise error(f"Unexpected parameters for function {name}. Expected: {name}()", node)

    def _fn_now(self, node, args, ctx):
        self._no_args("now", args, node)
        return Literal(self.now_ns, TIMESTAMP)

    _fn_current_timestamp = _fn_now
    _fn_localtimestamp = _fn_now

    def _fn_current_date(self, node, args, ctx):
        self._no_args("current_date", args, node)
        return Literal(self.now_ns // (86400 * 10**9), DATE)

    def _fn_current_time(self, node, args, ctx):
        self._no_args("current_time", args, node)
        return Literal(self.now_ns % (86400 * 10**9), TIME)

    _fn_localtime = _fn_current_time

    def _fn_current_timezone(self, node, args, ctx):
        self._no_args("current_timezone", args, node)
        return Literal("UTC", VARCHAR)

    def _fn_ago(self, node, args, ctx):
        if len(args) != 1:
            raise error("Unexpected parameters for function ago. Expected: ago(interval day to second)", node)
        interval = self.bind_expr(args[0], ctx)
        return self.call("$subtract", [Literal(self.now_ns, TIMESTAMP), interval], node, display="ago")

    def _fn_time_bucket(self, node, args, ctx):
        bound = [self.bind_expr(a, ctx) for a in args]
        return self.call("bin", bound[::-1] if len(bound) == 2 and bound[0].type != TIMESTAMP and bound[1].type == TIMESTAMP else bound, node)

    def _fn_coalesce(self, node, args, ctx):
        bound = [self.bind_expr(a, ctx) for a in args]
        if not bound:
            raise error("coalesce needs at least one argument", node)
        t = UNKNOWN
        for b, src in zip(bound, args):
            common = common_super_type(t, b.type)
            if common is None:
                raise error(f"All COALESCE operands must be the same type: {t}, {b.type}", src)
            t = common
        if len(bound) == 1:
            return self.coerce(bound[0], t)
        return Coalesce(tuple(self.coerce(b, t) for b in bound), t)

    def _fn_if(self, node, args, ctx):
        if len(args) not in (2, 3):
            raise error("IF needs 2 or 3 arguments", node)
        cond = self.bind_expr(args[0], ctx)
        if cond.type not in (BOOLEAN, UNKNOWN):
            raise error(f"IF condition must evaluate to a boolean: actual type {cond.type}", args[0])
        then = self.bind_expr(args[1], ctx)
        default = self.bind_expr(args[2], ctx) if len(args) == 3 else Literal(None, UNKNOWN)
        return self._case([self.coerce(cond, BOOLEAN)], [then], default, node)

    def _fn_nullif(self, node, args, ctx):
        if len(args) != 2:
            raise error("NULLIF needs 2 arguments", node)
        a, b = (self.bind_expr(x, ctx) for x in args)
        eq = self.call("$eq", [a, b], node)
        return self._case([eq], [Literal(None, UNKNOWN)], a, node)

    def _fn_typeof(self, node, args, ctx):
        if len(args) != 1:
            raise error("Unexpected parameters for function typeof. Expected: typeof(T)", node)
        return Literal(str(self.bind_expr(args[0], ctx).type), VARCHAR)

    def _fn_row(self, node, args, ctx):
        return self._bind_tuple(exp.Tuple(expressions=args), ctx)

    def _fn_try(self, node, args, ctx):
        if len(args) != 1:
            raise error("TRY needs 1 argument", node)
        inner = self.bind_expr(args[0], ctx)
        return Try(inner, inner.type)

    # --- typing helpers -------------------------------------------------------------------------

    def call(self, name: str, args: list, node, operator: str | None = None, display: str | None = None) -> Expr:
        resolved = self._resolve(name, args, node, operator, display)
        coerced = tuple(self.coerce(a, t) for a, t in zip(args, resolved.params))
        return self.fold(Call(name, coerced, resolved.result, self._deterministic(name)))

    def _deterministic(self, name: str) -> bool:
        is_deterministic = getattr(self.functions, "deterministic", None)
        return is_deterministic(name) if is_deterministic is not None else True

    def _resolve(self, name, args, node, operator=None, display=None):
        sigs = self.functions.signatures(name)
        if not sigs:
            raise error(f"Function {display or name} not registered", node)
        resolved = resolve(sigs, [a.type for a in args])
        if resolved is None:
            op = operator or OPERATOR_TEXT.get(name)
            if op is not None:
                types = ", ".join(str(a.type) for a in args)
                raise error(f"'{op}' cannot be applied to {types}", node)
            raise self._no_match(display or name, [a.type for a in args], node)
        return resolved

    def _no_match(self, name, types, node):
        # as Presto lists them: each signature followed by a space, joined by ", "
        expected = " , ".join(sorted({str(s).replace("$", "") for s in self.functions.signatures(name)})[:8])
        shown = ", ".join(str(t) for t in types)
        return error(f"Unexpected parameters ({shown}) for function {name}. Expected: {expected}", node)

    def coerce(self, expr: Expr, target: Type) -> Expr:
        if expr.type == target or isinstance(target, FunctionType):
            return expr
        if target == UNKNOWN:
            return expr
        return self.fold(Cast(expr, target))

    def fold(self, expr: Expr) -> Expr:
        """Evaluate a constant expression now; leave it to run time if it fails."""
        if isinstance(expr, Literal) or not expr.is_constant:
            return expr
        if any(isinstance(e, Lambda) for e in expr.walk()):
            return expr
        try:
            value = self.functions.fold(expr)
        except (QueryExecutionError, ValidationError):
            return expr
        return Literal(_frozen(value), expr.type)


def _check_frame(kind: str, start: str, end: str, order_keys: int, node) -> None:
    """The frames Presto refuses, with its messages."""
    if start == "UNBOUNDED FOLLOWING":
        raise error("Window frame start cannot be UNBOUNDED FOLLOWING", node)
    if end == "UNBOUNDED PRECEDING":
        raise error("Window frame end cannot be UNBOUNDED PRECEDING", node)
    if start == "CURRENT ROW" and end == "PRECEDING":
        raise error("Window frame starting from CURRENT ROW cannot end with PRECEDING", node)
    if start == "FOLLOWING" and end in ("PRECEDING", "CURRENT ROW"):
        raise error(f"Window frame starting from FOLLOWING cannot end with {end}", node)
    if kind == "RANGE" and (start in ("PRECEDING", "FOLLOWING") or end in ("PRECEDING", "FOLLOWING")) \
            and order_keys != 1:
        raise error("Window frame of type RANGE PRECEDING or FOLLOWING requires single sort item in ORDER BY", node)


def _planned(sub: Subquery) -> Subquery:
    """A subquery decorrelated where it can be, and then optimized like a whole query (a
    correlated plan is left as bound: its outer references are not constants)."""
    sub = decorrelate(sub)
    return sub if sub.correlated else replace(sub, plan=optimize(sub.plan))


def _frozen(value):
    """A folded value as a Literal holds it: arrays as tuples, so expressions stay hashable."""
    if isinstance(value, (list, tuple)):
        return tuple(_frozen(v) for v in value)
    return value


def _column_order(columns) -> list[int]:
    """Positions of a table's columns in the order Timestream shows them (SELECT *,
    DESCRIBE): dimensions, measure values, then measure_name and time."""
    rank = {"dimension": 0, "measure_value": 1, "multi": 1, "measure_name": 2, "time": 3}
    return sorted(range(len(columns)), key=lambda i: rank[columns[i].kind])


def _column_node(f: Field, near) -> exp.Column:
    col = exp.Column(this=exp.Identifier(this=f.name, quoted=True))
    if f.qualifier is not None:
        col.set("table", exp.Identifier(this=f.qualifier, quoted=True))
    col.meta.update(near.meta)
    col.meta["star"] = True
    col.meta["field"] = f  # `*` means this very column, even where its name is not unique
    return col


def _rename(plan: Plan, names: list | None, qualifier, node) -> Plan:
    visible = [(i, f) for i, f in enumerate(plan.schema) if not f.hidden]
    if names is None:
        return plan
    if len(names) != len(visible):
        raise error(f"Column alias list has {len(names)} entries but relation has {len(visible)} columns", node)
    exprs = tuple(ColumnRef(i, f.type, f.name) for i, f in visible)
    return Project(plan, exprs, tuple(Field(n, f.type, qualifier) for n, (_, f) in zip(names, visible)))


def _like_regex(pattern: str):
    out = ""
    for ch in pattern:
        out += ".*" if ch == "%" else "." if ch == "_" else re.escape(ch)
    return re.compile(out + r"\Z", re.S)


def _interval_value(text: str, unit: str) -> tuple[int, Type]:
    neg = text.startswith("-")
    if neg:
        text = text[1:]
    unit = unit.replace("S TO", " TO")
    if unit in ("YEAR", "MONTH", "YEAR TO MONTH"):
        if unit == "YEAR TO MONTH":
            y, _, m = text.partition("-")
            months = int(y) * 12 + int(m or 0)
        else:
            months = int(text) * (12 if unit == "YEAR" else 1)
        return (-months if neg else months), INTERVAL_YEAR_TO_MONTH
    scale = {"DAY": 86400, "HOUR": 3600, "MINUTE": 60, "SECOND": 1}
    if unit in scale:
        ns = round(float(text) * scale[unit] * 10**9)
    elif unit.endswith("TO SECOND") or unit.endswith("TO MINUTE") or unit.endswith("TO HOUR"):
        days = 0
        rest = text
        if " " in text:
            d, rest = text.split(" ", 1)
            days = int(d)
        parts = rest.split(":")
        seconds = 0.0
        for p in parts:
            seconds = seconds * 60 + float(p)
        if unit.endswith("TO MINUTE"):
            seconds *= 60
        elif unit.endswith("TO HOUR"):
            seconds *= 3600
        ns = days * 86400 * 10**9 + round(seconds * 10**9)
    else:
        raise ValueError(unit)
    return (-ns if neg else ns), INTERVAL_DAY_TO_SECOND
