package chatdb

import (
	"context"
	"strconv"
	"strings"

	trainingv1 "github.com/chatdb/chatdb/gen/go/chatdb/training/v1"
)

// TrainingJob is a background job of a data source (the generated message): Name
// ("trainingJobs/{id}"), DataSource, Type, State, Stage, ProgressPercent (0 to 100),
// TrainedTableCount, TotalTableCount, ErrorReason and ErrorMessage of a failure.
type TrainingJob = trainingv1.TrainingJob

// FineTuneConfig holds the settings of a fine-tune job; zero values take the server's defaults.
type FineTuneConfig = trainingv1.FineTuneConfig

// TrainOptions tune Train; the zero value trains the schema of every table.
type TrainOptions struct {
	// Tables to train, as named in the database; empty means all.
	Tables []string
	// FineTune, when set, makes a FINE_TUNE job with these settings instead of a SCHEMA job.
	FineTune *FineTuneConfig
}

// TrainingJobFilter narrows ListTrainingJobs; the zero value lists every job.
type TrainingJobFilter struct {
	// DataSource is a source's id or "dataSources/{id}".
	DataSource string
	State      trainingv1.TrainingJobState
	Type       trainingv1.TrainingJobType
}

// Train queues a training job for a data source and returns it, QUEUED; follow it
// with WatchTrainingJob. An *Error with Code NotFound for an unknown source or table.
func (c *Client) Train(ctx context.Context, source string, options TrainOptions) (*TrainingJob, error) {
	request := &trainingv1.CreateTrainingJobRequest{Parent: SourceName(source), Tables: options.Tables,
		Type: trainingv1.TrainingJobType_TRAINING_JOB_TYPE_SCHEMA}
	if options.FineTune != nil {
		request.Type, request.FineTuneConfig = trainingv1.TrainingJobType_TRAINING_JOB_TYPE_FINE_TUNE, options.FineTune
	}
	reply, err := call(ctx, c, c.Training.CreateTrainingJob, request)
	return reply.GetTrainingJob(), err
}

// GetTrainingJob returns a training job (its id or "trainingJobs/{id}").
func (c *Client) GetTrainingJob(ctx context.Context, job string) (*TrainingJob, error) {
	reply, err := call(ctx, c, c.Training.GetTrainingJob, &trainingv1.GetTrainingJobRequest{Name: TrainingJobName(job)})
	return reply.GetTrainingJob(), err
}

// ListTrainingJobs returns the tenant's training jobs that pass the filter, newest
// first, following all pages.
func (c *Client) ListTrainingJobs(ctx context.Context, filter TrainingJobFilter, options ListOptions) (
	[]*TrainingJob, error) {
	return allPages(ctx, func(ctx context.Context, token string) ([]*TrainingJob, string, error) {
		reply, err := call(ctx, c, c.Training.ListTrainingJobs, &trainingv1.ListTrainingJobsRequest{
			PageSize: options.PageSize, PageToken: token, Filter: filter.String()})
		return reply.GetTrainingJobs(), reply.GetNextPageToken(), err
	})
}

// CancelTrainingJob asks a queued or running job to stop and returns it, CANCELLING or
// CANCELLED; it stops at its next safe point. An *Error with Code FailedPrecondition for
// a job that has finished.
func (c *Client) CancelTrainingJob(ctx context.Context, job string) (*TrainingJob, error) {
	reply, err := call(ctx, c, c.Training.CancelTrainingJob,
		&trainingv1.CancelTrainingJobRequest{Name: TrainingJobName(job)})
	return reply.GetTrainingJob(), err
}

// TrainingJobName is "trainingJobs/{id}" for an id, or the name unchanged.
func TrainingJobName(job string) string {
	const prefix = "trainingJobs/"
	if strings.HasPrefix(job, prefix) {
		return job
	}
	return prefix + job
}

// String is the filter in ListTrainingJobs' syntax, e.g.
// `data_source = "dataSources/shop" AND state = RUNNING`; empty for the zero value.
func (filter TrainingJobFilter) String() string {
	var terms []string
	if filter.DataSource != "" {
		terms = append(terms, "data_source = "+strconv.Quote(SourceName(filter.DataSource)))
	}
	if filter.State != trainingv1.TrainingJobState_TRAINING_JOB_STATE_UNSPECIFIED {
		terms = append(terms, "state = "+filter.State.String())
	}
	if filter.Type != trainingv1.TrainingJobType_TRAINING_JOB_TYPE_UNSPECIFIED {
		terms = append(terms, "type = "+filter.Type.String())
	}
	return strings.Join(terms, " AND ")
}
