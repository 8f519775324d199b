package chatdb

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	protov1 "github.com/golang/protobuf/proto"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"

	commonv1 "github.com/chatdb/chatdb/gen/go/chatdb/common/v1"
	queryv1 "github.com/chatdb/chatdb/gen/go/chatdb/query/v1"
	trainingv1 "github.com/chatdb/chatdb/gen/go/chatdb/training/v1"
)

func TestTrainingJobFiltersAreWrittenInTheServersSyntax(t *testing.T) {
	for _, c := range []struct {
		filter TrainingJobFilter
		want   string
	}{
		{TrainingJobFilter{}, ""},
		{TrainingJobFilter{DataSource: "shop"}, `data_source = "dataSources/shop"`},
		{TrainingJobFilter{DataSource: "dataSources/shop", State: trainingv1.TrainingJobState_TRAINING_JOB_STATE_RUNNING,
			Type: trainingv1.TrainingJobType_TRAINING_JOB_TYPE_FINE_TUNE},
			`data_source = "dataSources/shop" AND state = TRAINING_JOB_STATE_RUNNING AND type = TRAINING_JOB_TYPE_FINE_TUNE`},
		{TrainingJobFilter{State: trainingv1.TrainingJobState_TRAINING_JOB_STATE_QUEUED}, "state = TRAINING_JOB_STATE_QUEUED"},
	} {
		if got := c.filter.String(); got != c.want {
			t.Errorf("%+v: got %q, want %q", c.filter, got, c.want)
		}
	}
}

func TestAnUpdateMasksOnlyTheFieldsItSets(t *testing.T) {
	name, dsn := "Shop", "sqlite:///shop.db"
	message, paths := DataSourceUpdate{DisplayName: &name, DSN: &dsn, Labels: map[string]string{}}.message()
	if !reflect.DeepEqual(paths, []string{"display_name", "dsn", "labels"}) {
		t.Fatalf("paths %v", paths)
	}
	if message.GetDisplayName() != "Shop" || message.GetDsn() != dsn || message.GetSchemas() != nil {
		t.Fatalf("message %v", message)
	}
	if _, none := (DataSourceUpdate{}).message(); none != nil {
		t.Fatalf("an empty update masks %v", none)
	}
}

func TestResourceNamesAreCompletedFromIds(t *testing.T) {
	for got, want := range map[string]string{
		TableName("shop", "orders"):                            "dataSources/shop/tables/orders",
		TableName("dataSources/shop", "sales.orders"):          "dataSources/shop/tables/sales.orders",
		TableName("shop", "dataSources/shop/tables/orders"):    "dataSources/shop/tables/orders",
		TrainingJobName("0f3a"):                                "trainingJobs/0f3a",
		TrainingJobName("trainingJobs/0f3a"):                   "trainingJobs/0f3a",
		SourceName("dataSources/shop") + "|" + SourceName("x"): "dataSources/shop|dataSources/x",
	} {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
}

func TestOnlyTerminalJobsAreFinishedAndOnlySuccessIsNoError(t *testing.T) {
	job := func(state trainingv1.TrainingJobState) *TrainingJob {
		return &TrainingJob{Name: "trainingJobs/j", State: state, ErrorReason: "SOURCE_UNREACHABLE",
			ErrorMessage: "no such file"}
	}
	for state, finished := range map[trainingv1.TrainingJobState]bool{
		trainingv1.TrainingJobState_TRAINING_JOB_STATE_QUEUED:     false,
		trainingv1.TrainingJobState_TRAINING_JOB_STATE_RUNNING:    false,
		trainingv1.TrainingJobState_TRAINING_JOB_STATE_CANCELLING: false,
		trainingv1.TrainingJobState_TRAINING_JOB_STATE_SUCCEEDED:  true,
		trainingv1.TrainingJobState_TRAINING_JOB_STATE_FAILED:     true,
		trainingv1.TrainingJobState_TRAINING_JOB_STATE_CANCELLED:  true,
	} {
		if JobFinished(job(state)) != finished {
			t.Errorf("%s: finished should be %t", state, finished)
		}
	}
	if _, err := jobOutcome(job(trainingv1.TrainingJobState_TRAINING_JOB_STATE_SUCCEEDED)); err != nil {
		t.Fatalf("a succeeded job is an error: %v", err)
	}
	_, err := jobOutcome(job(trainingv1.TrainingJobState_TRAINING_JOB_STATE_FAILED))
	var failed *TrainingJobFailed
	if !errors.As(err, &failed) || failed.State != "FAILED" || failed.Reason != "SOURCE_UNREACHABLE" ||
		err.Error() != "trainingJobs/j failed: no such file" {
		t.Fatalf("a failed job gives %v", err)
	}
	if JobFinished(nil) {
		t.Fatal("no job is not a finished job")
	}
}

func TestAskOptionsBecomeTheRequestsOptions(t *testing.T) {
	converted := AskOptions{MaxRows: 5, QueryTimeout: 2 * time.Second, PlanOnly: true, Candidates: 3, Model: "m"}.proto()
	if converted.GetMaxRows() != 5 || converted.GetTimeout().AsDuration() != 2*time.Second || converted.GetExecute() ||
		converted.GetCandidateCount() != 3 || converted.GetModel() != "m" {
		t.Fatalf("converted %v", converted)
	}
	if defaults := (AskOptions{}).proto(); !defaults.GetExecute() || defaults.Timeout != nil {
		t.Fatalf("defaults %v", defaults)
	}
}

func TestAnAnswersReadingIsLiftedFromTheReply(t *testing.T) {
	answered := askResult(&queryv1.AskResponse{Query: "dataSources/shop/queries/q1", AnswerText: "There are 3 cities.",
		Chart: &queryv1.ChartSuggestion{Type: queryv1.ChartType_CHART_TYPE_BAR, XColumn: "city", YColumns: []string{"n"}},
		RetrievedTables: []*queryv1.RetrievedTable{{Table: "customers", Score: 0.75,
			Reason: queryv1.RetrievalReason_RETRIEVAL_REASON_SEARCH}}}, nil)
	want := Reading{AnswerText: "There are 3 cities.", Chart: &Chart{Type: "BAR", XColumn: "city", YColumns: []string{"n"}},
		RetrievedTables: []RetrievedTable{{"customers", 0.75, "SEARCH"}}}
	if !reflect.DeepEqual(answered.Reading, want) || answered.AnswerText != want.AnswerText {
		t.Fatalf("reading %+v", answered.Reading)
	}
	refused := askResult(&queryv1.AskResponse{LowConfidence: true, SuggestedQuestion: "How many orders are there?"}, nil)
	if !refused.LowConfidence || refused.SuggestedQuestion != "How many orders are there?" || refused.Chart != nil ||
		refused.RetrievedTables != nil {
		t.Fatalf("low confidence %+v", refused.Reading)
	}
}

func TestAMinConfidenceUpdateMasksItsField(t *testing.T) {
	threshold := 0.5
	message, paths := DataSourceUpdate{MinConfidence: &threshold}.message()
	if !reflect.DeepEqual(paths, []string{"min_confidence"}) || message.GetMinConfidence() != 0.5 {
		t.Fatalf("paths %v, message %v", paths, message)
	}
}

func TestStreamMessagesBecomeTypedEvents(t *testing.T) {
	stage, err := askEvent(&queryv1.StreamAskResponse{Event: &queryv1.StreamAskResponse_Stage{Stage: &queryv1.StageEvent{
		Stage: queryv1.AskStage_ASK_STAGE_RETRIEVED, Elapsed: durationpb.New(3 * time.Millisecond),
		RetrievedTables: []*queryv1.RetrievedTable{{Table: "orders", Score: 0.5,
			Reason: queryv1.RetrievalReason_RETRIEVAL_REASON_JOIN_NEIGHBOR}}}}})
	if err != nil || stage.Stage != "RETRIEVED" || stage.Elapsed != 3*time.Millisecond || stage.Rows != nil ||
		!reflect.DeepEqual(stage.RetrievedTables, []RetrievedTable{{"orders", 0.5, "JOIN_NEIGHBOR"}}) {
		t.Fatalf("stage %+v, %v", stage, err)
	}
	batch, err := askEvent(&queryv1.StreamAskResponse{Event: &queryv1.StreamAskResponse_Rows{Rows: &queryv1.RowBatch{
		Rows: []*commonv1.Row{{Values: []*commonv1.Value{{Kind: &commonv1.Value_IntValue{IntValue: 7}}}}}}}})
	if err != nil || batch.Stage != "" || !reflect.DeepEqual(batch.Rows, [][]interface{}{{int64(7)}}) {
		t.Fatalf("batch %+v, %v", batch, err)
	}
	_, err = askEvent(&queryv1.StreamAskResponse{Event: &queryv1.StreamAskResponse_Rows{Rows: &queryv1.RowBatch{
		Rows: []*commonv1.Row{{Values: []*commonv1.Value{{Kind: &commonv1.Value_JsonValue{JsonValue: "{"}}}}}}}})
	if err == nil || !strings.Contains(err.Error(), "json") {
		t.Fatalf("a malformed cell gives %v", err)
	}
}

func TestEveryPageIsFollowedAndALoopingTokenIsRefused(t *testing.T) {
	pages := map[string][]int{"": {1, 2}, "b": {3}, "c": {4, 5}}
	next := map[string]string{"": "b", "b": "c"}
	var tokens []string
	items, err := allPages(context.Background(), func(_ context.Context, token string) ([]int, string, error) {
		tokens = append(tokens, token)
		return pages[token], next[token], nil
	})
	if err != nil || !reflect.DeepEqual(items, []int{1, 2, 3, 4, 5}) || !reflect.DeepEqual(tokens, []string{"", "b", "c"}) {
		t.Fatalf("items %v, tokens %v, %v", items, tokens, err)
	}
	_, err = allPages(context.Background(), func(_ context.Context, token string) ([]int, string, error) {
		return []int{1}, "same", nil
	})
	if err == nil {
		t.Fatal("a page token that never changes is followed forever")
	}
	failure := errors.New("page failed")
	if _, err = allPages(context.Background(), func(context.Context, string) ([]int, string, error) {
		return nil, "", failure
	}); !errors.Is(err, failure) {
		t.Fatalf("the page's error is lost: %v", err)
	}
}

func TestABatchQuestionsErrorParsesAsAFailedCallsDoes(t *testing.T) {
	encoded, err := protov1.Marshal(&errdetails.ErrorInfo{Reason: "NOT_TRAINED", Domain: "chatdb"})
	if err != nil {
		t.Fatal(err)
	}
	info := &anypb.Any{TypeUrl: "type.googleapis.com/google.rpc.ErrorInfo", Value: encoded}
	answer, err := batchAnswer(&queryv1.BatchAskResponse{Index: 2, Id: "q3", Result: &queryv1.BatchAskResponse_Error{
		Error: &queryv1.BatchAskError{Code: int32(codes.FailedPrecondition), Message: "train it", Details: []*anypb.Any{info}}}})
	if err != nil || answer.Index != 2 || answer.ID != "q3" || answer.Result != nil {
		t.Fatalf("answer %+v, %v", answer, err)
	}
	parsed, ok := AsError(answer.Err)
	if !ok || parsed.Code != codes.FailedPrecondition || parsed.Reason != "NOT_TRAINED" || parsed.Message != "train it" {
		t.Fatalf("error %#v", answer.Err)
	}
	answered, err := batchAnswer(&queryv1.BatchAskResponse{Result: &queryv1.BatchAskResponse_Answer{
		Answer: &queryv1.AskResponse{Sql: "SELECT 1", ServedBy: queryv1.ServedBy_SERVED_BY_TEMPLATE}}})
	if err != nil || answered.Err != nil || answered.Result.SQL != "SELECT 1" || answered.Result.ServedBy != "TEMPLATE" {
		t.Fatalf("answered %+v, %v", answered, err)
	}
}
