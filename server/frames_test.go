package server

import (
	"encoding/json"
	"testing"

	"github.com/netstep/netstep/engine"
)

// TestProgressMatchesState: a progress frame, written from the trainer
// without building a State, carries the same position, weights, biases,
// losses and canBack as the State does.
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
