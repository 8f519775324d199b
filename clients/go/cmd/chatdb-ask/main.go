// Command chatdb-ask asks a ChatDB data source a question, or runs SQL against it,
// and prints the SQL, the degradation level and the typed rows.
//
//	chatdb-ask -addr 127.0.0.1:50051 -source shop "How many customers are there?"
//	chatdb-ask -source shop -sql "SELECT name FROM customers"
//
// Output is tab-separated, one record per line: "sql", "level", "served_by",
// "columns", then one "row" per result row whose cells are written type(value),
// e.g. int64(42), decimal(12.50), time(2024-01-02T03:04:05Z), null.
// On failure it prints the gRPC code, the reason and any bad fields, and exits 1.
package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/chatdb/chatdb/chatdb"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:50051", "server address, host:port")
	tenant := flag.String("tenant", "", "tenant to act for (operator keys only; the key's own otherwise)")
	apiKey := flag.String("api-key", os.Getenv("CHATDB_API_KEY"), "API key (default $CHATDB_API_KEY)")
	caFile := flag.String("ca", "", "CA certificate (PEM) of the server: dial over TLS")
	certFile := flag.String("cert", "", "client certificate (PEM), for mTLS")
	keyFile := flag.String("key", "", "client private key (PEM), for mTLS")
	source := flag.String("source", "", "data source id or dataSources/{id} (required)")
	sql := flag.String("sql", "", "run this SQL instead of asking a question")
	maxRows := flag.Int("max-rows", 0, "row cap (0: the server's default)")
	timeout := flag.Duration("timeout", 60*time.Second, "deadline of the call")
	flag.Parse()
	question := strings.Join(flag.Args(), " ")
	if *source == "" || (question == "") == (*sql == "") {
		fmt.Fprintln(os.Stderr, "usage: chatdb-ask -source ID (QUESTION | -sql SQL)")
		os.Exit(2)
	}

	options := []chatdb.Option{chatdb.WithTenant(*tenant), chatdb.WithAPIKey(*apiKey), chatdb.WithTimeout(*timeout)}
	if *caFile != "" || *certFile != "" {
		options = append(options, chatdb.WithTLS(*caFile, *certFile, *keyFile))
	}
	client, err := chatdb.Dial(*addr, options...)
	if err != nil {
		fail(err)
	}
	defer client.Close()

	ctx := context.Background()
	var result *chatdb.Result
	if *sql != "" {
		result, err = client.ExecuteSQL(ctx, *source, *sql, int32(*maxRows))
	} else {
		result, err = client.Ask(ctx, *source, question, chatdb.AskOptions{MaxRows: int32(*maxRows)})
	}
	if err != nil {
		fail(err)
	}
	write(os.Stdout, result)
}

func write(out io.Writer, result *chatdb.Result) {
	fmt.Fprintf(out, "sql\t%s\n", result.SQL)
	fmt.Fprintf(out, "level\t%d\t%s\n", result.DegradationLevel, chatdb.LevelName(result.DegradationLevel))
	fmt.Fprintf(out, "served_by\t%s\n", result.ServedBy)
	columns := make([]string, len(result.Columns))
	for i, column := range result.Columns {
		columns[i] = column.Name + ":" + column.Type
	}
	fmt.Fprintf(out, "columns\t%s\n", strings.Join(columns, "\t"))
	for _, row := range result.Rows {
		cells := make([]string, len(row))
		for i, cell := range row {
			cells[i] = format(cell)
		}
		fmt.Fprintf(out, "row\t%s\n", strings.Join(cells, "\t"))
	}
}

// format writes a decoded cell as type(value).
func format(cell interface{}) string {
	switch v := cell.(type) {
	case nil:
		return "null"
	case int64:
		return fmt.Sprintf("int64(%d)", v)
	case float64:
		return fmt.Sprintf("float64(%g)", v)
	case chatdb.Decimal:
		return fmt.Sprintf("decimal(%s)", string(v))
	case bool:
		return fmt.Sprintf("bool(%t)", v)
	case string:
		return fmt.Sprintf("string(%q)", v)
	case []byte:
		return fmt.Sprintf("bytes(%s)", hex.EncodeToString(v))
	case time.Time:
		return fmt.Sprintf("time(%s)", v.Format(time.RFC3339Nano))
	case chatdb.Date:
		return fmt.Sprintf("date(%s)", v)
	case chatdb.TimeOfDay:
		return fmt.Sprintf("timeofday(%s)", string(v))
	case chatdb.JSON:
		encoded, _ := json.Marshal(v.Value)
		return fmt.Sprintf("json(%s)", encoded)
	default:
		return fmt.Sprintf("%T(%v)", v, v)
	}
}

func fail(err error) {
	if parsed, ok := chatdb.AsError(err); ok {
		fmt.Fprintf(os.Stderr, "error\t%s\t%s\t%s\n", parsed.Code, parsed.Reason, parsed.Message)
		for _, violation := range parsed.FieldViolations {
			fmt.Fprintf(os.Stderr, "field\t%s\t%s\n", violation.Field, violation.Description)
		}
	} else {
		fmt.Fprintf(os.Stderr, "error\t%v\n", err)
	}
	os.Exit(1)
}
