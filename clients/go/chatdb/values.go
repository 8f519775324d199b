package chatdb

import (
	"encoding/json"
	"fmt"
	"math/big"
	"time"

	commonv1 "github.com/chatdb/chatdb/gen/go/chatdb/common/v1"
)

// Decimal is an exact decimal in canonical text, e.g. "12.50".
type Decimal string

// Rat is the decimal's exact value.
func (d Decimal) Rat() (*big.Rat, bool) { return new(big.Rat).SetString(string(d)) }

// Date is a calendar date without a time zone.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// String is the date in ISO 8601, e.g. "1990-07-14".
func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day) }

// TimeOfDay is a time of day in ISO 8601, e.g. "13:45:00".
type TimeOfDay string

// JSON is a parsed JSON document: maps, slices, float64, string, bool or nil,
// as encoding/json decodes into an interface{}.
type JSON struct{ Value interface{} }

// Decode is the Go value of one cell:
//
//	NULL -> nil, integer -> int64, double -> float64, decimal -> Decimal,
//	bool -> bool, string -> string, bytes -> []byte, timestamp -> time.Time (UTC),
//	date -> Date, time -> TimeOfDay, json -> JSON.
func Decode(value *commonv1.Value) (interface{}, error) {
	switch kind := value.GetKind().(type) {
	case nil, *commonv1.Value_NullValue:
		return nil, nil
	case *commonv1.Value_IntValue:
		return kind.IntValue, nil
	case *commonv1.Value_DoubleValue:
		return kind.DoubleValue, nil
	case *commonv1.Value_DecimalValue:
		return Decimal(kind.DecimalValue), nil
	case *commonv1.Value_BoolValue:
		return kind.BoolValue, nil
	case *commonv1.Value_StringValue:
		return kind.StringValue, nil
	case *commonv1.Value_BytesValue:
		return kind.BytesValue, nil
	case *commonv1.Value_TimestampValue:
		return kind.TimestampValue.AsTime().UTC(), nil
	case *commonv1.Value_DateValue:
		d := kind.DateValue
		return Date{Year: int(d.GetYear()), Month: time.Month(d.GetMonth()), Day: int(d.GetDay())}, nil
	case *commonv1.Value_TimeValue:
		return TimeOfDay(kind.TimeValue), nil
	case *commonv1.Value_JsonValue:
		var parsed interface{}
		if err := json.Unmarshal([]byte(kind.JsonValue), &parsed); err != nil {
			return nil, fmt.Errorf("json value: %w", err)
		}
		return JSON{Value: parsed}, nil
	default:
		return nil, fmt.Errorf("unknown value kind %T", kind)
	}
}

// DecodeRows is the Go values of result rows, one slice per row in column order.
func DecodeRows(rows []*commonv1.Row) ([][]interface{}, error) {
	decoded := make([][]interface{}, len(rows))
	for i, row := range rows {
		decoded[i] = make([]interface{}, len(row.GetValues()))
		for j, value := range row.GetValues() {
			cell, err := Decode(value)
			if err != nil {
				return nil, fmt.Errorf("row %d, column %d: %w", i, j, err)
			}
			decoded[i][j] = cell
		}
	}
	return decoded, nil
}
