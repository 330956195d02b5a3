"""The grammar and its Transformer (planner/parser.py): positions, names, literals."""

from __future__ import annotations

import pytest
from sqlglot import exp

import tsql
from tsql.planner.ast import Duration
from tsql.planner.parser import parse


def test_positions_are_line_and_column_of_the_token():
    tree = parse("SELECT a,\n  b + 1\nFROM t")
    column = tree.expressions[1].this
    assert (column.meta["line"], column.meta["column"]) == (2, 3)
    assert (tree.expressions[1].meta["line"], tree.expressions[1].meta["column"]) == (2, 5)  # the '+'


@pytest.mark.parametrize("sql, name", [
    ('SELECT "select" FROM t', "select"), ('SELECT "a""b" FROM t', 'a"b'), ("SELECT limit FROM t", "limit"),
    ("SELECT measure_value::double FROM t", "measure_value::double"), ("SELECT rows FROM t", "rows"),
])
def test_identifiers(sql, name):
    assert parse(sql).expressions[0].name == name


def test_duration_literals_need_no_space():
    tree = parse("SELECT 15m, 1.5h, 15 m")
    assert isinstance(tree.expressions[0], Duration) and tree.expressions[0].name == "15m"
    assert isinstance(tree.expressions[1], Duration)
    assert isinstance(tree.expressions[2], exp.Alias)  # `15 m` is 15 AS m


def test_values_rows_of_row_values_are_columns():
    tree = parse("VALUES (1, 2), ((3, 4)), ROW(5, 6)")
    assert [len(t.expressions) for t in tree.expressions] == [2, 2, 2]


@pytest.mark.parametrize("sql, message", [
    ("", "The query is empty."),
    ("   ", "The query is empty."),
    ("SELECT 1 2", "line 1:10: mismatched input '2'. Expecting:"),
    ("SELECT x::double FROM t", "line 1:9: token recognition error at: ':'"),
])
def test_syntax_errors(sql, message):
    with pytest.raises(tsql.ValidationError) as info:
        parse(sql)
    assert str(info.value).startswith(message)


def test_comments_are_ignored():
    assert parse("-- a\nSELECT /* b */ 1 -- c").expressions[0].this == "1"
