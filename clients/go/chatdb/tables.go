package chatdb

import (
	"context"
	"strings"

	schemav1 "github.com/chatdb/chatdb/gen/go/chatdb/schema/v1"
)

// Table is a discovered table or view (the generated message): Name
// ("dataSources/{id}/tables/{table}"), Table (its name in the database), Kind, Columns,
// PrimaryKey, ForeignKeys, Indexes, RowEstimate, SampleRows (the full view only),
// Description and TrainingState.
type Table = schemav1.Table

// SchemaChanges is what RefreshSchema found: AddedTables, RemovedTables,
// ChangedTables, UnchangedCount, StaleTables (trained tables that became STALE) and DiscoverTime.
type SchemaChanges = schemav1.RefreshSchemaResponse

// SchemaGraph is a source's join graph: Tables, and Edges (declared foreign keys
// first, then inferred joins with their confidence).
type SchemaGraph = schemav1.GetSchemaGraphResponse

// TableListOptions tune ListTables.
type TableListOptions struct {
	ListOptions
	// Full returns sample rows too (the server's FULL view); the BASIC view otherwise.
	Full bool
}

// ListTables returns every table and view of a data source in name order, following all pages.
func (c *Client) ListTables(ctx context.Context, source string, options TableListOptions) ([]*Table, error) {
	view := schemav1.TableView_TABLE_VIEW_BASIC
	if options.Full {
		view = schemav1.TableView_TABLE_VIEW_FULL
	}
	return allPages(ctx, func(ctx context.Context, token string) ([]*Table, string, error) {
		reply, err := call(ctx, c, c.Schema.ListTables, &schemav1.ListTablesRequest{Parent: SourceName(source),
			PageSize: options.PageSize, PageToken: token, View: view})
		return reply.GetTables(), reply.GetNextPageToken(), err
	})
}

// GetTable returns one table of a data source with its columns, keys, indexes and sample
// rows; table is its name in the database (e.g. "orders") or its resource name.
func (c *Client) GetTable(ctx context.Context, source, table string) (*Table, error) {
	reply, err := call(ctx, c, c.Schema.GetTable, &schemav1.GetTableRequest{Name: TableName(source, table)})
	return reply.GetTable(), err
}

// TableName is "dataSources/{id}/tables/{table}" for a source and a table's name in the
// database, or table unchanged when it is a resource name already.
func TableName(source, table string) string {
	if strings.HasPrefix(table, "dataSources/") {
		return table
	}
	return SourceName(source) + "/tables/" + table
}

// RefreshSchema discovers a data source's schema again and reports what changed.
func (c *Client) RefreshSchema(ctx context.Context, source string) (*SchemaChanges, error) {
	return call(ctx, c, c.Schema.RefreshSchema, &schemav1.RefreshSchemaRequest{Name: SourceName(source)})
}

// GetSchemaGraph returns a data source's join graph, leaving out inferred joins below
// minConfidence (0 keeps all).
func (c *Client) GetSchemaGraph(ctx context.Context, source string, minConfidence float64) (*SchemaGraph, error) {
	return call(ctx, c, c.Schema.GetSchemaGraph,
		&schemav1.GetSchemaGraphRequest{Parent: SourceName(source), MinConfidence: minConfidence})
}
