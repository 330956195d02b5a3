"""sqlglot node classes for what Timestream has and sqlglot lacks, and the dialect
that prints them, so `.sql()`, `.find_all()` and `.transform()` work on every tree.

Function calls are `exp.Anonymous(this=name, expressions=args)` with lower-case names
(a DISTINCT aggregate wraps its arguments in `exp.Distinct`); the binder resolves the
name against the function catalog. Source positions live in `node.meta["line"]` and
`node.meta["column"]`.
"""

from __future__ import annotations

from sqlglot import exp
from sqlglot.dialects.presto import Presto


class Duration(exp.Expression):
    """A duration literal such as `15m` or `42.8ms` (Timestream's parse_duration)."""

    arg_types = {"this": True}  # the literal text


class Show(exp.Expression):
    """SHOW DATABASES | TABLES [FROM db] | MEASURES FROM db.table, with LIKE."""

    arg_types = {"kind": True, "this": False, "like": False}


class Describe(exp.Expression):
    arg_types = {"this": True}  # an exp.Table


class Explain(exp.Expression):
    arg_types = {"this": True, "analyze": False}


class TypeName(exp.Expression):
    """A type as written in CAST / typed literals; `this` is its text (parsed by tsql.types)."""

    arg_types = {"this": True}


def position(node: exp.Expression) -> tuple[int | None, int | None]:
    """(line, column) where `node` starts in the query text, if known."""
    meta = node.meta if node is not None else {}
    return meta.get("line"), meta.get("column")


def with_position(node: exp.Expression, line, column) -> exp.Expression:
    if line is not None:
        node.meta["line"] = line
        node.meta["column"] = column
    return node


class Timestream(Presto):
    """Prints Timestream trees back as Timestream SQL (for EXPLAIN and error messages)."""

    INDEX_OFFSET = 0  # subscripts are kept as written (1-based), not shifted by sqlglot

    class Generator(Presto.Generator):
        TRANSFORMS = {
            **Presto.Generator.TRANSFORMS,
            Duration: lambda self, e: e.name,
            TypeName: lambda self, e: e.name,
            Show: lambda self, e: _show_sql(self, e),
            Describe: lambda self, e: f"DESCRIBE {self.sql(e, 'this')}",
            Explain: lambda self, e: f"EXPLAIN {'ANALYZE ' if e.args.get('analyze') else ''}{self.sql(e, 'this')}",
        }


def _show_sql(gen, e: Show) -> str:
    sql = f"SHOW {e.args['kind']}"
    if e.args.get("this") is not None:
        sql += f" FROM {gen.sql(e, 'this')}"
    if e.args.get("like") is not None:
        sql += f" LIKE {gen.sql(e, 'like')}"
    return sql


def to_sql(node: exp.Expression) -> str:
    """Timestream SQL for a tree (or subtree)."""
    return node.sql(dialect=Timestream)
