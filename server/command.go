package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/netstep/netstep/engine"
)

// command is one decoded and validated command from a client. Everything a
// client can get wrong is caught here, in the connection's reader, so the
// session goroutine only applies commands that make sense (apart from what
// depends on the session's state, such as a layer that does not exist).
type command struct {
	name string
	id   []byte // the id as JSON (strings re-encoded), or nil

	gran engine.Granularity // step, run
	sps  float64            // run: steps per second, 0 = as fast as possible

	lessonName string         // load by name
	lesson     *engine.Lesson // load inline

	patch engine.TrainingPatch // set

	layer, to, from int // setWeight
	bias            bool
	value           float64

	viewMath *bool  // view: the math shown, if given
	viewGran string // view: the step size, if given

	askIndex int    // ask: the lesson's question, or -1 for a weight (layer, to, from, bias)
	question int    // answer: the open question's number
	choice   int    // answer: the choice; reveal: the answer, or -1
	text     string // ask: the question's words; reveal: what happened
}

// The limits of a command's fields.
const (
	maxIDChars        = 64
	maxStepsPerSecond = 1000
	maxFields         = 16
)

// commandNames lists the commands in the order the protocol documents them.
var commandNames = []string{"load", "step", "back", "run", "pause", "reset", "set", "setWeight", "state", "view", "endRoom", "ask", "answer", "reveal"}

// commandFields are the fields each command takes besides cmd and id.
var commandFields = map[string][]string{
	"load":      {"name", "lesson"},
	"step":      {"granularity"},
	"back":      nil,
	"run":       {"stepsPerSecond", "granularity"},
	"pause":     nil,
	"reset":     nil,
	"set":       {"learningRate", "batchSize", "optimizer", "momentum", "regularization"},
	"setWeight": {"layer", "to", "from", "bias", "value"},
	"state":     nil,
	"view":      {"math", "granularity"},
	"endRoom":   nil,
	"ask":       {"index", "layer", "to", "from", "bias", "ask"},
	"answer":    {"question", "choice"},
	"reveal":    {"answer", "detail"},
}

// field is one member of a command object, its value still raw JSON.
type field struct {
	key string
	raw json.RawMessage
}

// decodeCommand reads one command strictly: a JSON object with no duplicate
// keys, no unknown fields and values of the right type and range. Its error
// names the field and is ready to send; the id is filled in when it could be
// read.
func decodeCommand(data []byte) (command, *Error) {
	return decodeCommandWith(data, engine.ParseLesson)
}

// decodeCommandWith is decodeCommand with the lesson parser to use for
// inline lessons (the server's shared cache).
func decodeCommandWith(data []byte, parseLesson func([]byte) (*engine.Lesson, error)) (command, *Error) {
	var c command
	fields, err := splitObject(data)
	if err != nil {
		return c, err
	}
	get := func(key string) json.RawMessage {
		for _, f := range fields {
			if f.key == key {
				return f.raw
			}
		}
		return nil
	}
	if raw := get("id"); raw != nil {
		id, err := decodeID(raw)
		if err != nil {
			return c, err
		}
		c.id = id
	}
	fail := func(e *Error) (command, *Error) {
		e.ID = c.id
		return c, e
	}
	raw := get("cmd")
	if raw == nil {
		return fail(errorf(CodeBadCommand, "cmd: missing; want one of %s", strings.Join(commandNames, ", ")))
	}
	name, e := wantString("cmd", raw, 20)
	if e != nil {
		return fail(e)
	}
	allowed, ok := commandFields[name]
	if !ok {
		return fail(errorf(CodeBadCommand, "cmd: want one of %s; got %s", strings.Join(commandNames, ", "), describe(raw)))
	}
	c.name = name
	for _, f := range fields {
		if f.key == "cmd" || f.key == "id" || contains(allowed, f.key) {
			continue
		}
		if len(allowed) == 0 {
			return fail(errorf(CodeBadCommand, "%s: not a field of %s, which takes only cmd and id", quoteKey(f.key), name))
		}
		return fail(errorf(CodeBadCommand, "%s: not a field of %s; want %s", quoteKey(f.key), name, strings.Join(allowed, ", ")))
	}

	switch name {
	case "ask", "answer", "reveal":
		if e := decodeVote(&c, get); e != nil {
			return fail(e)
		}
	case "load":
		nameRaw, lessonRaw := get("name"), get("lesson")
		switch {
		case nameRaw != nil && lessonRaw != nil:
			return fail(errorf(CodeBadCommand, "load: want either name or lesson, not both"))
		case nameRaw != nil:
			if c.lessonName, e = wantString("name", nameRaw, 60); e != nil {
				return fail(e)
			}
		case lessonRaw != nil:
			if lessonRaw[0] != '{' {
				return fail(errorf(CodeBadCommand, "lesson: want a lesson object, got %s", describe(lessonRaw)))
			}
			l, err := parseLesson(lessonRaw)
			if err != nil {
				return fail(lessonError(err))
			}
			c.lesson = l
		default:
			return fail(errorf(CodeBadCommand, "load: want name (a built-in lesson) or lesson (a lesson object)"))
		}
	case "view":
		if raw := get("math"); raw != nil {
			b, e := wantBool("math", raw)
			if e != nil {
				return fail(e)
			}
			c.viewMath = &b
		}
		if raw := get("granularity"); raw != nil {
			s, e := wantString("granularity", raw, 20)
			if e != nil {
				return fail(errorf(CodeBadCommand, "granularity: want one of %s; got %s", strings.Join(engine.GranularityNames(), ", "), describe(raw)))
			}
			if _, err := engine.ParseGranularity(s); err != nil {
				return fail(errorf(CodeBadCommand, "granularity: %v", err))
			}
			c.viewGran = s
		}
		if c.viewMath == nil && c.viewGran == "" {
			return fail(errorf(CodeBadCommand, "view: want math (true or false), granularity, or both"))
		}
	case "step", "run":
		c.gran = engine.StepSample
		if name == "run" {
			c.gran = engine.StepEpoch
		}
		if raw := get("granularity"); raw != nil {
			s, e := wantString("granularity", raw, 20)
			if e != nil {
				return fail(errorf(CodeBadCommand, "granularity: want one of %s; got %s", strings.Join(engine.GranularityNames(), ", "), describe(raw)))
			}
			g, err := engine.ParseGranularity(s)
			if err != nil {
				return fail(errorf(CodeBadCommand, "granularity: %v", err))
			}
			c.gran = g
		}
		if raw := get("stepsPerSecond"); raw != nil {
			if c.sps, e = wantNumber("stepsPerSecond", raw, 0, maxStepsPerSecond); e != nil {
				return fail(e)
			}
		}
	case "set":
		p, err := engine.ParseTrainingPatch(data, "cmd", "id")
		if err != nil {
			return fail(errorf(CodeBadCommand, "%v", err))
		}
		c.patch = p
	case "setWeight":
		for _, k := range []struct {
			key string
			dst *int
			hi  int
		}{{"layer", &c.layer, engine.MaxLayers - 1}, {"to", &c.to, engine.MaxNeurons - 1}} {
			raw := get(k.key)
			if raw == nil {
				return fail(errorf(CodeBadCommand, "%s: missing; want a whole number from 0 to %d", k.key, k.hi))
			}
			if *k.dst, e = wantInt(k.key, raw, 0, k.hi); e != nil {
				return fail(e)
			}
		}
		if raw := get("bias"); raw != nil {
			if c.bias, e = wantBool("bias", raw); e != nil {
				return fail(e)
			}
		}
		switch raw := get("from"); {
		case raw != nil && c.bias:
			return fail(errorf(CodeBadCommand, "from: not allowed with \"bias\":true; a bias comes from no neuron"))
		case raw != nil:
			if c.from, e = wantInt("from", raw, 0, engine.MaxInputs-1); e != nil {
				return fail(e)
			}
		case !c.bias:
			return fail(errorf(CodeBadCommand, "from: missing; want the input or neuron the weight comes from, or \"bias\":true"))
		}
		raw := get("value")
		if raw == nil {
			return fail(errorf(CodeBadCommand, "value: missing; want a number"))
		}
		if c.value, e = wantNumber("value", raw, -1e6, 1e6); e != nil {
			return fail(e)
		}
	}
	return c, nil
}

// peekID returns the id of a command too small to be costly to read, so
// that a refusal (slow_down) can name the command it refuses.
func peekID(data []byte) []byte {
	if len(data) > 4096 {
		return nil
	}
	fields, err := splitObject(data)
	if err != nil {
		return nil
	}
	for _, f := range fields {
		if f.key == "id" {
			id, _ := decodeID(f.raw)
			return id
		}
	}
	return nil
}

// splitObject reads the members of a JSON object, refusing anything else,
// duplicate keys, too many members and trailing data. The document is
// validated first (json.Valid, which bounds nesting and allocates nothing);
// then the members are found by a plain walk that may rely on validity.
// The raw values point into data.
func splitObject(data []byte) ([]field, *Error) {
	if !utf8.Valid(data) {
		return nil, errorf(CodeBadJSON, "the frame is not valid UTF-8")
	}
	if !json.Valid(data) {
		var v any
		return nil, jsonError(json.Unmarshal(data, &v), len(data))
	}
	i := skipSpace(data, 0)
	if data[i] != '{' {
		return nil, errorf(CodeBadJSON, `want a JSON object like {"cmd":"step"}; got %s`, describeKind(data[i]))
	}
	fields := make([]field, 0, 4)
	i = skipSpace(data, i+1)
	for data[i] != '}' {
		j := skipString(data, i)
		key := unquote(data[i:j])
		if len(fields) == maxFields {
			return nil, errorf(CodeBadCommand, "too many fields: a command has at most %d", maxFields)
		}
		for _, f := range fields {
			if f.key == key {
				return nil, errorf(CodeBadCommand, "%s: given twice", quoteKey(key))
			}
		}
		i = skipSpace(data, skipSpace(data, j)+1) // past the colon
		j = skipValue(data, i)
		fields = append(fields, field{key, data[i:j:j]})
		i = skipSpace(data, j)
		if data[i] == ',' {
			i = skipSpace(data, i+1)
		}
	}
	return fields, nil
}

func skipSpace(data []byte, i int) int {
	for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index just past the string that starts at i.
func skipString(data []byte, i int) int {
	for i++; data[i] != '"'; i++ {
		if data[i] == '\\' {
			i++
		}
	}
	return i + 1
}

// skipValue returns the index just past the (valid) value that starts at i.
func skipValue(data []byte, i int) int {
	switch data[i] {
	case '"':
		return skipString(data, i)
	case '{', '[':
		depth := 0
		for {
			switch data[i] {
			case '"':
				i = skipString(data, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
	}
	for i < len(data) && !strings.ContainsRune(",}] \t\r\n", rune(data[i])) {
		i++
	}
	return i
}

// unquote returns the text of a valid JSON string.
func unquote(raw []byte) string {
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw[1 : len(raw)-1])
	}
	var s string
	json.Unmarshal(raw, &s)
	return s
}

func describeKind(c byte) string {
	switch c {
	case '[':
		return "a list"
	case '"':
		return "a string"
	case 't', 'f':
		return "true or false"
	case 'n':
		return "null"
	}
	return "a number"
}

func jsonError(err error, size int) *Error {
	var se *json.SyntaxError
	if err == nil || errors.Is(err, io.ErrUnexpectedEOF) || (errors.As(err, &se) && se.Offset >= int64(size)) {
		return errorf(CodeBadJSON, "the JSON ends too early")
	}
	if se != nil && strings.Contains(se.Error(), "after top-level value") {
		return errorf(CodeBadJSON, "unexpected data after the JSON object")
	}
	if se != nil {
		return errorf(CodeBadJSON, "not valid JSON at byte %d: %s", se.Offset, se.Error())
	}
	return errorf(CodeBadJSON, "not valid JSON: %v", err)
}

// decodeID reads a command's id: a string or a finite number of at most 64
// characters, returned as the JSON to echo.
func decodeID(raw json.RawMessage) ([]byte, *Error) {
	switch raw[0] {
	case '"':
		var s string
		if json.Unmarshal(raw, &s) == nil && utf8.RuneCountInString(s) <= maxIDChars {
			return engine.AppendString(nil, s), nil
		}
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		f, err := strconv.ParseFloat(string(raw), 64)
		if err == nil && len(raw) <= maxIDChars && !math.IsInf(f, 0) {
			return append([]byte(nil), raw...), nil
		}
	}
	return nil, errorf(CodeBadCommand, "id: want a string or a number of at most %d characters, got %s", maxIDChars, describe(raw))
}

func wantString(key string, raw json.RawMessage, maxChars int) (string, *Error) {
	if raw[0] != '"' {
		return "", errorf(CodeBadCommand, "%s: want a string, got %s", key, describe(raw))
	}
	s := unquote(raw)
	if utf8.RuneCountInString(s) > maxChars {
		return "", errorf(CodeBadCommand, "%s: want at most %d characters, got %d", key, maxChars, utf8.RuneCountInString(s))
	}
	return s, nil
}

func wantNumber(key string, raw json.RawMessage, lo, hi float64) (float64, *Error) {
	if raw[0] != '-' && (raw[0] < '0' || raw[0] > '9') {
		return 0, errorf(CodeBadCommand, "%s: want a number, got %s", key, describe(raw))
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if (err != nil && !errors.Is(err, strconv.ErrRange)) || math.IsNaN(f) {
		return 0, errorf(CodeBadCommand, "%s: want a number, got %s", key, describe(raw))
	}
	if f < lo || f > hi || math.IsInf(f, 0) {
		return 0, errorf(CodeBadCommand, "%s: want a number from %g to %g, got %s", key, lo, hi, describe(raw))
	}
	return f, nil
}

func wantInt(key string, raw json.RawMessage, lo, hi int) (int, *Error) {
	f, e := wantNumber(key, raw, math.Inf(-1), math.Inf(1))
	if e != nil || f != math.Trunc(f) || f < float64(lo) || f > float64(hi) {
		return 0, errorf(CodeBadCommand, "%s: want a whole number from %d to %d, got %s", key, lo, hi, describe(raw))
	}
	return int(f), nil
}

func wantBool(key string, raw json.RawMessage) (bool, *Error) {
	switch string(raw) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, errorf(CodeBadCommand, "%s: want true or false, got %s", key, describe(raw))
}

// describe says what a raw JSON value is, briefly, for "got …" in messages.
func describe(raw json.RawMessage) string {
	switch raw[0] {
	case '{':
		return "an object"
	case '[':
		return "a list"
	case '"':
		var s string
		json.Unmarshal(raw, &s)
		if utf8.RuneCountInString(s) > 40 {
			s = string([]rune(s)[:37]) + "..."
		}
		return strconv.Quote(s)
	}
	if len(raw) > 40 {
		return string(raw[:37]) + "..."
	}
	return string(raw)
}

// quoteKey shows a field's name in a message, quoted only when it would be
// confusing bare (empty, spaces, very long).
func quoteKey(k string) string {
	if utf8.RuneCountInString(k) > 40 {
		k = string([]rune(k)[:37]) + "..."
	}
	if k == "" || strings.ContainsAny(k, " \t\r\n:;\"\\") || strings.ContainsFunc(k, func(r rune) bool { return r < 0x20 }) {
		return strconv.Quote(k)
	}
	return k
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// lessonError turns the engine's list of a lesson's problems into one
// bad_lesson error whose paths start at the command's lesson field.
func lessonError(err error) *Error {
	var le *engine.LessonError
	if !errors.As(err, &le) {
		return errorf(CodeBadLesson, "lesson: %v", err)
	}
	msgs := make([]string, 0, len(le.Problems))
	for i, p := range le.Problems {
		if i == 20 {
			msgs = append(msgs, strconv.Itoa(len(le.Problems)-20)+" more problems")
			break
		}
		path := "lesson"
		if p.Path != "" {
			path += "." + p.Path
		}
		msgs = append(msgs, path+": "+p.Message)
	}
	return errorf(CodeBadLesson, "%s", strings.Join(msgs, "; "))
}
