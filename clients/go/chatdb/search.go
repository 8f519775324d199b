package chatdb

import (
	"context"

	queryv1 "github.com/chatdb/chatdb/gen/go/chatdb/query/v1"
)

// TableMatch is a table SearchTables found (the generated message): Table, Score,
// Reason (SEARCH, or JOIN_NEIGHBOR for a table needed to join the others),
// MatchedWords, MatchedColumns, JoinsWith and Description.
type TableMatch = queryv1.TableMatch

// TableSearch is what SearchTables found and the degradation level it was served at.
type TableSearch struct {
	// Tables are the tables the query found, best first, then the tables that join them.
	Tables []*TableMatch
	// DegradationLevel is 0 (everything works) to 4; -1 when unspecified.
	DegradationLevel int
}

// SearchTables searches a trained data source's tables by meaning: at most limit tables
// (0 means the server's default of 10) that best match the query, in plain language or
// as words of names. An *Error with Code FailedPrecondition and Reason "NOT_TRAINED" for
// an untrained source.
func (c *Client) SearchTables(ctx context.Context, source, query string, limit int32) (*TableSearch, error) {
	reply, err := call(ctx, c, c.Query.SearchTables,
		&queryv1.SearchTablesRequest{Parent: SourceName(source), Query: query, PageSize: limit})
	if err != nil {
		return nil, err
	}
	return &TableSearch{Tables: reply.GetTables(), DegradationLevel: Level(reply.GetDegradationLevel())}, nil
}
