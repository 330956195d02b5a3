"""Query results kept between the pages of a Query call, and the pages themselves.

A Query returns at most one page (MaxRows rows, at most 1 MB); the rest of its result
waits here under a random NextToken tied to the query, its text and its caller. A token
serves a few calls (retries) for an hour at most; the cache is bounded in entries and in
(estimated) bytes and forgets the least recently used result first.
"""

from __future__ import annotations

import base64
import json
import math
import os
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from tsql.errors import ConflictError, ValidationError

PAGE_BYTES = 1_000_000  # Timestream's page limit
CHUNK_ROWS = 1000  # rows converted at a time while filling a page
TOKEN_TTL = 3600.0
TOKEN_USES = 5
CLIENT_TOKEN_TTL = 300.0
BYTES_PER_VALUE = 48  # rough in-memory size of one cell of a result, for the byte budget


def _dumps(value) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def new_query_id() -> str:
    """A QueryId as Timestream's: letters and digits only ([a-zA-Z0-9]+, at most 64)."""
    return "AEQ" + base64.b32encode(os.urandom(20)).decode().rstrip("=")


def page(result, start_token: str | None, max_rows: int | None, budget: int = PAGE_BYTES) -> tuple[dict, str | None]:
    """One page of `result` from `start_token` (the Result's own pagination token): at most
    `max_rows` rows and at most `budget` bytes of JSON. Returns ({Rows, ColumnInfo,
    QueryStatus}, the Result's token for the next page or None)."""
    limit = max_rows or math.inf
    rows: list = []
    token = start_token
    first = None
    used = 0
    while len(rows) < limit:
        chunk = result.to_timestream(int(min(CHUNK_ROWS, limit - len(rows))), token)
        if first is None:
            first = chunk
            budget -= len(_dumps(chunk["ColumnInfo"])) + len(_dumps(chunk["QueryStatus"])) + 256
        size = len(_dumps(chunk["Rows"]))
        if used + size <= budget:
            rows.extend(chunk["Rows"])
            used += size
            token = chunk.get("NextToken")
            if token is None:
                break
            continue
        fit = 0
        for row in chunk["Rows"]:  # at most CHUNK_ROWS rows: find how many still fit
            size = len(_dumps(row)) + 1
            if used + size > budget:
                break
            used += size
            fit += 1
        if fit == 0 and not rows:
            raise ValidationError("Query aborted as max page response size has been exceeded by the output result row")
        if fit:
            rows.extend(chunk["Rows"][:fit])
            token = result.to_timestream(fit, token).get("NextToken")
        break
    return {"Rows": rows, "ColumnInfo": first["ColumnInfo"], "QueryStatus": first["QueryStatus"]}, token


@dataclass
class _Query:
    query_string: str
    owner: str  # the caller's access key id
    result: object  # tsql.Result, None once cancelled
    size: int
    expires: float
    cancelled: bool = False


@dataclass
class _Token:
    query_id: str
    inner: str  # the Result's token: where the next page starts
    uses: int
    expires: float


class QueryCache:
    def __init__(self, max_bytes: int = 256 * 2**20, max_queries: int = 1000, ttl: float = TOKEN_TTL,
                 token_uses: int = TOKEN_USES, clock=time.monotonic):
        self.max_bytes = max_bytes
        self.max_queries = max_queries
        self.ttl = ttl
        self.token_uses = token_uses
        self.clock = clock
        self._queries: OrderedDict[str, _Query] = OrderedDict()
        self._tokens: OrderedDict[str, _Token] = OrderedDict()
        self._client_tokens: OrderedDict[str, tuple] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    @property
    def cached_bytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._queries)

    def check_client_token(self, client_token: str | None, query_string: str, owner: str) -> None:
        """A ClientToken reused within 5 minutes must come with the same query and caller."""
        if not client_token:
            return
        now = self.clock()
        with self._lock:
            seen = self._client_tokens.get(client_token)
            if seen is not None and seen[0] > now and seen[1:] != (query_string, owner):
                raise ValidationError(
                    "The ClientToken has been used before with different parameters; a ClientToken identifies "
                    "one query for 5 minutes."
                )
            if seen is None or seen[0] <= now:
                self._client_tokens[client_token] = (now + CLIENT_TOKEN_TTL, query_string, owner)
            while len(self._client_tokens) > 10 * self.max_queries:
                self._client_tokens.popitem(last=False)

    def store(self, query_id: str, result, query_string: str, owner: str, inner_token: str) -> str:
        """Keep `result` for its next pages; returns the NextToken of the page at `inner_token`."""
        size = max(1, len(result)) * max(1, len(result.columns)) * BYTES_PER_VALUE
        now = self.clock()
        with self._lock:
            self._evict(now)
            old = self._queries.pop(query_id, None)
            if old is not None:
                self._bytes -= old.size
            self._queries[query_id] = _Query(query_string, owner, result, size, now + self.ttl)
            self._bytes += size
            while self._queries and (self._bytes > self.max_bytes or len(self._queries) > self.max_queries):
                if next(iter(self._queries)) == query_id:
                    break  # never drop the query being answered
                self._drop_oldest()
            return self._issue(query_id, inner_token, now)

    def next_token(self, query_id: str, inner_token: str) -> str:
        with self._lock:
            return self._issue(query_id, inner_token, self.clock())

    def resume(self, token: str, query_string: str, owner: str) -> tuple[str, object, str]:
        """(QueryId, Result, the Result's token) of a NextToken, or the error Timestream gives."""
        now = self.clock()
        with self._lock:
            self._evict(now)
            t = self._tokens.get(token)
            q = self._queries.get(t.query_id) if t is not None else None
            if t is None or q is None or t.expires <= now or q.expires <= now \
                    or q.query_string != query_string or q.owner != owner:
                raise ValidationError("Invalid pagination token")
            if q.cancelled:
                raise ConflictError(f"Query {t.query_id} has been cancelled.")
            t.uses -= 1
            if t.uses <= 0:
                del self._tokens[token]
            self._queries.move_to_end(t.query_id)
            return t.query_id, q.result, t.inner

    def finished(self, query_id: str) -> None:
        """The last page was served: keep the result only briefly, for retried calls."""
        with self._lock:
            q = self._queries.get(query_id)
            if q is not None:
                q.expires = min(q.expires, self.clock() + 60.0)

    def cancel(self, query_id: str) -> str | None:
        """Cancel a query whose pages are still being read. Returns the CancellationMessage
        (None on the first cancellation of a pending query, as Timestream)."""
        with self._lock:
            q = self._queries.get(query_id)
            if q is None:
                return f"Query {query_id} has already finished running; there is nothing to cancel."
            if q.cancelled:
                return f"Query {query_id} has already been cancelled."
            q.cancelled = True
            q.result = None
            self._bytes -= q.size
            q.size = 0
            q.expires = self.clock() + self.ttl
            return None

    # --- internals (callers hold the lock) ----------------------------------------------

    def _issue(self, query_id: str, inner: str, now: float) -> str:
        token = secrets.token_urlsafe(32)
        self._tokens[token] = _Token(query_id, inner, self.token_uses, now + self.ttl)
        while len(self._tokens) > 10 * self.max_queries:
            self._tokens.popitem(last=False)
        return token

    def _evict(self, now: float) -> None:
        # both dicts are roughly in expiry order (tokens exactly): drop expired entries
        # from the front; `resume` checks the expiry of what it finds anyway
        while self._tokens and next(iter(self._tokens.values())).expires <= now:
            self._tokens.popitem(last=False)
        while self._queries and next(iter(self._queries.values())).expires <= now:
            self._drop_oldest()

    def _drop_oldest(self) -> None:
        _, q = self._queries.popitem(last=False)
        self._bytes -= q.size
