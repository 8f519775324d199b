package chatdb

import (
	"context"

	queryv1 "github.com/chatdb/chatdb/gen/go/chatdb/query/v1"
)

// Query is one recorded Ask or ExecuteSQL (the generated message): Name
// ("dataSources/{id}/queries/{query}"), Question, Sql, State, ErrorReason,
// ServedBy, Model, DegradationLevel, RowCount, Timings, Feedback and CreateTime.
type Query = queryv1.Query

// FeedbackRating is a caller's judgement of an answer.
type FeedbackRating = queryv1.FeedbackRating

// The ratings of Feedback.
const (
	RatingCorrect   = queryv1.FeedbackRating_FEEDBACK_RATING_CORRECT
	RatingIncorrect = queryv1.FeedbackRating_FEEDBACK_RATING_INCORRECT
)

// Feedback judges an answered query.
type Feedback struct {
	// Rating is required; a CorrectedSQL without one rates the answer incorrect.
	Rating FeedbackRating
	// CorrectedSQL is the SQL that answers the question; it is guarded before it is kept.
	CorrectedSQL string
	Comment      string
}

// ListQueries returns a data source's recorded queries, newest first, following all pages.
func (c *Client) ListQueries(ctx context.Context, source string, options ListOptions) ([]*Query, error) {
	return allPages(ctx, func(ctx context.Context, token string) ([]*Query, string, error) {
		reply, err := call(ctx, c, c.Query.ListQueries, &queryv1.ListQueriesRequest{Parent: SourceName(source),
			PageSize: options.PageSize, PageToken: token})
		return reply.GetQueries(), reply.GetNextPageToken(), err
	})
}

// GetQuery returns one recorded query, "dataSources/{id}/queries/{query}" (Result.Query).
func (c *Client) GetQuery(ctx context.Context, query string) (*Query, error) {
	reply, err := call(ctx, c, c.Query.GetQuery, &queryv1.GetQueryRequest{Name: query})
	return reply.GetQuery(), err
}

// SubmitFeedback records feedback on a query (Result.Query) and returns the query with
// it. A correct rating, or a corrected SQL, becomes a golden example (Feedback.Example).
func (c *Client) SubmitFeedback(ctx context.Context, query string, feedback Feedback) (*Query, error) {
	rating := feedback.Rating
	if rating == queryv1.FeedbackRating_FEEDBACK_RATING_UNSPECIFIED && feedback.CorrectedSQL != "" {
		rating = RatingIncorrect
	}
	reply, err := call(ctx, c, c.Query.SubmitFeedback, &queryv1.SubmitFeedbackRequest{Name: query, Rating: rating,
		CorrectedSql: feedback.CorrectedSQL, Comment: feedback.Comment})
	return reply.GetQuery(), err
}
