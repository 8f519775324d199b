package livetest

import (
	"reflect"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"

	"github.com/chatdb/chatdb/chatdb"
	queryv1 "github.com/chatdb/chatdb/gen/go/chatdb/query/v1"
)

func TestQuestionsAreAnsweredStreamedAndRecorded(t *testing.T) {
	client, shop, ctx := connect(t, "go-questions")
	register(ctx, t, client, shop, "shop")
	_, err := client.Ask(ctx, "shop", "How many customers are there?", chatdb.AskOptions{})
	expectError(t, "asking an untrained source", err, codes.FailedPrecondition, "NOT_TRAINED")
	_, err = client.SearchTables(ctx, "shop", "customers", 0)
	expectError(t, "searching an untrained source", err, codes.FailedPrecondition, "NOT_TRAINED")
	train(ctx, t, client, "shop")

	found, err := client.SearchTables(ctx, "shop", "customer email city", 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(found.Tables) == 0 || found.Tables[0].GetTable() != "customers" ||
		found.Tables[0].GetReason() != queryv1.RetrievalReason_RETRIEVAL_REASON_SEARCH ||
		!contains(found.Tables[0].GetMatchedColumns(), "email") || found.DegradationLevel < 0 {
		t.Fatalf("searched for customers: %v (level %d)", found.Tables, found.DegradationLevel)
	}

	counted, err := client.Ask(ctx, "shop", "How many customers are there?", chatdb.AskOptions{})
	if err != nil {
		t.Fatal(err)
	}
	direct, err := client.ExecuteSQL(ctx, "shop", "SELECT COUNT(*) FROM customers", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(counted.Rows) != 1 || len(counted.Rows[0]) != 1 || !reflect.DeepEqual(counted.Rows, direct.Rows) ||
		direct.ServedBy != "CALLER_SQL" || counted.DegradationLevel < 0 || counted.Ask.GetRowCount() != 1 {
		t.Fatalf("asked %v (%s), counted directly %v", counted.Rows, counted.SQL, direct.Rows)
	}
	if _, ok := counted.Rows[0][0].(int64); !ok {
		t.Fatalf("the count is a %T", counted.Rows[0][0])
	}

	var events []chatdb.AskEvent
	streamed, err := client.StreamAsk(ctx, "shop", "List the names of products in the Books category",
		chatdb.StreamAskOptions{BatchSize: 3}, func(event chatdb.AskEvent) error {
			events = append(events, event)
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	var stages []string
	var batched [][]interface{}
	for _, event := range events {
		if event.Stage != "" {
			stages = append(stages, event.Stage)
			continue
		}
		if len(event.Rows) == 0 || len(event.Rows) > 3 {
			t.Fatalf("a batch of %d rows with a batch size of 3", len(event.Rows))
		}
		batched = append(batched, event.Rows...)
	}
	if !reflect.DeepEqual(stages, []string{"RETRIEVED", "GENERATED", "EXECUTED"}) {
		t.Fatalf("stages %v", stages)
	}
	if events[1].SQL != streamed.SQL || len(events[0].RetrievedTables) == 0 || len(events[2].Columns) != 1 {
		t.Fatalf("stage events %+v", events[:3])
	}
	books, err := client.ExecuteSQL(ctx, "shop", streamed.SQL, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(batched) != 8 || !reflect.DeepEqual(streamed.Rows, batched) || !reflect.DeepEqual(streamed.Rows, books.Rows) ||
		streamed.Query == "" || len(streamed.Columns) != 1 {
		t.Fatalf("streamed %v (%s); batches %v; run again %v", streamed.Rows, streamed.SQL, batched, books.Rows)
	}
	dropped, err := client.StreamAsk(ctx, "shop", "List the names of products in the Books category",
		chatdb.StreamAskOptions{DropRows: true}, nil)
	if err != nil || dropped.Rows != nil || dropped.SQL != streamed.SQL {
		t.Fatalf("rows dropped: %v, %v", dropped, err)
	}
	planned, err := client.Ask(ctx, "shop", "How many customers are there?", chatdb.AskOptions{PlanOnly: true})
	if err != nil || planned.Ask.GetExecuted() || len(planned.Rows) != 0 || planned.SQL == "" {
		t.Fatalf("plan only: %v, %v", planned, err)
	}

	history, err := client.ListQueries(ctx, "shop", chatdb.ListOptions{PageSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	var recorded []string
	for _, query := range history {
		recorded = append(recorded, query.GetName())
	}
	for _, result := range []*chatdb.Result{counted, direct, streamed, books} {
		if !contains(recorded, result.Query) {
			t.Fatalf("%s is not in the history %v", result.Query, recorded)
		}
	}
	if history[0].GetCreateTime().AsTime().Before(history[len(history)-1].GetCreateTime().AsTime()) {
		t.Fatal("the history is not newest first")
	}
	one, err := client.GetQuery(ctx, counted.Query)
	if err != nil || one.GetQuestion() != "How many customers are there?" || one.GetSql() != counted.SQL ||
		one.GetState() != queryv1.QueryState_QUERY_STATE_SUCCEEDED {
		t.Fatalf("the recorded ask: %v, %v", one, err)
	}

	rated, err := client.SubmitFeedback(ctx, counted.Query, chatdb.Feedback{Rating: chatdb.RatingCorrect, Comment: "right"})
	if err != nil {
		t.Fatal(err)
	}
	if rated.GetFeedback().GetRating() != chatdb.RatingCorrect || rated.GetFeedback().GetComment() != "right" ||
		rated.GetFeedback().GetExample() == "" {
		t.Fatalf("feedback %v", rated.GetFeedback())
	}
	examples, err := client.ListExamples(ctx, "shop", chatdb.ListOptions{})
	if err != nil || len(examples) != 1 || examples[0].GetName() != rated.GetFeedback().GetExample() {
		t.Fatalf("the example made from the feedback: %v, %v", examples, err)
	}
	corrected, err := client.SubmitFeedback(ctx, streamed.Query,
		chatdb.Feedback{CorrectedSQL: "SELECT name FROM products ORDER BY name"})
	if err != nil || corrected.GetFeedback().GetRating() != chatdb.RatingIncorrect {
		t.Fatalf("a corrected SQL: %v, %v", corrected, err)
	}
	_, err = client.SubmitFeedback(ctx, books.Query, chatdb.Feedback{Comment: "no rating"})
	unrated := expectError(t, "feedback without a rating", err, codes.InvalidArgument, "INVALID_FIELD")
	if len(unrated.FieldViolations) != 1 || unrated.FieldViolations[0].Field != "rating" {
		t.Fatalf("field violations %v", unrated.FieldViolations)
	}
}

func TestSQLIsValidatedAndErrorsAreTyped(t *testing.T) {
	client, shop, ctx := connect(t, "go-sql")
	register(ctx, t, client, shop, "shop")

	valid, err := client.ValidateSQL(ctx, "shop", "SELECT name FROM customers")
	if err != nil {
		t.Fatal(err)
	}
	if !valid.Valid || !strings.Contains(valid.SQL, "LIMIT") || !reflect.DeepEqual(valid.Tables, []string{"customers"}) ||
		valid.Dialect != "SQLITE" || len(valid.Violations) != 0 || len(valid.Warnings) == 0 {
		t.Fatalf("valid: %+v", valid)
	}
	refused, err := client.ValidateSQL(ctx, "shop", "DROP TABLE customers")
	if err != nil {
		t.Fatal(err)
	}
	if refused.Valid || refused.SQL != "" || len(refused.Violations) == 0 || refused.Violations[0].Reason == "" {
		t.Fatalf("refused: %+v", refused)
	}
	unknown, err := client.ValidateSQL(ctx, "shop", "SELECT secret FROM vault")
	if err != nil || unknown.Valid || unknown.Violations[0].Reason != "UNKNOWN_TABLE" {
		t.Fatalf("an unknown table: %+v, %v", unknown, err)
	}

	_, err = client.ExecuteSQL(ctx, "shop", "DELETE FROM customers", 0)
	write := expectError(t, "executing a write", err, codes.InvalidArgument, "UNSAFE_SQL")
	if len(write.FieldViolations) != 1 || write.FieldViolations[0].Field != "sql" {
		t.Fatalf("field violations %v", write.FieldViolations)
	}
	limited, err := client.ExecuteSQL(ctx, "shop", "SELECT id FROM customers ORDER BY id", 5)
	if err != nil || len(limited.Rows) != 5 || !limited.Truncated {
		t.Fatalf("five rows of many: %v, %v", limited, err)
	}
	_, err = client.ExecuteSQL(ctx, "no-such-source", "SELECT 1", 0)
	missing := expectError(t, "an unknown source", err, codes.NotFound, "NOT_FOUND")
	if missing.Metadata["resource"] != "dataSources/no-such-source" {
		t.Fatalf("NOT_FOUND names %v", missing.Metadata)
	}
	_, err = client.Ask(ctx, "shop", " ", chatdb.AskOptions{})
	empty := expectError(t, "an empty question", err, codes.InvalidArgument, "INVALID_FIELD")
	if len(empty.FieldViolations) != 1 || empty.FieldViolations[0].Field != "question" {
		t.Fatalf("field violations %v", empty.FieldViolations)
	}
	_, err = client.StreamAsk(ctx, "no-such-source", "How many customers are there?", chatdb.StreamAskOptions{}, nil)
	expectError(t, "streaming from an unknown source", err, codes.NotFound, "NOT_FOUND")
	_, err = client.GetQuery(ctx, "dataSources/shop/queries/no-such-query")
	expectError(t, "an unknown query", err, codes.NotFound, "NOT_FOUND")
	_, err = client.ListQueries(ctx, "no-such-source", chatdb.ListOptions{})
	expectError(t, "the history of an unknown source", err, codes.NotFound, "NOT_FOUND")

	status, err := client.GetSystemStatus(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var dependencies []string
	for _, dependency := range status.Dependencies {
		dependencies = append(dependencies, dependency.Name)
	}
	if status.DegradationLevel < 0 || status.DegradationLevel > 4 || !contains(dependencies, "metadata") ||
		status.CheckTime.IsZero() || status.CheckTime.Location().String() != "UTC" {
		t.Fatalf("status %+v", status)
	}
}

func contains(items []string, item string) bool {
	for _, each := range items {
		if each == item {
			return true
		}
	}
	return false
}
