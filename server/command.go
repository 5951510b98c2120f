package server

import (
	"bytes"
	"errors"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"encoding/json/jsontext"
	"encoding/json/v2"

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
	viewSay  string // view: the presenter's narration, for its followers (not kept for late joiners)

	askIndex int    // ask: the lesson's question, or -1 for a weight (layer, to, from, bias)
	question int    // answer: the open question's number
	choice   int    // answer: the choice; reveal: the answer, or -1
	text     string // ask: the question's words; reveal: what happened
}

// The limits of a command's fields.
const (
	maxIDChars        = 64
	maxSayChars       = 2000 // view's say: a few sentences of narration
	maxStepsPerSecond = 1000
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
	"view":      {"math", "granularity", "say"},
	"endRoom":   nil,
	"ask":       {"index", "layer", "to", "from", "bias", "ask"},
	"answer":    {"question", "choice"},
	"reveal":    {"answer", "detail"},
}

// wireCommand is every field any command takes, each still raw JSON (nil when
// absent), so that decoding checks the frame's shape once and each command
// then checks only its own fields. The JSON library refuses what is not an
// object, a name given twice, a name no command takes, invalid UTF-8 and
// anything after the object.
type wireCommand struct {
	Cmd jsontext.Value `json:"cmd"`
	ID  jsontext.Value `json:"id"`

	Name   jsontext.Value `json:"name"`   // load
	Lesson jsontext.Value `json:"lesson"` // load

	Granularity    jsontext.Value `json:"granularity"`    // step, run, view
	StepsPerSecond jsontext.Value `json:"stepsPerSecond"` // run
	Math           jsontext.Value `json:"math"`           // view

	LearningRate   jsontext.Value `json:"learningRate"`   // set
	BatchSize      jsontext.Value `json:"batchSize"`      // set
	Optimizer      jsontext.Value `json:"optimizer"`      // set
	Momentum       jsontext.Value `json:"momentum"`       // set
	Regularization jsontext.Value `json:"regularization"` // set

	Layer jsontext.Value `json:"layer"` // setWeight, ask
	To    jsontext.Value `json:"to"`    // setWeight, ask
	From  jsontext.Value `json:"from"`  // setWeight, ask
	Bias  jsontext.Value `json:"bias"`  // setWeight, ask
	Value jsontext.Value `json:"value"` // setWeight

	Index    jsontext.Value `json:"index"`    // ask
	Ask      jsontext.Value `json:"ask"`      // ask
	Question jsontext.Value `json:"question"` // answer
	Choice   jsontext.Value `json:"choice"`   // answer
	Answer   jsontext.Value `json:"answer"`   // reveal
	Detail   jsontext.Value `json:"detail"`   // reveal
	Say      jsontext.Value `json:"say"`      // view
}

// fields lists the fields of f besides cmd and id, by name.
func (f *wireCommand) fields() [22]field {
	return [...]field{
		{"name", f.Name}, {"lesson", f.Lesson},
		{"granularity", f.Granularity}, {"stepsPerSecond", f.StepsPerSecond}, {"math", f.Math},
		{"learningRate", f.LearningRate}, {"batchSize", f.BatchSize}, {"optimizer", f.Optimizer},
		{"momentum", f.Momentum}, {"regularization", f.Regularization},
		{"layer", f.Layer}, {"to", f.To}, {"from", f.From}, {"bias", f.Bias}, {"value", f.Value},
		{"index", f.Index}, {"ask", f.Ask}, {"question", f.Question}, {"choice", f.Choice},
		{"answer", f.Answer}, {"detail", f.Detail}, {"say", f.Say},
	}
}

// get returns the field named key, or nil when it is absent.
func (f *wireCommand) get(key string) jsontext.Value {
	for _, x := range f.fields() {
		if x.key == key {
			return x.raw
		}
	}
	return nil
}

// extra returns the first field present in f that a command taking only
// allowed (besides cmd and id) does not take.
func (f *wireCommand) extra(allowed []string) (string, bool) {
	for _, x := range f.fields() {
		if x.raw != nil && !slices.Contains(allowed, x.key) {
			return x.key, true
		}
	}
	return "", false
}

// field is one member of a command object, its value still raw JSON.
type field struct {
	key string
	raw jsontext.Value
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
	var f wireCommand
	unknown, isUnknown := "", false
	if err := json.Unmarshal(data, &f, json.RejectUnknownMembers(true)); err != nil {
		if unknown, isUnknown = unknownName(err); !isUnknown {
			return c, frameError(data, err)
		}
		// The frame may still be broken after the unknown name, and the
		// message needs the command: read it again, taking only cmd and id.
		f = wireCommand{}
		var head struct {
			Cmd jsontext.Value `json:"cmd"`
			ID  jsontext.Value `json:"id"`
		}
		if err := json.Unmarshal(data, &head); err != nil {
			return c, frameError(data, err)
		}
		f.Cmd, f.ID = head.Cmd, head.ID
	}
	if !isUnknown && !isObject(data) { // null, which the library takes for an empty object
		return c, frameError(data, nil)
	}
	if f.ID != nil {
		id, err := decodeID(f.ID)
		if err != nil {
			return c, err
		}
		c.id = id
	}
	fail := func(e *Error) (command, *Error) {
		e.ID = c.id
		return c, e
	}
	if f.Cmd == nil {
		return fail(errorf(CodeBadCommand, "cmd: missing; want one of %s", strings.Join(commandNames, ", ")))
	}
	name, e := wantString("cmd", f.Cmd, 20)
	if e != nil {
		return fail(e)
	}
	allowed, ok := commandFields[name]
	if !ok {
		return fail(errorf(CodeBadCommand, "cmd: want one of %s; got %s", strings.Join(commandNames, ", "), engine.Describe(f.Cmd)))
	}
	c.name = name
	if isUnknown {
		return fail(notAField(unknown, name, allowed))
	}
	if key, ok := f.extra(allowed); ok {
		return fail(notAField(key, name, allowed))
	}

	switch name {
	case "ask", "answer", "reveal":
		if e := decodeVote(&c, f.get); e != nil {
			return fail(e)
		}
	case "load":
		switch {
		case f.Name != nil && f.Lesson != nil:
			return fail(errorf(CodeBadCommand, "load: want either name or lesson, not both"))
		case f.Name != nil:
			if c.lessonName, e = wantString("name", f.Name, 60); e != nil {
				return fail(e)
			}
		case f.Lesson != nil:
			if f.Lesson.Kind() != '{' {
				return fail(errorf(CodeBadCommand, "lesson: want a lesson object, got %s", engine.Describe(f.Lesson)))
			}
			l, err := parseLesson(f.Lesson)
			if err != nil {
				return fail(lessonError(err))
			}
			c.lesson = l
		default:
			return fail(errorf(CodeBadCommand, "load: want name (a built-in lesson) or lesson (a lesson object)"))
		}
	case "view":
		if f.Math != nil {
			b, e := wantBool("math", f.Math)
			if e != nil {
				return fail(e)
			}
			c.viewMath = &b
		}
		if f.Granularity != nil {
			if _, e := wantGranularity(f.Granularity); e != nil {
				return fail(e)
			}
			c.viewGran, _ = wantString("granularity", f.Granularity, 20)
		}
		if f.Say != nil {
			s, e := wantString("say", f.Say, maxSayChars)
			if e != nil {
				return fail(e)
			}
			c.viewSay = s
		}
		if c.viewMath == nil && c.viewGran == "" && c.viewSay == "" {
			return fail(errorf(CodeBadCommand, "view: want math (true or false), granularity, say, or some of them"))
		}
	case "step", "run":
		c.gran = engine.StepSample
		if name == "run" {
			c.gran = engine.StepEpoch
		}
		if f.Granularity != nil {
			if c.gran, e = wantGranularity(f.Granularity); e != nil {
				return fail(e)
			}
		}
		if f.StepsPerSecond != nil {
			if c.sps, e = wantNumber("stepsPerSecond", f.StepsPerSecond, 0, maxStepsPerSecond); e != nil {
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
			raw jsontext.Value
			dst *int
			hi  int
		}{{"layer", f.Layer, &c.layer, engine.MaxLayers - 1}, {"to", f.To, &c.to, engine.MaxNeurons - 1}} {
			if k.raw == nil {
				return fail(errorf(CodeBadCommand, "%s: missing; %s", k.key, engine.WantWholeFrom(0, k.hi)))
			}
			if *k.dst, e = wantInt(k.key, k.raw, 0, k.hi); e != nil {
				return fail(e)
			}
		}
		if f.Bias != nil {
			if c.bias, e = wantBool("bias", f.Bias); e != nil {
				return fail(e)
			}
		}
		switch {
		case f.From != nil && c.bias:
			return fail(errorf(CodeBadCommand, "from: not allowed with \"bias\":true; a bias comes from no neuron"))
		case f.From != nil:
			if c.from, e = wantInt("from", f.From, 0, engine.MaxInputs-1); e != nil {
				return fail(e)
			}
		case !c.bias:
			return fail(errorf(CodeBadCommand, "from: missing; want the input or neuron the weight comes from, or \"bias\":true"))
		}
		if f.Value == nil {
			return fail(errorf(CodeBadCommand, "value: missing; want a number"))
		}
		if c.value, e = wantNumber("value", f.Value, -1e6, 1e6); e != nil {
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
	var head struct {
		ID jsontext.Value `json:"id"`
	}
	if json.Unmarshal(data, &head) != nil || head.ID == nil {
		return nil
	}
	id, _ := decodeID(head.ID)
	return id
}

// unknownName returns the name the JSON library refused as unknown.
func unknownName(err error) (string, bool) {
	var se *json.SemanticError
	if errors.As(err, &se) && se.Err == json.ErrUnknownName {
		return se.JSONPointer.LastToken(), true
	}
	return "", false
}

// frameError says in the protocol's words why the JSON library refused a
// frame as a whole (err nil: the frame is null).
func frameError(data []byte, err error) *Error {
	var syn *jsontext.SyntacticError
	if !errors.As(err, &syn) && err != nil {
		// Not an object: the library stops at the first token, but a
		// frame that is not JSON at all is told so first.
		if verr := json.Unmarshal(data, new(jsontext.Value)); verr != nil {
			err = verr
			errors.As(err, &syn)
		}
	}
	switch {
	case !utf8.Valid(data):
		return errorf(CodeBadJSON, "the frame is not valid UTF-8")
	case syn != nil && syn.Err == jsontext.ErrDuplicateName:
		path := fieldPath(syn.JSONPointer)
		if strings.HasPrefix(path, "lesson.") {
			return errorf(CodeBadLesson, "%s: given twice", path)
		}
		return errorf(CodeBadCommand, "%s: given twice", path)
	case errors.Is(err, io.ErrUnexpectedEOF) || len(bytes.TrimSpace(data)) == 0:
		return errorf(CodeBadJSON, "the JSON ends too early")
	case syn != nil && strings.Contains(syn.Err.Error(), "after top-level value"):
		return errorf(CodeBadJSON, "unexpected data after the JSON object")
	case syn != nil:
		return errorf(CodeBadJSON, "not valid JSON at byte %d: %v", syn.ByteOffset, syn.Err)
	case !isObject(data):
		return errorf(CodeBadJSON, `want a JSON object like {"cmd":"step"}; got %s`, describeKind(data))
	}
	return errorf(CodeBadJSON, "not valid JSON: %v", err)
}

// fieldPath writes a JSON pointer the way messages name fields:
// /lesson/data/samples/3/x is lesson.data.samples[3].x (a name made only of
// digits is taken for an index).
func fieldPath(p jsontext.Pointer) string {
	var b strings.Builder
	for tok := range p.Tokens() {
		switch {
		case tok != "" && strings.Trim(tok, "0123456789") == "" && b.Len() > 0:
			b.WriteString("[" + tok + "]")
		case b.Len() > 0:
			b.WriteString("." + quoteKey(tok))
		default:
			b.WriteString(quoteKey(tok))
		}
	}
	return b.String()
}

// isObject says whether a valid JSON document is an object.
func isObject(data []byte) bool {
	return jsontext.Value(bytes.TrimSpace(data)).Kind() == '{'
}

// describeKind says what kind of value a valid JSON document is.
func describeKind(data []byte) string {
	switch jsontext.Value(bytes.TrimSpace(data)).Kind() {
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

func notAField(key, cmd string, allowed []string) *Error {
	if len(allowed) == 0 {
		return errorf(CodeBadCommand, "%s: not a field of %s, which takes only cmd and id", quoteKey(key), cmd)
	}
	return errorf(CodeBadCommand, "%s: not a field of %s; want %s", quoteKey(key), cmd, strings.Join(allowed, ", "))
}

// decodeID reads a command's id: a string or a finite number of at most 64
// characters, returned as the JSON to echo.
func decodeID(raw jsontext.Value) ([]byte, *Error) {
	switch raw.Kind() {
	case '"':
		var s string
		if json.Unmarshal(raw, &s) == nil && utf8.RuneCountInString(s) <= maxIDChars {
			return engine.AppendString(nil, s), nil
		}
	case '0':
		f, err := strconv.ParseFloat(string(raw), 64)
		if err == nil && len(raw) <= maxIDChars && !math.IsInf(f, 0) {
			return append([]byte(nil), raw...), nil
		}
	}
	return nil, errorf(CodeBadCommand, "id: want a string or a number of at most %d characters, got %s", maxIDChars, engine.Describe(raw))
}

func wantString(key string, raw jsontext.Value, maxChars int) (string, *Error) {
	var s string
	if raw.Kind() != '"' || json.Unmarshal(raw, &s) != nil {
		return "", errorf(CodeBadCommand, "%s: want a string, got %s", key, engine.Describe(raw))
	}
	if n := utf8.RuneCountInString(s); n > maxChars {
		return "", errorf(CodeBadCommand, "%s: want at most %d characters, got %d", key, maxChars, n)
	}
	return s, nil
}

func wantGranularity(raw jsontext.Value) (engine.Granularity, *Error) {
	s, e := wantString("granularity", raw, 20)
	if e != nil {
		return 0, errorf(CodeBadCommand, "granularity: want one of %s; got %s", strings.Join(engine.GranularityNames(), ", "), engine.Describe(raw))
	}
	g, err := engine.ParseGranularity(s)
	if err != nil {
		return 0, errorf(CodeBadCommand, "granularity: %v", err)
	}
	return g, nil
}

func wantNumber(key string, raw jsontext.Value, lo, hi float64) (float64, *Error) {
	if raw.Kind() != '0' {
		return 0, errorf(CodeBadCommand, "%s: want a number, got %s", key, engine.Describe(raw))
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, errorf(CodeBadCommand, "%s: want a number, got %s", key, engine.Describe(raw))
	}
	if f < lo || f > hi || math.IsInf(f, 0) {
		return 0, errorf(CodeBadCommand, "%s: %s, got %s", key, engine.WantNumberFrom(lo, hi), engine.Describe(raw))
	}
	return f, nil
}

func wantInt(key string, raw jsontext.Value, lo, hi int) (int, *Error) {
	f, e := wantNumber(key, raw, math.Inf(-1), math.Inf(1))
	if e != nil || f != math.Trunc(f) || f < float64(lo) || f > float64(hi) {
		return 0, errorf(CodeBadCommand, "%s: %s, got %s", key, engine.WantWholeFrom(lo, hi), engine.Describe(raw))
	}
	return int(f), nil
}

func wantBool(key string, raw jsontext.Value) (bool, *Error) {
	switch raw.Kind() {
	case 't':
		return true, nil
	case 'f':
		return false, nil
	}
	return false, errorf(CodeBadCommand, "%s: want true or false, got %s", key, engine.Describe(raw))
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
