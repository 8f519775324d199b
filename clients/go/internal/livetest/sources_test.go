package livetest

import (
	"reflect"
	"sort"
	"testing"

	"google.golang.org/grpc/codes"

	"github.com/chatdb/chatdb/chatdb"
	commonv1 "github.com/chatdb/chatdb/gen/go/chatdb/common/v1"
	schemav1 "github.com/chatdb/chatdb/gen/go/chatdb/schema/v1"
)

// shopRelations are the shop database's tables and its view, in name order.
var shopRelations = []string{"categories", "customers", "order_items", "order_totals", "orders", "payments",
	"products", "reviews"}

func TestDataSourcesAreRegisteredListedUpdatedAndDeleted(t *testing.T) {
	client, shop, ctx := connect(t, "go-sources")
	probe, err := client.TestDSN(ctx, "sqlite:///"+shop)
	if err != nil || probe.Dialect != "SQLITE" || probe.ServerVersion == "" || probe.Latency <= 0 {
		t.Fatalf("testing the DSN: %+v, %v", probe, err)
	}
	created, err := client.CreateDataSource(ctx, chatdb.NewDataSource{DSN: "sqlite:///" + shop, ID: "shop",
		DisplayName: "Shop", Labels: map[string]string{"team": "go"}})
	if err != nil {
		t.Fatal(err)
	}
	if created.GetName() != "dataSources/shop" || created.GetDialect() != commonv1.Dialect_DIALECT_SQLITE ||
		created.GetTableCount() != int32(len(shopRelations)) || created.GetDsn() != "" {
		t.Fatalf("created %v", created)
	}
	register(ctx, t, client, shop, "shop-copy")

	listed, err := client.ListDataSources(ctx, chatdb.ListOptions{PageSize: 1}) // one page per source
	if err != nil {
		t.Fatal(err)
	}
	if names := sourceNames(listed); !reflect.DeepEqual(names, []string{"dataSources/shop", "dataSources/shop-copy"}) {
		t.Fatalf("listed %v", names)
	}
	connected, err := client.TestConnection(ctx, "shop")
	if err != nil || connected.Dialect != "SQLITE" {
		t.Fatalf("testing the source: %+v, %v", connected, err)
	}

	renamed := "The shop"
	updated, err := client.UpdateDataSource(ctx, "dataSources/shop",
		chatdb.DataSourceUpdate{DisplayName: &renamed, Labels: map[string]string{"team": "sdk", "tier": "gold"}})
	if err != nil {
		t.Fatal(err)
	}
	fetched, err := client.GetDataSource(ctx, "shop")
	if err != nil {
		t.Fatal(err)
	}
	for _, source := range []*chatdb.DataSource{updated, fetched} {
		if source.GetDisplayName() != renamed || !reflect.DeepEqual(source.GetLabels(),
			map[string]string{"team": "sdk", "tier": "gold"}) || source.GetRedactedDsn() != "sqlite:///"+shop {
			t.Fatalf("after the update: %v", source)
		}
	}

	if err := client.DeleteDataSource(ctx, "shop-copy"); err != nil {
		t.Fatal(err)
	}
	_, err = client.GetDataSource(ctx, "shop-copy")
	missing := expectError(t, "a deleted source", err, codes.NotFound, "NOT_FOUND")
	if missing.Metadata["resource"] != "dataSources/shop-copy" {
		t.Fatalf("NOT_FOUND names %v", missing.Metadata)
	}
	listed, err = client.ListDataSources(ctx, chatdb.ListOptions{})
	if err != nil || !reflect.DeepEqual(sourceNames(listed), []string{"dataSources/shop"}) {
		t.Fatalf("after the delete: %v, %v", sourceNames(listed), err)
	}
	expectError(t, "deleting it again", client.DeleteDataSource(ctx, "shop-copy"), codes.NotFound, "NOT_FOUND")
}

func TestBadSourcesAreRefusedWithTheFieldAndReason(t *testing.T) {
	client, _, ctx := connect(t, "go-bad-sources")
	_, err := client.CreateDataSource(ctx, chatdb.NewDataSource{DSN: "definitely not a dsn"})
	malformed := expectError(t, "a malformed DSN", err, codes.InvalidArgument, "INVALID_FIELD")
	if len(malformed.FieldViolations) != 1 || malformed.FieldViolations[0].Field != "data_source.dsn" {
		t.Fatalf("field violations %v", malformed.FieldViolations)
	}
	_, err = client.TestDSN(ctx, "postgresql://nobody@127.0.0.1:1/shop") // a loopback port nothing listens on
	expectError(t, "an unreachable database", err, codes.FailedPrecondition, "SOURCE_UNREACHABLE")
	_, err = client.TestDSN(ctx, "sqlite:////etc/chatdb-go/shop.db")
	expectError(t, "a file outside the allowed directories", err, codes.PermissionDenied, "SOURCE_NOT_ALLOWED")
	_, err = client.ListDataSources(ctx, chatdb.ListOptions{PageSize: -1})
	negative := expectError(t, "a negative page size", err, codes.InvalidArgument, "INVALID_FIELD")
	if len(negative.FieldViolations) != 1 || negative.FieldViolations[0].Field != "page_size" {
		t.Fatalf("field violations %v", negative.FieldViolations)
	}
	_, err = client.UpdateDataSource(ctx, "no-such-source", chatdb.DataSourceUpdate{})
	expectError(t, "an update that sets nothing", err, codes.InvalidArgument, "INVALID_FIELD")
}

func TestTablesAreListedOverPagesShownRefreshedAndGraphed(t *testing.T) {
	client, shop, ctx := connect(t, "go-tables")
	register(ctx, t, client, shop, "shop")

	tables, err := client.ListTables(ctx, "shop", chatdb.TableListOptions{ListOptions: chatdb.ListOptions{PageSize: 3}})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, table := range tables {
		names = append(names, table.GetTable())
		if len(table.GetSampleRows()) != 0 {
			t.Fatalf("the basic view of %s has sample rows", table.GetTable())
		}
	}
	if !reflect.DeepEqual(names, shopRelations) {
		t.Fatalf("tables over pages of 3: %v", names)
	}
	full, err := client.ListTables(ctx, "shop", chatdb.TableListOptions{Full: true})
	if err != nil || len(full) != len(shopRelations) || len(full[0].GetSampleRows()) == 0 {
		t.Fatalf("the full view: %d tables, %v", len(full), err)
	}

	orders, err := client.GetTable(ctx, "shop", "orders")
	if err != nil {
		t.Fatal(err)
	}
	if orders.GetName() != "dataSources/shop/tables/orders" || orders.GetKind() != schemav1.TableKind_TABLE_KIND_TABLE ||
		!reflect.DeepEqual(orders.GetPrimaryKey(), []string{"id"}) || len(orders.GetForeignKeys()) != 1 ||
		orders.GetForeignKeys()[0].GetReferredTable() != "customers" || len(orders.GetSampleRows()) == 0 ||
		orders.GetTrainingState() != schemav1.TrainingState_TRAINING_STATE_UNTRAINED {
		t.Fatalf("orders: %v", orders)
	}
	_, err = client.GetTable(ctx, "shop", "no_such_table")
	expectError(t, "an unknown table", err, codes.NotFound, "NOT_FOUND")

	changes, err := client.RefreshSchema(ctx, "shop")
	if err != nil {
		t.Fatal(err)
	}
	if changes.GetUnchangedCount() != int32(len(shopRelations)) || len(changes.GetAddedTables()) != 0 ||
		len(changes.GetRemovedTables()) != 0 || !changes.GetDiscoverTime().IsValid() {
		t.Fatalf("refresh of an unchanged schema: %v", changes)
	}

	graph, err := client.GetSchemaGraph(ctx, "shop", 0)
	if err != nil {
		t.Fatal(err)
	}
	sorted := append([]string(nil), graph.GetTables()...)
	sort.Strings(sorted)
	if !reflect.DeepEqual(sorted, shopRelations) {
		t.Fatalf("graph tables %v", graph.GetTables())
	}
	if !hasEdge(graph, "orders", "customers", commonv1.JoinEdgeKind_JOIN_EDGE_KIND_DECLARED) ||
		!hasEdge(graph, "reviews", "products", commonv1.JoinEdgeKind_JOIN_EDGE_KIND_INFERRED) {
		t.Fatalf("graph edges %v", graph.GetEdges())
	}
	confident, err := client.GetSchemaGraph(ctx, "shop", 1)
	if err != nil || !hasEdge(confident, "orders", "customers", commonv1.JoinEdgeKind_JOIN_EDGE_KIND_DECLARED) {
		t.Fatalf("the declared edges of a graph at confidence 1: %v, %v", confident.GetEdges(), err)
	}
	for _, edge := range confident.GetEdges() {
		if edge.GetKind() == commonv1.JoinEdgeKind_JOIN_EDGE_KIND_INFERRED && edge.GetConfidence() < 1 {
			t.Fatalf("an inferred edge below the bar of 1: %v", edge)
		}
	}
	_, err = client.GetSchemaGraph(ctx, "shop", 1.5)
	expectError(t, "a confidence above 1", err, codes.InvalidArgument, "INVALID_FIELD")
}

func sourceNames(sources []*chatdb.DataSource) []string {
	names := []string{}
	for _, source := range sources {
		names = append(names, source.GetName())
	}
	return names
}

func hasEdge(graph *chatdb.SchemaGraph, from, to string, kind commonv1.JoinEdgeKind) bool {
	for _, edge := range graph.GetEdges() {
		if edge.GetFromTable() == from && edge.GetToTable() == to && edge.GetKind() == kind {
			return true
		}
	}
	return false
}
