package chatdb

import (
	"context"
	"errors"
	"io"
	"strings"
	"time"

	queryv1 "github.com/chatdb/chatdb/gen/go/chatdb/query/v1"
)

// RetrievedTable is a table retrieval chose for a question: its name in the database,
// its similarity to the question (0 for join neighbours) and why it was chosen
// ("SEARCH" or "JOIN_NEIGHBOR").
type RetrievedTable struct {
	Table  string
	Score  float64
	Reason string
}

// AskEvent is one step of StreamAsk: a stage reached (Stage set) or a batch of rows (Rows set).
type AskEvent struct {
	// Stage is "RETRIEVED", "GENERATED" or "EXECUTED"; empty for a batch of rows.
	Stage string
	// RetrievedTables are the tables retrieval chose (RETRIEVED).
	RetrievedTables []RetrievedTable
	// SQL is the generated, guarded SQL (GENERATED).
	SQL string
	// Columns are the result's columns (EXECUTED).
	Columns []Column
	// Elapsed is the time the stage took.
	Elapsed time.Duration
	// Rows are decoded as Decode does, in result order.
	Rows [][]interface{}
}

// StreamAskOptions tune a StreamAsk; the zero value takes the server's defaults.
type StreamAskOptions struct {
	AskOptions
	// BatchSize is the number of rows per batch; 0 means 100.
	BatchSize int32
	// DropRows leaves the rows out of the returned Result: they reach onEvent only.
	DropRows bool
}

// StreamAsk answers a question as Ask does, calling onEvent (when not nil) with each
// stage as it is reached and then with each batch of rows. It returns the final result:
// the summary's SQL, level and warnings with every row (none with DropRows). An error
// from onEvent stops the stream and is returned as it is.
func (c *Client) StreamAsk(ctx context.Context, source, question string, options StreamAskOptions,
	onEvent func(AskEvent) error) (*Result, error) {
	ctx, cancel := c.withDeadline(ctx)
	defer cancel()
	stream, err := c.Query.StreamAsk(ctx, &queryv1.StreamAskRequest{Parent: SourceName(source), Question: question,
		Options: options.AskOptions.proto(), BatchSize: options.BatchSize, PreviousQuery: options.PreviousQuery})
	if err != nil {
		return nil, wrap(err)
	}
	var rows [][]interface{}
	for {
		message, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil, errors.New("chatdb: the StreamAsk stream ended without a summary")
		}
		if err != nil {
			return nil, wrap(err)
		}
		if summary := message.GetSummary(); summary != nil {
			if err := drain(stream.Recv); err != nil {
				return nil, err
			}
			return askResult(summary, rows), nil
		}
		event, err := askEvent(message)
		if err != nil {
			return nil, err
		}
		if !options.DropRows {
			rows = append(rows, event.Rows...)
		}
		if onEvent != nil {
			if err := onEvent(event); err != nil {
				return nil, err
			}
		}
	}
}

// askEvent is a stage or row batch message as an AskEvent.
func askEvent(message *queryv1.StreamAskResponse) (AskEvent, error) {
	if batch := message.GetRows(); batch != nil {
		rows, err := DecodeRows(batch.GetRows())
		return AskEvent{Rows: rows}, err
	}
	stage := message.GetStage()
	event := AskEvent{Stage: strings.TrimPrefix(stage.GetStage().String(), "ASK_STAGE_"), SQL: stage.GetSql(),
		Elapsed: stage.GetElapsed().AsDuration()}
	if columns := stage.GetColumns(); len(columns) > 0 {
		event.Columns = newColumns(columns)
	}
	event.RetrievedTables = newRetrievedTables(stage.GetRetrievedTables())
	return event, nil
}

// newRetrievedTables is what retrieval chose, with the reasons' names; nil for none.
func newRetrievedTables(tables []*queryv1.RetrievedTable) []RetrievedTable {
	var converted []RetrievedTable
	for _, table := range tables {
		converted = append(converted, RetrievedTable{Table: table.GetTable(), Score: table.GetScore(),
			Reason: strings.TrimPrefix(table.GetReason().String(), "RETRIEVAL_REASON_")})
	}
	return converted
}
