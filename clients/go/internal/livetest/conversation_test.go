package livetest

import (
	"reflect"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"

	"github.com/chatdb/chatdb/chatdb"
	queryv1 "github.com/chatdb/chatdb/gen/go/chatdb/query/v1"
)

const berliners = "SELECT name FROM customers WHERE city = 'Berlin'"

func TestFollowUpsRefineAnAnswerAndAnswersReadAsSentences(t *testing.T) {
	client, shop, ctx := connect(t, "go-conversation")
	register(ctx, t, client, shop, "shop")
	train(ctx, t, client, "shop")

	listed, err := client.Ask(ctx, "shop", "List the customers", chatdb.AskOptions{})
	if err != nil {
		t.Fatal(err)
	}
	berlin, err := client.Ask(ctx, "shop", "only those in Berlin", chatdb.AskOptions{PreviousQuery: listed.Query})
	if err != nil {
		t.Fatal(err)
	}
	direct, err := client.ExecuteSQL(ctx, "shop", berliners, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(berlin.SQL, "WHERE city = 'Berlin'") || len(direct.Rows) == 0 ||
		!reflect.DeepEqual(berlin.Rows, direct.Rows) {
		t.Fatalf("the follow-up %s answered %v; %s answers %v", berlin.SQL, berlin.Rows, berliners, direct.Rows)
	}
	recorded, err := client.GetQuery(ctx, berlin.Query)
	if err != nil || recorded.GetPreviousQuery() != listed.Query {
		t.Fatalf("the recorded follow-up: %v, %v", recorded, err)
	}
	counted, err := client.StreamAsk(ctx, "shop", "how many are there?",
		chatdb.StreamAskOptions{AskOptions: chatdb.AskOptions{PreviousQuery: berlin.Query}}, nil)
	if err != nil || !strings.HasPrefix(counted.SQL, "SELECT COUNT(*) FROM customers WHERE city = 'Berlin'") ||
		!reflect.DeepEqual(counted.Rows, [][]interface{}{{int64(len(direct.Rows))}}) {
		t.Fatalf("a streamed follow-up: %v, %v", counted, err)
	}
	if !strings.HasPrefix(counted.AnswerText, "There are ") || counted.Chart == nil || counted.Chart.Type != "TABLE" ||
		counted.LowConfidence || len(counted.RetrievedTables) == 0 {
		t.Fatalf("the count's reading %+v", counted.Reading)
	}

	refinements := []chatdb.BatchQuestion{{ID: "berlin", Question: "only those in Berlin"},
		{ID: "sorted", Question: "sort them by name"}}
	answers, err := client.BatchAsk(ctx, "shop", refinements, chatdb.AskOptions{PreviousQuery: listed.Query}, nil)
	if err != nil || len(answers) != 2 {
		t.Fatalf("a batch of follow-ups: %v, %v", answers, err)
	}
	for _, answer := range answers {
		if answer.Err != nil {
			t.Fatalf("%s: %v", answer.ID, answer.Err)
		}
		followed, err := client.GetQuery(ctx, answer.Result.Query)
		if err != nil || followed.GetPreviousQuery() != listed.Query {
			t.Fatalf("%s recorded as %v, %v", answer.ID, followed, err)
		}
	}
	if !reflect.DeepEqual(answers[0].Result.Rows, direct.Rows) || !strings.Contains(answers[1].Result.SQL, "ORDER BY") {
		t.Fatalf("batched follow-ups %s %v; %s", answers[0].Result.SQL, answers[0].Result.Rows, answers[1].Result.SQL)
	}
	_, err = client.BatchAsk(ctx, "shop", refinements,
		chatdb.AskOptions{PreviousQuery: "dataSources/shop/queries/qnosuchquery0000000000"}, nil)
	expectError(t, "a batch following up an unknown query", err, codes.NotFound, "NOT_FOUND")

	strict, lenient := 1.0, 0.0
	if _, err := client.UpdateDataSource(ctx, "shop", chatdb.DataSourceUpdate{MinConfidence: &strict}); err != nil {
		t.Fatal(err)
	}
	refused, err := client.Ask(ctx, "shop", "How many orders are there?", chatdb.AskOptions{})
	if _, resetErr := client.UpdateDataSource(ctx, "shop", chatdb.DataSourceUpdate{MinConfidence: &lenient}); resetErr != nil {
		t.Fatal(resetErr)
	}
	if err != nil {
		t.Fatal(err)
	}
	if !refused.LowConfidence || len(refused.Rows) != 0 || refused.Ask.GetExecuted() || refused.AnswerText == "" ||
		!strings.HasSuffix(refused.SuggestedQuestion, "?") || len(refused.RetrievedTables) == 0 {
		t.Fatalf("a low-confidence reply %+v", refused.Reading)
	}
	history, err := client.GetQuery(ctx, refused.Query)
	if err != nil || history.GetState() != queryv1.QueryState_QUERY_STATE_LOW_CONFIDENCE || history.GetRowCount() != 0 {
		t.Fatalf("the low-confidence ask is recorded as %v, %v", history, err)
	}
	_, err = client.Ask(ctx, "shop", "only those paid", chatdb.AskOptions{PreviousQuery: refused.Query})
	expectError(t, "following up a low-confidence reply", err, codes.FailedPrecondition, "NOT_FOLLOWABLE")
}
