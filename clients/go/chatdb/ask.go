package chatdb

import (
	"context"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"

	commonv1 "github.com/chatdb/chatdb/gen/go/chatdb/common/v1"
	queryv1 "github.com/chatdb/chatdb/gen/go/chatdb/query/v1"
)

// Column is a result column: its label, wire type (e.g. "INTEGER") and database type.
type Column struct {
	Name         string
	Type         string
	DatabaseType string
}

// Result is the SQL that ran and its rows as Go values (see Decode).
type Result struct {
	// Query is the recorded query's resource name.
	Query   string
	SQL     string
	Columns []Column
	Rows    [][]interface{}
	// DegradationLevel is 0 (everything works) to 4, as documented; -1 when unspecified.
	DegradationLevel int
	// ServedBy is MODEL, TEMPLATE, EXAMPLE, CACHE or CALLER_SQL.
	ServedBy  string
	Truncated bool
	Stale     bool
	Warnings  []string
	// Reading is how an Ask answer reads to a person (zero for ExecuteSQL).
	Reading
	// Ask is the full reply for Ask calls (nil for ExecuteSQL).
	Ask *queryv1.AskResponse
}

// Reading is an answer in a sentence, the chart its shape suggests, and whether it was
// trusted enough to run.
type Reading struct {
	// AnswerText is the answer in one plain-language sentence, e.g. "There are 120
	// customers."; empty when the rows say nothing a sentence can.
	AnswerText string
	// Chart is the chart the result's shape suggests; nil when the server suggested none.
	Chart *Chart
	// LowConfidence is true when the answer's confidence fell below the source's
	// min_confidence: the SQL did not run, there are no rows, RetrievedTables are the
	// closest tables and SuggestedQuestion a rephrasing that names one of them.
	LowConfidence     bool
	SuggestedQuestion string
	// RetrievedTables are the tables retrieval chose, best first.
	RetrievedTables []RetrievedTable
}

// Chart is a chart suggestion: its Type ("TABLE", "BAR", "LINE" or "PIE") and the result
// columns it draws (none for TABLE).
type Chart struct {
	Type         string
	XColumn      string
	YColumns     []string
	SeriesColumn string
}

// AskOptions tune an Ask; the zero value takes the server's defaults.
type AskOptions struct {
	MaxRows int32
	// QueryTimeout bounds the query's execution in the database.
	QueryTimeout time.Duration
	// PlanOnly generates and guards the SQL without running it.
	PlanOnly bool
	// Candidates is how many SQL candidates to generate and choose from.
	Candidates int32
	// Model names a model or adapter from ListModels.
	Model string
	// PreviousQuery (an earlier Result's Query) makes the question a follow-up of that
	// answer: "only those in Berlin", "sort them by price" or "how many are there?" refine
	// its SQL. In BatchAsk every question follows it up.
	PreviousQuery string
}

// Ask answers a question about a data source (its id or "dataSources/{id}").
func (c *Client) Ask(ctx context.Context, source, question string, options AskOptions) (*Result, error) {
	reply, err := call(ctx, c, c.Query.Ask,
		&queryv1.AskRequest{Parent: SourceName(source), Question: question, Options: options.proto(),
			PreviousQuery: options.PreviousQuery})
	if err != nil {
		return nil, err
	}
	rows, err := DecodeRows(reply.GetRows())
	if err != nil {
		return nil, err
	}
	return askResult(reply, rows), nil
}

// proto is the options as the request carries them.
func (options AskOptions) proto() *queryv1.AskOptions {
	execute := !options.PlanOnly
	converted := &queryv1.AskOptions{MaxRows: options.MaxRows, Execute: &execute,
		CandidateCount: options.Candidates, Model: options.Model}
	if options.QueryTimeout > 0 {
		converted.Timeout = durationpb.New(options.QueryTimeout)
	}
	return converted
}

// askResult is an Ask reply (or StreamAsk's summary) with its decoded rows.
func askResult(reply *queryv1.AskResponse, rows [][]interface{}) *Result {
	result := newResult(reply.GetQuery(), reply.GetSql(), reply.GetColumns(), rows,
		reply.GetDegradationLevel(), reply.GetServedBy())
	result.Truncated, result.Stale, result.Warnings, result.Ask = reply.GetTruncated(), reply.GetStale(),
		reply.GetWarnings(), reply
	result.Reading = Reading{AnswerText: reply.GetAnswerText(), Chart: newChart(reply.GetChart()),
		LowConfidence: reply.GetLowConfidence(), SuggestedQuestion: reply.GetSuggestedQuestion(),
		RetrievedTables: newRetrievedTables(reply.GetRetrievedTables())}
	return result
}

// newChart is a ChartSuggestion as a Chart; nil for none.
func newChart(chart *queryv1.ChartSuggestion) *Chart {
	if chart == nil {
		return nil
	}
	return &Chart{Type: strings.TrimPrefix(chart.GetType().String(), "CHART_TYPE_"), XColumn: chart.GetXColumn(),
		YColumns: chart.GetYColumns(), SeriesColumn: chart.GetSeriesColumn()}
}

// ExecuteSQL runs a read-only query of the caller's own through the server's guard;
// maxRows 0 takes the server's default.
func (c *Client) ExecuteSQL(ctx context.Context, source, sql string, maxRows int32) (*Result, error) {
	reply, err := call(ctx, c, c.Query.ExecuteSql,
		&queryv1.ExecuteSqlRequest{Parent: SourceName(source), Sql: sql, MaxRows: maxRows})
	if err != nil {
		return nil, err
	}
	rows, err := DecodeRows(reply.GetRows())
	if err != nil {
		return nil, err
	}
	result := newResult(reply.GetQuery(), reply.GetSql(), reply.GetColumns(), rows,
		reply.GetDegradationLevel(), reply.GetServedBy())
	result.Truncated, result.Stale, result.Warnings = reply.GetTruncated(), reply.GetStale(), reply.GetWarnings()
	return result, nil
}

func newResult(query, sql string, columns []*commonv1.ResultColumn, rows [][]interface{},
	level commonv1.DegradationLevel, servedBy queryv1.ServedBy) *Result {
	return &Result{Query: query, SQL: sql, Columns: newColumns(columns), Rows: rows, DegradationLevel: Level(level),
		ServedBy: strings.TrimPrefix(servedBy.String(), "SERVED_BY_")}
}

// newColumns is the result columns with their wire types' names.
func newColumns(columns []*commonv1.ResultColumn) []Column {
	converted := make([]Column, 0, len(columns))
	for _, column := range columns {
		converted = append(converted, Column{Name: column.GetName(),
			Type:         strings.TrimPrefix(column.GetType().String(), "VALUE_TYPE_"),
			DatabaseType: column.GetDatabaseType()})
	}
	return converted
}

// Level is the documented level number (0 to 4) of a DegradationLevel, whose enum
// values are shifted by one because 0 is UNSPECIFIED; -1 when unspecified.
func Level(level commonv1.DegradationLevel) int {
	if level <= commonv1.DegradationLevel_DEGRADATION_LEVEL_UNSPECIFIED {
		return -1
	}
	return int(level) - 1
}

// LevelName is the level's name without its prefix, e.g. "NO_MODEL".
func LevelName(level int) string {
	return strings.TrimPrefix(commonv1.DegradationLevel(level+1).String(), "DEGRADATION_LEVEL_")
}
