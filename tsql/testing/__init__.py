"""Testing code that uses Timestream: the real engine inside the test run.

- `mock_timestream()`: boto3/botocore Timestream clients served in-process (mock.py);
- `serve()`: a real `tsql serve` process on a free loopback port (server.py);
- `Faults`: failures to inject, `FixedClock`: a clock that stands still until advanced;
- the pytest plugin (plugin.py, registered by installing tsql) with the fixtures
  `tsql_db`, `timestream_mock` and `tsql_server`.
"""

from tsql.clock import FixedClock
from tsql.server.faults import Faults

from .mock import TimestreamMock, mock_timestream
from .server import TsqlServer, serve

__all__ = ["mock_timestream", "TimestreamMock", "serve", "TsqlServer", "Faults", "FixedClock"]
