package chatdb

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"google.golang.org/grpc/codes"

	trainingv1 "github.com/chatdb/chatdb/gen/go/chatdb/training/v1"
)

// TrainingJobFailed is the error WatchTrainingJob returns for a job that ended FAILED
// or CANCELLED. Reason and Message repeat the job's ErrorReason and ErrorMessage.
type TrainingJobFailed struct {
	// Job is the job as it ended.
	Job *TrainingJob
	// State is "FAILED" or "CANCELLED".
	State   string
	Reason  string
	Message string
}

func (e *TrainingJobFailed) Error() string {
	why := e.Message
	if why == "" {
		why = e.Reason
	}
	if why == "" {
		why = "no reason given"
	}
	return fmt.Sprintf("%s %s: %s", e.Job.GetName(), strings.ToLower(e.State), why)
}

// JobFinished reports whether a job reached a terminal state: SUCCEEDED, FAILED or CANCELLED.
func JobFinished(job *TrainingJob) bool {
	switch job.GetState() {
	case trainingv1.TrainingJobState_TRAINING_JOB_STATE_SUCCEEDED, trainingv1.TrainingJobState_TRAINING_JOB_STATE_FAILED,
		trainingv1.TrainingJobState_TRAINING_JOB_STATE_CANCELLED:
		return true
	}
	return false
}

// jobOutcome is the finished job, or a *TrainingJobFailed when it did not succeed.
func jobOutcome(job *TrainingJob) (*TrainingJob, error) {
	if job.GetState() == trainingv1.TrainingJobState_TRAINING_JOB_STATE_SUCCEEDED {
		return job, nil
	}
	return job, &TrainingJobFailed{Job: job, State: strings.TrimPrefix(job.GetState().String(), "TRAINING_JOB_STATE_"),
		Reason: job.GetErrorReason(), Message: job.GetErrorMessage()}
}

// WatchTrainingJob follows a job (its id or "trainingJobs/{id}") until it ends, calling
// onUpdate (when not nil) with its state now and with every change, from this goroutine.
// It returns the succeeded job, or the ended job and a *TrainingJobFailed when it failed
// or was cancelled. Only ctx bounds the wait: the client's default timeout does not apply.
//
// A watch that had delivered updates and broke off with UNAVAILABLE — its server closed
// an aged connection or stopped — is started again, on whichever server the connection picks.
func (c *Client) WatchTrainingJob(ctx context.Context, job string, onUpdate func(*TrainingJob)) (*TrainingJob, error) {
	name := TrainingJobName(job)
	var last *TrainingJob
	for {
		latest, delivered, err := c.watchOnce(ctx, name, onUpdate)
		if latest != nil {
			last = latest
		}
		if err == nil {
			break
		}
		if parsed, ok := AsError(err); !ok || !delivered || parsed.Code != codes.Unavailable || ctx.Err() != nil {
			return last, err
		}
	}
	if !JobFinished(last) {
		current, err := c.GetTrainingJob(ctx, name)
		if err != nil {
			return last, err
		}
		last = current
	}
	if !JobFinished(last) {
		return last, &Error{Code: codes.Unavailable, Message: "the watch of " + name + " ended before the job did"}
	}
	return jobOutcome(last)
}

// watchOnce reads one WatchTrainingJob stream until the job ends or the stream does;
// it returns the last job it read and whether it read any.
func (c *Client) watchOnce(ctx context.Context, name string, onUpdate func(*TrainingJob)) (
	*TrainingJob, bool, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // ends the stream when onUpdate panics or Recv fails
	stream, err := c.Training.WatchTrainingJob(ctx, &trainingv1.WatchTrainingJobRequest{Name: name})
	if err != nil {
		return nil, false, wrap(err)
	}
	var last *TrainingJob
	for {
		update, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return last, last != nil, nil
		}
		if err != nil {
			return last, last != nil, wrap(err)
		}
		last = update.GetTrainingJob()
		if onUpdate != nil {
			onUpdate(last)
		}
		if JobFinished(last) {
			_ = drain(stream.Recv) // the job ended: how the stream ends after it changes nothing
			return last, true, nil
		}
	}
}
