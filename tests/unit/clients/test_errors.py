"""ChatDBError parsed from crafted statuses, including the server's own error translation."""

from __future__ import annotations

import grpc
import pytest
from google.protobuf import any_pb2, duration_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2

from chatdb.training.v1 import training_pb2
from chatdb_client import ChatDBError, FieldViolation, TrainingJobFailed, errors
from chatdb_client.operations import succeeded
from chatdb_server.errors import FailedPrecondition, InvalidArgument, NotFound, to_status, trailing_metadata


def _pack(detail: object) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(detail)
    return packed


def test_error_info_and_bad_request_are_parsed_from_a_status() -> None:
    status = status_pb2.Status(code=code_pb2.INVALID_ARGUMENT, message="data_source.dsn: unknown scheme", details=[
        _pack(error_details_pb2.ErrorInfo(reason="INVALID_FIELD", domain="chatdb",
                                          metadata={"field": "data_source.dsn"})),
        _pack(error_details_pb2.BadRequest(field_violations=[
            error_details_pb2.BadRequest.FieldViolation(field="data_source.dsn", description="unknown scheme"),
            error_details_pb2.BadRequest.FieldViolation(field="data_source_id", description="too long"),
        ])),
    ])
    error = ChatDBError.from_status(status, request_id="r-1")
    assert error.code is grpc.StatusCode.INVALID_ARGUMENT
    assert error.message == "data_source.dsn: unknown scheme"
    assert (error.reason, error.domain, error.metadata) == ("INVALID_FIELD", "chatdb", {"field": "data_source.dsn"})
    assert error.field_violations == [FieldViolation("data_source.dsn", "unknown scheme"),
                                      FieldViolation("data_source_id", "too long")]
    assert error.fields == ["data_source.dsn", "data_source_id"]
    assert error.request_id == "r-1"
    assert str(error) == "INVALID_ARGUMENT: data_source.dsn: unknown scheme [INVALID_FIELD]"


def test_other_known_details_are_unpacked_and_unknown_ones_kept_packed() -> None:
    retry = error_details_pb2.RetryInfo(retry_delay=duration_pb2.Duration(seconds=3))
    unknown = _pack(duration_pb2.Duration(seconds=1))
    status = status_pb2.Status(code=code_pb2.UNAVAILABLE, message="down", details=[_pack(retry), unknown])
    error = ChatDBError.from_status(status)
    assert error.detail(error_details_pb2.RetryInfo) == retry
    assert error.details[1] == unknown
    assert error.reason == "" and error.field_violations == []


def test_an_unknown_code_number_becomes_unknown() -> None:
    assert ChatDBError.from_status(status_pb2.Status(code=99, message="?")).code is grpc.StatusCode.UNKNOWN


class _FailedCall(grpc.RpcError):
    """What a failed call looks like to the client: code, details and trailing metadata."""

    def __init__(self, code: grpc.StatusCode, details: str, trailing: tuple[tuple[str, bytes], ...]) -> None:
        self._code, self._details, self._trailing = code, details, trailing

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        return self._details

    def trailing_metadata(self) -> tuple[tuple[str, bytes], ...]:
        return self._trailing


@pytest.mark.parametrize(("server_error", "code", "reason"), [
    (NotFound("dataSources/nope", "data source"), grpc.StatusCode.NOT_FOUND, "NOT_FOUND"),
    (FailedPrecondition("train it first", "NOT_TRAINED", {"data_source": "dataSources/shop"}),
     grpc.StatusCode.FAILED_PRECONDITION, "NOT_TRAINED"),
    (InvalidArgument("page_size", "must not be negative"), grpc.StatusCode.INVALID_ARGUMENT, "INVALID_FIELD"),
])
def test_the_servers_error_translation_reads_back_exactly(server_error: object, code: grpc.StatusCode,
                                                         reason: str) -> None:
    assert isinstance(server_error, Exception)
    sent = to_status(server_error)  # type: ignore[arg-type]
    call = _FailedCall(code, str(server_error), trailing_metadata(server_error))  # type: ignore[arg-type]
    error = ChatDBError.from_rpc_error(call, request_id="abc")
    assert (error.code, error.reason, error.message) == (code, reason, sent.message)
    info = error_details_pb2.ErrorInfo()
    sent.details[0].Unpack(info)
    assert error.metadata == dict(info.metadata)
    if isinstance(server_error, InvalidArgument):
        assert error.fields == ["page_size"]


def test_a_status_without_details_still_gives_code_and_message() -> None:
    error = ChatDBError.from_rpc_error(_FailedCall(grpc.StatusCode.UNAVAILABLE, "connection refused", ()))
    assert (error.code, error.message, error.reason, error.details) == (
        grpc.StatusCode.UNAVAILABLE, "connection refused", "", [])


@pytest.mark.parametrize(("state", "word"), [(training_pb2.TRAINING_JOB_STATE_FAILED, "FAILED"),
                                             (training_pb2.TRAINING_JOB_STATE_CANCELLED, "CANCELLED")])
def test_a_failed_or_cancelled_job_raises_with_its_reason(state: int, word: str) -> None:
    job = training_pb2.TrainingJob(name="trainingJobs/j1", state=state, error_reason="SOURCE_UNREACHABLE",
                                   error_message="connection refused")
    with pytest.raises(TrainingJobFailed) as raised:
        succeeded(job)
    assert raised.value.state == word and raised.value.reason == "SOURCE_UNREACHABLE"
    assert raised.value.job is job
    assert "trainingJobs/j1" in str(raised.value) and "connection refused" in str(raised.value)


def test_a_succeeded_job_is_returned() -> None:
    job = training_pb2.TrainingJob(name="trainingJobs/j2", state=training_pb2.TRAINING_JOB_STATE_SUCCEEDED)
    assert succeeded(job) is job


@pytest.mark.parametrize("code", [c for c in grpc.StatusCode if c is not grpc.StatusCode.OK], ids=lambda c: c.name)
def test_every_status_raises_its_own_subclass_that_is_still_a_chatdb_error(code: grpc.StatusCode) -> None:
    status = status_pb2.Status(code=code.value[0], message="went wrong", details=[
        _pack(error_details_pb2.ErrorInfo(reason="SOME_REASON", domain="chatdb", metadata={"k": "v"}))])
    error = ChatDBError.from_status(status, request_id="r-9")
    assert type(error) is ChatDBError.for_code(code) and type(error) is not ChatDBError
    assert type(error).__name__ == "".join(part.title() for part in code.name.split("_"))
    assert isinstance(error, ChatDBError)
    assert (error.code, error.reason, error.metadata, error.request_id) == (code, "SOME_REASON", {"k": "v"}, "r-9")
    call_error = ChatDBError.from_rpc_error(_FailedCall(code, "went wrong", ()))
    assert type(call_error) is type(error)
    assert repr(error).startswith(type(error).__name__ + "(code=" + code.name)


def test_invalid_argument_carries_its_field_violations_and_is_caught_by_its_class() -> None:
    server_error = InvalidArgument("data_source.dsn", "is not a database URL")
    call = _FailedCall(grpc.StatusCode.INVALID_ARGUMENT, str(server_error), trailing_metadata(server_error))
    with pytest.raises(errors.InvalidArgument) as raised:
        raise ChatDBError.from_rpc_error(call)
    assert raised.value.fields == ["data_source.dsn"]
    assert raised.value.field_violations[0].description == "is not a database URL"
    with pytest.raises(ChatDBError):  # callers written against the one class still catch it
        raise ChatDBError.from_rpc_error(call)


def test_the_public_names_are_the_subclasses() -> None:
    import chatdb_client

    for name in ("NotFound", "InvalidArgument", "PermissionDenied", "Unauthenticated", "FailedPrecondition",
                 "ResourceExhausted", "Unavailable", "DeadlineExceeded", "AlreadyExists", "Aborted"):
        assert issubclass(getattr(chatdb_client, name), ChatDBError)
        assert getattr(chatdb_client, name) is getattr(errors, name)
