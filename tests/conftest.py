"""Shared fixtures: an in-memory database on a frozen clock, and small devops data."""

from __future__ import annotations

import pytest

import tsql
from tsql.clock import FixedClock

# 2024-01-01T00:00:00Z: tests that need "now" use this, so results never depend on the day
NOW = 1_704_067_200 * 10**9


@pytest.fixture
def clock():
    return FixedClock(NOW)


@pytest.fixture
def db(clock):
    database = tsql.connect(clock=clock)
    yield database
    database.close()


@pytest.fixture
def sample_db(db):
    """A database with database "tsdb", table "metrics" (memory retention 24 h), no rows."""
    db.create_database("tsdb")
    db.create_table("tsdb", "metrics", memory_retention_hours=24)
    return db
