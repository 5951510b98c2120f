package engine

import (
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// The words for a field's problem, shared by the lesson checker (check.go)
// and the server's command decoder so that a learner, a lesson author and a
// client author read the same sentences: `want a number from 0 to 1000, got
// "fast"`, `want a whole number from 0 to 7, got 2.5`, `want a list, got an
// object`.

// Describe says briefly what one valid JSON value is, for the "got …" of a
// message: a string quoted, a number or literal as written (both cut to 40
// characters), "a list" or "an object".
func Describe(raw []byte) string {
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '{':
		return "an object"
	case '[':
		return "a list"
	case '"':
		var s string
		json.Unmarshal(raw, &s)
		return describeString(s)
	}
	return describeLiteral(string(raw))
}

// WantNumberFrom is the problem of a number outside [lo, hi] or of no number
// at all, before ", got …".
func WantNumberFrom(lo, hi float64) string {
	return "want a number from " + strconv.FormatFloat(lo, 'g', -1, 64) + " to " + strconv.FormatFloat(hi, 'g', -1, 64)
}

// WantWholeFrom is the problem of a value that is not a whole number in
// [lo, hi], before ", got …".
func WantWholeFrom(lo, hi int) string {
	return "want a whole number from " + strconv.Itoa(lo) + " to " + strconv.Itoa(hi)
}

// describeString quotes s, cut to 40 characters (never inside a character).
func describeString(s string) string {
	if utf8.RuneCountInString(s) > 40 {
		s = string([]rune(s)[:37]) + "..."
	}
	return strconv.Quote(s)
}

// describeLiteral shows a number, true, false or null as written, cut to 40
// bytes (a literal is ASCII).
func describeLiteral(s string) string {
	if len(s) > 40 {
		s = s[:37] + "..."
	}
	return s
}
