package engine

import (
	"bytes"
	"testing"
)

// stepJSON takes one step and returns its events as JSON lines.
func stepJSON(t *testing.T, tr *Trainer, g Granularity) []byte {
	t.Helper()
	var out []byte
	if err := tr.Step(g, func(e *Event) { out = append(e.AppendJSON(out), '\n') }); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestForkContinuesExactly(t *testing.T) {
	for _, name := range Builtin().Names() {
		t.Run(name, func(t *testing.T) {
			l, _ := Builtin().Lookup(name)
			tr, err := NewTrainer(l)
			if err != nil {
				t.Fatal(err)
			}
			// Somewhere in the middle: a few samples, an edit, a phase.
			for range 7 {
				stepJSON(t, tr, StepSample)
			}
			lr := tr.Training().LearningRate / 2
			if err := tr.Set(TrainingPatch{LearningRate: &lr}); err != nil {
				t.Fatal(err)
			}
			stepJSON(t, tr, StepPhase)

			f := tr.Fork()
			if got, want := f.Position(), tr.Position(); got != want {
				t.Fatalf("fork position %+v, want %+v", got, want)
			}
			// The same next steps, event for event.
			for _, g := range []Granularity{StepMicro, StepSample, StepBatch} {
				a, b := stepJSON(t, tr, g), stepJSON(t, f, g)
				if !bytes.Equal(a, b) {
					t.Fatalf("%v step after the fork differs:\noriginal %s\nfork     %s", g, a, b)
				}
			}
			// Back on the fork reaches before the fork and replays the same.
			for f.CanBack() {
				if err := f.Back(); err != nil {
					t.Fatal(err)
				}
			}
			if f.Position().T != 0 {
				t.Errorf("fork's Back stopped at t=%d, want 0", f.Position().T)
			}
			// The original is untouched by the fork going back.
			if !tr.CanBack() || tr.Position().T == 0 {
				t.Error("going back on the fork moved the original")
			}
		})
	}
}

func TestForkIsIndependent(t *testing.T) {
	l, _ := Builtin().Lookup(Builtin().Names()[0])
	tr, err := NewTrainer(l)
	if err != nil {
		t.Fatal(err)
	}
	stepJSON(t, tr, StepSample)
	before := tr.State(false)
	f := tr.Fork()
	for range 20 {
		stepJSON(t, f, StepSample)
	}
	if err := f.SetWeight(0, 0, 0, false, 3); err != nil {
		t.Fatal(err)
	}
	after := tr.State(false)
	if before.Position != after.Position || before.Network.Weights[0][0][0] != after.Network.Weights[0][0][0] {
		t.Error("stepping the fork changed the original")
	}
}
