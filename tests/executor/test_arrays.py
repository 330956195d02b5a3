"""Array functions and lambdas over arrays: one case per line, SQL -> the single value
it returns (Python values), then errors."""

from __future__ import annotations

import pytest

from tsql.errors import QueryExecutionError

CASES = [
    # the developer guide's examples (array-functions.html)
    ("array_distinct(ARRAY[1,2,2,3])", [1, 2, 3]),
    ("array_intersect(ARRAY[1,2,3], ARRAY[3,4,5])", [3]),
    ("array_union(ARRAY[1,2,3], ARRAY[3,4,5])", [1, 2, 3, 4, 5]),
    ("array_except(ARRAY[1,2,3], ARRAY[3,4,5])", [1, 2]),
    ("array_join(ARRAY[1,2,3], ';', '')", "1;2;3"),
    ("array_max(ARRAY[1,2,3])", 3),
    ("array_min(ARRAY[1,2,3])", 1),
    ("array_position(ARRAY[3,4,5,9], 5)", 3),
    ("array_remove(ARRAY[3,4,5,9], 4)", [3, 5, 9]),
    ("array_sort(ARRAY[6,8,2,9,3])", [2, 3, 6, 8, 9]),
    ("arrays_overlap(ARRAY[1,2,3], ARRAY[3,4,5])", True),
    ("cardinality(ARRAY[1,2,3,4])", 4),
    ("concat(ARRAY[1,2,3], ARRAY[4,5,6], ARRAY[7,8,9])", [1, 2, 3, 4, 5, 6, 7, 8, 9]),
    ("element_at(ARRAY[3,4,5,9], 3)", 5),
    ("repeat(1, 3)", [1, 1, 1]),
    ("reverse(ARRAY[1,2,3])", [3, 2, 1]),
    ("sequence(1, 5)", [1, 2, 3, 4, 5]),
    ("slice(ARRAY[1,2,3,4], 2, 2)", [2, 3]),
    ("zip(ARRAY[1,2], ARRAY['1','b'])", [(1, "1"), (2, "b")]),
    # NULLs, empties, strings, the || operator
    ("array_distinct(ARRAY[NULL, 1, NULL])", [None, 1]),
    ("array_distinct(ARRAY['b', 'a', 'b'])", ["b", "a"]),
    ("array_intersect(ARRAY[1, NULL], ARRAY[NULL, 2])", [None]),
    ("array_except(ARRAY[1, 1, 2], ARRAY[])", [1, 2]),
    ("array_join(ARRAY[1, NULL, 3], ',')", "1,3"),
    ("array_join(ARRAY[1, NULL, 3], ',', 'x')", "1,x,3"),
    ("array_join(ARRAY[1.5, 2.0], '|')", "1.5|2.0"),
    ("array_max(ARRAY[1, NULL, 3])", None),
    ("array_max(ARRAY['b', 'c', 'a'])", "c"),
    ("array_min(ARRAY[])", None),
    ("array_position(ARRAY[1, 2], 7)", 0),
    ("array_position(ARRAY[1, 2, 1], 1)", 1),
    ("array_sort(ARRAY[3, NULL, 1])", [1, 3, None]),
    ("array_sort(ARRAY['b', 'a'])", ["a", "b"]),
    ("arrays_overlap(ARRAY[1, NULL], ARRAY[2])", None),
    ("arrays_overlap(ARRAY[1], ARRAY[2])", False),
    ("cardinality(ARRAY[])", 0),
    ("cardinality(CAST(NULL AS array(integer)))", None),
    ("contains(ARRAY[1, 2], 2)", True),
    ("contains(ARRAY[1, NULL], 2)", None),
    ("element_at(ARRAY[1, 2, 3], -1)", 3),
    ("element_at(ARRAY[1, 2, 3], 4)", None),
    ("ARRAY[1, 2] || ARRAY[3]", [1, 2, 3]),
    ("ARRAY[1, 2] || 3", [1, 2, 3]),
    ("0 || ARRAY[1]", [0, 1]),
    ("concat(ARRAY[1], CAST(NULL AS array(integer)))", None),
    ("repeat('ab', 0)", []),
    ("reverse(ARRAY[])", []),
    ("slice(ARRAY[1, 2, 3, 4], -2, 5)", [3, 4]),
    ("slice(ARRAY[1, 2, 3], 5, 1)", []),
    ("zip(ARRAY[1, 2, 3], ARRAY['a'])", [(1, "a"), (2, None), (3, None)]),
    ("cardinality(shuffle(ARRAY[1, 2, 3, 4]))", 4),
    ("array_sort(shuffle(ARRAY[4, 1, 3, 2]))", [1, 2, 3, 4]),
    # lambdas
    ("filter(ARRAY[5, -6, NULL, 7], x -> x > 0)", [5, 7]),
    ("filter(ARRAY[], x -> true)", []),
    ("transform(ARRAY[5, 6], x -> x + 1)", [6, 7]),
    ("transform(ARRAY[5, NULL, 6], x -> coalesce(x, 0) + 1)", [6, 1, 7]),
    ("transform(ARRAY['x', 'abc'], x -> length(x))", [1, 3]),
    ("reduce(ARRAY[], 0, (s, x) -> s + x, s -> s)", 0),
    ("reduce(ARRAY[5, 20, 50], 0, (s, x) -> s + x, s -> s)", 75),
    ("reduce(ARRAY[5, 20, NULL, 50], 0, (s, x) -> s + x, s -> s)", None),
    ("reduce(ARRAY[5, 20, NULL, 50], 0, (s, x) -> s + coalesce(x, 0), s -> s)", 75),
    ("reduce(ARRAY['x', 'y', 'z'], '', (s, x) -> s || x, s -> s)", "xyz"),
    ("reduce(ARRAY[1.5, 2.5], 0, (s, x) -> s + x, s -> s * 2)", 8.0),
    ("any_match(ARRAY[1, 2], x -> x > 1)", True),
    ("any_match(ARRAY[], x -> x > 1)", False),
    ("any_match(ARRAY[1, NULL], x -> x > 1)", None),
    ("all_match(ARRAY[1, 2], x -> x > 0)", True),
    ("all_match(ARRAY[1, NULL], x -> x > 1)", False),
    ("all_match(ARRAY[2, NULL], x -> x > 1)", None),
    ("none_match(ARRAY[1, 2], x -> x > 5)", True),
    ("zip_with(ARRAY[1, 2], ARRAY[3, 4, 5], (x, y) -> x + y)", [4, 6, None]),
    ("transform(ARRAY[1, 2], x -> filter(ARRAY[1, 2, 3], y -> y > x))", [[2, 3], [3]]),
]


@pytest.mark.parametrize("expr, expected", CASES, ids=[c[0] for c in CASES])
def test_array_function(db, expr, expected):
    got = db.query(f"SELECT {expr}").scalar()
    assert got == expected
    assert type(got) is type(expected) or expected is None


def test_functions_run_per_row_over_columns(db):
    rows = db.query(
        "SELECT array_distinct(a), cardinality(a), array_max(a), transform(a, x -> x * m), "
        "filter(a, x -> x > m), reduce(a, 0, (s, x) -> s + x * m, s -> s) "
        "FROM (VALUES (ARRAY[1, 1, 2], 1), (ARRAY[], 2), (CAST(NULL AS array(integer)), 3), (ARRAY[5, 4], 4)) AS t(a, m)"
    ).rows
    assert rows == [
        ([1, 2], 3, 2, [1, 1, 2], [2], 4),
        ([], 0, None, [], [], 0),
        (None, None, None, None, None, None),
        ([5, 4], 2, 5, [20, 16], [5], 36),
    ]


def test_array_results_render_as_array_values(db):
    out = db.query("SELECT ARRAY[1, NULL] AS a").to_timestream()
    assert out["ColumnInfo"] == [{"Name": "a", "Type": {"ArrayColumnInfo": {"Type": {"ScalarType": "INTEGER"}}}}]
    assert out["Rows"][0]["Data"] == [{"ArrayValue": [{"ScalarValue": "1"}, {"NullValue": True}]}]


@pytest.mark.parametrize("expr, message", [
    ("element_at(ARRAY[1], 0)", "SQL array indices start at 1"),
    ("slice(ARRAY[1], 0, 1)", "SQL array indices start at 1"),
    ("slice(ARRAY[1], 1, -1)", "length must be greater than or equal to 0"),
    ("repeat(1, -1)", "count argument of repeat function must be greater than or equal to 0"),
    ("sequence(1, 100000000)", "must not have more than"),
])
def test_array_errors(db, expr, message):
    with pytest.raises(QueryExecutionError, match=message):
        db.query(f"SELECT {expr}")
