"""`tsql serve`: run the Timestream write and query APIs over HTTP for unmodified AWS SDKs."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading

from tsql.cli import default_data_dir, open_database

from .http import MAX_REQUEST_BYTES, AuditLog, Server, audit_stream, is_loopback, tls_context

DEFAULT_PORT = 8086


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="tsql serve",
        description="Serve the Timestream write and query APIs (AWS JSON 1.0) for unmodified AWS SDK clients: "
                    "point their endpoint_url at this server.",
    )
    where = p.add_mutually_exclusive_group()
    where.add_argument("--data", metavar="PATH",
                       help=f"database directory (default: {default_data_dir()}; $TSQL_DATA overrides)")
    where.add_argument("--memory", action="store_true", help="keep everything in memory (lost at exit)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1; any other "
                   "than loopback needs --credentials)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0 picks a free one)")
    p.add_argument("--credentials", metavar="FILE", help="JSON file of access keys and their permissions; "
                   "requests must then be signed (AWS Signature Version 4)")
    p.add_argument("--tls-cert", metavar="FILE", help="serve HTTPS with this certificate (PEM, chain first)")
    p.add_argument("--tls-key", metavar="FILE", help="the certificate's private key (PEM)")
    p.add_argument("--max-concurrency", type=int, default=32, metavar="N",
                   help="requests processed at once (default 32)")
    p.add_argument("--max-queue", type=int, default=128, metavar="N",
                   help="requests waiting for a slot before ThrottlingException (default 128)")
    p.add_argument("--max-request-bytes", type=int, default=MAX_REQUEST_BYTES, metavar="N",
                   help=f"largest request body accepted (default {MAX_REQUEST_BYTES})")
    p.add_argument("--audit-log", metavar="FILE", default="-",
                   help="append one JSON line per request to FILE ('-' = standard error, the default)")
    p.add_argument("--shutdown-grace", type=float, default=30.0, metavar="SECONDS",
                   help="on SIGTERM, how long to let in-flight requests finish (default 30)")
    p.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    testing = p.add_argument_group("testing", "a frozen clock and injected failures, for testing clients")
    testing.add_argument("--now", metavar="TIME", help="freeze now() and the retention windows at this ISO-8601 "
                         "time (e.g. 2024-01-01T00:00:00Z)")
    testing.add_argument("--throttle-rate", type=float, default=0.0, metavar="P",
                         help="answer this fraction of calls with ThrottlingException")
    testing.add_argument("--throttle-calls", type=_numbers, default=(), metavar="N,...",
                         help="answer these calls (1-based, DescribeEndpoints not counted) with ThrottlingException")
    testing.add_argument("--internal-error-rate", type=float, default=0.0, metavar="P",
                         help="answer this fraction of calls with InternalServerException")
    testing.add_argument("--internal-error-calls", type=_numbers, default=(), metavar="N,...",
                         help="answer these calls with InternalServerException")
    testing.add_argument("--reject-rate", type=float, default=0.0, metavar="P",
                         help="reject this fraction of the records of each WriteRecords call")
    testing.add_argument("--page-rows", type=int, metavar="N", help="at most N rows in a Query page")
    testing.add_argument("--empty-pages", type=int, default=0, metavar="N",
                         help="N empty pages (with a NextToken) before a query's first rows")
    testing.add_argument("--latency", type=float, default=0.0, metavar="SECONDS", help="added to every call")
    testing.add_argument("--fault-seed", type=int, default=0, metavar="N", help="seed of the injected failures")
    return p


def _numbers(text: str) -> tuple:
    try:
        return tuple(int(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of call numbers: {text!r}") from None


def _faults(args):
    """The Faults the options ask for, or None."""
    from .faults import Faults

    faults = Faults(args.throttle_rate, args.throttle_calls, args.internal_error_rate, args.internal_error_calls,
                    args.reject_rate, args.page_rows, args.empty_pages, args.latency, seed=args.fault_seed)
    return None if faults == Faults(seed=args.fault_seed) else faults


def main(argv: list[str] | None = None) -> int:
    """Serve the Timestream APIs over HTTP for AWS SDK clients."""
    args = parser().parse_args(argv)
    logging.basicConfig(level=args.log_level, format="tsql serve: %(levelname)s %(message)s", stream=sys.stderr)

    def fail(message: str) -> int:
        print(f"tsql serve: {message}", file=sys.stderr)
        return 2

    if bool(args.tls_cert) != bool(args.tls_key):
        return fail("--tls-cert and --tls-key go together")
    if not args.credentials and not is_loopback(args.host):
        return fail(f"refusing to listen on {args.host} without --credentials: anyone who can reach it could read "
                    "and write every database. Give --credentials FILE, or listen on 127.0.0.1.")

    import tsql
    from tsql.clock import FixedClock
    from tsql.errors import Error

    from .auth import CredentialsFileError, KeyStore, SigV4Verifier
    from .protocol import Protocol
    from .queries import QueryCache
    from .tags import TagStore

    verifier = None
    if args.credentials:
        try:
            keys = KeyStore.load(args.credentials)
        except CredentialsFileError as e:
            return fail(f"credentials: {e}")
        verifier = SigV4Verifier(keys)
    try:
        tls = tls_context(args.tls_cert, args.tls_key) if args.tls_cert else None
    except (OSError, ValueError) as e:  # ssl.SSLError is an OSError
        return fail(f"TLS: {e}")

    try:
        clock = FixedClock(args.now) if args.now else None
        faults = _faults(args)
        db = tsql.connect(clock=clock) if args.memory else open_database(args.data, sys.stderr, clock)
    except Error as e:
        return fail(str(e))
    path = db.path
    audit = AuditLog(audit_stream(args.audit_log))
    protocol = Protocol(db, TagStore(path), QueryCache(), faults=faults)
    try:
        server = Server(protocol, args.host, args.port, verifier=verifier, tls=tls, audit=audit,
                        max_request_bytes=args.max_request_bytes, max_active=args.max_concurrency,
                        max_queued=args.max_queue)
    except OSError as e:
        db.close()
        return fail(f"cannot listen on {args.host}:{args.port}: {e.strerror or e}")

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    server.start()
    where = "in memory" if path is None else path
    print(f"tsql serve: listening on {server.url} (Timestream write and query APIs; data {where})",
          file=sys.stderr, flush=True)
    if clock is not None:
        print(f"tsql serve: the clock stands still at {args.now}", file=sys.stderr, flush=True)
    if faults is not None:
        print(f"tsql serve: injecting failures: {faults}", file=sys.stderr, flush=True)
    if verifier is None:
        print("tsql serve: authentication is off (no --credentials): listening on loopback only",
              file=sys.stderr, flush=True)
    else:
        print(f"tsql serve: authentication: AWS Signature Version 4, {len(verifier.keys)} key(s) from "
              f"{args.credentials}", file=sys.stderr, flush=True)

    while not stop.wait(0.5):
        pass
    print("tsql serve: shutting down: finishing requests in flight", file=sys.stderr, flush=True)
    finished = server.stop(args.shutdown_grace)
    db.close()
    print("tsql serve: stopped" + ("" if finished else " (some requests did not finish in time)"),
          file=sys.stderr, flush=True)
    return 0 if finished else 1


if __name__ == "__main__":
    sys.exit(main())
