"""Error statuses carry ErrorInfo and BadRequest; page tokens are opaque and bound to their request."""

from __future__ import annotations

import grpc
import pytest
from cryptography.fernet import Fernet
from google.rpc import error_details_pb2

from chatdb_server.crypto import SecretBox, load_or_create_key
from chatdb_server.errors import FailedPrecondition, InvalidArgument, NotFound, to_status
from chatdb_server.log import redact_url_passwords
from chatdb_server.pagination import PageTokens


def test_invalid_argument_status_has_field_violation_and_reason() -> None:
    status = to_status(InvalidArgument("data_source.dsn", "is required"))
    assert status.code == grpc.StatusCode.INVALID_ARGUMENT.value[0]
    info, bad = error_details_pb2.ErrorInfo(), error_details_pb2.BadRequest()
    assert status.details[0].Unpack(info) and info.reason == "INVALID_FIELD" and info.domain == "chatdb"
    assert status.details[1].Unpack(bad)
    assert [v.field for v in bad.field_violations] == ["data_source.dsn"]


@pytest.mark.parametrize("error,code,reason", [
    pytest.param(NotFound("dataSources/x", "data source"), grpc.StatusCode.NOT_FOUND, "NOT_FOUND", id="not_found"),
    pytest.param(FailedPrecondition("train it first", "NOT_TRAINED"), grpc.StatusCode.FAILED_PRECONDITION,
                 "NOT_TRAINED", id="precondition"),
])
def test_status_codes_and_reasons(error: Exception, code: grpc.StatusCode, reason: str) -> None:
    status = to_status(error)  # type: ignore[arg-type]
    info = error_details_pb2.ErrorInfo()
    assert status.code == code.value[0]
    assert status.details[0].Unpack(info) and info.reason == reason
    assert len(status.details) == 1


def test_page_tokens_round_trip_and_reject_forgery() -> None:
    pages = PageTokens(Fernet.generate_key())
    first = pages.page(2, "", "tenant=a")
    token = pages.next_token(first, 2, True, "tenant=a")
    assert pages.page(2, token, "tenant=a").offset == 2
    assert pages.next_token(first, 2, False, "tenant=a") == ""
    with pytest.raises(InvalidArgument) as other_scope:
        pages.page(2, token, "tenant=b")
    assert other_scope.value.reason == "INVALID_PAGE_TOKEN"
    with pytest.raises(InvalidArgument):
        pages.page(2, "eyJvIjogMn0=", "tenant=a")
    with pytest.raises(InvalidArgument) as negative:
        pages.page(-1, "", "tenant=a")
    assert negative.value.violations[0].field == "page_size"
    assert pages.page(0, "", "x", default=50).size == 50
    assert pages.page(5000, "", "x", maximum=1000).size == 1000


def test_secret_box_and_generated_key_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    key = load_or_create_key("", tmp_path)
    assert (tmp_path / "secret.key").stat().st_mode & 0o777 == 0o600
    assert load_or_create_key("", tmp_path) == key
    box = SecretBox(key)
    sealed = box.seal("postgresql://u:hunter2@h/db")
    assert "hunter2" not in sealed and box.open(sealed) == "postgresql://u:hunter2@h/db"
    with pytest.raises(ValueError):
        SecretBox(Fernet.generate_key()).open(sealed)


def test_url_passwords_are_redacted_in_text() -> None:
    text = "connect postgresql://app:s3cr3t@db:5432/shop failed; mysql://root:pw@h/x"
    redacted = redact_url_passwords(text)
    assert "s3cr3t" not in redacted and ":pw@" not in redacted
    assert "postgresql://app:***@db:5432/shop" in redacted
