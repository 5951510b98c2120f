package engine

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"
)

// maxJSONDepth bounds nesting in documents from outside; lessons need 4.
const maxJSONDepth = 32

// jsonKind is the kind of a parsed JSON value.
type jsonKind uint8

const (
	jsonNull jsonKind = iota
	jsonBool
	jsonNumber
	jsonString
	jsonArray
	jsonObject
)

// jsonValue is a parsed JSON value that keeps object keys in order, so
// validation can report problems in document order and refuse duplicate keys,
// which encoding/json would silently resolve to the last one.
type jsonValue struct {
	kind jsonKind
	b    bool
	num  json.Number
	str  string
	arr  []*jsonValue
	keys []string
	vals []*jsonValue
}

// get returns the member named key of an object, or nil.
func (v *jsonValue) get(key string) *jsonValue {
	for i, k := range v.keys {
		if k == key {
			return v.vals[i]
		}
	}
	return nil
}

// describe says what a value is, for messages like `want a number, got "fast"`,
// in the words of Describe.
func (v *jsonValue) describe() string {
	switch v.kind {
	case jsonNull:
		return "null"
	case jsonBool:
		return strconv.FormatBool(v.b)
	case jsonNumber:
		return describeLiteral(string(v.num))
	case jsonString:
		return describeString(v.str)
	case jsonArray:
		return "a list"
	default:
		return "an object"
	}
}

// parseJSON parses one JSON document strictly: valid UTF-8, no duplicate
// keys, nesting at most maxJSONDepth, nothing after the value.
func parseJSON(data []byte) (*jsonValue, error) {
	if !utf8.Valid(data) {
		return nil, errors.New("not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := parseValue(dec, 0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("unexpected data after the JSON value")
	}
	return v, nil
}

func parseValue(dec *json.Decoder, depth int) (*jsonValue, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, jsonSyntax(err)
	}
	return parseToken(dec, tok, depth)
}

func parseToken(dec *json.Decoder, tok json.Token, depth int) (*jsonValue, error) {
	switch t := tok.(type) {
	case nil:
		return &jsonValue{kind: jsonNull}, nil
	case bool:
		return &jsonValue{kind: jsonBool, b: t}, nil
	case json.Number:
		return &jsonValue{kind: jsonNumber, num: t}, nil
	case string:
		return &jsonValue{kind: jsonString, str: t}, nil
	case json.Delim:
		if depth >= maxJSONDepth {
			return nil, fmt.Errorf("nested more than %d levels deep", maxJSONDepth)
		}
		if t == '[' {
			v := &jsonValue{kind: jsonArray}
			for dec.More() {
				e, err := parseValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				v.arr = append(v.arr, e)
			}
			_, err := dec.Token() // ]
			return v, jsonSyntax(err)
		}
		v := &jsonValue{kind: jsonObject}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return nil, jsonSyntax(err)
			}
			key, _ := kt.(string)
			if v.get(key) != nil {
				return nil, fmt.Errorf("duplicate key %q", key)
			}
			e, err := parseValue(dec, depth+1)
			if err != nil {
				return nil, err
			}
			v.keys = append(v.keys, key)
			v.vals = append(v.vals, e)
		}
		_, err := dec.Token() // }
		return v, jsonSyntax(err)
	}
	return nil, errors.New("not JSON")
}

func jsonSyntax(err error) error {
	if err == nil {
		return nil
	}
	if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("the JSON ends too early")
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("not valid JSON at byte %d: %s", se.Offset, se.Error())
	}
	return fmt.Errorf("not valid JSON: %v", err)
}
