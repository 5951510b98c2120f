package server

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/netstep/netstep/engine"
)

func TestDecodeCommand(t *testing.T) {
	tests := []struct {
		in   string
		want command
	}{
		{`{"cmd":"step"}`, command{name: "step", gran: engine.StepSample}},
		{`{"cmd":"step","granularity":"micro","id":"a\"b"}`, command{name: "step", gran: engine.StepMicro, id: []byte(`"a\"b"`)}},
		{`{"cmd":"run","id":7}`, command{name: "run", gran: engine.StepEpoch, id: []byte(`7`)}},
		{`{"cmd":"run","stepsPerSecond":2.5,"granularity":"batch"}`, command{name: "run", gran: engine.StepBatch, sps: 2.5}},
		{`{"cmd":"load","name":"xor"}`, command{name: "load", lessonName: "xor"}},
		{`{"cmd":"setWeight","layer":1,"to":2,"from":3,"value":-1.5}`, command{name: "setWeight", layer: 1, to: 2, from: 3, value: -1.5}},
		{`{"cmd":"setWeight","layer":1,"to":2,"bias":true,"value":0}`, command{name: "setWeight", layer: 1, to: 2, bias: true}},
		{` {"cmd" : "back"} `, command{name: "back"}},
	}
	for _, tt := range tests {
		got, err := decodeCommand([]byte(tt.in))
		if err != nil {
			t.Errorf("%s: %v", tt.in, err)
			continue
		}
		if got.name != tt.want.name || string(got.id) != string(tt.want.id) || got.gran != tt.want.gran || got.sps != tt.want.sps ||
			got.lessonName != tt.want.lessonName || got.layer != tt.want.layer || got.to != tt.want.to || got.from != tt.want.from ||
			got.bias != tt.want.bias || got.value != tt.want.value {
			t.Errorf("%s: got %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

func TestDecodeErrorsKeepTheID(t *testing.T) {
	_, err := decodeCommand([]byte(`{"id":"x1","cmd":"step","granularity":"forever"}`))
	if err == nil || string(err.ID) != `"x1"` {
		t.Fatalf("error %v lost the id", err)
	}
	if got, want := err.Message, `granularity: want one of micro, phase, sample, batch, epoch; got "forever"`; got != want {
		t.Errorf("message %q, want %q", got, want)
	}
}

// FuzzDecodeCommand checks that no frame makes the decoder panic, that
// every refusal is a protocol error with a plain message, and that every
// accepted command is one the session knows.
func FuzzDecodeCommand(f *testing.F) {
	f.Add([]byte(`{"cmd":"step","id":1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := decodeCommand(data)
		if err != nil {
			switch err.Code {
			case CodeBadJSON, CodeBadCommand, CodeBadLesson:
			default:
				t.Fatalf("code %q for %q", err.Code, data)
			}
			if err.Message == "" || !utf8.ValidString(err.Message) {
				t.Fatalf("message %q", err.Message)
			}
			frame := appendError(nil, err)
			if !json.Valid(frame) {
				t.Fatalf("error frame is not JSON: %s", frame)
			}
			return
		}
		if _, ok := commandFields[c.name]; !ok {
			t.Fatalf("accepted unknown command %q", c.name)
		}
		if c.id != nil && (!json.Valid(c.id) || len(c.id) > 6*maxIDChars+2) {
			t.Fatalf("id %q", c.id)
		}
		if c.name == "load" && (c.lesson == nil) == (c.lessonName == "") {
			t.Fatalf("load with neither or both: %q", data)
		}
		if c.sps < 0 || c.sps > maxStepsPerSecond || c.value != c.value {
			t.Fatalf("out of range: %+v", c)
		}
		if strings.Contains(string(c.id), "\n") {
			t.Fatalf("raw newline in id %q", c.id)
		}
	})
}

// TestDecodeMessages pins the messages for frames the JSON library reads
// more exactly than the hand-written splitter did.
func TestDecodeMessages(t *testing.T) {
	tests := []struct{ in, code, message string }{
		{`[`, "bad_json", "the JSON ends too early"},
		{`{"cmd":"step"}x`, "bad_json", "unexpected data after the JSON object"},
		{`{"cmd":"step"}}`, "bad_json", "unexpected data after the JSON object"},
		{`{"cmd":"step",}`, "bad_json", "not valid JSON at byte 13: invalid character ',' at start of value"},
		{`null`, "bad_json", `want a JSON object like {"cmd":"step"}; got null`},
		{"{\"cmd\":\"st\xffep\"}", "bad_json", "the frame is not valid UTF-8"},
		{`{"cmd":"step","":1}`, "bad_command", `"": not a field of step; want granularity`},
		{`{"speed":3,"cmd":"back"}`, "bad_command", "speed: not a field of back, which takes only cmd and id"},
		{`{"speed":3,"cmd":"step"`, "bad_json", "the JSON ends too early"},
		{`{"cmd":"step","id":"x","id":"y"}`, "bad_command", "id: given twice"},
		{`{"cmd":"load","lesson":{"title":"a","title":"b"}}`, "bad_lesson", "lesson.title: given twice"},
		{`{"cmd":"load","lesson":{"data":{"samples":[{"x":[1],"x":[2]}]}}}`, "bad_lesson", "lesson.data.samples[0].x: given twice"},
		{`{"cmd":"setWeight","layer":0,"to":0,"from":0,"value":null}`, "bad_command", "value: want a number, got null"},
		{`{"cmd":"setWeight","layer":0,"to":0.5,"from":0,"value":1}`, "bad_command", "to: want a whole number from 0 to 63, got 0.5"},
		{`{"cmd":"run","stepsPerSecond":2000}`, "bad_command", "stepsPerSecond: want a number from 0 to 1000, got 2000"},
	}
	for _, tt := range tests {
		_, err := decodeCommand([]byte(tt.in))
		if err == nil {
			t.Errorf("%s: accepted", tt.in)
			continue
		}
		if err.Code != tt.code || err.Message != tt.message {
			t.Errorf("%s:\n got %s %q\nwant %s %q", tt.in, err.Code, err.Message, tt.code, tt.message)
		}
	}
}
