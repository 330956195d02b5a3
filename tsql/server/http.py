"""The HTTP side of `tsql serve`: a threaded HTTP/1.1 server (optionally TLS) that reads
AWS JSON requests, verifies their signatures, admits them under a concurrency limit,
hands them to the protocol, and writes metrics and one audit line per request.
Graceful shutdown: stop accepting, let admitted requests finish, then stop.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import socket
import ssl
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from tsql.errors import Error, ThrottlingError, ValidationError

from .auth import ANONYMOUS, AuthError, SigV4Verifier
from .metrics import ServerMetrics
from .protocol import SHAPES, Endpoint, Protocol, Request, Response, error_response

log = logging.getLogger("tsql.server")

MAX_REQUEST_BYTES = 8 * 2**20
IDLE_TIMEOUT = 60.0  # seconds a keep-alive connection may wait for its next request


class ServiceUnavailableError(Error):
    aws_type = "ServiceUnavailableException"
    http_status = 503


class Admission:
    """At most `max_active` requests run at once and `max_queued` more wait their turn;
    a request beyond that is refused with ThrottlingException, so overload is explicit.
    `drain` refuses new requests and waits for the admitted ones to finish."""

    def __init__(self, max_active: int, max_queued: int):
        self.max_active = max(1, max_active)
        self.max_queued = max(0, max_queued)
        self.active = 0
        self.waiting = 0
        self.draining = False
        self._cond = threading.Condition()

    def enter(self) -> None:
        with self._cond:
            if self.draining:
                raise ServiceUnavailableError("The server is shutting down.")
            if self.active + self.waiting >= self.max_active + self.max_queued:
                raise ThrottlingError(
                    f"Rate exceeded: the server is processing {self.active} requests with {self.waiting} waiting. "
                    "Retry with backoff."
                )
            self.waiting += 1
            while self.active >= self.max_active:
                self._cond.wait()
            self.waiting -= 1
            self.active += 1

    def leave(self) -> None:
        with self._cond:
            self.active -= 1
            self._cond.notify_all()

    def drain(self, timeout: float | None = None) -> bool:
        with self._cond:
            self.draining = True
            return self._cond.wait_for(lambda: self.active == 0 and self.waiting == 0, timeout)


class AuditLog:
    """One JSON object per line and request: who did what to which table, and how it went."""

    def __init__(self, stream):
        self.stream = stream
        self._lock = threading.Lock()

    def write(self, entry: dict) -> None:
        line = json.dumps(entry, ensure_ascii=False, separators=(",", ":")) + "\n"
        with self._lock:
            try:
                self.stream.write(line)
                self.stream.flush()
            except (OSError, ValueError):  # a closed or full log must not fail the request
                pass


class Server:
    """`tsql serve`'s HTTP server around a Protocol."""

    def __init__(self, protocol: Protocol, host: str = "127.0.0.1", port: int = 8086,
                 verifier: SigV4Verifier | None = None, tls: ssl.SSLContext | None = None,
                 metrics: ServerMetrics | None = None, audit: AuditLog | None = None,
                 max_request_bytes: int = MAX_REQUEST_BYTES, max_active: int = 32, max_queued: int = 128):
        self.protocol = protocol
        self.verifier = verifier
        self.tls = tls
        self.metrics = metrics or ServerMetrics()
        self.audit = audit
        self.max_request_bytes = max_request_bytes
        self.admission = Admission(max_active, max_queued)
        self.scheme = "https" if tls is not None else "http"
        self.httpd = _HTTPServer((host, port), _Handler, self)
        self.host = host
        self.port = self.httpd.server_address[1]
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"

    def start(self) -> "Server":
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.2},
                                        name="tsql-serve-accept", daemon=True)
        self._thread.start()
        return self

    def stop(self, grace: float = 30.0) -> bool:
        """Stop accepting connections, let admitted requests finish (for up to `grace`
        seconds), and close the listening socket. True if every request finished."""
        self.httpd.shutdown()
        self.httpd.server_close()
        finished = self.admission.drain(grace)
        if self._thread is not None:
            self._thread.join(5)
        return finished

    # --- one request ----------------------------------------------------------------------

    def endpoint(self, host_header: str | None) -> Endpoint:
        return Endpoint.from_host_header(self.scheme, host_header, self.host, self.port)

    def handle(self, handler: "_Handler", body: bytes, finish) -> None:
        """Authenticate, admit and answer one API call; `finish(response)` sends the
        response (and logs it) while the request still holds its admission slot, so a
        graceful shutdown waits for the answer to be on its way."""
        op = Protocol.operation_from_target(handler.headers.get("X-Amz-Target"))
        request = Request(op, body, request_id=handler.request_id, endpoint=self.endpoint(handler.headers.get("Host")),
                          user_agent=" ".join(filter(None, (handler.headers.get("User-Agent"),
                                                            handler.headers.get("X-Amz-User-Agent")))))
        if self.verifier is not None:
            url = urlsplit(handler.path)
            try:
                request.principal = self.verifier.verify(
                    handler.command, url.path, url.query, list(handler.headers.items()), body, secure=self.tls is not None
                )
            except AuthError as e:
                return finish(error_response(e, op, request.request_id))
        else:
            request.principal = ANONYMOUS
        handler.principal = request.principal
        try:
            self.admission.enter()
        except (ThrottlingError, ServiceUnavailableError) as e:
            if isinstance(e, ThrottlingError):
                self.metrics.throttled.inc()
            return finish(error_response(e, op, request.request_id))
        self.metrics.in_flight.inc()
        try:
            finish(self.protocol.handle(request))
        finally:
            self.metrics.in_flight.dec()
            self.admission.leave()

    def record(self, handler: "_Handler", response: Response, seconds: float, bytes_in: int) -> None:
        op = response.operation if response.operation in SHAPES else "unknown"
        outcome = response.error or "OK"
        m = self.metrics
        m.requests.inc(1, op, outcome)
        m.latency.observe(seconds, op)
        m.request_bytes.inc(bytes_in)
        m.response_bytes.inc(len(response.body))
        if response.records_ingested:
            m.records_ingested.inc(response.records_ingested)
        if response.records_rejected:
            m.records_rejected.inc(response.records_rejected)
        if response.ran_query:
            m.queries.inc(1, outcome)
            m.bytes_scanned.inc(response.bytes_scanned)
            m.query_latency.observe(response.query_seconds)
        if self.audit is not None:
            principal = handler.principal
            entry = {
                "time": _iso_now(),
                "request_id": handler.request_id,
                "remote": handler.client_address[0],
                "key_id": (principal.access_key_id or None) if principal is not None else None,
                "principal": principal.name if principal is not None else None,
                "action": response.operation or None,
                "database": response.database,
                "table": response.table,
                "status": response.status,
                "outcome": outcome,
                "ms": round(seconds * 1000, 3),
                "bytes_in": bytes_in,
                "bytes_out": len(response.body),
            }
            if response.records_ingested or response.records_rejected:
                entry["records_ingested"] = response.records_ingested
                entry["records_rejected"] = response.records_rejected
            if response.ran_query:
                entry["bytes_scanned"] = response.bytes_scanned
            self.audit.write(entry)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True  # idle keep-alive connections must not hold up shutdown
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address, handler, app: Server):
        self.app = app
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, handler)

    def finish_request(self, request, client_address):
        # the TLS handshake runs here, in the connection's thread, not in the accept loop
        if self.app.tls is None:
            return super().finish_request(request, client_address)
        request.settimeout(IDLE_TIMEOUT)
        try:
            secure = self.app.tls.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as e:
            log.debug("TLS handshake with %s failed: %s", client_address[0], e)
            return
        try:
            super().finish_request(secure, client_address)
        finally:
            try:
                secure.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            secure.close()

    def handle_error(self, request, client_address):
        log.debug("connection from %s failed", client_address[0], exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "tsql"
    timeout = IDLE_TIMEOUT
    # headers and body go out in separate writes: with Nagle's algorithm on, the body
    # waits for the client's delayed ACK (~40 ms per request)
    disable_nagle_algorithm = True
    server: _HTTPServer

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format, *args):  # the audit log records requests
        log.debug("%s %s", self.address_string(), format % args)

    def do_POST(self):
        app = self.server.app
        started = time.perf_counter()
        self.request_id = str(uuid.uuid4())
        self.principal = None
        body = b""

        def finish(response: Response) -> None:
            if app.admission.draining:
                self.close_connection = True
            self._send(response.status, response.headers, response.body)
            app.record(self, response, time.perf_counter() - started, len(body))

        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            self.close_connection = True
            return finish(error_response(ValidationError(
                "Requests must have a Content-Length; chunked bodies are not supported."), "", self.request_id))
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0:
            self.close_connection = True
            return finish(error_response(ValidationError("Invalid Content-Length."), "", self.request_id))
        if length > app.max_request_bytes:
            response = error_response(ValidationError(
                f"Request size {length} bytes exceeds the limit of {app.max_request_bytes} bytes."),
                Protocol.operation_from_target(self.headers.get("X-Amz-Target")), self.request_id)
            response.status = 413
            self.close_connection = True  # the unread body makes the connection unusable
            return finish(response)
        body = self.rfile.read(length)
        if len(body) < length:  # the client went away
            self.close_connection = True
            return
        app.handle(self, body, finish)

    def do_GET(self):
        app = self.server.app
        if urlsplit(self.path).path == "/metrics":
            text = app.metrics.render().encode()
            self._send(200, {"Content-Type": ServerMetrics.CONTENT_TYPE}, text)
            return
        body = json.dumps({"__type": "UnknownOperationException",
                           "Message": "tsql serve answers POST / (the Timestream APIs) and GET /metrics."}).encode()
        self._send(404, {"Content-Type": "application/x-amz-json-1.0"}, body)

    def _send(self, status: int, headers: dict, body: bytes) -> None:
        try:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, socket.timeout):
            self.close_connection = True


def _iso_now() -> str:
    now = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now * 1000) % 1000:03d}Z"


def is_loopback(host: str) -> bool:
    """Whether every address `host` names is a loopback address."""
    try:
        infos = socket.getaddrinfo(host, None)
    except socket.gaierror:
        return False
    addresses = {info[4][0].split("%")[0] for info in infos}
    return bool(addresses) and all(ipaddress.ip_address(a).is_loopback for a in addresses)


def tls_context(cert: str, key: str) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert, key)
    return context


def audit_stream(target: str | None):
    if target in (None, "-"):
        return sys.stderr
    return open(target, "a", encoding="utf-8", buffering=1)


__all__ = ["Server", "Admission", "AuditLog", "is_loopback", "tls_context", "audit_stream"]
