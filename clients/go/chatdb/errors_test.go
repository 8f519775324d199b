package chatdb

import (
	"errors"
	"fmt"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestAsErrorParsesErrorInfoAndBadRequest(t *testing.T) {
	st, err := status.New(codes.InvalidArgument, "data_source.dsn: unknown scheme").WithDetails(
		&errdetails.ErrorInfo{Reason: "INVALID_FIELD", Domain: "chatdb", Metadata: map[string]string{"field": "data_source.dsn"}},
		&errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{
			{Field: "data_source.dsn", Description: "unknown scheme"}}},
	)
	if err != nil {
		t.Fatal(err)
	}
	parsed, ok := AsError(fmt.Errorf("creating: %w", wrap(st.Err())))
	if !ok {
		t.Fatal("not recognised as a ChatDB error")
	}
	if parsed.Code != codes.InvalidArgument || parsed.Reason != "INVALID_FIELD" || parsed.Domain != "chatdb" ||
		parsed.Metadata["field"] != "data_source.dsn" || len(parsed.FieldViolations) != 1 ||
		parsed.FieldViolations[0].Field != "data_source.dsn" || len(parsed.Details) != 2 {
		t.Fatalf("parsed wrongly: %#v", parsed)
	}
	if parsed.Error() != "InvalidArgument: data_source.dsn: unknown scheme [INVALID_FIELD]" {
		t.Fatalf("message: %s", parsed.Error())
	}
	if status.Code(parsed) != codes.InvalidArgument {
		t.Fatal("status.Code does not see the code")
	}
}

func TestAsErrorWithoutDetailsOrStatus(t *testing.T) {
	parsed, ok := AsError(status.Error(codes.Unavailable, "connection refused"))
	if !ok || parsed.Code != codes.Unavailable || parsed.Reason != "" || len(parsed.FieldViolations) != 0 {
		t.Fatalf("parsed wrongly: %#v", parsed)
	}
	if _, ok := AsError(errors.New("plain")); ok {
		t.Fatal("a plain error has no status")
	}
	if _, ok := AsError(nil); ok {
		t.Fatal("nil is not an error")
	}
}
