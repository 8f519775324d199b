package livetest

import (
	"context"
	"os"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/chatdb/chatdb/chatdb"
)

// liveTimeout bounds each test's calls, training included.
const liveTimeout = 2 * time.Minute

// connect dials the server the environment names, acting for tenant; the test skips when
// no server is named. It returns the client, the path of the shop database and a context
// that ends with the test.
func connect(t *testing.T, tenant string) (*chatdb.Client, string, context.Context) {
	t.Helper()
	address, key, shop := os.Getenv("CHATDB_LIVE_ADDR"), os.Getenv("CHATDB_LIVE_API_KEY"), os.Getenv("CHATDB_LIVE_SHOP")
	if address == "" || key == "" || shop == "" {
		t.Skip("CHATDB_LIVE_ADDR, CHATDB_LIVE_API_KEY and CHATDB_LIVE_SHOP name no server")
	}
	client, err := chatdb.Dial(address, chatdb.WithAPIKey(key), chatdb.WithTenant(tenant),
		chatdb.WithTimeout(30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), liveTimeout)
	t.Cleanup(func() {
		cancel()
		client.Close()
	})
	return client, shop, ctx
}

// register creates the shop source with this id.
func register(ctx context.Context, t *testing.T, client *chatdb.Client, shop, id string) *chatdb.DataSource {
	t.Helper()
	source, err := client.CreateDataSource(ctx, chatdb.NewDataSource{DSN: "sqlite:///" + shop, ID: id})
	if err != nil {
		t.Fatalf("creating %s: %v", id, err)
	}
	return source
}

// train trains every table of a source and waits for the job to succeed.
func train(ctx context.Context, t *testing.T, client *chatdb.Client, source string) *chatdb.TrainingJob {
	t.Helper()
	job, err := client.Train(ctx, source, chatdb.TrainOptions{})
	if err != nil {
		t.Fatalf("training %s: %v", source, err)
	}
	done, err := client.WatchTrainingJob(ctx, job.GetName(), nil)
	if err != nil {
		t.Fatalf("watching %s: %v", job.GetName(), err)
	}
	return done
}

// expectError fails the test unless err is an *Error with this code and reason.
func expectError(t *testing.T, what string, err error, code codes.Code, reason string) *chatdb.Error {
	t.Helper()
	parsed, ok := chatdb.AsError(err)
	if !ok {
		t.Fatalf("%s: want %s/%s, got %v", what, code, reason, err)
	}
	if parsed.Code != code || parsed.Reason != reason {
		t.Fatalf("%s: want %s/%s, got %s/%s (%s)", what, code, reason, parsed.Code, parsed.Reason, parsed.Message)
	}
	return parsed
}
