package chatdb

import (
	"context"
	"errors"
	"io"
	"sort"

	protov1 "github.com/golang/protobuf/proto"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	queryv1 "github.com/chatdb/chatdb/gen/go/chatdb/query/v1"
)

// BatchQuestion is one question of a BatchAsk, with an id of the caller's (at most 128
// characters, may be empty) that its answer repeats.
type BatchQuestion struct {
	ID       string
	Question string
}

// BatchAnswer is the outcome of one question of a BatchAsk: its Result, or Err (an
// *Error, as Ask would have returned it) when it could not be answered.
type BatchAnswer struct {
	// Index is the question's position in the questions asked, from 0.
	Index  int
	ID     string
	Result *Result
	Err    error
}

// BatchAsk answers many questions about one data source, each a full Ask, which the
// server runs a few at a time. onAnswer (when not nil) is called with each answer as
// it completes, in no fixed order; the answers are returned in the order of the
// questions. One question failing does not end the batch: its answer carries the
// error. An error from onAnswer stops the batch and is returned as it is. With
// options.PreviousQuery every question follows up that answer; a query that cannot be
// followed up fails the whole call before any question runs, as Ask would.
func (c *Client) BatchAsk(ctx context.Context, source string, questions []BatchQuestion, options AskOptions,
	onAnswer func(BatchAnswer) error) ([]BatchAnswer, error) {
	ctx, cancel := c.withDeadline(ctx)
	defer cancel()
	request := &queryv1.BatchAskRequest{Parent: SourceName(source), Options: options.proto(),
		PreviousQuery: options.PreviousQuery}
	for _, question := range questions {
		request.Questions = append(request.Questions, &queryv1.BatchQuestion{Id: question.ID, Question: question.Question})
	}
	stream, err := c.Query.BatchAsk(ctx, request)
	if err != nil {
		return nil, wrap(err)
	}
	var answers []BatchAnswer
	for {
		message, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			sort.Slice(answers, func(i, j int) bool { return answers[i].Index < answers[j].Index })
			return answers, nil
		}
		if err != nil {
			return nil, wrap(err)
		}
		answer, err := batchAnswer(message)
		if err != nil {
			return nil, err
		}
		answers = append(answers, answer)
		if onAnswer != nil {
			if err := onAnswer(answer); err != nil {
				return nil, err
			}
		}
	}
}

// batchAnswer is one BatchAsk message as a BatchAnswer.
func batchAnswer(message *queryv1.BatchAskResponse) (BatchAnswer, error) {
	answer := BatchAnswer{Index: int(message.GetIndex()), ID: message.GetId()}
	if reply := message.GetAnswer(); reply != nil {
		rows, err := DecodeRows(reply.GetRows())
		if err != nil {
			return answer, err
		}
		answer.Result = askResult(reply, rows)
		return answer, nil
	}
	answer.Err = batchError(message.GetError())
	return answer, nil
}

// batchError is a question's failure as an *Error. BatchAskError is wire-compatible with
// google.rpc.Status, so its details parse as a failed call's do.
func batchError(failure *queryv1.BatchAskError) error {
	encoded, err := proto.Marshal(failure)
	if err != nil {
		return err
	}
	var decoded spb.Status
	if err := protov1.Unmarshal(encoded, &decoded); err != nil { // google.rpc.Status may be an APIv1 message
		return err
	}
	return wrap(status.FromProto(&decoded).Err())
}
