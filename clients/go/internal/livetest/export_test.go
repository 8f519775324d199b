package livetest

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"

	"github.com/chatdb/chatdb/chatdb"
)

// writes counts the chunks an export wrote, into a buffer.
type writes struct {
	bytes.Buffer
	count int
}

func (w *writes) Write(chunk []byte) (int, error) {
	w.count++
	return w.Buffer.Write(chunk)
}

func TestResultsAreExportedToAWriter(t *testing.T) {
	client, shop, ctx := connect(t, "go-export")
	register(ctx, t, client, shop, "shop")
	const sql = "SELECT id, name, city FROM customers ORDER BY id"
	direct, err := client.ExecuteSQL(ctx, "shop", sql, 0)
	if err != nil {
		t.Fatal(err)
	}

	var file writes
	export, err := client.ExportSQL(ctx, "shop", sql, &file, chatdb.ExportOptions{Format: chatdb.ExportCSV})
	if err != nil {
		t.Fatal(err)
	}
	records, err := csv.NewReader(bytes.NewReader(file.Bytes())).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(records[0], []string{"id", "name", "city"}) || len(records)-1 != len(direct.Rows) {
		t.Fatalf("the CSV has %d records, headed %v; ExecuteSQL found %d rows", len(records), records[0], len(direct.Rows))
	}
	for i, row := range direct.Rows {
		if want := []string{fmt.Sprint(row[0]), row[1].(string), row[2].(string)}; !reflect.DeepEqual(records[i+1], want) {
			t.Fatalf("record %d is %v, want %v", i+1, records[i+1], want)
		}
	}
	if !strings.HasPrefix(export.ContentType, "text/csv") || export.FileExtension != "csv" || export.RowCount != int64(len(direct.Rows)) ||
		export.ByteCount != int64(file.Len()) || export.Truncated || len(export.Columns) != 3 || export.SQL == "" {
		t.Fatalf("export %+v of %d bytes", export, file.Len())
	}
	if file.count < 2 {
		t.Fatalf("%d bytes came in %d chunk(s); the server's chunks are smaller", file.Len(), file.count)
	}

	var capped bytes.Buffer
	few, err := client.ExportQuery(ctx, direct.Query, &capped, chatdb.ExportOptions{Format: chatdb.ExportJSONLines,
		MaxRows: 3})
	if err != nil {
		t.Fatal(err)
	}
	var lines []map[string]interface{}
	for scanner := bufio.NewScanner(&capped); scanner.Scan(); {
		var line map[string]interface{}
		if err := json.Unmarshal(scanner.Bytes(), &line); err != nil {
			t.Fatalf("a JSON line %q: %v", scanner.Text(), err)
		}
		lines = append(lines, line)
	}
	if len(lines) != 3 || !few.Truncated || few.RowCount != 3 || lines[0]["name"] != direct.Rows[0][1] {
		t.Fatalf("three JSON lines of the recorded query: %v, %+v", lines, few)
	}

	var nothing bytes.Buffer
	_, err = client.ExportSQL(ctx, "shop", "DELETE FROM customers", &nothing, chatdb.ExportOptions{Format: chatdb.ExportCSV})
	expectError(t, "exporting a write", err, codes.InvalidArgument, "UNSAFE_SQL")
	_, err = client.ExportSQL(ctx, "shop", sql, &nothing, chatdb.ExportOptions{})
	unformatted := expectError(t, "an export without a format", err, codes.InvalidArgument, "INVALID_FIELD")
	if len(unformatted.FieldViolations) != 1 || unformatted.FieldViolations[0].Field != "format" {
		t.Fatalf("field violations %v", unformatted.FieldViolations)
	}
	_, err = client.ExportSQL(ctx, "no-such-source", sql, &nothing, chatdb.ExportOptions{Format: chatdb.ExportCSV})
	expectError(t, "exporting from an unknown source", err, codes.NotFound, "NOT_FOUND")
	if nothing.Len() != 0 {
		t.Fatalf("refused exports wrote %q", nothing.String())
	}
}

func TestQuestionsAreAskedInABatch(t *testing.T) {
	client, shop, ctx := connect(t, "go-batch")
	register(ctx, t, client, shop, "shop")
	questions := []chatdb.BatchQuestion{{ID: "customers", Question: "How many customers are there?"},
		{ID: "books", Question: "List the names of products in the Books category"}}

	untrained, err := client.BatchAsk(ctx, "shop", questions, chatdb.AskOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(untrained) != 2 {
		t.Fatalf("answers %v", untrained)
	}
	for i, answer := range untrained {
		if answer.Index != i || answer.ID != questions[i].ID || answer.Result != nil {
			t.Fatalf("answer %d: %+v", i, answer)
		}
		expectError(t, "a question to an untrained source", answer.Err, codes.FailedPrecondition, "NOT_TRAINED")
	}

	train(ctx, t, client, "shop")
	var arrived []string
	answers, err := client.BatchAsk(ctx, "shop", questions, chatdb.AskOptions{}, func(answer chatdb.BatchAnswer) error {
		arrived = append(arrived, answer.ID)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(arrived) != 2 || len(answers) != 2 {
		t.Fatalf("arrived %v, answers %v", arrived, answers)
	}
	for i, answer := range answers {
		if answer.Err != nil || answer.ID != questions[i].ID || answer.Result == nil {
			t.Fatalf("answer %d: %+v", i, answer)
		}
		alone, err := client.Ask(ctx, "shop", questions[i].Question, chatdb.AskOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if answer.Result.SQL != alone.SQL || !reflect.DeepEqual(answer.Result.Rows, alone.Rows) ||
			!strings.HasPrefix(answer.Result.Query, "dataSources/shop/queries/") {
			t.Fatalf("batched %s %v; asked alone %s %v", answer.Result.SQL, answer.Result.Rows, alone.SQL, alone.Rows)
		}
	}

	_, err = client.BatchAsk(ctx, "shop", nil, chatdb.AskOptions{}, nil)
	none := expectError(t, "an empty batch", err, codes.InvalidArgument, "INVALID_FIELD")
	if len(none.FieldViolations) != 1 || none.FieldViolations[0].Field != "questions" {
		t.Fatalf("field violations %v", none.FieldViolations)
	}
	_, err = client.BatchAsk(ctx, "no-such-source", questions, chatdb.AskOptions{}, nil)
	expectError(t, "a batch for an unknown source", err, codes.NotFound, "NOT_FOUND")
}
