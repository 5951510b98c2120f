package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"testing"

	"github.com/netstep/netstep/engine"
)

var updateTraces = flag.Bool("update-traces", false, "rewrite web/jstest/testdata/lesson-traces.json")

// lessonTraces is what the JS tests of the math panel and the questions
// read: for every built-in lesson, its first state and the events of its
// first micro-steps, one list per micro-step with the position after it (as
// the step's last events frame carries it), then the epoch events of whole
// epochs far enough for every question's horizon.
type lessonTraces struct {
	Lessons []lessonTrace `json:"lessons"`
}

type lessonTrace struct {
	Name      string              `json:"name"`
	State     *engine.State       `json:"state"`
	Micro     [][]json.RawMessage `json:"micro"`
	Positions []engine.Position   `json:"positions"`
	Epochs    []json.RawMessage   `json:"epochs"`
}

const tracesPath = "web/jstest/testdata/lesson-traces.json"

// TestLessonTraces keeps the JS tests' lesson traces in step with the
// engine: run with -update-traces after changing a lesson or the engine.
func TestLessonTraces(t *testing.T) {
	var out lessonTraces
	cat := engine.Builtin()
	for _, name := range cat.Names() {
		l, _ := cat.Lookup(name)
		tr, err := engine.NewTrainer(l)
		if err != nil {
			t.Fatal(err)
		}
		lt := lessonTrace{Name: name, State: tr.State(true)}
		// Micro-steps through the first epoch of a small training set, or
		// the first three examples of a big one.
		samples := 3
		if l.TrainSize() <= 40 {
			samples = l.TrainSize()
		}
		var step []json.RawMessage
		emit := func(e *engine.Event) { step = append(step, json.RawMessage(e.AppendJSON(nil))) }
		for tr.Diverged() == "" && tr.Position().Epoch == 0 && tr.Position().Sample < samples {
			step = nil
			err := tr.Step(engine.StepMicro, emit)
			lt.Micro = append(lt.Micro, step)
			lt.Positions = append(lt.Positions, tr.Position())
			if err != nil {
				break
			}
		}
		ahead := 2
		for _, q := range l.Questions {
			if q.Horizon != nil {
				ahead = max(ahead, q.Horizon.Epochs+2)
			}
		}
		for range ahead {
			if tr.Diverged() != "" {
				break
			}
			tr.Step(engine.StepEpoch, func(e *engine.Event) {
				if e.Type == engine.EventEpoch || e.Type == engine.EventDiverged {
					lt.Epochs = append(lt.Epochs, json.RawMessage(e.AppendJSON(nil)))
				}
			})
		}
		out.Lessons = append(out.Lessons, lt)
	}
	got, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	if *updateTraces {
		if err := os.WriteFile(tracesPath, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(tracesPath)
	if err != nil {
		t.Fatalf("%v; run go test -run TestLessonTraces -update-traces", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s is out of date with the built-in lessons or the engine; run go test -run TestLessonTraces -update-traces", tracesPath)
	}
}
