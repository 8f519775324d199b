package chatdb

import (
	"context"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/fieldmaskpb"

	schemav1 "github.com/chatdb/chatdb/gen/go/chatdb/schema/v1"
)

// DataSource is a registered database (the generated message): Name, DisplayName,
// Dialect, RedactedDsn (the password masked; the DSN itself is never returned),
// Schemas, DefaultAdapter, Labels, TableCount and its times.
type DataSource = schemav1.DataSource

// NewDataSource describes a database to register; only DSN is required.
type NewDataSource struct {
	// DSN is a SQLAlchemy-style URL: postgresql://user:pw@host:5432/db,
	// mysql://user:pw@host:3306/db or sqlite:///path/to/file.db.
	DSN string
	// ID is the source's id in "dataSources/{id}" (1 to 63 of [a-z0-9-], starting
	// with a letter); the server picks one when empty.
	ID          string
	DisplayName string
	// Schemas are the PostgreSQL schemas to discover; empty means the default one.
	Schemas []string
	// DefaultAdapter is the LoRA adapter Ask uses when a request names none.
	DefaultAdapter string
	Labels         map[string]string
}

// DataSourceUpdate names the fields UpdateDataSource changes: a nil field is left as it is.
// An empty, non-nil Schemas or Labels clears them.
type DataSourceUpdate struct {
	DisplayName *string
	// DSN is tested before it is stored.
	DSN            *string
	Schemas        []string
	DefaultAdapter *string
	Labels         map[string]string
	// MinConfidence (0 to 1; 0 refuses nothing) makes Ask answer a question whose SQL is
	// less confident than it with a low-confidence reply instead of running the SQL.
	MinConfidence *float64
}

// ConnectionInfo is what TestConnection found: the dialect (e.g. "POSTGRESQL"), the
// server's version string and the round trip of one trivial query on a fresh connection.
type ConnectionInfo struct {
	Dialect       string
	ServerVersion string
	Latency       time.Duration
}

// CreateDataSource registers a database. The server tests the connection and discovers
// the schema before it stores the source: an *Error with Code InvalidArgument and a field
// violation for a malformed DSN, FailedPrecondition with Reason "SOURCE_UNREACHABLE"
// when the database cannot be reached.
func (c *Client) CreateDataSource(ctx context.Context, source NewDataSource) (*DataSource, error) {
	reply, err := call(ctx, c, c.Schema.CreateDataSource, &schemav1.CreateDataSourceRequest{
		DataSourceId: source.ID,
		DataSource: &schemav1.DataSource{Dsn: source.DSN, DisplayName: source.DisplayName, Schemas: source.Schemas,
			DefaultAdapter: source.DefaultAdapter, Labels: source.Labels},
	})
	return reply.GetDataSource(), err
}

// GetDataSource returns a data source (its id or "dataSources/{id}").
func (c *Client) GetDataSource(ctx context.Context, source string) (*DataSource, error) {
	reply, err := call(ctx, c, c.Schema.GetDataSource, &schemav1.GetDataSourceRequest{Name: SourceName(source)})
	return reply.GetDataSource(), err
}

// ListDataSources returns every data source of the tenant, oldest first, following all pages.
func (c *Client) ListDataSources(ctx context.Context, options ListOptions) ([]*DataSource, error) {
	return allPages(ctx, func(ctx context.Context, token string) ([]*DataSource, string, error) {
		reply, err := call(ctx, c, c.Schema.ListDataSources,
			&schemav1.ListDataSourcesRequest{PageSize: options.PageSize, PageToken: token})
		return reply.GetDataSources(), reply.GetNextPageToken(), err
	})
}

// UpdateDataSource changes the fields the update sets and returns the source as stored.
func (c *Client) UpdateDataSource(ctx context.Context, source string, update DataSourceUpdate) (*DataSource, error) {
	changed, paths := update.message()
	changed.Name = SourceName(source)
	reply, err := call(ctx, c, c.Schema.UpdateDataSource,
		&schemav1.UpdateDataSourceRequest{DataSource: changed, UpdateMask: &fieldmaskpb.FieldMask{Paths: paths}})
	return reply.GetDataSource(), err
}

// message is the update as a DataSource and the field mask of what it sets.
func (update DataSourceUpdate) message() (*DataSource, []string) {
	changed := &schemav1.DataSource{}
	var paths []string
	if update.DisplayName != nil {
		changed.DisplayName, paths = *update.DisplayName, append(paths, "display_name")
	}
	if update.DSN != nil {
		changed.Dsn, paths = *update.DSN, append(paths, "dsn")
	}
	if update.Schemas != nil {
		changed.Schemas, paths = update.Schemas, append(paths, "schemas")
	}
	if update.DefaultAdapter != nil {
		changed.DefaultAdapter, paths = *update.DefaultAdapter, append(paths, "default_adapter")
	}
	if update.Labels != nil {
		changed.Labels, paths = update.Labels, append(paths, "labels")
	}
	if update.MinConfidence != nil {
		changed.MinConfidence, paths = *update.MinConfidence, append(paths, "min_confidence")
	}
	return changed, paths
}

// DeleteDataSource deletes a data source and everything stored for it: tables, vectors,
// examples, jobs, query history and cached results.
func (c *Client) DeleteDataSource(ctx context.Context, source string) error {
	_, err := call(ctx, c, c.Schema.DeleteDataSource, &schemav1.DeleteDataSourceRequest{Name: SourceName(source)})
	return err
}

// TestConnection connects to a stored data source. A refused connection is an *Error
// with Code FailedPrecondition and Reason "SOURCE_UNREACHABLE".
func (c *Client) TestConnection(ctx context.Context, source string) (*ConnectionInfo, error) {
	return c.testConnection(ctx, &schemav1.TestConnectionRequest{
		Target: &schemav1.TestConnectionRequest_Name{Name: SourceName(source)}})
}

// TestDSN connects to a database that is not registered, e.g. before CreateDataSource.
func (c *Client) TestDSN(ctx context.Context, dsn string) (*ConnectionInfo, error) {
	return c.testConnection(ctx, &schemav1.TestConnectionRequest{Target: &schemav1.TestConnectionRequest_Dsn{Dsn: dsn}})
}

func (c *Client) testConnection(ctx context.Context, request *schemav1.TestConnectionRequest) (*ConnectionInfo, error) {
	reply, err := call(ctx, c, c.Schema.TestConnection, request)
	if err != nil {
		return nil, err
	}
	return &ConnectionInfo{Dialect: strings.TrimPrefix(reply.GetDialect().String(), "DIALECT_"),
		ServerVersion: reply.GetServerVersion(), Latency: reply.GetLatency().AsDuration()}, nil
}
