"""The error classes of tsql, named after Timestream's exceptions.

A leaf module: every layer raises these, so it imports nothing else of the project.
Each class carries the AWS error type (`aws_type`) and HTTP status that `tsql serve`
answers with, so a botocore client raises the exception it would raise against AWS.
"""

from __future__ import annotations


class Error(Exception):
    """Base class of every error tsql raises on purpose."""

    aws_type = "InternalServerException"
    http_status = 500

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ValidationError(Error):
    """Invalid input: a malformed request, a syntax error, an unknown name or type.

    `line` and `column` (1-based) locate the fault in the query text when known; the
    message then starts with `line L:C: ` as Timestream's (Presto's) messages do.
    """

    aws_type = "ValidationException"
    http_status = 400

    def __init__(self, message: str, line: int | None = None, column: int | None = None):
        self.line = line
        self.column = column
        if line is not None and column is not None:
            message = f"line {line}:{column}: {message}"
        super().__init__(message)


class QueryExecutionError(Error):
    """A query failed while running (division by zero, an invalid cast of a value, ...)."""

    aws_type = "QueryExecutionException"
    http_status = 400


class RejectedRecordsError(Error):
    """Some records of a write were rejected; the others were written.

    `rejected_records` is a list of `{"RecordIndex", "Reason", "ExistingVersion"}` dicts
    (ExistingVersion only where a stored record's version decided the rejection).
    """

    aws_type = "RejectedRecordsException"
    http_status = 419

    def __init__(self, rejected_records: list[dict], records_ingested: dict | None = None):
        super().__init__(
            "One or more records have been rejected. See RejectedRecords for details."
        )
        self.rejected_records = rejected_records
        self.records_ingested = records_ingested or {}


class ResourceNotFoundError(Error):
    aws_type = "ResourceNotFoundException"
    http_status = 404


class ConflictError(Error):
    aws_type = "ConflictException"
    http_status = 409


class ThrottlingError(Error):
    aws_type = "ThrottlingException"
    http_status = 429


class ServiceQuotaExceededError(Error):
    aws_type = "ServiceQuotaExceededException"
    http_status = 402


class AccessDeniedError(Error):
    aws_type = "AccessDeniedException"
    http_status = 403


class InternalServerError(Error):
    aws_type = "InternalServerException"
    http_status = 500


__all__ = [
    "Error",
    "ValidationError",
    "QueryExecutionError",
    "RejectedRecordsError",
    "ResourceNotFoundError",
    "ConflictError",
    "ThrottlingError",
    "ServiceQuotaExceededError",
    "AccessDeniedError",
    "InternalServerError",
]
