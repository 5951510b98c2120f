package engine

import (
	"encoding/json"
	"reflect"
	"testing"
)

// TestAppendLatestMatchesState checks the latest example's numbers against
// State's, micro-step by micro-step through two examples and after Run.
func TestAppendLatestMatchesState(t *testing.T) {
	for _, name := range []string{"house-prices", "which-size", "spiral"} {
		t.Run(name, func(t *testing.T) {
			l, _ := Builtin().Lookup(name)
			tr := newTrainer(t, l)
			if got := tr.AppendLatest(nil); len(got) != 0 {
				t.Fatalf("before any sample: %s, want nothing", got)
			}
			check := func(when string) {
				t.Helper()
				var got struct {
					Sample     *SampleState                 `json:"sample"`
					Values     struct{ A, DZ [][]*float64 } `json:"values"`
					SampleLoss *float64                     `json:"sampleLoss"`
				}
				raw := append(append([]byte{'{'}, tr.AppendLatest(nil)...), '}')
				if err := json.Unmarshal(raw, &got); err != nil {
					t.Fatalf("%s: %v in %s", when, err, raw)
				}
				st := tr.State(false)
				if got.Sample == nil || got.Sample.Index != st.Sample.Index || !reflect.DeepEqual(got.Sample.X, st.Sample.X) || !reflect.DeepEqual(got.Sample.Y, st.Sample.Y) {
					t.Fatalf("%s: sample %+v, want %+v", when, got.Sample, st.Sample)
				}
				for key, pair := range map[string][2]any{"a": {got.Values.A, st.Values.A}, "dZ": {got.Values.DZ, st.Values.DZ}} {
					mine, want := pair[0].([][]*float64), pair[1].([]Vector)
					for l := range want {
						for j, w := range want[l] {
							g := mine[l][j]
							if (g == nil) != (w != w) || (g != nil && *g != w) {
								t.Fatalf("%s: %s[%d][%d] = %v, want %v", when, key, l, j, g, w)
							}
						}
					}
				}
				if (got.SampleLoss != nil) != (st.Loss != nil) || (st.Loss != nil && *got.SampleLoss != st.Loss.Value) {
					t.Fatalf("%s: sampleLoss %v, want %+v", when, got.SampleLoss, st.Loss)
				}
			}
			for i := range 2 * tr.microsPerSample() {
				if err := tr.Step(StepMicro, nil); err != nil {
					t.Fatal(err)
				}
				check("micro-step " + string(rune('0'+i%10)))
			}
			if err := tr.Run(StepSample, 37, nil); err != nil {
				t.Fatal(err)
			}
			check("after Run")
		})
	}
}

func TestAppendLatestAllocatesNothing(t *testing.T) {
	l, _ := Builtin().Lookup("spiral")
	tr := newTrainer(t, l)
	if err := tr.Run(StepSample, 5, nil); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 0, 1<<16)
	if n := testing.AllocsPerRun(50, func() { buf = tr.AppendLatest(buf[:0]) }); n != 0 {
		t.Errorf("AppendLatest: %v allocations, want 0", n)
	}
	if n := testing.AllocsPerRun(5, func() { tr.CurrentLoss() }); n != 0 {
		t.Errorf("CurrentLoss: %v allocations, want 0", n)
	}
}

// TestCurrentLossIsTheEpochLoss: at an epoch's end CurrentLoss is the loss
// the trainer recorded for it; at the start it is the loss before training.
func TestCurrentLossIsTheEpochLoss(t *testing.T) {
	l, _ := Builtin().Lookup("house-prices")
	tr := newTrainer(t, l)
	start := tr.CurrentLoss()
	if start.Epoch != 0 || !start.HasTest || !(start.TrainLoss > 0) {
		t.Fatalf("at the start: %+v", start)
	}
	if err := tr.Run(StepEpoch, 1, nil); err != nil {
		t.Fatal(err)
	}
	if got, want := tr.CurrentLoss(), tr.Losses()[0]; got != want {
		t.Errorf("after epoch 1: %+v, want %+v", got, want)
	}
	if got := tr.Losses()[0].TrainLoss; !(got < start.TrainLoss) {
		t.Errorf("the first epoch did not lower the loss: %v → %v", start.TrainLoss, got)
	}
}
