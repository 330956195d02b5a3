"""TIME literals and casts of varchar to time (a read-only mask once broke them)."""

from __future__ import annotations

import datetime as dt

import pytest

import tsql


def test_time_literal(db):
    assert db.query("SELECT time '01:02:03.123456789'").rows == [(dt.time(1, 2, 3, 123456),)]


def test_cast_varchar_to_time_rejects_out_of_range(db):
    assert db.query("SELECT try_cast('23:59' AS time)").scalar() == dt.time(23, 59)
    with pytest.raises(tsql.QueryExecutionError):
        db.query("SELECT cast('24:00:00' AS time)")
