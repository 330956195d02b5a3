"""The pytest plugin (registered through the `pytest11` entry point: installing tsql is
enough). Fixtures:

- `tsql_db`: an embedded in-memory database;
- `timestream_mock`: boto3's Timestream clients served in-process (`mock_timestream`),
  yielding the mock, which answers `query`, `write_records`, ... as the database does
  (and serves `tsql_db` when the test asks for both);
- `tsql_server`: a real `tsql serve` on a free loopback port, yielding its endpoint URL.

`@pytest.mark.tsql(now="2024-01-01T00:00:00Z", throttle_rate=0.2, seed=1)` sets the
frozen clock and the failures to inject (see tsql.testing.Faults) for a test.
Imports stay inside the fixtures: loading the plugin costs every pytest run nothing.
"""

from __future__ import annotations

import pytest


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "tsql(now=None, **faults): the frozen clock and injected failures of the tsql fixtures")


def _options(request) -> dict:
    marker = request.node.get_closest_marker("tsql")
    return dict(marker.kwargs) if marker is not None else {}


@pytest.fixture
def tsql_db(request):
    """An embedded in-memory tsql database (clock frozen by `@pytest.mark.tsql(now=...)`)."""
    import tsql
    from tsql.clock import FixedClock

    now = _options(request).get("now")
    db = tsql.connect(clock=FixedClock(now) if now is not None else None)
    yield db
    db.close()


@pytest.fixture
def timestream_mock(request):
    """boto3's timestream-write/-query clients served in-process; yields the mock, which
    answers as the database does (`query`, `list_tables`, ..., `clock`), plus `calls`."""
    from tsql.testing import mock_timestream

    options = _options(request)
    if "tsql_db" in request.fixturenames:  # serve the database the test set up
        options.pop("now", None)
        mock = mock_timestream(request.getfixturevalue("tsql_db"), **options)
    else:
        mock = mock_timestream(**options)
    with mock:
        yield mock


@pytest.fixture
def tsql_server(request):
    """A `tsql serve` process on a free loopback port; yields its endpoint URL."""
    from tsql.testing import serve

    server = serve(**_options(request))
    try:
        yield server.endpoint_url
    finally:
        server.stop()
