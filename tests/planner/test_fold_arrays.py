"""A constant array folded by the binder stays usable in grouped queries (hashable)."""


def test_folded_array_constant_in_an_aggregate_query(db):
    rows = db.query("SELECT g, cardinality(array_agg(x)), sequence(1, 3), ARRAY[g] || sequence(1, 2) "
                    "FROM (VALUES (1, 10), (1, 11), (2, 12)) AS t(g, x) GROUP BY g ORDER BY g").rows
    assert rows == [(1, 2, [1, 2, 3], [1, 1, 2]), (2, 1, [1, 2, 3], [2, 1, 2])]
