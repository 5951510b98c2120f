package engine

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// circleBench is the speed target's network: 2 inputs → hidden tanh layers →
// 1 tanh output, half squared error, SGD, batch 10, learning rate 0.03, 500
// circle training samples (and 500 test samples, evaluated every epoch as
// TensorFlow Playground does).
func circleBench(t testing.TB, hidden []int) *Lesson {
	var layers []string
	for _, h := range hidden {
		layers = append(layers, fmt.Sprintf(`{"size":%d,"activation":"tanh"}`, h))
	}
	layers = append(layers, `{"size":1,"activation":"tanh"}`)
	return mustLesson(t, `{"title":"bench","seed":1,
		"network":{"layers":[`+strings.Join(layers, ",")+`]},
		"data":{"generator":"circle","n":1000,"testRatio":0.5},
		"training":{"loss":"half_squared_error","optimizer":"sgd","learningRate":0.03,"batchSize":10}}`)
}

// benchRun measures run mode: one op is one epoch.
func benchRun(b *testing.B, hidden []int) {
	l := circleBench(b, hidden)
	tr := newTrainer(b, l)
	tr.Run(StepEpoch, 20, nil)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := tr.Run(StepEpoch, 1, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*l.TrainSize())/b.Elapsed().Seconds(), "samples/s")
}

func BenchmarkRun8x8(b *testing.B)      { benchRun(b, []int{8, 8}) }
func BenchmarkRun32x32x32(b *testing.B) { benchRun(b, []int{32, 32, 32}) }

// tightLoop is the yardstick: the same training written as one plain-Go
// function over flat slices with the standard library's math.Tanh, no
// events, no history, no divergence checks. Run mode should stay within
// 1.25× of its time.
type tightLoop struct {
	sizes          []int
	w, b, gw, gb   [][]float64
	z, a, dz       [][]float64
	trainX, trainY []float64
	testX, testY   []float64
	order          []int
	rng            *rand.Rand
	epoch          uint64
}

func newTightLoop(l *Lesson, hidden []int) *tightLoop {
	sizes := append(append([]int{2}, hidden...), 1)
	t := &tightLoop{sizes: sizes, trainX: l.train.x, trainY: l.train.y, testX: l.test.x, testY: l.test.y}
	for k := 1; k < len(sizes); k++ {
		w := make([]float64, sizes[k]*sizes[k-1])
		for j := range sizes[k] {
			copy(w[j*sizes[k-1]:], l.Network.Weights[k-1][j])
		}
		t.w = append(t.w, w)
		t.gw = append(t.gw, make([]float64, len(w)))
		t.b = append(t.b, make([]float64, sizes[k]))
		t.gb = append(t.gb, make([]float64, sizes[k]))
		t.z = append(t.z, make([]float64, sizes[k]))
		t.a = append(t.a, make([]float64, sizes[k]))
		t.dz = append(t.dz, make([]float64, sizes[k]))
	}
	t.order = make([]int, l.train.n)
	t.rng = rand.New(rand.NewPCG(1, 2))
	return t
}

func (t *tightLoop) forward(x []float64) float64 {
	in := x
	for k := range t.w {
		n, m := t.sizes[k+1], t.sizes[k]
		for j := 0; j < n; j++ {
			s := t.b[k][j]
			row := t.w[k][j*m : j*m+m]
			for i, w := range row {
				s += w * in[i]
			}
			t.z[k][j] = s
			t.a[k][j] = math.Tanh(s)
		}
		in = t.a[k]
	}
	return in[0]
}

func (t *tightLoop) epochStep() (float64, float64) {
	n := len(t.order)
	for i := range t.order {
		t.order[i] = i
	}
	for i := n - 1; i > 0; i-- {
		j := t.rng.IntN(i + 1)
		t.order[i], t.order[j] = t.order[j], t.order[i]
	}
	last := len(t.w) - 1
	inBatch := 0
	for p, idx := range t.order {
		x, y := t.trainX[idx*2:idx*2+2], t.trainY[idx]
		out := t.forward(x)
		t.dz[last][0] = (out - y) * (1 - out*out)
		for k := last; k >= 0; k-- {
			in := x
			if k > 0 {
				in = t.a[k-1]
			}
			m := t.sizes[k]
			for j, d := range t.dz[k] {
				row := t.gw[k][j*m : j*m+m]
				for i, a := range in {
					row[i] += d * a
				}
				t.gb[k][j] += d
			}
			if k > 0 {
				for i := range t.dz[k-1] {
					s := 0.0
					for j, d := range t.dz[k] {
						s += t.w[k][j*m+i] * d
					}
					a := t.a[k-1][i]
					t.dz[k-1][i] = s * (1 - a*a)
				}
			}
		}
		if inBatch++; inBatch == 10 || p == n-1 {
			for k := range t.w {
				for i := range t.w[k] {
					t.w[k][i] -= 0.03 * t.gw[k][i] / float64(inBatch)
					t.gw[k][i] = 0
				}
				for i := range t.b[k] {
					t.b[k][i] -= 0.03 * t.gb[k][i] / float64(inBatch)
					t.gb[k][i] = 0
				}
			}
			inBatch = 0
		}
	}
	loss := func(xs, ys []float64) float64 {
		s := 0.0
		for i := range ys {
			d := t.forward(xs[i*2:i*2+2]) - ys[i]
			s += 0.5 * d * d
		}
		return s / float64(len(ys))
	}
	return loss(t.trainX, t.trainY), loss(t.testX, t.testY)
}

func benchTight(b *testing.B, hidden []int) {
	l := circleBench(b, hidden)
	t := newTightLoop(l, hidden)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t.epochStep()
	}
	b.ReportMetric(float64(b.N*l.TrainSize())/b.Elapsed().Seconds(), "samples/s")
}

func BenchmarkTightLoop8x8(b *testing.B)      { benchTight(b, []int{8, 8}) }
func BenchmarkTightLoop32x32x32(b *testing.B) { benchTight(b, []int{32, 32, 32}) }

// BenchmarkStep measures stepping with events at each granularity on the
// [2, 8, 8, 1] network; one op is one step, events encoded to JSON.
func BenchmarkStep(b *testing.B) {
	for g := StepMicro; g <= StepEpoch; g++ {
		b.Run(g.String(), func(b *testing.B) {
			tr := newTrainer(b, circleBench(b, []int{8, 8}))
			buf := make([]byte, 0, 1<<16)
			emit := func(e *Event) { buf = e.AppendJSON(buf) }
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				buf = buf[:0]
				if err := tr.Step(g, emit); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkBoundary(b *testing.B) {
	tr := newTrainer(b, circleBench(b, []int{8, 8}))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		tr.Boundary(40)
	}
}

func BenchmarkBack(b *testing.B) {
	tr := newTrainer(b, circleBench(b, []int{8, 8}))
	tr.Run(StepEpoch, 50, nil)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tr.Step(StepSample, nil)
		tr.Back()
	}
}
