"""SigV4 verification (requests signed by botocore's own signer) and IAM-style policies."""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib

import botocore.auth
import pytest
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tsql.errors import AccessDeniedError
from tsql.server.auth import (
    CredentialsFileError, IncompleteSignature, InvalidSignature, KeyStore, MissingAuthenticationToken,
    SigV4Verifier, UnrecognizedClient, canonical_uri,
)

SIGNED_AT = dt.datetime(2024, 1, 1, 12, 0, 0)
EPOCH = calendar.timegm(SIGNED_AT.timetuple())
KEY, SECRET = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"

STORE = KeyStore.from_document({"keys": [
    {"access_key_id": KEY, "secret_access_key": SECRET, "name": "ci"},
    {"access_key_id": "AKIDLIMITED", "secret_access_key": "limited-secret", "policy": [
        {"Effect": "Allow", "Action": ["timestream:Describe*", "timestream:Select"],
         "Resource": "arn:aws:timestream:*:*:database/app.prod/*"},
        {"Effect": "Allow", "Action": "TIMESTREAM:listdatabases", "Resource": "*"},
        {"Effect": "Deny", "Action": "timestream:Select", "Resource": "arn:aws:timestream:*:*:database/app.prod/table/pii"},
    ]},
]})


def signed(monkeypatch, body: bytes = b"{}", url: str = "http://127.0.0.1:8086/", headers: dict | None = None,
           secret: str = SECRET, service: str = "timestream", region: str = "us-west-2"):
    """(method, path, query, header list, body) of a request botocore signed at SIGNED_AT."""
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: SIGNED_AT)
    request = AWSRequest("POST", url, data=body, headers={
        "Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "Timestream_20181101.Query", **(headers or {})})
    botocore.auth.SigV4Auth(Credentials(KEY, secret), service, region).add_auth(request)
    prepared = request.prepare()
    path, _, query = prepared.url.split("/", 3)[3].partition("?")
    header_list = [(k, v.decode() if isinstance(v, bytes) else v) for k, v in prepared.headers.items()]
    header_list.append(("Host", prepared.url.split("/")[2]))
    return "POST", "/" + path, query, header_list, prepared.body or b""


def verifier(offset: float = 0.0) -> SigV4Verifier:
    return SigV4Verifier(STORE, now=lambda: EPOCH + offset)


def test_botocore_signatures_verify(monkeypatch):
    assert verifier().verify(*signed(monkeypatch)).name == "ci"
    assert verifier().verify(*signed(monkeypatch, b'{"QueryString": "SELECT 1"}', region="eu-central-1")).name == "ci"
    tricky = signed(monkeypatch, url="http://localhost:9000/a/./b//c/?b=2&a=%20x&a=1",
                    headers={"X-Amz-Meta": "  spaced   out  value "})
    assert verifier().verify(*tricky).name == "ci"


def test_anything_altered_after_signing_is_refused(monkeypatch):
    method, path, query, headers, body = signed(monkeypatch, b'{"QueryString": "SELECT 1"}')
    with pytest.raises(InvalidSignature, match="signature we calculated does not match"):
        verifier().verify(method, path, query, headers, b'{"QueryString": "SELECT 2"}')
    altered = [(k, "Timestream_20181101.WriteRecords" if k == "X-Amz-Target" else v) for k, v in headers]
    with pytest.raises(InvalidSignature):
        verifier().verify(method, path, query, altered, body)
    with pytest.raises(InvalidSignature, match="signature we calculated"):
        verifier().verify(*signed(monkeypatch, secret="not-the-secret"))


def test_time_window_is_fifteen_minutes(monkeypatch):
    request = signed(monkeypatch)
    assert verifier(14 * 60).verify(*request) and verifier(-14 * 60).verify(*request)
    with pytest.raises(InvalidSignature, match=r"^Signature expired: 20240101T120000Z is now earlier than "
                                               r"20240101T120100Z \(20240101T121600Z - 15 min.\)$"):
        verifier(16 * 60).verify(*request)
    with pytest.raises(InvalidSignature, match="^Signature not yet current: 20240101T120000Z is still later than"):
        verifier(-16 * 60).verify(*request)


def test_scope_key_and_header_problems(monkeypatch):
    with pytest.raises(InvalidSignature, match="scoped to correct service: 'timestream'"):
        verifier().verify(*signed(monkeypatch, service="s3"))
    method, path, query, headers, body = signed(monkeypatch)
    with pytest.raises(MissingAuthenticationToken, match="^Missing Authentication Token$"):
        verifier().verify(method, path, query, [(k, v) for k, v in headers if k != "Authorization"], body)
    unknown = [(k, v.replace(KEY, "AKIDWHOISTHIS") if k == "Authorization" else v) for k, v in headers]
    with pytest.raises(UnrecognizedClient, match="security token included in the request is invalid"):
        verifier().verify(method, path, query, unknown, body)
    mangled = [(k, "AWS4-HMAC-SHA256 Credential=x" if k == "Authorization" else v) for k, v in headers]
    with pytest.raises(IncompleteSignature, match="requires 'SignedHeaders' parameter"):
        verifier().verify(method, path, query, mangled, body)
    other_day = [(k, "20240102T120000Z" if k == "X-Amz-Date" else v) for k, v in headers]
    with pytest.raises(InvalidSignature, match="Date in Credential scope does not match"):
        SigV4Verifier(STORE, now=lambda: EPOCH + 86400).verify(method, path, query, other_day, body)
    undated = [(k, v) for k, v in headers if k != "X-Amz-Date"]
    with pytest.raises(IncompleteSignature, match="'X-Amz-Date' or a 'Date' header"):
        verifier().verify(method, path, query, undated, body)


def test_payload_hash_header(monkeypatch):
    body = b'{"QueryString": "SELECT 1"}'
    good = signed(monkeypatch, body, headers={"X-Amz-Content-SHA256": hashlib.sha256(body).hexdigest()})
    assert verifier().verify(*good)
    method, path, query, headers, _ = good
    with pytest.raises(InvalidSignature, match="x-amz-content-sha256"):
        verifier().verify(method, path, query, headers, b'{"QueryString": "SELECT 2"}')
    unsigned = signed(monkeypatch, body, headers={"X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD"})
    assert verifier().verify(*unsigned, secure=True)
    with pytest.raises(InvalidSignature):  # only TLS protects an unsigned body
        verifier().verify(*unsigned, secure=False)


def test_canonical_uri():
    assert canonical_uri("/") == "/" and canonical_uri("") == "/"
    assert canonical_uri("/a/./b//c/") == "/a/b/c/"
    assert canonical_uri("/a b/%41") == "/a%20b/%2541"  # encoded again, as for every service but S3


def test_policies_evaluate_as_iam():
    limited = STORE.get("AKIDLIMITED").principal
    table = "arn:aws:timestream:local:000000000000:database/app.prod/table/{}"
    assert limited.allows("timestream:DescribeTable", table.format("events"))
    assert limited.allows("timestream:Select", table.format("events"))
    assert limited.allows("timestream:ListDatabases", "*")  # action names ignore case
    assert not limited.allows("timestream:Select", table.format("pii"))  # an explicit Deny wins
    assert not limited.allows("timestream:WriteRecords", table.format("events"))  # nothing allows it
    assert not limited.allows("timestream:Select", table.format("events").replace("app.prod", "appXprod"))
    with pytest.raises(AccessDeniedError, match="user/AKIDLIMITED is not authorized to perform: "
                                                "timestream:WriteRecords on resource: arn"):
        limited.check("timestream:WriteRecords", table.format("events"))
    assert STORE.get(KEY).principal.unrestricted and STORE.get(KEY).principal.allows("timestream:DeleteDatabase", "*")


@pytest.mark.parametrize("doc, message", [
    ({}, "expected {\"keys\": [...]}"),
    ({"keys": []}, "at least one key"),
    ({"keys": [{"access_key_id": "A!", "secret_access_key": "12345678"}]}, "access_key_id must be"),
    ({"keys": [{"access_key_id": "AKID1", "secret_access_key": "short"}]}, "secret_access_key must be"),
    ({"keys": [{"access_key_id": "AKID1", "secret_access_key": "12345678", "role": "x"}]}, "unknown field(s) ['role']"),
    ({"keys": [{"access_key_id": "AKID1", "secret_access_key": "12345678"}] * 2}, "appears twice"),
    ({"keys": [{"access_key_id": "AKID1", "secret_access_key": "12345678", "policy": [
        {"Effect": "Maybe", "Action": "timestream:*"}]}]}, "Effect must be"),
    ({"keys": [{"access_key_id": "AKID1", "secret_access_key": "12345678", "policy": [
        {"Effect": "Allow", "Action": []}]}]}, "Action must be a string or a non-empty list"),
    ({"keys": [{"access_key_id": "AKID1", "secret_access_key": "12345678", "policy": [
        {"Effect": "Allow", "Action": "timestream:*", "Condition": {}}]}]}, "unsupported field(s) ['Condition']"),
])
def test_credentials_file_errors(doc, message):
    with pytest.raises(CredentialsFileError) as e:
        KeyStore.from_document(doc)
    assert message in str(e.value)


def test_credentials_file_must_be_json(tmp_path):
    (tmp_path / "keys.json").write_text("[keys]\naws_access_key_id = x\n")
    with pytest.raises(CredentialsFileError, match="is not valid JSON"):
        KeyStore.load(str(tmp_path / "keys.json"))
    with pytest.raises(CredentialsFileError, match="cannot read"):
        KeyStore.load(str(tmp_path / "missing.json"))
