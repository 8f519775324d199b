package chatdb

import (
	"bytes"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	commonv1 "github.com/chatdb/chatdb/gen/go/chatdb/common/v1"
)

func TestDecodeKeepsEveryWireType(t *testing.T) {
	stamp := time.Date(2023, 11, 14, 22, 13, 20, 123000000, time.UTC)
	cases := []struct {
		name  string
		value *commonv1.Value
		check func(interface{}) bool
	}{
		{"null", &commonv1.Value{Kind: &commonv1.Value_NullValue{NullValue: structpb.NullValue_NULL_VALUE}},
			func(v interface{}) bool { return v == nil }},
		{"unset", &commonv1.Value{}, func(v interface{}) bool { return v == nil }},
		{"int", &commonv1.Value{Kind: &commonv1.Value_IntValue{IntValue: 9007199254740993}},
			func(v interface{}) bool { return v == int64(9007199254740993) }},
		{"double", &commonv1.Value{Kind: &commonv1.Value_DoubleValue{DoubleValue: 0.25}},
			func(v interface{}) bool { return v == 0.25 }},
		{"decimal", &commonv1.Value{Kind: &commonv1.Value_DecimalValue{DecimalValue: "12.50"}},
			func(v interface{}) bool {
				d, ok := v.(Decimal)
				r, exact := d.Rat()
				return ok && exact && d == "12.50" && r.RatString() == "25/2"
			}},
		{"bool", &commonv1.Value{Kind: &commonv1.Value_BoolValue{BoolValue: true}},
			func(v interface{}) bool { return v == true }},
		{"string", &commonv1.Value{Kind: &commonv1.Value_StringValue{StringValue: "Zoë"}},
			func(v interface{}) bool { return v == "Zoë" }},
		{"bytes", &commonv1.Value{Kind: &commonv1.Value_BytesValue{BytesValue: []byte{0, 1, 255}}},
			func(v interface{}) bool { b, ok := v.([]byte); return ok && bytes.Equal(b, []byte{0, 1, 255}) }},
		{"timestamp", &commonv1.Value{Kind: &commonv1.Value_TimestampValue{TimestampValue: timestamppb.New(stamp)}},
			func(v interface{}) bool {
				ts, ok := v.(time.Time)
				return ok && ts.Equal(stamp) && ts.Location() == time.UTC
			}},
		{"date", &commonv1.Value{Kind: &commonv1.Value_DateValue{DateValue: &commonv1.Date{Year: 1990, Month: 7, Day: 14}}},
			func(v interface{}) bool { d, ok := v.(Date); return ok && d.String() == "1990-07-14" }},
		{"time", &commonv1.Value{Kind: &commonv1.Value_TimeValue{TimeValue: "09:30:00"}},
			func(v interface{}) bool { return v == TimeOfDay("09:30:00") }},
		{"json", &commonv1.Value{Kind: &commonv1.Value_JsonValue{JsonValue: `{"n": 1, "tags": ["a"]}`}},
			func(v interface{}) bool {
				doc, ok := v.(JSON)
				object, isObject := doc.Value.(map[string]interface{})
				return ok && isObject && object["n"] == 1.0 && len(object["tags"].([]interface{})) == 1
			}},
	}
	for _, c := range cases {
		got, err := Decode(c.value)
		if err != nil || !c.check(got) {
			t.Errorf("%s: got %#v, %v", c.name, got, err)
		}
	}
}

func TestDecodeRowsReportsWhereJSONIsBroken(t *testing.T) {
	rows := []*commonv1.Row{{Values: []*commonv1.Value{
		{Kind: &commonv1.Value_IntValue{IntValue: 1}},
		{Kind: &commonv1.Value_JsonValue{JsonValue: "{broken"}},
	}}}
	if _, err := DecodeRows(rows); err == nil || err.Error()[:17] != "row 0, column 1: " {
		t.Fatalf("want an error naming row 0, column 1; got %v", err)
	}
}

func TestLevelsAreNumberedAsDocumented(t *testing.T) {
	if Level(commonv1.DegradationLevel_DEGRADATION_LEVEL_FULL) != 0 ||
		Level(commonv1.DegradationLevel_DEGRADATION_LEVEL_CRITICAL) != 4 ||
		Level(commonv1.DegradationLevel_DEGRADATION_LEVEL_UNSPECIFIED) != -1 {
		t.Fatal("levels are not 0-4")
	}
	if LevelName(2) != "NO_MODEL" {
		t.Fatalf("LevelName(2) = %s", LevelName(2))
	}
}

func TestSourceNames(t *testing.T) {
	if SourceName("shop") != "dataSources/shop" || SourceName("dataSources/shop") != "dataSources/shop" {
		t.Fatal("source names are not normalised")
	}
}
