package engine

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// randomLesson writes a lesson drawn from r: any generator (with features
// for the 2-D ones), zero to two hidden layers of any elementwise
// activation, an output and loss that fit the data, any optimizer and
// regularization. Some train well, some diverge: both must be exact.
func randomLesson(t testing.TB, r *rand.Rand) *Lesson {
	t.Helper()
	gens := []string{"circle", "xor", "gaussian", "spiral", "plane", "multi_gaussian", "house_prices"}
	gen := gens[r.IntN(len(gens))]
	classes := gen == "circle" || gen == "xor" || gen == "gaussian" || gen == "spiral"
	var features []string
	if gen != "house_prices" && r.IntN(2) == 0 {
		perm := r.Perm(len(featureNames))
		for _, k := range perm[:1+r.IntN(len(featureNames))] {
			features = append(features, fmt.Sprintf("%q", featureNames[k]))
		}
	}
	hidden := []string{"sigmoid", "tanh", "relu", "leaky_relu", "linear"}
	var layers []string
	for range r.IntN(3) {
		layers = append(layers, fmt.Sprintf(`{"size":%d,"activation":%q}`, 1+r.IntN(6), hidden[r.IntN(len(hidden))]))
	}
	var out, loss string
	switch k := r.IntN(3); {
	case classes && k == 0:
		out, loss = `{"size":2,"activation":"softmax"}`, "cross_entropy"
	case classes && k == 1:
		out, loss = `{"size":1,"activation":"sigmoid"}`, "cross_entropy"
	default:
		acts := []string{"linear", "tanh", "sigmoid"}
		out, loss = fmt.Sprintf(`{"size":1,"activation":%q}`, acts[r.IntN(len(acts))]), []string{"mse", "half_squared_error"}[r.IntN(2)]
	}
	layers = append(layers, out)
	data := fmt.Sprintf(`{"generator":%q,"n":%d,"noise":%.2f,"testRatio":%.2f`, gen, 12+r.IntN(60), r.Float64()/2, r.Float64()/2)
	if features != nil {
		data += `,"features":[` + strings.Join(features, ",") + `]`
	}
	data += "}"
	regs := []string{"none", "l1", "l2"}
	doc := fmt.Sprintf(`{"title":"random","seed":%d,"network":{"layers":[%s]},"data":%s,
		"training":{"loss":%q,"optimizer":%q,"learningRate":%.4f,"batchSize":%d,"shuffle":%v,"momentum":%.2f,
		"regularization":{"kind":%q,"rate":%.3f}}}`,
		r.Uint64()>>12, strings.Join(layers, ","), data, loss, optimizerNames[r.IntN(3)], 0.001+r.Float64()/3,
		1+r.IntN(12), r.IntN(3) > 0, r.Float64()*0.95, regs[r.IntN(3)], r.Float64()/50)
	l, err := ParseLesson([]byte(doc))
	if err != nil {
		t.Fatalf("random lesson does not parse: %v\n%s", err, doc)
	}
	return l
}

func TestRandomLessonsParse(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for range 200 {
		randomLesson(t, r)
	}
}

// TestRandomSessionDigests plays random sessions of random lessons (every
// generator, activation, loss, optimizer and regularization; steps of
// every granularity with their events, runs, Backs, edits) and hashes
// every event, the state after every command and now and then the
// decision-boundary heatmaps. The digests are in
// testdata/golden/random-sessions.txt, written on amd64 with -update:
// test.sh runs this under arm64 (qemu), GOAMD64=v3 and WebAssembly, where
// any number that differs by a bit changes a digest.
func TestRandomSessionDigests(t *testing.T) {
	var out strings.Builder
	for s := range uint64(24) {
		r := rand.New(rand.NewPCG(2026, s))
		l := randomLesson(t, r)
		tr := newTrainer(t, l)
		h := sha256.New()
		var buf []byte
		emit := func(e *Event) {
			buf = e.AppendJSON(buf[:0])
			h.Write(buf)
		}
		for _, v := range append(append([]float64(nil), l.train.x...), l.train.y...) {
			h.Write(binary.LittleEndian.AppendUint64(buf[:0], math.Float64bits(v))) // the data itself
		}
		for range 120 {
			g := Granularity(r.IntN(int(StepBatch) + 1))
			switch k := r.IntN(10); {
			case k < 5:
				tr.Step(g, emit)
			case k < 7:
				tr.Run(StepEpoch, 1+r.IntN(3), emit)
			case k < 9:
				tr.Back()
			default:
				ly := r.IntN(len(tr.layers))
				tr.SetWeight(ly, 0, 0, false, r.NormFloat64())
			}
			st, err := json.Marshal(tr.State(false))
			if err != nil {
				t.Fatal(err)
			}
			h.Write(st)
			if hm := tr.Boundary(12); hm != nil && r.IntN(10) == 0 {
				for _, m := range append(slices.Concat(hm.Hidden...), hm.Output...) {
					h.Write(binary.LittleEndian.AppendUint64(buf[:0], math.Float64bits(m.Lo)))
					h.Write(binary.LittleEndian.AppendUint64(buf[:0], math.Float64bits(m.Hi)))
					h.Write(m.Data)
				}
				if c := hm.Classes; c != nil {
					h.Write(c.Winner)
					h.Write(c.Share)
				}
			}
		}
		fmt.Fprintf(&out, "session %2d %s %x\n", s, l.Data.Generator, h.Sum(nil)[:12])
	}
	checkGolden(t, "random-sessions.txt", out.String())
}
