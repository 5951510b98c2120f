package server

import (
	"encoding/json"
	"testing"

	"github.com/netstep/netstep/engine"
)

// TestProgressMatchesState: a progress frame, written from the trainer
// without building a State, carries the same position, weights, biases,
// losses, canBack and latest example (sample, activations, blames) as the
// State does.
func TestProgressMatchesState(t *testing.T) {
	tr := testTrainer(t, "testdata/circle-8-8.json")
	if err := tr.Run(engine.StepEpoch, 3, nil); err != nil {
		t.Fatal(err)
	}
	tr.Step(engine.StepMicro, nil) // a position inside a sample
	for _, since := range []int{0, 1, 3} {
		var got map[string]json.RawMessage
		frame := appendProgress(nil, tr, since, nil)
		if err := json.Unmarshal(frame, &got); err != nil {
			t.Fatalf("since %d: %v in %s", since, err, frame)
		}
		st := tr.State(false)
		var losses []engine.EpochLoss
		for _, e := range st.Losses {
			if e.Epoch > since {
				losses = append(losses, e)
			}
		}
		if losses == nil {
			losses = []engine.EpochLoss{}
		}
		want := map[string]any{
			"type": "progress", "position": st.Position, "weights": st.Network.Weights,
			"biases": st.Network.Biases, "losses": losses, "canBack": st.CanBack,
			"sample": st.Sample, "values": map[string]any{"a": st.Values.A, "dZ": st.Values.DZ},
		}
		for k, v := range want {
			w, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			if g := string(got[k]); g != string(w) {
				t.Errorf("since %d: %s\n got %s\nwant %s", since, k, g, w)
			}
		}
		// Inside a sample there is no loss yet: sampleLoss is left out.
		if len(got) != len(want) {
			t.Errorf("since %d: members %d, want %d: %s", since, len(got), len(want), frame)
		}
	}
}

// TestProgressAllocations: a progress frame without heatmaps costs no
// allocation once the buffer has grown.
func TestProgressAllocations(t *testing.T) {
	tr := testTrainer(t, "testdata/circle-8-8.json")
	tr.Run(engine.StepEpoch, 2, nil)
	buf := appendProgress(nil, tr, 0, nil)
	if n := testing.AllocsPerRun(50, func() { buf = appendProgress(buf[:0], tr, 1, nil) }); n != 0 {
		t.Errorf("%v allocations per progress frame", n)
	}
}

// TestProgressBeforeAnyExample: a fresh trainer has no example to show, and
// its progress frame says nothing about one.
func TestProgressBeforeAnyExample(t *testing.T) {
	tr := testTrainer(t, "testdata/circle-8-8.json")
	var got map[string]json.RawMessage
	frame := appendProgress(nil, tr, 0, nil)
	if err := json.Unmarshal(frame, &got); err != nil {
		t.Fatalf("%v in %s", err, frame)
	}
	for _, k := range []string{"sample", "values", "sampleLoss"} {
		if _, ok := got[k]; ok {
			t.Errorf("%s in a frame before any example: %s", k, frame)
		}
	}
}

// TestProgressSampleLoss: between examples the frame carries the last
// example's loss, the number the State's loss has.
func TestProgressSampleLoss(t *testing.T) {
	tr := testTrainer(t, "testdata/circle-8-8.json")
	tr.Run(engine.StepSample, 7, nil)
	var got struct {
		SampleLoss *float64 `json:"sampleLoss"`
	}
	frame := appendProgress(nil, tr, 0, nil)
	if err := json.Unmarshal(frame, &got); err != nil {
		t.Fatalf("%v in %s", err, frame)
	}
	if st := tr.State(false); st.Loss == nil || got.SampleLoss == nil || *got.SampleLoss != st.Loss.Value {
		t.Errorf("sampleLoss %v, want the state's %+v", got.SampleLoss, st.Loss)
	}
}

// TestStateStartsWithTheLossBeforeTraining: a state frame's losses begin
// with epoch 0, the loss with the starting weights, and keep it after
// training and after Back; a reset measures it again.
func TestStateStartsWithTheLossBeforeTraining(t *testing.T) {
	ts := newTestServer(t, Config{})
	c := ts.dial(t, "")
	tr := testTrainer(t, "testdata/circle-8-8.json")
	want := tr.CurrentLoss()
	losses := func(cmd string) []any {
		t.Helper()
		st := ofType(c.mustDo(cmd), "state")
		if len(st) == 0 {
			t.Fatalf("%s sent no state", cmd)
		}
		return st[0]["state"].(map[string]any)["losses"].([]any)
	}
	first := func(ls []any) map[string]any {
		t.Helper()
		if len(ls) == 0 {
			t.Fatal("no losses")
		}
		return ls[0].(map[string]any)
	}
	l := first(losses(`{"cmd":"load","id":"1","name":"circle-8-8"}`))
	if l["epoch"] != 0.0 || l["trainLoss"] != want.TrainLoss {
		t.Fatalf("after load the losses begin with %v, want epoch 0 with %v", l, want.TrainLoss)
	}
	c.mustDo(`{"cmd":"step","id":"2","granularity":"epoch"}`)
	c.mustDo(`{"cmd":"step","id":"3","granularity":"epoch"}`)
	ls := losses(`{"cmd":"state","id":"4"}`)
	if len(ls) != 3 || first(ls)["trainLoss"] != want.TrainLoss || ls[1].(map[string]any)["epoch"] != 1.0 {
		t.Errorf("after two epochs: %v", ls)
	}
	if ls := losses(`{"cmd":"back","id":"5"}`); len(ls) != 2 || first(ls)["epoch"] != 0.0 {
		t.Errorf("after back: %v", ls)
	}
	c.mustDo(`{"cmd":"setWeight","id":"6","layer":2,"to":0,"bias":true,"value":3}`)
	if l := first(losses(`{"cmd":"reset","id":"7"}`)); l["trainLoss"] != want.TrainLoss {
		t.Errorf("after reset the loss before training is %v, want %v", l, want.TrainLoss)
	}
}

// TestBoundaryClasses: a softmax lesson's boundary frame carries its class
// map exactly as the engine marshals it; a one-output lesson's has none.
func TestBoundaryClasses(t *testing.T) {
	for _, tt := range []struct {
		lesson  string
		classes bool
	}{{"which-size", true}, {"cat-or-dog", false}} {
		l, _ := engine.Builtin().Lookup(tt.lesson)
		tr, err := engine.NewTrainer(l)
		if err != nil {
			t.Fatal(err)
		}
		hm := tr.Boundary(16)
		var got struct {
			Type    string          `json:"type"`
			Classes json.RawMessage `json:"classes"`
		}
		frame := appendBoundaryFrame(nil, hm)
		if err := json.Unmarshal(frame, &got); err != nil {
			t.Fatalf("%s: %v in %s", tt.lesson, err, frame)
		}
		if !tt.classes {
			if got.Classes != nil {
				t.Errorf("%s: classes %s in a one-output lesson's frame", tt.lesson, got.Classes)
			}
			continue
		}
		want, err := json.Marshal(hm.Classes)
		if err != nil {
			t.Fatal(err)
		}
		if string(got.Classes) != string(want) {
			t.Errorf("%s: classes\n got %s\nwant %s", tt.lesson, got.Classes, want)
		}
	}
}
