"""SQL text -> sqlglot expression tree, through grammar/timestream.lark.

lark parses (LALR, contextual lexer) and `ToSqlglot`, one short method per grammar
rule, builds sqlglot nodes (plus the classes of planner/ast.py for what sqlglot
lacks). Syntax errors become ValidationError with line, column and what was expected.
"""

from __future__ import annotations

import functools
import re
from importlib import resources

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError
from sqlglot import exp

from tsql.errors import ValidationError

from .ast import Describe, Duration, Explain, Show, TypeName, with_position


@functools.lru_cache(maxsize=1)
def _lark() -> Lark:
    grammar = resources.files("tsql.grammar").joinpath("timestream.lark").read_text()
    return Lark(grammar, parser="lalr", lexer="contextual", propagate_positions=True, maybe_placeholders=False)


def parse(sql: str) -> exp.Expression:
    """Parse one statement (a trailing `;` is allowed)."""
    if not isinstance(sql, str):
        raise ValidationError("The query must be a string.")
    if not sql.strip():
        raise ValidationError("The query is empty.")
    try:
        tree = _lark().parse(sql)
    except UnexpectedInput as e:
        raise _syntax_error(e, sql) from None
    try:
        return ToSqlglot().transform(tree)
    except VisitError as e:
        if isinstance(e.orig_exc, ValidationError):
            raise e.orig_exc from None
        raise


# --- syntax errors ------------------------------------------------------------------

_PUNCTUATION = {
    "LPAR": "(", "RPAR": ")", "COMMA": ",", "DOT": ".", "SEMICOLON": ";", "STAR": "*",
    "LSQB": "[", "RSQB": "]", "COMP_OP": "=", "ADD_OP": "+", "MUL_OP": "*", "CONCAT": "||",
    "ARROW": "->", "$END": "<EOF>", "SET_UNION": "UNION", "SET_EXCEPT": "EXCEPT",
    "SET_INTERSECT": "INTERSECT",
}
_CLASSES = {
    "NAME": "<identifier>", "QUOTED_NAME": "<identifier>", "MEASURE_VALUE": "<identifier>",
    "INT": "<integer>", "DECIMAL": "<number>", "STRING": "<string>", "DURATION": "<duration>",
}
_EXPRESSION_STARTS = {"NAME", "INT", "STRING", "LPAR", "_CASE", "CAST"}
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_@$]*")


def _describe_expected(expected) -> str:
    names = set(expected)
    shown = []
    if _EXPRESSION_STARTS <= names:
        shown.append("<expression>")
        names -= set(_CLASSES) | _EXPRESSION_STARTS | {
            "ADD_OP", "_NULL", "TRUE", "FALSE", "_EXISTS", "TRY_CAST", "_EXTRACT", "_POSITION", "_GROUPING",
            "ARRAY", "INTERVAL", "CURRENT_TIMESTAMP", "CURRENT_DATE", "CURRENT_TIME",
            "LOCALTIMESTAMP", "LOCALTIME", "NOT",
        }
    for name in sorted(names):
        if name in _PUNCTUATION:
            shown.append(f"'{_PUNCTUATION[name]}'")
        elif name in _CLASSES:
            shown.append(_CLASSES[name])
        else:
            shown.append(f"'{name.lstrip('_').replace('_', ' ')}'")
    shown = sorted(set(shown), key=lambda s: (not s.startswith("<"), s))
    return ", ".join(shown[:12]) + (", ..." if len(shown) > 12 else "")


def _syntax_error(e: UnexpectedInput, sql: str) -> ValidationError:
    if isinstance(e, UnexpectedCharacters):
        word = _WORD.match(sql, e.pos_in_stream)
        if word:  # a reserved word where it cannot stand (NATURAL, an unquoted `select`, ...)
            return ValidationError(f"mismatched input '{word.group(0)}'. Expecting: {_describe_expected(e.allowed)}",
                                   e.line, e.column)
        return ValidationError(f"token recognition error at: '{sql[e.pos_in_stream]}'", e.line, e.column)
    if isinstance(e, UnexpectedEOF) or (isinstance(e, UnexpectedToken) and e.token.type == "$END"):
        lines = sql.rstrip().split("\n")
        line, col = len(lines), len(lines[-1]) + 1
        expected = e.expected if isinstance(e, UnexpectedEOF) else e.expected
        return ValidationError(f"mismatched input '<EOF>'. Expecting: {_describe_expected(expected)}", line, col)
    token = e.token
    return ValidationError(
        f"mismatched input '{token.value}'. Expecting: {_describe_expected(e.expected)}", token.line, token.column
    )


# --- the Transformer ------------------------------------------------------------------

def _pos(node, meta_or_token):
    line = getattr(meta_or_token, "line", None)
    column = getattr(meta_or_token, "column", None)
    return with_position(node, line, column)


def _unquote(text: str, quote: str) -> str:
    return text[1:-1].replace(quote * 2, quote)


def _string(token: Token) -> exp.Literal:
    return _pos(exp.Literal.string(_unquote(token.value, "'")), token)


def _tokens(children, *types):
    return [c for c in children if isinstance(c, Token) and c.type in types]


def _nodes(children):
    return [c for c in children if not isinstance(c, Token)]


_ARITH = {"+": exp.Add, "-": exp.Sub, "*": exp.Mul, "/": exp.Div, "%": exp.Mod}
_COMPARE = {"=": exp.EQ, "<>": exp.NEQ, "!=": exp.NEQ, "<": exp.LT, "<=": exp.LTE, ">": exp.GT, ">=": exp.GTE}


@v_args(meta=True)
class ToSqlglot(Transformer):
    # ---- statements ----------------------------------------------------------------

    def start(self, meta, children):
        return children[0]

    def explain(self, meta, children):
        analyze = bool(_tokens(children, "ANALYZE"))
        return _pos(Explain(this=_nodes(children)[0], analyze=analyze), meta)

    def like_pattern(self, meta, children):
        return _string(children[0])

    def show_databases(self, meta, children):
        return _pos(Show(kind="DATABASES", like=children[0] if children else None), meta)

    def show_tables(self, meta, children):
        db = like = None
        for c in children:
            if isinstance(c, exp.Identifier):
                db = c
            else:
                like = c
        return _pos(Show(kind="TABLES", this=db, like=like), meta)

    def show_measures(self, meta, children):
        return _pos(Show(kind="MEASURES", this=children[0], like=children[1] if len(children) > 1 else None), meta)

    def describe(self, meta, children):
        return _pos(Describe(this=children[0]), meta)

    # ---- queries ---------------------------------------------------------------------

    def query(self, meta, children):
        body = None
        mods = {}
        for c in children:
            if isinstance(c, exp.With):
                mods["with_"] = c
            elif isinstance(c, exp.Order):
                mods["order"] = c
            elif isinstance(c, exp.Limit):
                mods["limit"] = c
            elif isinstance(c, exp.Offset):
                mods["offset"] = c
            elif c is not None:
                body = c
        if mods and any(body.args.get(k) for k in mods):
            body = exp.Subquery(this=body)  # `(q ORDER BY ..) ORDER BY ..`: keep both levels
            body = exp.select("*").from_(body.as_("_q"))
        for k, v in mods.items():
            body.set(k, v)
        return body if "line" in body.meta else _pos(body, meta)

    def with_clause(self, meta, children):
        return exp.With(expressions=children)

    def cte(self, meta, children):
        name, *rest = children
        columns = rest[0] if len(rest) == 2 else None
        alias = exp.TableAlias(this=name, columns=columns) if columns else exp.TableAlias(this=name)
        return _pos(exp.CTE(this=rest[-1], alias=alias), meta)

    def column_aliases(self, meta, children):
        return list(children)

    def _set_op(self, cls, meta, children):
        left, *rest = children
        distinct = True
        quantifier = [c for c in rest if isinstance(c, str) and not isinstance(c, Token)]
        if quantifier:
            distinct = quantifier[0] == "DISTINCT"
        right = [c for c in rest if isinstance(c, exp.Expression)][0]
        keyword = _tokens(rest, "SET_UNION", "SET_EXCEPT", "SET_INTERSECT")[0]  # errors point at it, as Presto's
        return _pos(cls(this=left, expression=right, distinct=distinct), keyword)

    def union(self, meta, children):
        return self._set_op(exp.Union, meta, children)

    def except_(self, meta, children):
        return self._set_op(exp.Except, meta, children)

    def intersect(self, meta, children):
        return self._set_op(exp.Intersect, meta, children)

    def nested_query(self, meta, children):
        return _pos(exp.Subquery(this=children[0]), meta)

    def values(self, meta, children):
        rows = [_row_of(c) for c in children]
        return _pos(exp.Values(expressions=rows), meta)

    def set_quantifier(self, meta, children):
        return children[0].value.upper()

    def select(self, meta, children):
        select = exp.Select()
        items = []
        for c in children:
            if isinstance(c, str) and c in ("DISTINCT", "ALL"):
                if c == "DISTINCT":
                    select.set("distinct", exp.Distinct())
            elif isinstance(c, tuple) and c[0] == "from":
                relations = c[1]
                select.set("from_", exp.From(this=relations[0][0]))
                joins = list(relations[0][1])
                for rel, rel_joins in relations[1:]:
                    joins.append(exp.Join(this=rel, kind="CROSS"))
                    joins.extend(rel_joins)
                if joins:
                    select.set("joins", joins)
            elif isinstance(c, exp.Where):
                select.set("where", c)
            elif isinstance(c, exp.Group):
                select.set("group", c)
            elif isinstance(c, exp.Having):
                select.set("having", c)
            else:
                items.append(c)
        select.set("expressions", items)
        return _pos(select, meta)

    def select_expr(self, meta, children):
        if len(children) == 2:
            return _pos(exp.Alias(this=children[0], alias=children[1]), meta)
        return children[0]

    def star(self, meta, children):
        return _pos(exp.Star(), meta)

    def qualified_star(self, meta, children):
        base = children[0]
        if not isinstance(base, exp.Column) or base.table:
            raise ValidationError("Only a table name may qualify '*'.", *_line_col(meta))
        return _pos(exp.Column(this=exp.Star(), table=base.this), meta)

    def from_clause(self, meta, children):
        return ("from", [self._flatten(c) for c in children])

    @staticmethod
    def _flatten(relation):
        """A left-deep join tree -> (first relation, [joins])."""
        if isinstance(relation, tuple) and relation[0] == "join":
            _, left, join = relation
            first, joins = ToSqlglot._flatten(left)
            return first, joins + [join]
        return relation, []

    def where_clause(self, meta, children):
        return exp.Where(this=children[0])

    def having(self, meta, children):
        return exp.Having(this=children[0])

    def group_by(self, meta, children):
        group = exp.Group()
        plain, rollup, cube, sets = [], [], [], []
        for c in children:
            if isinstance(c, str):
                continue  # GROUP BY ALL|DISTINCT quantifier
            if isinstance(c, exp.Rollup):
                rollup.append(c)
            elif isinstance(c, exp.Cube):
                cube.append(c)
            elif isinstance(c, exp.GroupingSets):
                sets.append(c)
            else:
                plain.append(c)
        if plain:
            group.set("expressions", plain)
        if rollup:
            group.set("rollup", rollup)
        if cube:
            group.set("cube", cube)
        if sets:
            group.set("grouping_sets", sets)
        return _pos(group, meta)

    def rollup(self, meta, children):
        return _pos(exp.Rollup(expressions=children), meta)

    def cube(self, meta, children):
        return _pos(exp.Cube(expressions=children), meta)

    def grouping_sets(self, meta, children):
        return _pos(exp.GroupingSets(expressions=children), meta)

    def grouping_set(self, meta, children):
        if not children:
            return exp.Tuple(expressions=[])
        (c,) = children
        return c if isinstance(c, exp.Tuple) else exp.Tuple(expressions=[c])

    def order_by(self, meta, children):
        return exp.Order(expressions=children)

    def sort_item(self, meta, children):
        expr, *flags = children
        words = [f.value.upper() for f in flags]
        desc = "DESC" in words
        nulls_first = True if "FIRST" in words else False if "LAST" in words else None
        return _pos(exp.Ordered(this=expr, desc=desc, nulls_first=nulls_first), meta)

    def limit_clause(self, meta, children):
        (tok,) = children
        if tok.type == "ALL":
            return None
        return _pos(exp.Limit(expression=exp.Literal.number(tok.value)), meta)

    def offset_clause(self, meta, children):
        return _pos(exp.Offset(expression=exp.Literal.number(children[0].value)), meta)

    # ---- relations -------------------------------------------------------------------

    def join(self, meta, children):
        left = children[0]
        kind = children[1] if isinstance(children[1], str) else "inner"
        right = children[-2]
        criteria = children[-1]
        join = exp.Join(this=right)
        if kind != "inner":
            join.set("side", kind.upper())
        else:
            join.set("kind", "INNER")
        join.set(criteria[0], criteria[1])
        return ("join", left, _pos(join, meta))

    def cross_join(self, meta, children):
        left, right = children
        return ("join", left, _pos(exp.Join(this=right, kind="CROSS"), meta))

    def inner(self, meta, children):
        return "inner"

    def left(self, meta, children):
        return "left"

    def right(self, meta, children):
        return "right"

    def full(self, meta, children):
        return "full"

    def on(self, meta, children):
        return ("on", children[0])

    def using(self, meta, children):
        return ("using", list(children))

    def aliased_relation(self, meta, children):
        source = children[0]
        if len(children) > 1:
            alias = exp.TableAlias(this=children[1])
            if len(children) > 2:
                alias.set("columns", children[2])
            source.set("alias", alias)
        return source

    def table(self, meta, children):
        return children[0]

    def qualified_name(self, meta, children):
        parts = list(children)
        table = exp.Table(this=parts[-1])
        if len(parts) >= 2:
            table.set("db", parts[-2])
        if len(parts) >= 3:
            table.set("catalog", parts[-3])
        if len(parts) > 3:
            raise ValidationError("Too many parts in the table name.", *_line_col(meta))
        return _pos(table, meta)

    def subquery_relation(self, meta, children):
        return _pos(exp.Subquery(this=children[0]), meta)

    def unnest(self, meta, children):
        ordinality = bool(children) and children[-1] == "ordinality"
        args = [c for c in children if isinstance(c, exp.Expression)]
        return _pos(exp.Unnest(expressions=args, ordinality=ordinality or None), meta)

    def ordinality(self, meta, children):
        return "ordinality"

    def lateral(self, meta, children):
        return _pos(exp.Lateral(this=exp.Subquery(this=children[0])), meta)

    # ---- expressions -----------------------------------------------------------------

    def or_(self, meta, children):
        return _pos(exp.Or(this=children[0], expression=children[1]), meta)

    def and_(self, meta, children):
        return _pos(exp.And(this=children[0], expression=children[1]), meta)

    def not_(self, meta, children):
        return _pos(exp.Not(this=_nodes(children)[0]), meta)

    @staticmethod
    def _negated(children) -> bool:
        return any(isinstance(c, Token) and c.type == "NOT" for c in children)

    def _maybe_not(self, node, children, meta):
        node = _pos(node, meta)
        return _pos(exp.Not(this=node), meta) if self._negated(children) else node

    def comparison(self, meta, children):
        left, op, right = children
        return _pos(_COMPARE[op.value](this=left, expression=right), op)

    def quantified_comparison(self, meta, children):
        left, op, quantifier, query = children
        wrapper = exp.All if quantifier.value.upper() == "ALL" else exp.Any
        right = wrapper(this=exp.Subquery(this=query))
        return _pos(_COMPARE[op.value](this=left, expression=right), op)

    def between(self, meta, children):
        value, low, high = _nodes(children)
        return self._maybe_not(exp.Between(this=value, low=low, high=high), children, meta)

    def in_list(self, meta, children):
        value, *items = _nodes(children)
        return self._maybe_not(exp.In(this=value, expressions=items), children, meta)

    def in_subquery(self, meta, children):
        value, query = _nodes(children)
        return self._maybe_not(exp.In(this=value, query=exp.Subquery(this=query)), children, meta)

    def like(self, meta, children):
        value, pattern, *escape = _nodes(children)
        node = exp.Like(this=value, expression=pattern)
        if escape:
            node = exp.Escape(this=node, expression=escape[0])
        return self._maybe_not(node, children, meta)

    def is_null(self, meta, children):
        return self._maybe_not(exp.Is(this=_nodes(children)[0], expression=exp.Null()), children, meta)

    def is_distinct_from(self, meta, children):
        left, right = _nodes(children)
        cls = exp.NullSafeEQ if self._negated(children) else exp.NullSafeNEQ
        return _pos(cls(this=left, expression=right), meta)

    def is_bool(self, meta, children):
        value = _nodes(children)[0]
        flag = [c for c in children if isinstance(c, Token) and c.type in ("TRUE", "FALSE")][0]
        node = exp.Is(this=value, expression=exp.Boolean(this=flag.type == "TRUE"))
        return self._maybe_not(node, children, meta)

    def concat(self, meta, children):
        return _pos(exp.DPipe(this=children[0], expression=children[2]), children[1])

    def arith(self, meta, children):
        left, op, right = children
        return _pos(_ARITH[op.value](this=left, expression=right), op)

    def sign(self, meta, children):
        op, value = children
        if op.value == "+":
            return value
        if isinstance(value, exp.Literal) and not value.is_string:
            return _pos(exp.Literal.number("-" + value.this), op)
        return _pos(exp.Neg(this=value), op)

    def subscript(self, meta, children):
        return _pos(exp.Bracket(this=children[0], expressions=[children[1]]), meta)

    def dereference(self, meta, children):
        base, name = children
        if isinstance(base, exp.Column) and not isinstance(base.this, exp.Star):
            where = _line_col_node(base)
            if not base.table:
                return with_position(exp.Column(this=name, table=base.this), *where)
            if not base.args.get("db"):
                return with_position(exp.Column(this=name, table=base.this, db=base.args["table"]), *where)
        return _pos(exp.Dot(this=base, expression=name), meta)

    def at_time_zone(self, meta, children):
        return _pos(exp.AtTimeZone(this=children[0], zone=children[1]), meta)

    def column(self, meta, children):
        ident = children[0]
        return with_position(exp.Column(this=ident), ident.meta.get("line"), ident.meta.get("column"))

    def keyword_column(self, meta, children):
        tok = children[0]
        return _pos(exp.Column(this=_pos(exp.Identifier(this=tok.value, quoted=False), tok)), tok)

    def position_column(self, meta, children):
        return _pos(exp.Column(this=exp.Identifier(this="position", quoted=False)), meta)

    def paren(self, meta, children):
        return _pos(exp.Paren(this=children[0]), meta)

    def row_constructor(self, meta, children):
        return _pos(exp.Tuple(expressions=list(children)), meta)

    def scalar_subquery(self, meta, children):
        return _pos(exp.Subquery(this=children[0]), meta)

    def exists(self, meta, children):
        return _pos(exp.Exists(this=exp.Subquery(this=children[0])), meta)

    def when_clause(self, meta, children):
        return _pos(exp.If(this=children[0], true=children[1]), meta)

    def else_clause(self, meta, children):
        return ("else", children[0])

    def _case(self, meta, operand, children):
        ifs = [c for c in children if isinstance(c, exp.If)]
        default = [c[1] for c in children if isinstance(c, tuple)]
        node = exp.Case(this=operand, ifs=ifs, default=default[0] if default else None)
        return _pos(node, meta)

    def simple_case(self, meta, children):
        return self._case(meta, children[0], children[1:])

    def searched_case(self, meta, children):
        return self._case(meta, None, children)

    def cast(self, meta, children):
        kind, value, type_name = children
        cls = exp.TryCast if kind.type == "TRY_CAST" else exp.Cast
        return _pos(cls(this=value, to=type_name), kind)

    def type(self, meta, children):
        text = ""
        for part in children:
            if isinstance(part, exp.Identifier):
                text += (" " if text else "") + part.name
            elif isinstance(part, Token):
                text += part.value
            else:  # parameters
                text += part
        return _pos(TypeName(this=text), meta)

    def type_params(self, meta, children):
        return "(" + ", ".join(c.name for c in children) + ")"

    def extract(self, meta, children):
        field, value = children
        return _pos(exp.Extract(this=exp.Var(this=field.name.upper()), expression=value), meta)

    def position(self, meta, children):
        needle, haystack = children
        return _pos(exp.Anonymous(this="strpos", expressions=[haystack, needle]), meta)

    def grouping_call(self, meta, children):
        return _pos(exp.Anonymous(this="grouping", expressions=list(children)), meta)

    def array_constructor(self, meta, children):
        return _pos(exp.Array(expressions=_nodes(children)), meta)

    def niladic(self, meta, children):
        tok = children[0]
        return _pos(exp.Anonymous(this=tok.value.lower(), expressions=[]), tok)

    def typed_literal(self, meta, children):
        ident, value = children
        return _pos(exp.Cast(this=_string(value), to=TypeName(this=ident.name.lower())), meta)

    def interval(self, meta, children):
        sign = [c.value for c in children if isinstance(c, Token) and c.type == "ADD_OP"]
        value = [c for c in children if isinstance(c, Token) and c.type == "STRING"][0]
        fields = [c for c in children if isinstance(c, str) and not isinstance(c, Token)]
        text = _unquote(value.value, "'")
        if sign and sign[0] == "-":
            text = "-" + text
        unit = " TO ".join(fields)
        return _pos(exp.Interval(this=exp.Literal.string(text), unit=exp.Var(this=unit)), meta)

    def interval_field(self, meta, children):
        return children[0].name.upper()

    # ---- function calls --------------------------------------------------------------

    def function_call(self, meta, children):
        name = children[0]
        args, order, distinct = [], None, False
        filter_, over = None, None
        for c in children[1:]:
            if isinstance(c, tuple) and c[0] == "args":
                _, args, order, distinct = c
            elif isinstance(c, exp.Where):
                filter_ = c
            elif isinstance(c, exp.Window):
                over = c
        if distinct:
            args = [exp.Distinct(expressions=args)]
        node = exp.Anonymous(this=name.name.lower(), expressions=args)
        if order is not None:
            node.set("order", order)
        node = with_position(node, name.meta.get("line"), name.meta.get("column"))
        return self._decorate(node, filter_, over)

    def count_star(self, meta, children):
        name = children[0]
        node = exp.Anonymous(this=name.name.lower(), expressions=[exp.Star()])
        node = with_position(node, name.meta.get("line"), name.meta.get("column"))
        rest = children[1:]
        filter_ = next((c for c in rest if isinstance(c, exp.Where)), None)
        over = next((c for c in rest if isinstance(c, exp.Window)), None)
        return self._decorate(node, filter_, over)

    @staticmethod
    def _decorate(node, filter_, over):
        if filter_ is not None:
            node = with_position(exp.Filter(this=node, expression=filter_), *_line_col_node(node))
        if over is not None:
            over.set("this", node)
            node = with_position(over, *_line_col_node(node))
        return node

    def call_args(self, meta, children):
        distinct = False
        order = None
        args = []
        for c in children:
            if isinstance(c, str) and c in ("DISTINCT", "ALL"):
                distinct = c == "DISTINCT"
            elif isinstance(c, exp.Order):
                order = c
            else:
                args.append(c)
        return ("args", args, order, distinct)

    def lambda_(self, meta, children):
        params, _, body = children
        items = params.expressions if isinstance(params, exp.Tuple) else [params]
        if isinstance(params, exp.Paren):
            items = [params.this]
        names = []
        for item in items:
            if not isinstance(item, exp.Column) or item.table:
                raise ValidationError("A lambda's parameters must be plain names.", *_line_col_node(params))
            names.append(item.this)
        return _pos(exp.Lambda(this=body, expressions=names), meta)

    def filter_clause(self, meta, children):
        return exp.Where(this=children[0])

    def over_clause(self, meta, children):
        return children[0]

    def window_spec(self, meta, children):
        window = exp.Window()
        for c in children:
            if isinstance(c, tuple) and c[0] == "partition":
                window.set("partition_by", c[1])
            elif isinstance(c, exp.Order):
                window.set("order", c)
            elif isinstance(c, exp.WindowSpec):
                window.set("spec", c)
        return _pos(window, meta)

    def partition_by(self, meta, children):
        return ("partition", list(children))

    def frame(self, meta, children):
        kind = children[0].value.upper()
        bounds = children[1:]
        start = bounds[0]
        end = bounds[1] if len(bounds) > 1 else ("CURRENT ROW", None)
        return exp.WindowSpec(kind=kind, start=start[0], start_side=start[1], end=end[0], end_side=end[1])

    def unbounded_bound(self, meta, children):
        return ("UNBOUNDED", children[0].value.upper())

    def current_row_bound(self, meta, children):
        return ("CURRENT ROW", None)

    def offset_bound(self, meta, children):
        return (children[0], children[1].value.upper())

    # ---- literals and names ------------------------------------------------------------

    def int_literal(self, meta, children):
        return _pos(exp.Literal.number(children[0].value), children[0])

    def decimal_literal(self, meta, children):
        return _pos(exp.Literal.number(children[0].value), children[0])

    def string_literal(self, meta, children):
        return _string(children[0])

    def duration(self, meta, children):
        return _pos(Duration(this=children[0].value.lower()), children[0])

    def bool_literal(self, meta, children):
        tok = children[0]
        return _pos(exp.Boolean(this=tok.type == "TRUE"), tok)

    def null_literal(self, meta, children):
        return _pos(exp.Null(), meta)

    def name(self, meta, children):
        tok = children[0]
        return _pos(exp.Identifier(this=tok.value, quoted=False), tok)

    def quoted_name(self, meta, children):
        tok = children[0]
        return _pos(exp.Identifier(this=_unquote(tok.value, '"'), quoted=True), tok)


def _row_of(value) -> exp.Tuple:
    """A VALUES item as its row: `(a, b)`, `((a, b))` and `ROW(a, b)` are two columns."""
    while isinstance(value, exp.Paren):
        value = value.this
    if isinstance(value, exp.Anonymous) and value.name == "row":
        return exp.Tuple(expressions=list(value.expressions))
    return value if isinstance(value, exp.Tuple) else exp.Tuple(expressions=[value])


def _line_col(meta) -> tuple:
    return getattr(meta, "line", None), getattr(meta, "column", None)


def _line_col_node(node) -> tuple:
    return node.meta.get("line"), node.meta.get("column")
