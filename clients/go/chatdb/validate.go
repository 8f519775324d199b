package chatdb

import (
	"context"
	"strings"

	queryv1 "github.com/chatdb/chatdb/gen/go/chatdb/query/v1"
)

// Violation is one reason the guard refused SQL: a stable Reason (e.g. "NOT_SELECT",
// "UNKNOWN_TABLE", "FORBIDDEN_FUNCTION") and what was found.
type Violation struct {
	Reason  string
	Message string
}

// Validation is the guard's verdict on SQL. A valid one has the SQL as it would run
// (LIMIT added or clamped) and the rewrites made; a refused one its Violations.
type Validation struct {
	Valid      bool
	SQL        string
	Violations []Violation
	// Tables are the tables the SQL reads.
	Tables []string
	// Dialect is the dialect it was checked in, e.g. "SQLITE".
	Dialect  string
	Warnings []string
}

// ValidateSQL checks SQL against a data source with the server's guard; it runs nothing.
// Refused SQL is a Validation with Valid false, not an error.
func (c *Client) ValidateSQL(ctx context.Context, source, sql string) (*Validation, error) {
	reply, err := call(ctx, c, c.Query.ValidateSql, &queryv1.ValidateSqlRequest{Parent: SourceName(source), Sql: sql})
	if err != nil {
		return nil, err
	}
	validation := &Validation{Valid: reply.GetValid(), SQL: reply.GetSql(), Tables: reply.GetTables(),
		Dialect: strings.TrimPrefix(reply.GetDialect().String(), "DIALECT_"), Warnings: reply.GetWarnings()}
	for _, violation := range reply.GetViolations() {
		validation.Violations = append(validation.Violations,
			Violation{Reason: violation.GetReason(), Message: violation.GetMessage()})
	}
	return validation, nil
}
