package engine

import (
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden traces in testdata/golden")

func mustLesson(t testing.TB, doc string) *Lesson {
	t.Helper()
	l, err := ParseLesson([]byte(doc))
	if err != nil {
		t.Fatalf("ParseLesson: %v", err)
	}
	return l
}

func lessonFile(t testing.TB, path string) *Lesson {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return mustLesson(t, string(data))
}

func newTrainer(t testing.TB, l *Lesson) *Trainer {
	t.Helper()
	tr, err := NewTrainer(l)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// trace steps n times at granularity g and returns the events as JSON lines.
func trace(tr *Trainer, g Granularity, n int) string {
	var out []byte
	emit := func(e *Event) { out = append(e.AppendJSON(out), '\n') }
	for i := 0; i < n; i++ {
		if tr.Step(g, emit) != nil {
			break
		}
	}
	return string(out)
}

func stateJSON(t testing.TB, tr *Trainer) string {
	t.Helper()
	b, err := json.Marshal(tr.State(true))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestEngineImports keeps the engine free of anything but the standard
// library and gonum: no net/http, no websocket, no os.
func TestEngineImports(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		if dep != "github.com/netstep/netstep/engine" && !strings.HasPrefix(dep, "gonum.org/v1/gonum/") {
			t.Errorf("engine depends on %s; it may use only the standard library and gonum", dep)
		}
	}
	// Its own imports must not reach the outside world (fmt reaches os
	// internally; that is fine).
	out, err = exec.Command("go", "list", "-f", `{{join .Imports " "}}`, ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, banned := range []string{"net/http", "os", "log", "log/slog", "net", "os/exec"} {
		for _, dep := range strings.Fields(string(out)) {
			if dep == banned {
				t.Errorf("engine imports %s", banned)
			}
		}
	}
}

func TestGoldenTraces(t *testing.T) {
	tests := []struct {
		lesson string
		g      Granularity
		steps  int
	}{
		{"testdata/tiny.json", StepSample, 7},
		{"testdata/tiny.json", StepEpoch, 3},
		{"testdata/softmax.json", StepBatch, 4},
		{"testdata/xor.json", StepPhase, 9},
	}
	for _, tt := range tests {
		name := fmt.Sprintf("%s-%s-%d", strings.TrimSuffix(filepath.Base(tt.lesson), ".json"), tt.g, tt.steps)
		t.Run(name, func(t *testing.T) {
			checkGolden(t, name+".jsonl", trace(newTrainer(t, lessonFile(t, tt.lesson)), tt.g, tt.steps))
		})
	}
	// Every built-in lesson: its first sample steps event by event, and
	// where five epochs of Play leave it (weights, the last sample's
	// values, the losses), so a change in any number of any lesson on any
	// machine shows up here. test.sh runs this under arm64, GOAMD64=v3
	// and WebAssembly against the same files.
	for _, name := range Builtin().Names() {
		t.Run("builtin-"+name, func(t *testing.T) {
			l, _ := Builtin().Lookup(name)
			checkGolden(t, "builtin-"+name+"-sample-12.jsonl", trace(newTrainer(t, l), StepSample, 12))
			tr := newTrainer(t, l)
			tr.Run(StepEpoch, 5, nil)
			b, err := json.Marshal(tr.State(false))
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, "builtin-"+name+"-epoch-5-state.jsonl", string(b)+"\n")
		})
	}
}

// checkGolden compares got with testdata/golden/file (rewriting it with
// -update) and, for a .jsonl file, checks that every line is JSON.
func checkGolden(t *testing.T, file, got string) {
	t.Helper()
	golden := filepath.Join("testdata", "golden", file)
	if *update {
		os.MkdirAll(filepath.Dir(golden), 0o755)
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./engine -run %s -update on amd64)", err, t.Name())
	}
	if got != string(want) {
		t.Errorf("%s differs from %s, written on amd64 (run with -update if the change is intended)\n%s", t.Name(), golden, firstDiff(got, string(want)))
	}
	if !strings.HasSuffix(file, ".jsonl") {
		return
	}
	for _, line := range strings.Split(strings.TrimSpace(got), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("invalid JSON %q: %v", line, err)
		}
	}
}

func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < len(al) && i < len(bl); i++ {
		if al[i] != bl[i] {
			return fmt.Sprintf("line %d:\n got  %s\n want %s", i+1, al[i], bl[i])
		}
	}
	return fmt.Sprintf("lengths differ: %d vs %d lines", len(al), len(bl))
}

// TestEventJSONMatchesEncodingJSON checks that AppendJSON writes numbers as
// encoding/json would.
func TestEventJSONMatchesEncodingJSON(t *testing.T) {
	for _, v := range []float64{0, 1, -1, 0.1, 1e-7, 1.5e-7, 123456789.125, 1e21, -2.5e-300, 5e-324, math.MaxFloat64, 0.30000000000000004} {
		got := string(AppendFloat(nil, v))
		want, _ := json.Marshal(v)
		if got != string(want) {
			t.Errorf("AppendFloat(%v) = %s, encoding/json writes %s", v, got, want)
		}
	}
	for _, s := range []string{"plain", `quote " and \ back`, "tab\t<b>&</b>", "\u2028", "bad \xff utf8", "émoji 🎓"} {
		got := string(AppendString(nil, s))
		want, _ := json.Marshal(s)
		if got != string(want) {
			t.Errorf("AppendString(%q) = %s, encoding/json writes %s", s, got, want)
		}
	}
}

// TestBatchSizeOneSampleIsFourPhases: with batch size 1 one sample step
// equals four phase steps, event for event.
func TestBatchSizeOneSampleIsFourPhases(t *testing.T) {
	doc := strings.Replace(mustRead(t, "testdata/tiny.json"), `"batchSize": 2`, `"batchSize": 1`, 1)
	a, b := newTrainer(t, mustLesson(t, doc)), newTrainer(t, mustLesson(t, doc))
	for i := 0; i < 6; i++ {
		if got, want := trace(a, StepSample, 1), trace(b, StepPhase, 4); got != want {
			t.Fatalf("sample %d: a sample step and four phase steps differ:\n%s", i, firstDiff(got, want))
		}
	}
}

func mustRead(t testing.TB, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestGranularitiesAgree: the same training reached by micro-steps, by
// epochs and by Run ends with the same numbers.
func TestGranularitiesAgree(t *testing.T) {
	for _, path := range []string{"testdata/tiny.json", "testdata/softmax.json"} {
		t.Run(filepath.Base(path), func(t *testing.T) {
			l := lessonFile(t, path)
			byEpoch := newTrainer(t, l)
			trace(byEpoch, StepEpoch, 3)
			for g := StepMicro; g < StepEpoch; g++ {
				tr := newTrainer(t, l)
				for tr.Position().Epoch < 3 {
					if err := tr.Step(g, nil); err != nil {
						t.Fatal(err)
					}
				}
				if got, want := stateJSON(t, tr), stateJSON(t, byEpoch); got != want {
					t.Errorf("%s steps end elsewhere than epoch steps:\n%s", g, firstDiff(got, want))
				}
			}
			run := newTrainer(t, l)
			if err := run.Run(StepEpoch, 3, nil); err != nil {
				t.Fatal(err)
			}
			// Run keeps no per-neuron events but must end at the same numbers.
			if got, want := stateJSON(t, run), stateJSON(t, byEpoch); got != want {
				t.Errorf("Run ends elsewhere than Step:\n%s", firstDiff(got, want))
			}
		})
	}
}

// TestBackReplaysExactly takes random steps and backs, and checks after
// each Back that the state equals the one recorded when that position was
// first reached, and that stepping again gives the same events.
func TestBackReplaysExactly(t *testing.T) {
	for _, path := range []string{"testdata/tiny.json", "testdata/softmax.json"} {
		t.Run(filepath.Base(path), func(t *testing.T) {
			tr := newTrainer(t, lessonFile(t, path))
			r := rand.New(rand.NewPCG(1, 2))
			type mark struct {
				state  string
				events string
				g      Granularity
			}
			var stack []mark
			for i := 0; i < 400; i++ {
				if len(stack) > 0 && r.IntN(3) == 0 {
					top := stack[len(stack)-1]
					stack = stack[:len(stack)-1]
					if err := tr.Back(); err != nil {
						t.Fatalf("Back: %v", err)
					}
					if got := stateJSON(t, tr); got != top.state {
						t.Fatalf("step %d: state after Back differs:\n%s", i, firstDiff(got, top.state))
					}
					if got := trace(tr, top.g, 1); got != top.events {
						t.Fatalf("step %d: stepping again after Back gives other events:\n%s", i, firstDiff(got, top.events))
					}
					if err := tr.Back(); err != nil {
						t.Fatal(err)
					}
					continue
				}
				g := Granularity(r.IntN(int(StepEpoch) + 1))
				before := stateJSON(t, tr)
				events := trace(tr, g, 1)
				stack = append(stack, mark{before, events, g})
				if r.IntN(40) == 0 {
					// An edit is a step of its own: Back undoes exactly it.
					beforeSet := stateJSON(t, tr)
					lr := 0.05 + r.Float64()/10
					if err := tr.Set(TrainingPatch{LearningRate: &lr}); err != nil {
						t.Fatal(err)
					}
					if err := tr.Back(); err != nil {
						t.Fatal(err)
					}
					if got := stateJSON(t, tr); got != beforeSet {
						t.Fatalf("step %d: Back after Set:\n%s", i, firstDiff(got, beforeSet))
					}
				}
			}
			for len(stack) > 0 {
				if err := tr.Back(); err != nil {
					t.Fatal(err)
				}
				stack = stack[:len(stack)-1]
			}
			if tr.CanBack() || tr.Position().T != 0 {
				t.Fatalf("after undoing everything: position %+v, canBack %v", tr.Position(), tr.CanBack())
			}
			fresh := newTrainer(t, lessonFile(t, path))
			if got, want := stateJSON(t, tr), stateJSON(t, fresh); got != want {
				t.Fatalf("back at the start, the state differs from a fresh trainer:\n%s", firstDiff(got, want))
			}
		})
	}
}

// TestBackAfterLongRun: a long run keeps few checkpoints and Back still
// reaches every step exactly.
func TestBackAfterLongRun(t *testing.T) {
	l := lessonFile(t, "testdata/tiny.json")
	tr := newTrainer(t, l)
	var states []string
	for i := 0; i < 300; i++ {
		states = append(states, stateJSON(t, tr))
		if err := tr.Run(StepEpoch, 1, nil); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(tr.checkpoints); n > maxCheckpoints+1 {
		t.Errorf("%d checkpoints after 300 epochs; want at most %d", n, maxCheckpoints+1)
	}
	for i := len(states) - 1; i >= 0; i -= 37 {
		for tr.Position().Epoch > i {
			if err := tr.Back(); err != nil {
				t.Fatal(err)
			}
		}
		if got := stateJSON(t, tr); got != states[i] {
			t.Fatalf("epoch %d after Back:\n%s", i, firstDiff(got, states[i]))
		}
	}
}

func TestSetAndSetWeightAreUndoable(t *testing.T) {
	tr := newTrainer(t, lessonFile(t, "testdata/tiny.json"))
	trace(tr, StepSample, 3)
	before := stateJSON(t, tr)
	lr, adam := 0.5, Adam
	if err := tr.Set(TrainingPatch{LearningRate: &lr, Optimizer: &adam}); err != nil {
		t.Fatal(err)
	}
	if got := tr.Training(); got.LearningRate != 0.5 || got.Optimizer != Adam {
		t.Fatalf("Set did not apply: %+v", got)
	}
	if err := tr.SetWeight(1, 0, 2, false, 0.75); err != nil {
		t.Fatal(err)
	}
	if got := tr.State(false).Network.Weights[1][0][2]; got != 0.75 {
		t.Fatalf("weight after SetWeight = %v, want 0.75", got)
	}
	if err := tr.SetWeight(0, 1, 0, true, -2); err != nil {
		t.Fatal(err)
	}
	if got := tr.State(false).Network.Biases[0][1]; got != -2 {
		t.Fatalf("bias after SetWeight = %v, want -2", got)
	}
	trace(tr, StepBatch, 2)
	for i := 0; i < 5; i++ {
		if err := tr.Back(); err != nil {
			t.Fatal(err)
		}
	}
	if got := stateJSON(t, tr); got != before {
		t.Fatalf("after undoing the edits:\n%s", firstDiff(got, before))
	}
	for _, tt := range []struct {
		name string
		err  error
	}{
		{"layer", tr.SetWeight(2, 0, 0, false, 1)},
		{"to", tr.SetWeight(0, 3, 0, false, 1)},
		{"from", tr.SetWeight(0, 0, 2, false, 1)},
		{"value", tr.SetWeight(0, 0, 0, false, math.NaN())},
		{"value", tr.SetWeight(0, 0, 0, false, 1e9)},
	} {
		if tt.err == nil || !strings.HasPrefix(tt.err.Error(), tt.name+":") {
			t.Errorf("bad SetWeight: error %v, want one naming %s", tt.err, tt.name)
		}
	}
}

func TestDivergence(t *testing.T) {
	doc := strings.Replace(mustRead(t, "testdata/tiny.json"), `"learningRate": 0.1`, `"learningRate": 90`, 1)
	tr := newTrainer(t, mustLesson(t, doc))
	var events []string
	for i := 0; i < 200 && tr.Diverged() == ""; i++ {
		events = append(events, trace(tr, StepEpoch, 1))
	}
	if tr.Diverged() == "" {
		t.Fatal("a learning rate of 90 did not diverge in 200 epochs")
	}
	all := strings.Join(events, "")
	if !strings.Contains(all, `"type":"diverged"`) || !strings.Contains(all, "learning rate (90)") {
		t.Errorf("no diverged event naming the learning rate in:\n%s", all[max(0, len(all)-600):])
	}
	for _, bad := range []string{"NaN", "Inf", "null"} {
		if strings.Contains(all, bad) {
			t.Errorf("events contain %s", bad)
		}
	}
	if err := tr.Step(StepSample, nil); err != ErrDiverged {
		t.Errorf("Step after divergence = %v, want ErrDiverged", err)
	}
	if _, err := json.Marshal(tr.State(true)); err != nil {
		t.Errorf("state after divergence is not JSON: %v", err)
	}
	if err := tr.Back(); err != nil || tr.Diverged() != "" {
		t.Errorf("Back after divergence: err %v, diverged %q", err, tr.Diverged())
	}
}

func TestResetReturnsToStart(t *testing.T) {
	tr := newTrainer(t, lessonFile(t, "testdata/softmax.json"))
	start := stateJSON(t, tr)
	first := trace(tr, StepEpoch, 2)
	tr.Reset()
	if got := stateJSON(t, tr); got != start {
		t.Fatalf("after Reset:\n%s", firstDiff(got, start))
	}
	if got := trace(tr, StepEpoch, 2); got != first {
		t.Fatalf("after Reset the same steps give other events")
	}
}

// TestStateHidesValuesNotReached: mid-forward, later neurons are null.
func TestStateHidesValuesNotReached(t *testing.T) {
	tr := newTrainer(t, lessonFile(t, "testdata/tiny.json"))
	if st := tr.State(false); st.Values != nil || st.Sample != nil {
		t.Fatal("a fresh trainer shows values")
	}
	trace(tr, StepMicro, 2) // two neurons of layer 0
	v := tr.State(false).Values
	if math.IsNaN(v.A[0][1]) || !math.IsNaN(v.A[0][2]) || !math.IsNaN(v.A[1][0]) || !math.IsNaN(v.DZ[0][0]) {
		t.Fatalf("mid-forward values: a=%v dZ=%v", v.A, v.DZ)
	}
	b, _ := json.Marshal(v)
	if !strings.Contains(string(b), "null") {
		t.Fatalf("hidden values are not null in JSON: %s", b)
	}
}

func TestBoundary(t *testing.T) {
	l := mustLesson(t, `{"title":"c","network":{"layers":[{"size":3,"activation":"tanh"},{"size":1,"activation":"sigmoid"}]},
		"data":{"generator":"circle","n":50,"features":["x1","x2","x1^2"]}}`)
	tr := newTrainer(t, l)
	hm := tr.Boundary(20)
	if hm == nil || len(hm.Output) != 1 || len(hm.Hidden) != 1 || len(hm.Hidden[0]) != 3 || len(hm.Output[0].Data) != 400 {
		t.Fatalf("unexpected heatmaps: %+v", hm)
	}
	// The top-left cell is the point (−5.7, 5.7): compare with a direct forward pass.
	x1, x2 := -6+0.3, 6-0.3
	in := []float64{x1, x2, x1 * x1}
	z, a := make([]float64, 3), make([]float64, 3)
	tr.layers[0].forward(in, z, a)
	want := byte(min(255, max(0, (a[1]+1)/2*255+0.5)))
	if got := hm.Hidden[0][1].Data[0]; got != want {
		t.Errorf("hidden neuron 1 at the top-left = %d, want %d", got, want)
	}
	if _, err := json.Marshal(hm); err != nil {
		t.Fatal(err)
	}
	three := mustLesson(t, `{"title":"3-D","network":{"layers":[{"size":1}]},"data":{"samples":[{"x":[1,2,3],"y":[1]}]}}`)
	if newTrainer(t, three).Boundary(20) != nil {
		t.Error("a lesson with three inputs has a boundary")
	}
	// Inline 2-D data gets a square domain around its points.
	tiny := newTrainer(t, lessonFile(t, "testdata/tiny.json")).Boundary(10)
	if tiny == nil || tiny.Domain[0] > -1 || tiny.Domain[1] < 1 || tiny.Domain[1] > 2 {
		t.Errorf("domain for points in [-1, 1]: %+v", tiny)
	}
}

func TestLessonRoundTrip(t *testing.T) {
	for _, path := range []string{"testdata/tiny.json", "testdata/softmax.json"} {
		l := lessonFile(t, path)
		doc, err := l.JSON()
		if err != nil {
			t.Fatal(err)
		}
		again, err := ParseLesson(doc)
		if err != nil {
			t.Fatalf("%s: the lesson's own JSON does not parse: %v\n%s", path, err, doc)
		}
		a, b := newTrainer(t, l), newTrainer(t, again)
		if x, y := trace(a, StepEpoch, 2), trace(b, StepEpoch, 2); x != y {
			t.Fatalf("%s: the round-tripped lesson trains differently", path)
		}
	}
}

func TestRunAllocatesNothingPerSample(t *testing.T) {
	l := circleBench(t, []int{8, 8})
	tr := newTrainer(t, l)
	tr.Run(StepEpoch, 50, nil) // let history and checkpoints reach their working sizes
	allocs := testing.AllocsPerRun(20, func() { tr.Run(StepEpoch, 1, nil) })
	if perSample := allocs / float64(l.TrainSize()); perSample > 0.01 {
		t.Errorf("%.3f allocations per sample in run mode; want 0", perSample)
	}
	step := testing.AllocsPerRun(20, func() { tr.Step(StepSample, func(*Event) {}) })
	if step > 0.5 {
		t.Errorf("%.1f allocations per sample step; want 0", step)
	}
}

func ExampleTrainer_Step() {
	lesson, err := ParseLesson([]byte(`{
		"title": "One neuron",
		"network": {"inputs": ["x"], "outputs": ["y"], "layers": [{"size": 1, "activation": "linear"}],
		            "weights": [[[0.5]]], "biases": [[0]]},
		"data": {"samples": [{"x": [2], "y": [3]}]},
		"training": {"loss": "half_squared_error", "learningRate": 0.1, "batchSize": 1}}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	tr, _ := NewTrainer(lesson)
	tr.Step(StepSample, func(e *Event) { fmt.Println(string(e.AppendJSON(nil))) })
	// Output:
	// {"type":"sample","epoch":0,"index":0,"x":[2],"y":[3]}
	// {"type":"forward","layer":0,"neuron":0,"z":1,"a":1}
	// {"type":"loss","index":0,"value":2,"prediction":[1],"target":[3]}
	// {"type":"backward","layer":0,"neuron":0,"dA":-2,"dZ":-2,"slope":1}
	// {"type":"update","layer":0,"to":0,"from":0,"old":0.5,"grad":-4,"new":0.9,"batch":1}
	// {"type":"update","layer":0,"to":0,"bias":true,"old":0,"grad":-2,"new":0.2,"batch":1}
	// {"type":"epoch","epoch":1,"trainLoss":0.5}
}

// TestManyEditsStayBounded: a client that edits without end keeps a bounded
// history; Back then stops at the oldest edit kept, and Reset still works.
func TestManyEditsStayBounded(t *testing.T) {
	tr := newTrainer(t, lessonFile(t, "testdata/tiny.json"))
	start := stateJSON(t, tr)
	for i := 0; i < maxPinned+50; i++ {
		tr.Step(StepMicro, nil)
		if err := tr.SetWeight(0, 0, 0, false, float64(i)/1000); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(tr.checkpoints); n > maxPinned+maxCheckpoints+2 {
		t.Fatalf("%d checkpoints after %d edits", n, maxPinned+50)
	}
	backs := 0
	for tr.Back() == nil {
		backs++
	}
	if backs < maxPinned || backs > 2*(maxPinned+50) {
		t.Errorf("%d Backs before the start of the kept history", backs)
	}
	tr.Reset()
	if got := stateJSON(t, tr); got != start {
		t.Fatalf("Reset after many edits:\n%s", firstDiff(got, start))
	}
}

// TestBoundaryClasses checks the class map of a softmax network cell by
// cell against the engine's own forward pass at each cell's point, and
// pins which-size's map after training in a golden picture (one letter per
// cell, the output's name; lower case where the winner's share is below
// 0.6), so a change in any cell on any machine shows up.
func TestBoundaryClasses(t *testing.T) {
	l, ok := Builtin().Lookup("which-size")
	if !ok {
		t.Fatal("no which-size lesson")
	}
	tr := newTrainer(t, l)
	tr.Run(StepEpoch, 40, nil)
	const grid = 24
	hm := tr.Boundary(grid)
	if hm == nil || hm.Classes == nil {
		t.Fatalf("which-size has no class map: %+v", hm)
	}
	if got, want := len(hm.Classes.Winner), grid*grid; got != want || len(hm.Classes.Share) != want {
		t.Fatalf("class map sizes %d, %d; want %d", got, len(hm.Classes.Share), want)
	}
	lo, hi := hm.Domain[0], hm.Domain[1]
	step := (hi - lo) / grid
	seen := map[byte]int{}
	var pic strings.Builder
	for r := range grid {
		for c := range grid {
			// A fresh pass at the cell's centre, one point at a time, with
			// buffers of its own: the same layers the training uses.
			in := []float64{lo + (float64(c)+0.5)*step, hi - (float64(r)+0.5)*step}
			for _, ly := range tr.layers {
				z, a := make([]float64, ly.nout), make([]float64, ly.nout)
				ly.forward(in, z, a)
				in = a
			}
			best := 0
			for j := range in {
				if in[j] > in[best] {
					best = j
				}
			}
			p := r*grid + c
			if got := hm.Classes.Winner[p]; int(got) != best {
				t.Fatalf("cell (%d, %d): winner %d, the forward pass says %d (outputs %v)", r, c, got, best, in)
			}
			if got, want := hm.Classes.Share[p], byte(in[best]*255+0.5); got != want {
				t.Fatalf("cell (%d, %d): share byte %d, want %d (output %v)", r, c, got, want, in[best])
			}
			seen[byte(best)]++
			letter := l.Network.Outputs[best]
			if in[best] < 0.6 {
				letter = strings.ToLower(letter)
			}
			pic.WriteString(letter)
		}
		pic.WriteByte('\n')
	}
	if len(seen) != 3 {
		t.Errorf("after 40 epochs which-size's map shows %d classes (%v), want its three regions", len(seen), seen)
	}
	checkGolden(t, "builtin-which-size-classmap.txt", pic.String())
	if b, err := json.Marshal(hm); err != nil || !strings.Contains(string(b), `"classes":{"winner":"`) {
		t.Errorf("heatmaps JSON without classes: %v %.200s", err, b)
	}

	// Binary and regression lessons keep their single map, without classes.
	for _, name := range []string{"cat-or-dog", "circle", "xor"} {
		l, _ := Builtin().Lookup(name)
		if hm := newTrainer(t, l).Boundary(grid); hm == nil || hm.Classes != nil {
			t.Errorf("%s: heatmaps %v, want a map without classes", name, hm)
		}
	}
}
