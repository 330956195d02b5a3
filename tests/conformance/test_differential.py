"""Differential test: generated queries that mean the same in Timestream and in DuckDB
run on both engines over the same small table, and must agree.

Hypothesis builds filters, arithmetic, CASE/COALESCE, IN/BETWEEN/IS NULL, aggregates
with GROUP BY and HAVING, ORDER BY with LIMIT, and self-joins, each as a pair of SQL
texts. Only constructs whose semantics the two engines share are generated: integer
division and modulus by non-zero constants (both truncate), no overflow (values are
small), doubles written as DOUBLE in DuckDB (its decimal literals are DECIMAL).
Doubles compare to 1e-9 relative, since summation order may differ.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tsql
from tsql.clock import FixedClock

duckdb = pytest.importorskip("duckdb")

NOW = 1_704_067_200 * 10**9
HOSTS = ["alpha", "beta", "gamma"]
# host, minute, a (bigint), b (double), s (varchar); None: the measure is absent
ROWS = [
    ("alpha", 1, 5, 1.5, "x"), ("alpha", 2, -3, None, "y"), ("alpha", 3, 7, 2.25, None),
    ("beta", 1, None, -4.0, "x"), ("beta", 2, 0, 0.5, "z"), ("beta", 4, 12, 10.0, "y"),
    ("gamma", 1, 2, -1.0, "y"), ("gamma", 2, -8, 3.5, "x"), ("gamma", 5, 1, None, None),
    ("alpha", 6, 9, -2.5, "z"), ("beta", 7, -1, 6.0, "x"), ("gamma", 8, 4, 0.0, "z"),
]


@pytest.fixture(scope="module")
def engines():
    db = tsql.connect(clock=FixedClock(NOW), maintenance_interval=None)
    db.create_database("diffdb")
    db.create_table("diffdb", "tbl", memory_retention_hours=24)
    records = []
    for host, minute, a, b, s in ROWS:
        values = [{"Name": n, "Value": str(v), "Type": t}
                  for n, v, t in (("a", a, "BIGINT"), ("b", b, "DOUBLE"), ("s", s, "VARCHAR")) if v is not None]
        records.append({"Dimensions": [{"Name": "host", "Value": host}], "MeasureName": "m",
                        "MeasureValueType": "MULTI", "MeasureValues": values,
                        "Time": str((NOW - 3600 * 10**9) // 10**6 + minute * 60_000)})
    db.write_records("diffdb", "tbl", records)
    duck = duckdb.connect()
    duck.execute("CREATE TABLE tbl (host VARCHAR, time TIMESTAMP, a BIGINT, b DOUBLE, s VARCHAR)")
    for host, minute, a, b, s in ROWS:
        duck.execute("INSERT INTO tbl VALUES (?, TIMESTAMP '2023-12-31 23:00:00' + ? * INTERVAL 1 MINUTE, ?, ?, ?)",
                     [host, minute, a, b, s])
    yield db, duck
    db.close()
    duck.close()


# --- expression pairs: (timestream sql, duckdb sql, type) --------------------------------------------

def _pair(ts, dk, kind):
    return (ts, dk, kind)


int_literal = st.integers(-20, 20).map(lambda v: _pair(str(v) if v >= 0 else f"({v})", str(v) if v >= 0 else f"({v})",
                                                       "int"))
double_literal = st.sampled_from([0.5, 1.25, -2.5, 3.0, 0.0]).map(
    lambda v: _pair(repr(v) if v >= 0 else f"({v!r})", f"CAST({v!r} AS DOUBLE)", "double"))


def expressions(q: str = "") -> dict:
    """Strategies for expression pairs over the columns of `q` (a qualifier such as "r.")."""
    int_leaf = st.one_of(st.just(_pair(f"{q}a", f"{q}a", "int")), int_literal)
    double_leaf = st.one_of(st.just(_pair(f"{q}b", f"{q}b", "double")), double_literal)
    string_leaf = st.one_of(st.just(_pair(f"{q}s", f"{q}s", "str")), st.just(_pair(f"{q}host", f"{q}host", "str")),
                            st.sampled_from(["x", "y", "alpha"]).map(lambda v: _pair(f"'{v}'", f"'{v}'", "str")))
    number = st.recursive(st.one_of(int_leaf, double_leaf), _arith, max_leaves=4)
    comparison = st.one_of(
        st.builds(_comparison, number, st.sampled_from(["=", "<>", "<", "<=", ">", ">="]), number),
        st.builds(_comparison, string_leaf, st.sampled_from(["=", "<>", "<", ">="]), string_leaf),
        st.builds(lambda e, lo, hi: _pair(f"({e[0]} BETWEEN {lo} AND {hi})", f"({e[1]} BETWEEN {lo} AND {hi})",
                                          "bool"), number, st.integers(-10, 0), st.integers(0, 10)),
        st.builds(lambda e, items: _pair(f"({e[0]} IN ({', '.join(map(str, items))}))",
                                         f"({e[1]} IN ({', '.join(map(str, items))}))", "bool"),
                  int_leaf, st.lists(st.integers(-10, 12), min_size=1, max_size=4)),
        st.builds(lambda e, neg: _pair(f"({e[0]} IS {'NOT ' if neg else ''}NULL)",
                                       f"({e[1]} IS {'NOT ' if neg else ''}NULL)", "bool"),
                  st.one_of(number, string_leaf), st.booleans()),
        st.builds(lambda e, p: _pair(f"({e[0]} LIKE '{p}')", f"({e[1]} LIKE '{p}')", "bool"),
                  string_leaf, st.sampled_from(["a%", "%a", "_", "x", "%m%"])),
    )
    predicate = st.recursive(comparison, _logic, max_leaves=3)
    scalar = st.one_of(
        number,
        st.builds(_case, predicate, number, number),
        st.builds(lambda x, y: _pair(f"coalesce({x[0]}, {y[0]})", f"coalesce({x[1]}, {y[1]})",
                                     "double" if "double" in (x[2], y[2]) else "int"), number, number),
    )
    aggregate = st.one_of(
        st.just(_pair("count(*)", "count(*)", "int")),
        st.builds(lambda fn, e: _pair(f"{fn}({e[0]})", f"{fn}({e[1]})", "double" if fn == "avg" else e[2]),
                  st.sampled_from(["sum", "min", "max", "avg", "count"]), scalar),
        st.builds(lambda fn, e: _pair(f"{fn}({e[0]})", f"{fn}({e[1]})", "str"), st.sampled_from(["min", "max"]),
                  string_leaf),
        # DuckDB's count_if of no rows is NULL, Presto's 0
        st.builds(lambda p: _pair(f"count_if({p[0]})", f"coalesce(count_if({p[1]}), 0)", "int"), predicate),
    )
    return {"number": number, "predicate": predicate, "scalar": scalar, "aggregate": aggregate, "string": string_leaf}


def _arith(children):
    def combine(left, op, right):
        kind = "double" if "double" in (left[2], right[2]) else "int"
        return _pair(f"({left[0]} {op} {right[0]})", f"({left[1]} {op} {right[1]})", kind)

    def divide(left, k):  # by a non-zero constant: both engines truncate integers toward zero
        if left[2] == "int":
            return _pair(f"({left[0]} / {k})", f"({left[1]} // {k})", "int")
        return _pair(f"({left[0]} / {k}.0)", f"({left[1]} / CAST({k} AS DOUBLE))", "double")

    def modulo(left, k):
        return _pair(f"({left[0]} % {k})", f"({left[1]} % {k})", left[2])

    nonzero = st.sampled_from([1, 2, 3, -4, 7])
    return st.one_of(
        st.builds(combine, children, st.sampled_from(["+", "-", "*"]), children),
        st.builds(divide, children, nonzero),
        st.builds(modulo, children.filter(lambda e: e[2] == "int"), nonzero),
        st.builds(lambda e: _pair(f"abs({e[0]})", f"abs({e[1]})", e[2]), children),
        st.builds(lambda e: _pair(f"(-{e[0]})", f"(-{e[1]})", e[2]), children),
    )


def _comparison(left, op, right):
    return _pair(f"({left[0]} {op} {right[0]})", f"({left[1]} {op} {right[1]})", "bool")


def _logic(children):
    return st.one_of(
        st.builds(lambda l, op, r: _pair(f"({l[0]} {op} {r[0]})", f"({l[1]} {op} {r[1]})", "bool"),
                  children, st.sampled_from(["AND", "OR"]), children),
        st.builds(lambda e: _pair(f"(NOT {e[0]})", f"(NOT {e[1]})", "bool"), children),
    )


def _case(cond, then, other):
    kind = "double" if "double" in (then[2], other[2]) else "int"
    return _pair(f"CASE WHEN {cond[0]} THEN {then[0]} ELSE {other[0]} END",
                 f"CASE WHEN {cond[1]} THEN {then[1]} ELSE {other[1]} END", kind)


PLAIN, LEFT, RIGHT, INNER = expressions(), expressions("l."), expressions("r."), expressions("u.")


@st.composite
def queries(draw):
    shape = draw(st.sampled_from(["filter", "group", "global", "join", "order", "subquery"]))
    where = draw(st.one_of(st.none(), PLAIN["predicate"]))
    ts_where = f" WHERE {where[0]}" if where else ""
    dk_where = f" WHERE {where[1]}" if where else ""
    if shape == "filter":
        items = draw(st.lists(st.one_of(PLAIN["scalar"], PLAIN["predicate"], PLAIN["string"]), min_size=1, max_size=3))
        return (f"SELECT {', '.join(i[0] for i in items)} FROM diffdb.tbl{ts_where}",
                f"SELECT {', '.join(i[1] for i in items)} FROM tbl{dk_where}")
    if shape in ("group", "global"):
        aggs = draw(st.lists(PLAIN["aggregate"], min_size=1, max_size=3))
        keys = "host, " if shape == "group" else ""
        group = " GROUP BY host" if shape == "group" else ""
        having = " HAVING count(*) > 1" if shape == "group" and draw(st.booleans()) else ""
        return (f"SELECT {keys}{', '.join(a[0] for a in aggs)} FROM diffdb.tbl{ts_where}{group}{having}",
                f"SELECT {keys}{', '.join(a[1] for a in aggs)} FROM tbl{dk_where}{group}{having}")
    if shape == "join":
        on = draw(LEFT["predicate"])
        value = draw(RIGHT["scalar"])
        kind = draw(st.sampled_from(["JOIN", "LEFT JOIN"]))
        join = "{t} l {kind} {t} r ON l.host = r.host AND {on}"
        return (f"SELECT l.time, r.time, {value[0]} FROM " + join.format(t="diffdb.tbl", kind=kind, on=on[0]),
                f"SELECT l.time, r.time, {value[1]} FROM " + join.format(t="tbl", kind=kind, on=on[1]))
    if shape == "subquery":  # correlated: decorrelated (by equalities) or run per row
        inner = draw(INNER["predicate"])
        template = draw(st.sampled_from([
            "SELECT host, time FROM {t} o WHERE EXISTS (SELECT 1 FROM {t} u WHERE u.host = o.host AND {p})",
            "SELECT host, time FROM {t} o WHERE NOT EXISTS (SELECT 1 FROM {t} u WHERE u.a = o.a AND {p})",
            "SELECT host, time, a IN (SELECT u.a FROM {t} u WHERE u.host = o.host AND u.time <> o.time AND {p}) FROM {t} o",
            "SELECT host, time, (SELECT count(*) FROM {t} u WHERE u.host = o.host AND {p}) FROM {t} o",
            "SELECT host, time, (SELECT max(u.b) FROM {t} u WHERE u.s = o.s AND {p}) FROM {t} o",
            "SELECT host, time FROM {t} o WHERE o.a > (SELECT avg(u.a) FROM {t} u WHERE u.host = o.host AND {p})",
            "SELECT host, time, (SELECT count(*) FROM {t} u WHERE u.time < o.time AND {p}) FROM {t} o",
        ]))
        return template.format(t="diffdb.tbl", p=inner[0]), template.format(t="tbl", p=inner[1])
    key = draw(PLAIN["scalar"])
    limit = draw(st.integers(1, 6))
    # order by a value, then by time and host (unique together), so ties never leave the order open
    order = f"ORDER BY k DESC NULLS LAST, time, host LIMIT {limit}"
    return (f"SELECT time, host, {key[0]} AS k FROM diffdb.tbl{ts_where} {order}",
            f"SELECT time, host, {key[1]} AS k FROM tbl{dk_where} {order}")


def _normal(value):
    if hasattr(value, "to_pydatetime"):  # pandas Timestamp
        value = value.to_pydatetime()
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)) or hasattr(value, "__float__") and not hasattr(value, "year"):
        if isinstance(value, int):
            return value
        return float(value)
    return value


def _same(x, y) -> bool:
    if isinstance(x, float) or isinstance(y, float):
        if x is None or y is None:
            return x is y
        x, y = float(x), float(y)
        return (math.isnan(x) and math.isnan(y)) or math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-12)
    return x == y


def _sort_key(row):
    return tuple((v is None, str(type(v)), str(round(v, 6)) if isinstance(v, float) else str(v)) for v in row)


@settings(max_examples=100, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(queries())
def test_timestream_and_duckdb_agree(engines, pair):
    db, duck = engines
    ts_sql, dk_sql = pair
    got = [tuple(_normal(v) for v in row) for row in db.query(ts_sql).rows]
    want = [tuple(_normal(v) for v in row) for row in duck.execute(dk_sql).fetchall()]
    if " ORDER BY " not in ts_sql:
        got, want = sorted(got, key=_sort_key), sorted(want, key=_sort_key)
    assert len(got) == len(want), (ts_sql, got, want)
    for g, w in zip(got, want):
        assert len(g) == len(w) and all(_same(a, b) for a, b in zip(g, w)), (ts_sql, got, want)
