"""Who may call `tsql serve`: AWS Signature Version 4 verification against a credentials
file, and IAM-style per-key permissions over Timestream's `timestream:*` actions.

The credentials file is JSON (see the README's "Serving the AWS API" section):

    {"keys": [{"access_key_id": "AKID...", "secret_access_key": "...", "name": "ingest",
               "policy": [{"Effect": "Allow", "Action": ["timestream:WriteRecords"],
                           "Resource": "arn:aws:timestream:*:*:database/sensors/table/*"}]}]}

A key without "policy" may do everything. Policies are evaluated as IAM does: an explicit
Deny wins, otherwise some Allow must match, otherwise the call is denied.
"""

from __future__ import annotations

import calendar
import hashlib
import hmac
import json
import posixpath
import re
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from urllib.parse import quote, unquote

from tsql.errors import AccessDeniedError, Error

ALGORITHM = "AWS4-HMAC-SHA256"
SERVICE = "timestream"
MAX_SKEW_SECONDS = 15 * 60
ACCOUNT = "000000000000"


# --- the AWS errors of authentication --------------------------------------------------------

class AuthError(Error):
    aws_type = "InvalidSignatureException"
    http_status = 403


class MissingAuthenticationToken(AuthError):
    aws_type = "MissingAuthenticationTokenException"


class IncompleteSignature(AuthError):
    aws_type = "IncompleteSignatureException"
    http_status = 400


class InvalidSignature(AuthError):
    aws_type = "InvalidSignatureException"


class UnrecognizedClient(AuthError):
    aws_type = "UnrecognizedClientException"


class CredentialsFileError(Exception):
    """The credentials file cannot be used; raised at start-up, never to a client."""


# --- principals and permissions ------------------------------------------------------------

def _glob(pattern: str, ignore_case: bool) -> re.Pattern:
    """IAM wildcards: `*` any run of characters (including `/` and `:`), `?` one character."""
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(f"^{body}$", re.DOTALL | (re.IGNORECASE if ignore_case else 0))


@dataclass(frozen=True)
class Statement:
    allow: bool
    actions: tuple  # compiled patterns, case-insensitive as IAM's action names
    resources: tuple  # compiled patterns over ARNs, case-sensitive

    def matches(self, action: str, resource: str) -> bool:
        return any(a.match(action) for a in self.actions) and any(r.match(resource) for r in self.resources)


@dataclass(frozen=True)
class Principal:
    """An authenticated caller. `statements` None means unrestricted."""

    access_key_id: str
    name: str
    statements: tuple | None = None

    @property
    def unrestricted(self) -> bool:
        return self.statements is None

    @property
    def arn(self) -> str:
        return f"arn:aws:iam::{ACCOUNT}:user/{self.name}"

    def allows(self, action: str, resource: str) -> bool:
        if self.statements is None:
            return True
        matching = [s for s in self.statements if s.matches(action, resource)]
        return bool(matching) and all(s.allow for s in matching)

    def check(self, action: str, resource: str) -> None:
        if not self.allows(action, resource):
            raise AccessDeniedError(
                f"User: {self.arn} is not authorized to perform: {action} on resource: {resource}"
            )


ANONYMOUS = Principal("", "anonymous")


def _as_list(value, where: str) -> list:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return value
    raise CredentialsFileError(f"{where} must be a string or a non-empty list of strings")


def parse_policy(policy, where: str) -> tuple:
    """IAM statements from a list of statements or a policy document {"Statement": [...]}."""
    if isinstance(policy, dict):
        policy = policy.get("Statement")
    if isinstance(policy, dict):
        policy = [policy]
    if not isinstance(policy, list):
        raise CredentialsFileError(f"{where}: a policy is a list of statements or {{\"Statement\": [...]}}")
    statements = []
    for i, s in enumerate(policy):
        at = f"{where}[{i}]"
        if not isinstance(s, dict):
            raise CredentialsFileError(f"{at} must be an object with Effect, Action and Resource")
        unknown = set(s) - {"Sid", "Effect", "Action", "Resource"}
        if unknown:
            raise CredentialsFileError(f"{at}: unsupported field(s) {sorted(unknown)}")
        effect = s.get("Effect")
        if effect not in ("Allow", "Deny"):
            raise CredentialsFileError(f"{at}: Effect must be \"Allow\" or \"Deny\"")
        actions = tuple(_glob(a, True) for a in _as_list(s.get("Action"), f"{at}.Action"))
        resources = tuple(_glob(r, False) for r in _as_list(s.get("Resource", "*"), f"{at}.Resource"))
        statements.append(Statement(effect == "Allow", actions, resources))
    return tuple(statements)


@dataclass(frozen=True)
class Key:
    principal: Principal
    secret: str


class KeyStore:
    """Access keys by id, loaded from the credentials file."""

    def __init__(self, keys: dict[str, Key]):
        self.keys = keys

    def __len__(self) -> int:
        return len(self.keys)

    def get(self, access_key_id: str) -> Key | None:
        return self.keys.get(access_key_id)

    @classmethod
    def load(cls, path: str) -> "KeyStore":
        try:
            with open(path, encoding="utf-8") as f:
                doc = json.load(f)
        except OSError as e:
            raise CredentialsFileError(f"cannot read {path}: {e.strerror}") from None
        except ValueError as e:
            raise CredentialsFileError(f"{path} is not valid JSON: {e}") from None
        return cls.from_document(doc, path)

    @classmethod
    def from_document(cls, doc, where: str = "credentials") -> "KeyStore":
        entries = doc.get("keys") if isinstance(doc, dict) else None
        if not isinstance(entries, list) or not entries:
            raise CredentialsFileError(f"{where}: expected {{\"keys\": [...]}} with at least one key")
        keys: dict[str, Key] = {}
        for i, entry in enumerate(entries):
            at = f"{where}: keys[{i}]"
            if not isinstance(entry, dict):
                raise CredentialsFileError(f"{at} must be an object")
            unknown = set(entry) - {"access_key_id", "secret_access_key", "name", "policy"}
            if unknown:
                raise CredentialsFileError(f"{at}: unknown field(s) {sorted(unknown)}")
            key_id, secret = entry.get("access_key_id"), entry.get("secret_access_key")
            if not isinstance(key_id, str) or not re.fullmatch(r"[A-Za-z0-9]{4,128}", key_id):
                raise CredentialsFileError(f"{at}: access_key_id must be 4 to 128 letters or digits")
            if not isinstance(secret, str) or len(secret) < 8:
                raise CredentialsFileError(f"{at}: secret_access_key must be a string of at least 8 characters")
            if key_id in keys:
                raise CredentialsFileError(f"{at}: access key {key_id} appears twice")
            name = entry.get("name", key_id)
            if not isinstance(name, str) or not name:
                raise CredentialsFileError(f"{at}: name must be a non-empty string")
            statements = parse_policy(entry["policy"], f"{at}.policy") if "policy" in entry else None
            keys[key_id] = Key(Principal(key_id, name, statements), secret)
        return cls(keys)


# --- Signature Version 4 -------------------------------------------------------------------

def signing_key(secret: str, date: str, region: str, service: str = SERVICE) -> bytes:
    key = hmac.new(f"AWS4{secret}".encode(), date.encode(), hashlib.sha256).digest()
    for part in (region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def canonical_uri(path: str) -> str:
    # Timestream is not S3: the path is normalised, then each segment URI-encoded (again)
    normal = posixpath.normpath(path) if path not in ("", "/") else "/"
    if path.endswith("/") and normal != "/":
        normal += "/"
    return quote(normal.replace("//", "/"), safe="/~")


def canonical_query(query: str) -> str:
    if not query:
        return ""
    pairs = []
    for part in query.split("&"):
        key, _, value = part.partition("=")
        pairs.append((quote(unquote(key), safe="-_.~"), quote(unquote(value), safe="-_.~")))
    return "&".join(f"{k}={v}" for k, v in sorted(pairs))


def _parse_authorization(value: str) -> tuple[str, dict]:
    algorithm, _, rest = value.strip().partition(" ")
    fields = {}
    for part in rest.split(","):
        name, sep, v = part.strip().partition("=")
        if sep:
            fields[name.strip()] = v.strip()
    return algorithm, fields


def _request_time(headers: dict) -> tuple[int, str]:
    """(epoch seconds, the ISO-8601 basic form used in the string to sign)."""
    amz = headers.get("x-amz-date")
    if amz:
        try:
            return calendar.timegm(time.strptime(amz[0], "%Y%m%dT%H%M%SZ")), amz[0]
        except ValueError:
            raise IncompleteSignature(f"Date must be in ISO-8601 'basic format'. Got '{amz[0]}'.") from None
    date = headers.get("date")
    if date:
        try:
            seconds = int(parsedate_to_datetime(date[0]).timestamp())
        except (TypeError, ValueError):
            raise IncompleteSignature(f"Date must be in RFC 1123 format. Got '{date[0]}'.") from None
        return seconds, time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(seconds))
    raise IncompleteSignature("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")


def _iso(seconds: float) -> str:
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(seconds))


class SigV4Verifier:
    """Checks that a request was signed with the secret of a known key, recently."""

    def __init__(self, keys: KeyStore, max_skew: int = MAX_SKEW_SECONDS, now=time.time):
        self.keys = keys
        self.max_skew = max_skew
        self.now = now

    def verify(self, method: str, path: str, query: str, headers: list[tuple[str, str]], body: bytes,
               secure: bool = False) -> Principal:
        by_name: dict[str, list[str]] = {}
        for name, value in headers:
            by_name.setdefault(name.lower(), []).append(value)
        authorization = by_name.get("authorization")
        if not authorization:
            raise MissingAuthenticationToken("Missing Authentication Token")
        algorithm, fields = _parse_authorization(authorization[0])
        if algorithm != ALGORITHM:
            raise IncompleteSignature(f"Unsupported AWS 'algorithm': '{algorithm}'.")
        for required in ("Credential", "SignedHeaders", "Signature"):
            if required not in fields:
                raise IncompleteSignature(
                    f"Authorization header requires '{required}' parameter. Authorization={authorization[0]}"
                )
        scope = fields["Credential"].split("/")
        if len(scope) != 5:
            raise IncompleteSignature(
                f"Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, "
                f"got '{fields['Credential']}'"
            )
        key_id, scope_date, region, service, terminator = scope
        if service != SERVICE:
            raise InvalidSignature(f"Credential should be scoped to correct service: '{SERVICE}'. ")
        if terminator != "aws4_request":
            raise InvalidSignature(
                f"Credential should be scoped with a valid terminator: 'aws4_request', not '{terminator}'. "
            )
        seconds, amz_date = _request_time(by_name)
        now = self.now()
        if seconds < now - self.max_skew:
            raise InvalidSignature(
                f"Signature expired: {amz_date} is now earlier than {_iso(now - self.max_skew)} "
                f"({_iso(now)} - {self.max_skew // 60} min.)"
            )
        if seconds > now + self.max_skew:
            raise InvalidSignature(
                f"Signature not yet current: {amz_date} is still later than {_iso(now + self.max_skew)} "
                f"({_iso(now)} + {self.max_skew // 60} min.)"
            )
        if scope_date != amz_date[:8]:
            raise InvalidSignature(
                f"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "
                f"'{scope_date}' != '{amz_date[:8]}', from '{amz_date}'."
            )
        key = self.keys.get(key_id)
        if key is None:
            raise UnrecognizedClient("The security token included in the request is invalid.")
        signed = fields["SignedHeaders"].split(";")
        if "host" not in signed:
            raise InvalidSignature("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")

        payload_hash = by_name.get("x-amz-content-sha256", [None])[0]
        actual_hash = hashlib.sha256(body).hexdigest()
        if payload_hash is None or (payload_hash == "UNSIGNED-PAYLOAD" and secure):
            payload_hash = payload_hash or actual_hash
        elif payload_hash != actual_hash:
            raise InvalidSignature("The provided 'x-amz-content-sha256' header does not match what was computed.")

        canonical_headers = "".join(
            f"{name}:{','.join(' '.join(v.split()) for v in by_name.get(name, []))}\n" for name in signed
        )
        canonical = "\n".join([
            method.upper(), canonical_uri(path), canonical_query(query), canonical_headers,
            fields["SignedHeaders"], payload_hash,
        ])
        string_to_sign = "\n".join([
            ALGORITHM, amz_date, "/".join(scope[1:]), hashlib.sha256(canonical.encode()).hexdigest(),
        ])
        expected = hmac.new(signing_key(key.secret, scope_date, region), string_to_sign.encode(),
                            hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, fields["Signature"]):
            raise InvalidSignature(
                "The request signature we calculated does not match the signature you provided. Check your AWS "
                "Secret Access Key and signing method. Consult the service documentation for details."
            )
        return key.principal


__all__ = [
    "ANONYMOUS", "Principal", "KeyStore", "SigV4Verifier", "AuthError", "CredentialsFileError", "parse_policy",
]
