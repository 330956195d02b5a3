"""`mock_timestream()`: boto3's Timestream clients served by an embedded tsql database.

While a mock is active, every botocore client created for `timestream-write` or
`timestream-query` (any region, any credentials, with or without endpoint_url) gets a
`before-send` hook that hands the signed request to the same `Protocol` that
`tsql serve` runs, and returns its answer as the HTTP response botocore would have
received. No socket is opened; botocore still does everything else itself: endpoint
discovery, parameter validation, retries, paginators, error parsing. Clients of other
services are left alone.
"""

from __future__ import annotations

import functools
import inspect
import threading

import tsql
from tsql.clock import FixedClock
from tsql.server.faults import FaultInjector, Faults
from tsql.server.protocol import Endpoint, Protocol, Request

SERVICES = ("timestream-write", "timestream-query")
DEFAULT_REGION = "us-east-1"
_FAKE_CREDENTIALS = {"aws_access_key_id": "tsqltesting", "aws_secret_access_key": "tsqltesting"}

_lock = threading.Lock()
_active: list["TimestreamMock"] = []  # the innermost mock serves the clients created now
_original_create_client = None


class TimestreamMock:
    """A running interception: the database behind it and what its clients asked.

    Attributes of the database (`query`, `write_records`, `list_tables`, ...) are
    reachable on the mock itself, so a test can look at what was written; `clock` is
    the database's clock, `calls` the (operation, error type or None) of every call,
    `injected` how many failures of each kind were injected."""

    def __init__(self, db=None, *, now=None, faults: Faults | None = None, **fault_options):
        if db is not None and now is not None:
            raise tsql.ValidationError("Give now= to the database's clock, not with db=.")
        if faults is not None and fault_options:
            raise tsql.ValidationError("Give either faults=Faults(...) or fault options, not both.")
        self._own_db = db is None
        self._db = db
        self._now = now
        self._faults = faults if faults is not None else (Faults(**fault_options) if fault_options else None)
        self.protocol: Protocol | None = None
        self.calls: list[tuple[str, str | None]] = []
        self._calls_lock = threading.Lock()

    # --- the database, for the test -------------------------------------------------------

    @property
    def db(self):
        if self._db is None:
            raise tsql.ValidationError("The mock is not active: use it in a `with` block or as a decorator.")
        return self._db

    def __getattr__(self, name):  # query, write_records, clock, ... of the database
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.db, name)

    @property
    def injected(self) -> dict:
        injector = self.protocol.faults if self.protocol is not None else None
        return dict(injector.injected) if injector is not None else {}

    # --- starting and stopping --------------------------------------------------------------

    def start(self) -> "TimestreamMock":
        if self._db is None:
            self._db = tsql.connect(clock=FixedClock(self._now) if self._now is not None else None)
        self.protocol = Protocol(self._db, faults=self._faults)
        with _lock:
            _install()
            _active.append(self)
        return self

    def stop(self) -> None:
        with _lock:
            if self in _active:
                _active.remove(self)
            if not _active:
                _uninstall()
        if self._own_db and self._db is not None:
            self._db.close()
            self._db = None

    def __enter__(self) -> "TimestreamMock":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def __call__(self, func):
        """As a decorator: the function runs inside a fresh mock (each call its own)."""
        if inspect.iscoroutinefunction(func):
            raise tsql.ValidationError("mock_timestream decorates plain functions, not coroutines.")

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with TimestreamMock(self._db, now=self._now, faults=self._faults):
                return func(*args, **kwargs)

        return wrapper

    # --- serving a request -------------------------------------------------------------------

    def handle(self, service: str, aws_request, region: str):
        from botocore.awsrequest import AWSResponse

        headers = aws_request.headers
        body = aws_request.body or b""
        if hasattr(body, "read"):
            body = body.read()
        if isinstance(body, str):
            body = body.encode()
        target = headers.get("X-Amz-Target")
        if isinstance(target, bytes):
            target = target.decode()
        agent = headers.get("User-Agent") or ""
        request = Request(
            Protocol.operation_from_target(target), body, service=service,
            endpoint=Endpoint("https", f"{service.split('-')[1]}.{region}.timestream.tsql.invalid"),
            user_agent=agent.decode() if isinstance(agent, bytes) else agent,
        )
        response = self.protocol.handle(request)
        with self._calls_lock:
            self.calls.append((request.operation, response.error))
        return AWSResponse(aws_request.url, response.status, response.headers, _Body(response.body))


class _Body:
    """The raw response botocore reads: it asks for `stream()`."""

    def __init__(self, data: bytes):
        self._data = data

    def stream(self, **_):
        yield self._data


def mock_timestream(db=None, *, now=None, faults: Faults | None = None, **fault_options) -> TimestreamMock:
    """Serve boto3's Timestream clients from an embedded tsql database.

    `db`: a database to serve (default: a new in-memory one, closed at the end);
    `now`: freeze its clock there (ISO-8601 text, datetime or ns) - advance it with
    `mock.clock.advance("2h")`; `faults`: a `Faults` to inject, or its fields as keyword
    arguments (`throttle_rate=0.2, seed=7`). A context manager and a decorator:

        with mock_timestream(now="2024-01-01T00:00:00Z") as ts:
            app.run()                      # boto3.client("timestream-write") inside
            assert ts.query("SELECT count(*) FROM app.events").scalar() == 10
    """
    return TimestreamMock(db, now=now, faults=faults, **fault_options)


# --- the botocore patch (one, shared by nested mocks) ----------------------------------------

def _install() -> None:
    global _original_create_client
    if _original_create_client is not None:
        return
    from botocore.session import Session

    _original_create_client = Session.create_client

    @functools.wraps(_original_create_client)
    def create_client(session, service_name, *args, **kwargs):
        mock = _active[-1] if _active else None
        if mock is None or service_name not in SERVICES:
            return _original_create_client(session, service_name, *args, **kwargs)
        names = inspect.signature(_original_create_client).bind(session, service_name, *args, **kwargs).arguments
        if not names.get("region_name") and not session.get_config_variable("region"):
            kwargs["region_name"] = DEFAULT_REGION  # any region will do: nothing leaves the process
        if not names.get("aws_access_key_id"):
            # botocore signs before sending: give it keys to sign with (looking up the
            # caller's own could wait on an instance-metadata timeout, and nothing checks them)
            kwargs.update(_FAKE_CREDENTIALS)
        client = _original_create_client(session, service_name, *args, **kwargs)
        region = client.meta.region_name

        def before_send(request, **_):
            if mock not in _active:  # the mock ended: the client goes to the network again
                return None
            return mock.handle(service_name, request, region)

        client.meta.events.register(f"before-send.{service_name}", before_send)
        return client

    Session.create_client = create_client


def _uninstall() -> None:
    global _original_create_client
    if _original_create_client is None:
        return
    from botocore.session import Session

    Session.create_client = _original_create_client
    _original_create_client = None
