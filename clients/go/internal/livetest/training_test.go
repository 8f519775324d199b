package livetest

import (
	"testing"

	"google.golang.org/grpc/codes"

	"github.com/chatdb/chatdb/chatdb"
	schemav1 "github.com/chatdb/chatdb/gen/go/chatdb/schema/v1"
	trainingv1 "github.com/chatdb/chatdb/gen/go/chatdb/training/v1"
)

func TestTrainingIsWatchedToTheEndAndListed(t *testing.T) {
	client, shop, ctx := connect(t, "go-training")
	register(ctx, t, client, shop, "shop")

	queued, err := client.Train(ctx, "shop", chatdb.TrainOptions{Tables: []string{"orders", "customers"}})
	if err != nil {
		t.Fatal(err)
	}
	if queued.GetDataSource() != "dataSources/shop" || queued.GetType() != trainingv1.TrainingJobType_TRAINING_JOB_TYPE_SCHEMA ||
		chatdb.JobFinished(queued) {
		t.Fatalf("queued %v", queued)
	}
	var updates []*chatdb.TrainingJob
	done, err := client.WatchTrainingJob(ctx, queued.GetName(), func(job *chatdb.TrainingJob) {
		updates = append(updates, job)
	})
	if err != nil {
		t.Fatal(err)
	}
	if done.GetState() != trainingv1.TrainingJobState_TRAINING_JOB_STATE_SUCCEEDED || done.GetProgressPercent() != 100 ||
		done.GetStage() != trainingv1.TrainingStage_TRAINING_STAGE_DONE || done.GetTrainedTableCount() != 2 {
		t.Fatalf("done %v", done)
	}
	if len(updates) == 0 || updates[len(updates)-1] != done {
		t.Fatalf("the last update is not the job returned: %d updates", len(updates))
	}
	for i := 1; i < len(updates); i++ {
		if updates[i].GetProgressPercent() < updates[i-1].GetProgressPercent() {
			t.Fatalf("progress went back: %d then %d", updates[i-1].GetProgressPercent(), updates[i].GetProgressPercent())
		}
	}
	orders, err := client.GetTable(ctx, "shop", "orders")
	if err != nil || orders.GetTrainingState() != schemav1.TrainingState_TRAINING_STATE_TRAINED {
		t.Fatalf("orders after training: %v, %v", orders.GetTrainingState(), err)
	}

	// Watching a finished job returns at once; so does getting it.
	again, err := client.WatchTrainingJob(ctx, trimJobPrefix(done.GetName()), nil)
	if err != nil || again.GetName() != done.GetName() {
		t.Fatalf("watching a finished job: %v, %v", again, err)
	}
	got, err := client.GetTrainingJob(ctx, done.GetName())
	if err != nil || got.GetState() != trainingv1.TrainingJobState_TRAINING_JOB_STATE_SUCCEEDED {
		t.Fatalf("get: %v, %v", got, err)
	}

	second := train(ctx, t, client, "shop")
	listed, err := client.ListTrainingJobs(ctx, chatdb.TrainingJobFilter{DataSource: "shop"}, chatdb.ListOptions{PageSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(listed) != 2 || listed[0].GetName() != second.GetName() || listed[1].GetName() != done.GetName() {
		t.Fatalf("jobs newest first over pages of one: %v", listed)
	}
	running, err := client.ListTrainingJobs(ctx,
		chatdb.TrainingJobFilter{State: trainingv1.TrainingJobState_TRAINING_JOB_STATE_RUNNING}, chatdb.ListOptions{})
	if err != nil || len(running) != 0 {
		t.Fatalf("running jobs: %v, %v", running, err)
	}

	_, err = client.CancelTrainingJob(ctx, done.GetName())
	expectError(t, "cancelling a finished job", err, codes.FailedPrecondition, "JOB_STATE")
	_, err = client.GetTrainingJob(ctx, "no-such-job")
	expectError(t, "an unknown job", err, codes.NotFound, "NOT_FOUND")
	_, err = client.WatchTrainingJob(ctx, "no-such-job", nil)
	expectError(t, "watching an unknown job", err, codes.NotFound, "NOT_FOUND")
	_, err = client.Train(ctx, "shop", chatdb.TrainOptions{Tables: []string{"no_such_table"}})
	expectError(t, "training an unknown table", err, codes.NotFound, "NOT_FOUND")
	_, err = client.ListTrainingJobs(ctx, chatdb.TrainingJobFilter{DataSource: "Not A Name"}, chatdb.ListOptions{})
	bad := expectError(t, "a malformed filter", err, codes.InvalidArgument, "INVALID_FIELD")
	if len(bad.FieldViolations) != 1 || bad.FieldViolations[0].Field != "filter" {
		t.Fatalf("field violations %v", bad.FieldViolations)
	}
}

func TestExamplesAreCreatedListedAndDeleted(t *testing.T) {
	client, shop, ctx := connect(t, "go-examples")
	register(ctx, t, client, shop, "shop")
	questions := []string{"How many customers are there?", "How many orders are there?"}
	var created []*chatdb.Example
	for i, sql := range []string{"SELECT COUNT(*) FROM customers", "SELECT COUNT(*) FROM orders"} {
		example, err := client.CreateExample(ctx, "shop", questions[i], sql)
		if err != nil {
			t.Fatal(err)
		}
		if example.GetSource() != trainingv1.ExampleSource_EXAMPLE_SOURCE_MANUAL || len(example.GetTables()) != 1 {
			t.Fatalf("example %v", example)
		}
		created = append(created, example)
	}
	listed, err := client.ListExamples(ctx, "shop", chatdb.ListOptions{PageSize: 1})
	if err != nil || len(listed) != 2 || listed[0].GetName() != created[1].GetName() {
		t.Fatalf("examples newest first: %v, %v", listed, err)
	}
	if err := client.DeleteExample(ctx, created[0].GetName()); err != nil {
		t.Fatal(err)
	}
	listed, err = client.ListExamples(ctx, "shop", chatdb.ListOptions{})
	if err != nil || len(listed) != 1 || listed[0].GetName() != created[1].GetName() {
		t.Fatalf("after the delete: %v, %v", listed, err)
	}
	expectError(t, "deleting it again", client.DeleteExample(ctx, created[0].GetName()), codes.NotFound, "NOT_FOUND")
	_, err = client.CreateExample(ctx, "shop", "Drop everything", "DROP TABLE customers")
	expectError(t, "an unsafe example", err, codes.InvalidArgument, "UNSAFE_SQL")
}

func trimJobPrefix(name string) string { return name[len("trainingJobs/"):] }
