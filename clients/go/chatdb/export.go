package chatdb

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"

	queryv1 "github.com/chatdb/chatdb/gen/go/chatdb/query/v1"
)

// ExportFormat is the file format of an export.
type ExportFormat = queryv1.ExportFormat

// The formats of ExportOptions.
const (
	// ExportCSV is RFC 4180 CSV with a header row, UTF-8; NULL is an empty field, binary values are base64.
	ExportCSV = queryv1.ExportFormat_EXPORT_FORMAT_CSV
	// ExportJSONLines is one JSON object per line, keyed by column name.
	ExportJSONLines = queryv1.ExportFormat_EXPORT_FORMAT_JSON_LINES
	// ExportArrow is the Apache Arrow IPC stream format.
	ExportArrow = queryv1.ExportFormat_EXPORT_FORMAT_ARROW
	// ExportParquet is Apache Parquet.
	ExportParquet = queryv1.ExportFormat_EXPORT_FORMAT_PARQUET
)

// ExportOptions tune an export; Format is required.
type ExportOptions struct {
	Format ExportFormat
	// MaxRows caps the rows; 0 takes the server's export maximum (far above Ask's row cap).
	MaxRows int64
	// QueryTimeout bounds the query's execution in the database; 0 takes the server's.
	QueryTimeout time.Duration
}

// Export describes a finished export: the header that preceded the file and the summary after it.
type Export struct {
	// ContentType is the file's media type, e.g. "text/csv"; FileExtension e.g. "csv".
	ContentType   string
	FileExtension string
	Columns       []Column
	// SQL is what ran, after the guard and the caller's policies.
	SQL       string
	RowCount  int64
	ByteCount int64
	// Truncated is whether MaxRows (or the server's maximum) cut the result.
	Truncated bool
	Warnings  []string
	Elapsed   time.Duration
}

// ExportSQL runs read-only SQL of the caller's own against a data source and writes its
// full result to w as a file of the chosen format. The SQL is guarded as ExecuteSQL's is
// (an *Error with Code InvalidArgument and Reason "UNSAFE_SQL" when it is refused).
func (c *Client) ExportSQL(ctx context.Context, source, sql string, w io.Writer, options ExportOptions) (
	*Export, error) {
	return c.export(ctx, &queryv1.ExportQueryResultRequest{Parent: SourceName(source),
		Input: &queryv1.ExportQueryResultRequest_Sql{Sql: sql}}, w, options)
}

// ExportQuery runs a recorded query's SQL again ("dataSources/{id}/queries/{query}",
// Result.Query) and writes its full result to w, as ExportSQL does.
func (c *Client) ExportQuery(ctx context.Context, query string, w io.Writer, options ExportOptions) (*Export, error) {
	return c.export(ctx, &queryv1.ExportQueryResultRequest{Input: &queryv1.ExportQueryResultRequest_Query{Query: query}},
		w, options)
}

func (c *Client) export(ctx context.Context, request *queryv1.ExportQueryResultRequest, w io.Writer,
	options ExportOptions) (*Export, error) {
	ctx, cancel := c.withDeadline(ctx)
	defer cancel() // ends the stream when writing fails
	request.Format, request.MaxRows = options.Format, options.MaxRows
	if options.QueryTimeout > 0 {
		request.Timeout = durationpb.New(options.QueryTimeout)
	}
	stream, err := c.Query.ExportQueryResult(ctx, request)
	if err != nil {
		return nil, wrap(err)
	}
	export := &Export{}
	var written int64
	for {
		message, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil, errors.New("chatdb: the export ended without a summary")
		}
		if err != nil {
			return nil, wrap(err)
		}
		switch part := message.GetPart().(type) {
		case *queryv1.ExportQueryResultResponse_Header:
			header := part.Header
			export.ContentType, export.FileExtension, export.Columns, export.SQL = header.GetContentType(),
				header.GetFileExtension(), newColumns(header.GetColumns()), header.GetSql()
		case *queryv1.ExportQueryResultResponse_Chunk:
			n, err := w.Write(part.Chunk)
			written += int64(n)
			if err != nil {
				return nil, fmt.Errorf("chatdb: writing the export: %w", err)
			}
		case *queryv1.ExportQueryResultResponse_Summary:
			summary := part.Summary
			if summary.GetByteCount() != written {
				return nil, fmt.Errorf("chatdb: the export wrote %d bytes, its summary says %d", written,
					summary.GetByteCount())
			}
			export.RowCount, export.ByteCount, export.Truncated, export.Warnings, export.Elapsed = summary.GetRowCount(),
				summary.GetByteCount(), summary.GetTruncated(), summary.GetWarnings(), summary.GetElapsed().AsDuration()
			if err := drain(stream.Recv); err != nil {
				return nil, err
			}
			return export, nil
		}
	}
}
