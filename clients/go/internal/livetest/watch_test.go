package livetest

import (
	"errors"
	"os"
	"testing"

	"github.com/chatdb/chatdb/chatdb"
	trainingv1 "github.com/chatdb/chatdb/gen/go/chatdb/training/v1"
)

// TestAWatchResumesAcrossAgedConnections follows a job that stays queued (the server has no
// training worker) while the server closes every connection after about a second: each
// watch delivers the job's state when it starts, so a third delivery means the watch was
// started again twice. Cancelling the job then ends the watch with a typed failure.
func TestAWatchResumesAcrossAgedConnections(t *testing.T) {
	if os.Getenv("CHATDB_LIVE_AGING") != "1" {
		t.Skip("CHATDB_LIVE_AGING=1 names no server whose connections age without a training worker")
	}
	client, shop, ctx := connect(t, "go-aging")
	register(ctx, t, client, shop, "shop")
	job, err := client.Train(ctx, "shop", chatdb.TrainOptions{})
	if err != nil {
		t.Fatal(err)
	}
	resumed := make(chan struct{})
	type outcome struct {
		job *chatdb.TrainingJob
		err error
	}
	ended := make(chan outcome, 1)
	var states []trainingv1.TrainingJobState
	go func() {
		done, err := client.WatchTrainingJob(ctx, job.GetName(), func(update *chatdb.TrainingJob) {
			states = append(states, update.GetState())
			if len(states) == 3 {
				close(resumed)
			}
		})
		ended <- outcome{done, err}
	}()
	select {
	case <-resumed:
	case early := <-ended:
		t.Fatalf("the watch ended before the job did: %v, %v", early.job, early.err)
	case <-ctx.Done():
		t.Fatal("the watch was not started twice more in time")
	}
	if _, err := client.CancelTrainingJob(ctx, job.GetName()); err != nil {
		t.Fatal(err)
	}
	var last outcome
	select {
	case last = <-ended:
	case <-ctx.Done():
		t.Fatal("the watch did not end after the job was cancelled")
	}
	var failed *chatdb.TrainingJobFailed
	if !errors.As(last.err, &failed) || failed.State != "CANCELLED" ||
		last.job.GetState() != trainingv1.TrainingJobState_TRAINING_JOB_STATE_CANCELLED {
		t.Fatalf("the cancelled job ended the watch with %v, %v", last.job, last.err)
	}
	for _, state := range states[:3] {
		if state != trainingv1.TrainingJobState_TRAINING_JOB_STATE_QUEUED {
			t.Fatalf("the first updates should find the job queued: %v", states)
		}
	}
}
