package engine

import (
	"encoding/json"
	"testing"
)

// TestStepLimitedIsOneStep: a step taken in small pieces gives the same
// events as one Step, and one Back undoes all of it.
func TestStepLimitedIsOneStep(t *testing.T) {
	l := lessonFile(t, "testdata/tiny.json")
	whole, pieces := newTrainer(t, l), newTrainer(t, l)
	want := trace(whole, StepEpoch, 1)
	var got []byte
	emit := func(e *Event) { got = append(e.AppendJSON(got), '\n') }
	calls := 0
	for {
		done, err := pieces.StepLimited(StepEpoch, emit, 7)
		if err != nil {
			t.Fatal(err)
		}
		calls++
		if done {
			break
		}
	}
	if calls < 3 {
		t.Fatalf("an epoch took %d pieces of 7 micro-steps", calls)
	}
	if string(got) != want {
		t.Fatalf("pieces differ from one step:\n%s", firstDiff(string(got), want))
	}
	if err := pieces.Back(); err != nil {
		t.Fatal(err)
	}
	if pieces.Position().T != 0 || pieces.CanBack() {
		t.Fatalf("one Back after a step in pieces: position %+v", pieces.Position())
	}
	// Unfinished, then ended by Back: the partial step is undone.
	pieces.StepLimited(StepEpoch, nil, 10)
	if err := pieces.Back(); err != nil || pieces.Position().T != 0 {
		t.Fatalf("Back of an unfinished step: %v %+v", err, pieces.Position())
	}
	// Silent pieces (whole samples at a time) end where Step ends.
	quiet := newTrainer(t, l)
	for done := false; !done; {
		done, _ = quiet.StepLimited(StepEpoch, nil, 50)
	}
	if a, b := stateJSON(t, quiet), stateJSON(t, whole); a != b {
		t.Fatalf("silent pieces end elsewhere:\n%s", firstDiff(a, b))
	}
}

func TestAppendParamsAndParamCount(t *testing.T) {
	tr := newTrainer(t, lessonFile(t, "testdata/softmax.json"))
	trace(tr, StepBatch, 2)
	var got, want any
	if err := json.Unmarshal(tr.AppendParams(nil), &got); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(tr.State(false).Network.Params)
	json.Unmarshal(b, &want)
	gb, _ := json.Marshal(got)
	wb, _ := json.Marshal(want)
	if string(gb) != string(wb) {
		t.Fatalf("AppendParams %s\nState       %s", gb, wb)
	}
	if got, want := tr.Lesson().ParamCount(), (2+1)*4+(4+1)*2; got != want {
		t.Errorf("ParamCount = %d, want %d", got, want)
	}
}
