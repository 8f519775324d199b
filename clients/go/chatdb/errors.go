package chatdb

import (
	"errors"
	"fmt"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// FieldViolation is one bad request field from a BadRequest detail.
type FieldViolation struct {
	Field       string
	Description string
}

// Error is a failed call: the gRPC code and message, and the google.rpc details
// the server attached. Reason is the ErrorInfo reason (e.g. "UNSAFE_SQL"), the
// value to switch on; it is empty when the server sent none.
type Error struct {
	Code            codes.Code
	Message         string
	Reason          string
	Domain          string
	Metadata        map[string]string
	FieldViolations []FieldViolation
	// Details holds every detail message, as status.Status.Details returns them.
	Details []interface{}
}

func (e *Error) Error() string {
	if e.Reason != "" {
		return fmt.Sprintf("%s: %s [%s]", e.Code, e.Message, e.Reason)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// GRPCStatus lets status.FromError and status.Code see through an *Error.
func (e *Error) GRPCStatus() *status.Status { return status.New(e.Code, e.Message) }

// AsError is err as an *Error, parsing a gRPC status when it is one; ok is false
// for errors that carry no gRPC status.
func AsError(err error) (*Error, bool) {
	var already *Error
	if errors.As(err, &already) {
		return already, true
	}
	st, ok := status.FromError(err)
	if !ok || st == nil || err == nil {
		return nil, false
	}
	parsed := &Error{Code: st.Code(), Message: st.Message(), Metadata: map[string]string{}, Details: st.Details()}
	for _, detail := range parsed.Details {
		switch d := detail.(type) {
		case *errdetails.ErrorInfo:
			parsed.Reason, parsed.Domain = d.GetReason(), d.GetDomain()
			for key, value := range d.GetMetadata() {
				parsed.Metadata[key] = value
			}
		case *errdetails.BadRequest:
			for _, violation := range d.GetFieldViolations() {
				parsed.FieldViolations = append(parsed.FieldViolations,
					FieldViolation{Field: violation.GetField(), Description: violation.GetDescription()})
			}
		}
	}
	return parsed, true
}

// wrap turns a call's error into an *Error where it has a status.
func wrap(err error) error {
	if err == nil {
		return nil
	}
	if parsed, ok := AsError(err); ok {
		return parsed
	}
	return err
}
