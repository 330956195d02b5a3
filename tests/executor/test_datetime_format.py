"""date_format/date_parse (MySQL) and format_datetime/parse_datetime (Joda) tokens,
rendering and parsing (executor/functions/datetime_format.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import tsql
from tsql.executor.functions.datetime_format import joda_tokens, mysql_tokens, parse_one, render

T = pd.Timestamp("2021-01-03 07:08:09.012345678").value  # a Sunday in ISO week 53 of 2020


@pytest.mark.parametrize("fmt, text", [
    ("%Y-%m-%d %H:%i:%s.%f", "2021-01-03 07:08:09.012345678"),
    ("%y %c %e %k %l %p", "21 1 3 7 7 AM"),
    ("%W %a %M %b %j", "Sunday Sun January Jan 003"),
    ("%v %x", "53 2020"),
    ("%r | %T", "07:08:09 AM | 07:08:09"),
    ("100%% %z", "100% z"),
])
def test_mysql_specifiers(fmt, text):
    assert render(mysql_tokens(fmt), np.array([T]))[0] == text


@pytest.mark.parametrize("pattern, text", [
    ("yyyy-MM-dd HH:mm:ss.SSS", "2021-01-03 07:08:09.012"),
    ("yy M d H m s S", "21 1 3 7 8 9 0"),
    ("EEEE, MMMM d, yyyy 'at' h:mm a", "Sunday, January 3, 2021 at 7:08 AM"),
    ("xxxx-'W'ww-e", "2020-W53-7"),
    ("D k K", "3 7 7"),
    ("''yyyy''", "'2021'"),
])
def test_joda_patterns(pattern, text):
    assert render(joda_tokens(pattern), np.array([T]))[0] == text


def test_midnight_in_12_and_24_hour_clocks():
    midnight = pd.Timestamp("2021-01-03 00:30:00").value
    assert render(joda_tokens("h K k H a"), np.array([midnight]))[0] == "12 0 24 0 AM"


@pytest.mark.parametrize("text, fmt, expected", [
    ("2021-01-03 07:08:09", "%Y-%m-%d %H:%i:%s", "2021-01-03 07:08:09"),
    ("03/01/69", "%d/%m/%y", "2069-01-03"),  # two-digit years pivot: 1970..2069
    ("03/01/70", "%d/%m/%y", "1970-01-03"),
    ("2021 003", "%Y %j", "2021-01-03"),
    ("12:30:00 PM", "%r", "1970-01-01 12:30:00"),
    ("12:30:00 AM", "%r", "1970-01-01 00:30:00"),
    ("January 3 2021", "%M %e %Y", "2021-01-03"),
])
def test_mysql_parsing(text, fmt, expected):
    assert parse_one(text, mysql_tokens(fmt)) == pd.Timestamp(expected).value


@pytest.mark.parametrize("text, pattern, expected", [
    ("2021-07-03 10:00 PDT", "yyyy-MM-dd HH:mm z", "2021-07-03 17:00"),
    ("2021-01-03 10:00 America/New_York", "yyyy-MM-dd HH:mm ZZZ", "2021-01-03 15:00"),
    ("2021-01-03T10:00:00Z", "yyyy-MM-dd'T'HH:mm:ssZZ", "2021-01-03 10:00"),
    ("2021-01-03 10:00 -0130", "yyyy-MM-dd HH:mm Z", "2021-01-03 11:30"),
])
def test_joda_parsing_converts_zones_to_utc(text, pattern, expected):
    assert parse_one(text, joda_tokens(pattern)) == pd.Timestamp(expected).value


@pytest.mark.parametrize("text, fmt", [("2021-02-30", "%Y-%m-%d"), ("2021-01-03x", "%Y-%m-%d"), ("21-01-03", "%Y-%m-%d")])
def test_strings_that_do_not_parse(text, fmt):
    assert parse_one(text, mysql_tokens(fmt)) is None


def test_unknown_joda_letter(db):
    with pytest.raises(tsql.QueryExecutionError, match="Illegal pattern component: q"):
        db.query("SELECT format_datetime(now(), 'q')")


def test_parsing_a_column_once_per_distinct_string(db):
    rows = db.query("SELECT date_parse(s, '%Y%m%d') FROM (VALUES '20210103', '20210103', '19991231') AS t(s)").rows
    assert [r[0] for r in rows] == [pd.Timestamp("2021-01-03"), pd.Timestamp("2021-01-03"), pd.Timestamp("1999-12-31")]
