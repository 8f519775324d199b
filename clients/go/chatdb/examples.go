package chatdb

import (
	"context"

	trainingv1 "github.com/chatdb/chatdb/gen/go/chatdb/training/v1"
)

// Example is a golden question and the SQL that answers it (the generated message):
// Name ("dataSources/{id}/examples/{example}"), Question, Sql, Source (MANUAL or
// FEEDBACK), Tables and CreateTime.
type Example = trainingv1.Example

// CreateExample stores a golden example for a data source after the server checked
// its SQL against the source (an *Error with Code FailedPrecondition and Reason
// "UNSAFE_SQL" when the guard refuses it).
func (c *Client) CreateExample(ctx context.Context, source, question, sql string) (*Example, error) {
	reply, err := call(ctx, c, c.Training.CreateExample, &trainingv1.CreateExampleRequest{Parent: SourceName(source),
		Example: &trainingv1.Example{Question: question, Sql: sql}})
	return reply.GetExample(), err
}

// ListExamples returns a data source's examples, newest first, following all pages.
func (c *Client) ListExamples(ctx context.Context, source string, options ListOptions) ([]*Example, error) {
	return allPages(ctx, func(ctx context.Context, token string) ([]*Example, string, error) {
		reply, err := call(ctx, c, c.Training.ListExamples, &trainingv1.ListExamplesRequest{Parent: SourceName(source),
			PageSize: options.PageSize, PageToken: token})
		return reply.GetExamples(), reply.GetNextPageToken(), err
	})
}

// DeleteExample deletes an example ("dataSources/{id}/examples/{example}") and its vector.
func (c *Client) DeleteExample(ctx context.Context, example string) error {
	_, err := call(ctx, c, c.Training.DeleteExample, &trainingv1.DeleteExampleRequest{Name: example})
	return err
}
