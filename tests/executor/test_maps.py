"""Map functions and map aggregates: SQL -> value cases, then errors."""

from __future__ import annotations

import pytest

from tsql.errors import QueryExecutionError

M = "MAP(ARRAY['a', 'b'], ARRAY[1, 2])"

CASES = [
    (M, {"a": 1, "b": 2}),
    ("map()", {}),
    (f"map_keys({M})", ["a", "b"]),
    (f"map_values({M})", [1, 2]),
    (f"cardinality({M})", 2),
    (f"element_at({M}, 'b')", 2),
    (f"element_at({M}, 'z')", None),
    (f"{M}['a']", 1),
    (f"map_concat({M}, MAP(ARRAY['b', 'c'], ARRAY[3, 4]))", {"a": 1, "b": 3, "c": 4}),
    (f"map_filter({M}, (k, v) -> v > 1)", {"b": 2}),
    (f"transform_values({M}, (k, v) -> v * 10)", {"a": 10, "b": 20}),
    (f"transform_keys({M}, (k, v) -> upper(k))", {"A": 1, "B": 2}),
    (f"map_entries({M})", [("a", 1), ("b", 2)]),
    ("map_from_entries(zip(ARRAY['x', 'y'], ARRAY[1, 2]))", {"x": 1, "y": 2}),
    ("MAP(ARRAY[1, 2], ARRAY[NULL, 'v'])", {1: None, 2: "v"}),
]


@pytest.mark.parametrize("expr, expected", CASES, ids=[c[0] for c in CASES])
def test_map_function(db, expr, expected):
    assert db.query(f"SELECT {expr}").scalar() == expected


def test_map_aggregates(db):
    rows = db.query(
        "SELECT g, map_agg(k, v), histogram(k), multimap_agg(k, v) "
        "FROM (VALUES (1, 'a', 1), (1, 'b', 2), (1, 'a', 3), (2, 'c', 4), (2, NULL, 5)) AS t(g, k, v) "
        "GROUP BY g ORDER BY g").rows
    assert rows == [
        (1, {"a": 1, "b": 2}, {"a": 2, "b": 1}, {"a": [1, 3], "b": [2]}),
        (2, {"c": 4}, {"c": 1}, {"c": [4]}),
    ]


def test_map_union(db):
    got = db.query("SELECT map_union(m) FROM (VALUES (MAP(ARRAY['a'], ARRAY[1])), (NULL), "
                   "(MAP(ARRAY['a', 'b'], ARRAY[5, 2]))) AS t(m)").scalar()
    assert got == {"a": 1, "b": 2}


def test_unnest_map_into_keys_and_values(db):
    rows = db.query(f"SELECT k, v FROM UNNEST({M}) AS t(k, v)").rows
    assert rows == [("a", 1), ("b", 2)]


def test_map_renders_as_array_of_rows(db):
    out = db.query(f"SELECT {M} AS m").to_timestream()
    assert out["Rows"][0]["Data"][0] == {"ArrayValue": [
        {"RowValue": {"Data": [{"ScalarValue": "a"}, {"ScalarValue": "1"}]}},
        {"RowValue": {"Data": [{"ScalarValue": "b"}, {"ScalarValue": "2"}]}},
    ]}


@pytest.mark.parametrize("expr, message", [
    ("MAP(ARRAY['a', 'a'], ARRAY[1, 2])", r"Duplicate map keys \(a\) are not allowed"),
    ("MAP(ARRAY['a'], ARRAY[1, 2])", "Key and value arrays must be the same length"),
    ("MAP(ARRAY[NULL], ARRAY[1])", "map key cannot be null"),
    (f"{M}['q']", "Key not present in map: q"),
])
def test_map_errors(db, expr, message):
    with pytest.raises(QueryExecutionError, match=message):
        db.query(f"SELECT {expr}")
