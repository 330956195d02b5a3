"""The Timestream API in the AWS JSON 1.0 protocol, over a tsql Database, without sockets.

`Protocol.handle(Request) -> Response` turns one call (operation name, JSON body, the
authenticated caller) into an HTTP status, a JSON body and headers, exactly as botocore's
timestream-write and timestream-query models expect: request shapes are checked as AWS
checks them, errors come back as the AWS error types. `tsql serve` calls it from its HTTP
server; an in-process stub of boto3 can call it from botocore's event hooks.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import uuid
from dataclasses import dataclass, field

from sqlglot import exp

from tsql.database import ACCOUNT, REGION
from tsql.errors import Error, InternalServerError, RejectedRecordsError, ResourceNotFoundError, ValidationError
from tsql.planner import ast as tsast
from tsql.planner import parse

from .auth import ANONYMOUS, Principal
from .faults import REJECT_REASON as FAULT_REJECT_REASON
from .faults import FaultInjector, Faults
from .queries import QueryCache, new_query_id, page
from .tags import TagStore, check_tags

log = logging.getLogger("tsql.server")

TARGET_PREFIX = "Timestream_20181101."
CONTENT_TYPE = "application/x-amz-json-1.0"
ENDPOINT_CACHE_MINUTES = 1440
EMPTY_PAGES = "empty:{}"  # a stored position: this many more empty pages, then the first rows

WRITE_ONLY = {
    "CreateDatabase", "DescribeDatabase", "ListDatabases", "UpdateDatabase", "DeleteDatabase", "CreateTable",
    "DescribeTable", "ListTables", "UpdateTable", "DeleteTable", "WriteRecords",
}
QUERY_ONLY = {"Query", "CancelQuery"}
SHARED = {"DescribeEndpoints", "ListTagsForResource", "TagResource", "UntagResource"}
SERVICES = {"timestream-write": WRITE_ONLY | SHARED, "timestream-query": QUERY_ONLY | SHARED}


class UnknownOperationError(Error):
    aws_type = "UnknownOperationException"
    http_status = 400


class SerializationError(Error):
    aws_type = "SerializationException"
    http_status = 400


# --- request shapes (the constraints of botocore's models that AWS checks on the server) ------

@dataclass(frozen=True)
class Str:
    min: int | None = None
    max: int | None = None
    enum: tuple | None = None
    pattern: str | None = None


@dataclass(frozen=True)
class Int:
    min: int | None = None
    max: int | None = None


@dataclass(frozen=True)
class Bool:
    pass


@dataclass(frozen=True)
class List:
    member: object
    min: int | None = None
    max: int | None = None


@dataclass(frozen=True)
class Struct:
    members: dict = field(default_factory=dict)  # name -> shape; None = any object (checked later)
    required: tuple = ()


def _camel(name: str) -> str:
    return name[:1].lower() + name[1:]


def _shown(value) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return text if len(text) <= 100 else text[:100] + "..."


def check_shape(shape, value, path: str, errors: list) -> None:
    """Append AWS-style constraint messages to `errors`; a wrong JSON type fails at once
    with SerializationException, as AWS's deserializer does."""
    if isinstance(shape, Struct):
        if not isinstance(value, dict):
            raise SerializationError(f"Expected an object at '{path or 'request'}'.")
        for name in shape.required:
            if value.get(name) is None:
                errors.append(f"Value null at '{_join(path, name)}' failed to satisfy constraint: Member must not be null")
        for name, member in shape.members.items():
            if value.get(name) is not None and member is not None:
                check_shape(member, value[name], _join(path, name), errors)
    elif isinstance(shape, List):
        if not isinstance(value, list):
            raise SerializationError(f"Expected a list at '{path}'.")
        _check_length(shape, len(value), value, path, errors)
        for i, item in enumerate(value):
            check_shape(shape.member, item, f"{path}.{i + 1}.member", errors)
    elif isinstance(shape, Str):
        if not isinstance(value, str):
            raise SerializationError(f"Expected a string at '{path}'.")
        _check_length(shape, len(value), value, path, errors)
        if shape.enum is not None and value not in shape.enum:
            errors.append(f"Value '{_shown(value)}' at '{path}' failed to satisfy constraint: Member must satisfy "
                          f"enum value set: [{', '.join(shape.enum)}]")
        if shape.pattern is not None and not re.fullmatch(shape.pattern, value):
            errors.append(f"Value '{_shown(value)}' at '{path}' failed to satisfy constraint: Member must satisfy "
                          f"regular expression pattern: {shape.pattern}")
    elif isinstance(shape, Int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise SerializationError(f"Expected an integer at '{path}'.")
        if shape.min is not None and value < shape.min:
            errors.append(f"Value '{value}' at '{path}' failed to satisfy constraint: Member must have value "
                          f"greater than or equal to {shape.min}")
        if shape.max is not None and value > shape.max:
            errors.append(f"Value '{value}' at '{path}' failed to satisfy constraint: Member must have value "
                          f"less than or equal to {shape.max}")
    elif isinstance(shape, Bool):
        if not isinstance(value, bool):
            raise SerializationError(f"Expected a boolean at '{path}'.")


def _join(path: str, name: str) -> str:
    return f"{path}.{_camel(name)}" if path else _camel(name)


def _check_length(shape, n: int, value, path: str, errors: list) -> None:
    if shape.min is not None and n < shape.min:
        errors.append(f"Value '{_shown(value)}' at '{path}' failed to satisfy constraint: Member must have length "
                      f"greater than or equal to {shape.min}")
    if shape.max is not None and n > shape.max:
        errors.append(f"Value '{_shown(value)}' at '{path}' failed to satisfy constraint: Member must have length "
                      f"less than or equal to {shape.max}")


def validate(operation: str, body: dict) -> None:
    errors: list = []
    check_shape(SHAPES[operation], body, "", errors)
    if errors:
        n = len(errors)
        raise ValidationError(f"{n} validation error{'s' if n > 1 else ''} detected: " + "; ".join(errors))


NAME = Str()
CREATE_NAME = Str(pattern=r"[a-zA-Z0-9_.-]+")
TAGS = List(Struct({"Key": Str(1, 128), "Value": Str(0, 256)}, ("Key", "Value")), 0, 200)
RETENTION = Struct({"MemoryStoreRetentionPeriodInHours": Int(1, 8766), "MagneticStoreRetentionPeriodInDays": Int(1, 73000)},
                   ("MemoryStoreRetentionPeriodInHours", "MagneticStoreRetentionPeriodInDays"))
MAGNETIC_WRITES = Struct({
    "EnableMagneticStoreWrites": Bool(),
    "MagneticStoreRejectedDataLocation": Struct({"S3Configuration": Struct({
        "BucketName": Str(3, 63), "ObjectKeyPrefix": Str(1, 928), "EncryptionOption": Str(enum=("SSE_S3", "SSE_KMS")),
        "KmsKeyId": Str(1, 2048),
    })}),
}, ("EnableMagneticStoreWrites",))
SCHEMA = Struct({"CompositePartitionKey": List(Struct({
    "Type": Str(enum=("DIMENSION", "MEASURE")), "Name": Str(1), "EnforcementInRecord": Str(enum=("REQUIRED", "OPTIONAL")),
}, ("Type",)), 1)})
PAGINATION = {"NextToken": Str(), "MaxResults": Int(1, 20)}
TABLE_KEY = {"DatabaseName": NAME, "TableName": NAME}
ARN = Str(1, 1011)

SHAPES = {
    "DescribeEndpoints": Struct(),
    "CreateDatabase": Struct({"DatabaseName": CREATE_NAME, "KmsKeyId": Str(1, 2048), "Tags": TAGS}, ("DatabaseName",)),
    "DescribeDatabase": Struct({"DatabaseName": NAME}, ("DatabaseName",)),
    "ListDatabases": Struct(PAGINATION),
    "UpdateDatabase": Struct({"DatabaseName": NAME, "KmsKeyId": Str(1, 2048)}, ("DatabaseName", "KmsKeyId")),
    "DeleteDatabase": Struct({"DatabaseName": NAME}, ("DatabaseName",)),
    "CreateTable": Struct({"DatabaseName": CREATE_NAME, "TableName": CREATE_NAME, "RetentionProperties": RETENTION,
                           "Tags": TAGS, "MagneticStoreWriteProperties": MAGNETIC_WRITES, "Schema": SCHEMA},
                          ("DatabaseName", "TableName")),
    "DescribeTable": Struct(TABLE_KEY, ("DatabaseName", "TableName")),
    "ListTables": Struct({"DatabaseName": NAME, **PAGINATION}),
    "UpdateTable": Struct({**TABLE_KEY, "RetentionProperties": RETENTION, "MagneticStoreWriteProperties": MAGNETIC_WRITES,
                           "Schema": SCHEMA}, ("DatabaseName", "TableName")),
    "DeleteTable": Struct(TABLE_KEY, ("DatabaseName", "TableName")),
    # records are checked field by field by the engine, with Timestream's messages
    "WriteRecords": Struct({**TABLE_KEY, "CommonAttributes": Struct({}), "Records": List(Struct({}), 1, 100)},
                           ("DatabaseName", "TableName", "Records")),
    "ListTagsForResource": Struct({"ResourceARN": ARN}, ("ResourceARN",)),
    "TagResource": Struct({"ResourceARN": ARN, "Tags": TAGS}, ("ResourceARN", "Tags")),
    "UntagResource": Struct({"ResourceARN": ARN, "TagKeys": List(Str(1, 128), 0, 200)}, ("ResourceARN", "TagKeys")),
    "Query": Struct({"QueryString": Str(1, 262144), "ClientToken": Str(32, 128), "NextToken": Str(1, 2048),
                     "MaxRows": Int(1, 1000), "QueryInsights": Struct({"Mode": Str(enum=(
                         "ENABLED_WITH_RATE_CONTROL", "DISABLED"))}, ("Mode",))}, ("QueryString",)),
    "CancelQuery": Struct({"QueryId": Str(1, 64, pattern=r"[a-zA-Z0-9]+")}, ("QueryId",)),
}


# --- requests and responses ----------------------------------------------------------------

@dataclass(frozen=True)
class Endpoint:
    """Where a client reached the server: what DescribeEndpoints hands back."""

    scheme: str
    host: str
    port: int | None = None

    @classmethod
    def from_host_header(cls, scheme: str, host_header: str | None, default_host: str, default_port: int) -> "Endpoint":
        if not host_header:
            return cls(scheme, default_host, default_port)
        m = re.fullmatch(r"(\[[^\]]+\]|[^:]+)(?::(\d+))?", host_header.strip())
        if m is None:
            return cls(scheme, default_host, default_port)
        return cls(scheme, m.group(1), int(m.group(2)) if m.group(2) else None)


# SDKs disagree on what an Address is: botocore, the AWS CLI, Ruby and Go v1 use it as a
# URL (https:// is assumed without a scheme); the JavaScript v3 and Kotlin SDKs put it
# in place of the host *name* (keeping scheme and port); Go v2 and Java v2 take host:port.
_URL_AGENTS = ("botocore", "boto3", "aws-cli/", "aws-sdk-ruby", "aws-sdk-go/")
_HOSTNAME_AGENTS = ("aws-sdk-js/", "aws-sdk-kotlin/")


def endpoint_address(endpoint: Endpoint, user_agent: str) -> str:
    """The DescribeEndpoints Address that makes the calling SDK come back here."""
    default_port = 443 if endpoint.scheme == "https" else 80
    hostport = endpoint.host if endpoint.port in (None, default_port) else f"{endpoint.host}:{endpoint.port}"
    agent = (user_agent or "").lower()
    if any(a in agent for a in _URL_AGENTS):
        return f"{endpoint.scheme}://{hostport}"
    if any(a in agent for a in _HOSTNAME_AGENTS):
        return endpoint.host
    return hostport


@dataclass
class Request:
    operation: str
    body: bytes
    principal: Principal = ANONYMOUS
    service: str | None = None  # "timestream-write" / "timestream-query"; None: either (one endpoint for both)
    endpoint: Endpoint | None = None
    user_agent: str = ""
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))


@dataclass
class Response:
    status: int
    body: bytes
    headers: dict
    operation: str
    error: str | None = None  # the AWS error type, None on success
    database: str | None = None
    table: str | None = None
    records_ingested: int = 0
    records_rejected: int = 0
    ran_query: bool = False  # a statement ran (not a later page of one)
    bytes_scanned: int = 0
    query_seconds: float = 0.0


def error_body(error: Error) -> dict:
    body = {"__type": error.aws_type, "Message": error.message}
    if isinstance(error, RejectedRecordsError):
        body["RejectedRecords"] = error.rejected_records
    return body


def error_response(error: Error, operation: str = "", request_id: str | None = None) -> Response:
    request_id = request_id or str(uuid.uuid4())
    return Response(error.http_status, _json(error_body(error)), _headers(request_id, error.aws_type),
                    operation, error.aws_type)


def _json(value) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def _headers(request_id: str, error_type: str | None = None) -> dict:
    headers = {"Content-Type": CONTENT_TYPE, "x-amzn-RequestId": request_id}
    if error_type:
        headers["x-amzn-ErrorType"] = error_type
    return headers


def database_arn(database: str) -> str:
    return f"arn:aws:timestream:{REGION}:{ACCOUNT}:database/{database}"


def table_arn(database: str, table: str) -> str:
    return f"{database_arn(database)}/table/{table}"


_ARN = re.compile(r"arn:aws[a-z-]*:timestream:[^:]*:[^:]*:database/([^/]+)(?:/table/([^/]+))?")


def _encode_list_token(position) -> str:
    return base64.urlsafe_b64encode(json.dumps(position).encode()).decode()


def _decode_list_token(token: str):
    try:
        return json.loads(base64.urlsafe_b64decode(token.encode()))
    except ValueError:
        raise ValidationError("Invalid pagination token") from None


def _list_page(items: list, key, body: dict) -> tuple[list, str | None]:
    """ListDatabases/ListTables paging: items sorted by `key`, the token names the last one
    returned (so creating or deleting in between neither repeats nor skips the rest)."""
    if body.get("NextToken"):
        after = _decode_list_token(body["NextToken"])
        try:
            items = [i for i in items if key(i) > (tuple(after) if isinstance(after, list) else after)]
        except TypeError:
            raise ValidationError("Invalid pagination token") from None
    limit = body.get("MaxResults")
    if limit is None or len(items) <= limit:
        return items, None
    shown = items[:limit]
    last = key(shown[-1])
    return shown, _encode_list_token(list(last) if isinstance(last, tuple) else last)


class Protocol:
    """Answers Timestream API calls from a tsql Database."""

    def __init__(self, db, tags: TagStore | None = None, queries: QueryCache | None = None,
                 faults: Faults | None = None):
        self.db = db
        self.faults = FaultInjector(faults) if faults is not None else None
        self.tags = tags if tags is not None else TagStore(None)
        self.queries = queries if queries is not None else QueryCache()
        self._operations = {
            "DescribeEndpoints": self.describe_endpoints,
            "CreateDatabase": self.create_database, "DescribeDatabase": self.describe_database,
            "ListDatabases": self.list_databases, "UpdateDatabase": self.update_database,
            "DeleteDatabase": self.delete_database,
            "CreateTable": self.create_table, "DescribeTable": self.describe_table, "ListTables": self.list_tables,
            "UpdateTable": self.update_table, "DeleteTable": self.delete_table,
            "WriteRecords": self.write_records,
            "Query": self.query, "CancelQuery": self.cancel_query,
            "ListTagsForResource": self.list_tags, "TagResource": self.tag_resource,
            "UntagResource": self.untag_resource,
        }

    @staticmethod
    def operation_from_target(target: str | None) -> str:
        """The operation named by an X-Amz-Target header ('' when it names none)."""
        if target and target.startswith(TARGET_PREFIX):
            return target[len(TARGET_PREFIX):]
        return ""

    def handle(self, request: Request) -> Response:
        op = request.operation
        response = Response(200, b"", _headers(request.request_id), op)
        body: dict = {}
        try:
            handler = self._operations.get(op)
            allowed = SERVICES.get(request.service) if request.service else None
            if handler is None or (allowed is not None and op not in allowed):
                raise UnknownOperationError(f"Unknown operation {op!r}." if op else "Missing or invalid X-Amz-Target.")
            try:
                body = json.loads(request.body or b"{}")
            except ValueError as e:
                raise SerializationError(f"The request body is not valid JSON: {e}") from None
            validate(op, body)
            if self.faults is not None:
                self.faults.before_call(op)
            output = handler(body, request, response)
            response.body = _json(output)
        except Error as e:
            if isinstance(e, RejectedRecordsError):
                response.records_rejected = len(e.rejected_records)
                response.records_ingested = max(0, len(body.get("Records", [])) - len(e.rejected_records))
            _fail(response, e, request.request_id)
        except Exception:  # the service boundary: log the bug, answer as AWS does, leak nothing
            log.exception("InternalServerException in %s (request %s)", op, request.request_id)
            _fail(response, InternalServerError(
                f"An internal error occurred (request {request.request_id}); the server log has details."
            ), request.request_id)
        return response

    # --- permissions ----------------------------------------------------------------------

    @staticmethod
    def _authorize(request: Request, action: str, resource: str) -> None:
        request.principal.check(f"timestream:{action}", resource)

    # --- endpoints --------------------------------------------------------------------------

    def describe_endpoints(self, body, request, response):
        self._authorize(request, "DescribeEndpoints", "*")
        endpoint = request.endpoint or Endpoint("http", "127.0.0.1", 8086)
        return {"Endpoints": [{"Address": endpoint_address(endpoint, request.user_agent),
                               "CachePeriodInMinutes": ENDPOINT_CACHE_MINUTES}]}

    # --- databases ----------------------------------------------------------------------------

    def create_database(self, body, request, response):
        name = response.database = body["DatabaseName"]
        self._authorize(request, "CreateDatabase", database_arn(name))
        tags = body.get("Tags") or []
        check_tags(tags)
        described = self.db.create_database(name, body.get("KmsKeyId"))
        self.tags.replace(database_arn(name), tags)
        return {"Database": described}

    def describe_database(self, body, request, response):
        name = response.database = body["DatabaseName"]
        self._authorize(request, "DescribeDatabase", database_arn(name))
        return {"Database": self.db.describe_database(name)}

    def list_databases(self, body, request, response):
        self._authorize(request, "ListDatabases", "*")
        names, token = _list_page(self.db.list_databases(), lambda n: n, body)
        out = {"Databases": [self.db.describe_database(n) for n in names]}
        if token:
            out["NextToken"] = token
        return out

    def update_database(self, body, request, response):
        name = response.database = body["DatabaseName"]
        self._authorize(request, "UpdateDatabase", database_arn(name))
        return {"Database": self.db.update_database(name, body["KmsKeyId"])}

    def delete_database(self, body, request, response):
        name = response.database = body["DatabaseName"]
        self._authorize(request, "DeleteDatabase", database_arn(name))
        self.db.delete_database(name)
        self.tags.drop(database_arn(name))
        return {}

    # --- tables --------------------------------------------------------------------------------

    def _table_request(self, body, request, response, action: str) -> tuple[str, str]:
        database, table = response.database, response.table = body["DatabaseName"], body["TableName"]
        self._authorize(request, action, table_arn(database, table))
        return database, table

    def create_table(self, body, request, response):
        database, table = self._table_request(body, request, response, "CreateTable")
        tags = body.get("Tags") or []
        check_tags(tags)
        options = _retention(body)
        options["partition_key"] = _partition_key(body.get("Schema"))
        described = self.db.create_table(database, table, **options)
        self.tags.replace(table_arn(database, table), tags)
        return {"Table": described}

    def describe_table(self, body, request, response):
        database, table = self._table_request(body, request, response, "DescribeTable")
        return {"Table": self.db.describe_table(database, table)}

    def list_tables(self, body, request, response):
        database = response.database = body.get("DatabaseName")
        if database is not None:
            self._authorize(request, "ListTables", database_arn(database))
            pairs = [(database, t) for t in self.db.list_tables(database)]
        else:
            self._authorize(request, "ListTables", "*")
            pairs = []
            for d in self.db.list_databases():
                try:
                    pairs.extend((d, t) for t in self.db.list_tables(d))
                except ResourceNotFoundError:  # deleted meanwhile
                    continue
        pairs, token = _list_page(sorted(pairs), lambda p: p, body)
        tables = []
        for d, t in pairs:
            try:
                tables.append(self.db.describe_table(d, t))
            except ResourceNotFoundError:  # deleted meanwhile
                continue
        out = {"Tables": tables}
        if token:
            out["NextToken"] = token
        return out

    def update_table(self, body, request, response):
        database, table = self._table_request(body, request, response, "UpdateTable")
        options = _retention(body)
        if body.get("Schema") is not None:
            options["partition_enforcement"] = self._enforcement_update(database, table, body["Schema"])
        return {"Table": self.db.update_table(database, table, **options)}

    def _enforcement_update(self, database: str, table: str, schema: dict) -> str | None:
        """Only a dimension key's EnforcementInRecord may change after creation."""
        wanted = _partition_key(schema)
        current = self.db.describe_table(database, table)["Schema"]["CompositePartitionKey"][0]
        if wanted is None:
            return None
        if wanted[0] != current["Type"] or (wanted[0] == "DIMENSION" and wanted[1] != current.get("Name")):
            raise ValidationError(
                "The partition key's Type and Name cannot be changed after the table is created; only "
                "EnforcementInRecord of a dimension key can be updated."
            )
        return wanted[2] if wanted[0] == "DIMENSION" else None

    def delete_table(self, body, request, response):
        database, table = self._table_request(body, request, response, "DeleteTable")
        self.db.delete_table(database, table)
        self.tags.drop(table_arn(database, table))
        return {}

    # --- writes --------------------------------------------------------------------------------

    def write_records(self, body, request, response):
        database, table = self._table_request(body, request, response, "WriteRecords")
        records = body["Records"]
        dropped = self.faults.rejected_records(len(records)) if self.faults is not None else []
        if dropped:
            return self._write_with_rejections(database, table, body, response, dropped)
        counts = self.db.write_records(database, table, records, body.get("CommonAttributes"))
        response.records_ingested = len(records)
        return {"RecordsIngested": counts}

    def _write_with_rejections(self, database: str, table: str, body: dict, response: Response, dropped: list):
        """Write all but the records fault injection rejects, and answer as Timestream does
        when some records of a call are rejected: the others are stored."""
        records = body["Records"]
        rejected = [{"RecordIndex": i, "Reason": FAULT_REJECT_REASON} for i in dropped]
        keep = [i for i in range(len(records)) if i not in set(dropped)]
        counts = {"Total": 0, "MemoryStore": 0, "MagneticStore": 0}
        if keep:
            try:
                counts = self.db.write_records(database, table, [records[i] for i in keep],
                                               body.get("CommonAttributes"))
            except RejectedRecordsError as e:
                rejected += [dict(r, RecordIndex=keep[r["RecordIndex"]]) for r in e.rejected_records]
                counts = e.records_ingested
        rejected.sort(key=lambda r: r["RecordIndex"])
        raise RejectedRecordsError(rejected, counts)

    # --- queries -------------------------------------------------------------------------------

    def query(self, body, request, response):
        sql = body["QueryString"]
        owner = request.principal.access_key_id
        max_rows = body.get("MaxRows")
        if body.get("NextToken"):
            query_id, result, start = self.queries.resume(body["NextToken"], sql, owner)
        else:
            self._authorize_query(request, sql)
            self.queries.check_client_token(body.get("ClientToken"), sql, owner)
            response.ran_query = True
            result = self.db.query(sql)
            query_id, start = new_query_id(), None
            response.bytes_scanned = result.status.bytes_scanned
            response.query_seconds = result.status.elapsed_seconds
        if self.faults is not None:
            max_rows = self.faults.page_rows(max_rows)
            pending = self.faults.faults.empty_pages if response.ran_query else _empty_pages_left(start)
            if pending:
                return self._empty_page(query_id, result, sql, owner, response.ran_query, pending)
        rows, next_start = page(result, start, max_rows)
        out = {"QueryId": query_id, **rows}
        if next_start is not None:
            if response.ran_query:
                out["NextToken"] = self.queries.store(query_id, result, sql, owner, next_start)
            else:
                out["NextToken"] = self.queries.next_token(query_id, next_start)
        elif not response.ran_query:
            self.queries.finished(query_id)
        return out

    def _empty_page(self, query_id: str, result, sql: str, owner: str, new: bool, pending: int) -> dict:
        """A page without rows that leads on (Timestream answers so while a query runs)."""
        first = page(result, None, 1)[0]
        inner = EMPTY_PAGES.format(pending - 1) if pending > 1 else None  # None: the first rows
        token = self.queries.store(query_id, result, sql, owner, inner) if new \
            else self.queries.next_token(query_id, inner)
        return {"QueryId": query_id, "Rows": [], "ColumnInfo": first["ColumnInfo"],
                "QueryStatus": first["QueryStatus"], "NextToken": token}

    def _authorize_query(self, request: Request, sql: str) -> None:
        """Timestream's IAM actions for a statement: Select on every table it reads
        (SelectValues when it reads none), ListDatabases/ListTables/ListMeasures for SHOW,
        DescribeTable for DESCRIBE. Only restricted keys pay for the extra parse."""
        if request.principal.unrestricted:
            return
        tree = parse(sql)
        while isinstance(tree, tsast.Explain):
            tree = tree.this
        if isinstance(tree, tsast.Show):
            kind = tree.args["kind"]
            if kind == "DATABASES":
                return self._authorize(request, "ListDatabases", "*")
            if kind == "TABLES":
                db = self._resolve(tree.this.name) if tree.this is not None else ""
                return self._authorize(request, "ListTables", database_arn(db))
            return self._authorize(request, "ListMeasures", table_arn(*self._resolve_table(tree.this)))
        if isinstance(tree, tsast.Describe):
            return self._authorize(request, "DescribeTable", table_arn(*self._resolve_table(tree.this)))
        tables = [t for t in tree.find_all(exp.Table) if t.args.get("db") is not None]
        if not tables:  # unqualified names are WITH queries (or errors the binder reports)
            return self._authorize(request, "SelectValues", "*")
        for t in tables:
            self._authorize(request, "Select", table_arn(*self._resolve_table(t)))

    def _resolve(self, database: str) -> str:
        """A database name as the planner resolves it: exact, else the one case-insensitive match."""
        names = self.db.list_databases()
        matches = [n for n in names if n.lower() == database.lower()]
        return database if database in names or len(matches) != 1 else matches[0]

    def _resolve_table(self, node) -> tuple[str, str]:
        database = self._resolve(node.args["db"].name)
        table = node.name
        try:
            names = self.db.list_tables(database)
        except ResourceNotFoundError:
            return database, table
        matches = [n for n in names if n.lower() == table.lower()]
        return database, (table if table in names or len(matches) != 1 else matches[0])

    def cancel_query(self, body, request, response):
        self._authorize(request, "CancelQuery", "*")
        message = self.queries.cancel(body["QueryId"])
        return {} if message is None else {"CancellationMessage": message}

    # --- tags ----------------------------------------------------------------------------------

    def _resource(self, arn: str, request, response, action: str) -> str:
        """The canonical ARN of an existing database or table named by `arn`."""
        m = _ARN.fullmatch(arn)
        if m is None:
            raise ValidationError(f"Invalid resource ARN: '{arn}'. Expected arn:aws:timestream:<region>:<account>:"
                                  f"database/<name>[/table/<name>].")
        database, table = response.database, response.table = m.group(1), m.group(2)
        canonical = database_arn(database) if table is None else table_arn(database, table)
        self._authorize(request, action, canonical)
        try:
            if table is None:
                self.db.describe_database(database)
            else:
                self.db.describe_table(database, table)
        except ResourceNotFoundError:
            raise ResourceNotFoundError(f"The resource {arn} does not exist.") from None
        return canonical

    def list_tags(self, body, request, response):
        return {"Tags": self.tags.list(self._resource(body["ResourceARN"], request, response, "ListTagsForResource"))}

    def tag_resource(self, body, request, response):
        self.tags.tag(self._resource(body["ResourceARN"], request, response, "TagResource"), body["Tags"])
        return {}

    def untag_resource(self, body, request, response):
        self.tags.untag(self._resource(body["ResourceARN"], request, response, "UntagResource"), body["TagKeys"])
        return {}


def _empty_pages_left(start) -> int:
    prefix = EMPTY_PAGES.format("")
    return int(start[len(prefix):]) if isinstance(start, str) and start.startswith(prefix) else 0


def _fail(response: Response, error: Error, request_id: str) -> None:
    response.status, response.error = error.http_status, error.aws_type
    response.headers = _headers(request_id, error.aws_type)
    response.body = _json(error_body(error))


def _retention(body: dict) -> dict:
    options = {}
    retention = body.get("RetentionProperties")
    if retention is not None:
        options["memory_retention_hours"] = retention["MemoryStoreRetentionPeriodInHours"]
        options["magnetic_retention_days"] = retention["MagneticStoreRetentionPeriodInDays"]
    magnetic = body.get("MagneticStoreWriteProperties")
    if magnetic is not None:
        options["magnetic_store_writes"] = magnetic["EnableMagneticStoreWrites"]
    return options


def _partition_key(schema: dict | None):
    """CompositePartitionKey -> Database.create_table's partition_key tuple."""
    if schema is None or schema.get("CompositePartitionKey") is None:
        return None
    keys = schema["CompositePartitionKey"]
    if len(keys) > 1:
        raise ValidationError(
            "You have specified too many partition keys to be used in your composite partition key. "
            "Only 1 partition keys can be specified."
        )
    key = keys[0]
    if key["Type"] == "MEASURE":
        return ("MEASURE",)
    if not key.get("Name"):
        raise ValidationError("A partition key of Type DIMENSION needs a Name.")
    return ("DIMENSION", key["Name"], key.get("EnforcementInRecord", "REQUIRED"))


__all__ = ["Protocol", "Request", "Response", "Endpoint", "endpoint_address", "error_response"]
