package engine

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"gonum.org/v1/gonum/diff/fd"
)

// gradLesson is a 3 → 4 → k network with the given activations and loss,
// two samples in one batch.
func gradLesson(t *testing.T, hidden, out Activation, loss LossKind, reg string) *Lesson {
	k := 2
	if out != Softmax {
		k = 2
	}
	targets := [][]float64{{0.3, -0.6}, {-0.2, 0.9}}
	if loss == CrossEntropy {
		targets = [][]float64{{0.2, 0.7}, {1, 0}}
		if out == Softmax {
			targets = [][]float64{{0, 1}, {1, 0}}
		}
	}
	doc := fmt.Sprintf(`{"title":"grad","seed":9,
		"network":{"inputs":["a","b","c"],"layers":[{"size":4,"activation":%q},{"size":%d,"activation":%q}]},
		"data":{"samples":[{"x":[0.9,-1.3,0.4],"y":[%g,%g]},{"x":[-0.7,0.25,1.1],"y":[%g,%g]}]},
		"training":{"loss":%q,"batchSize":2,"learningRate":0.1,"regularization":{"kind":%q,"rate":0.01}}}`,
		hidden, k, out, targets[0][0], targets[0][1], targets[1][0], targets[1][1], loss, reg)
	return mustLesson(t, doc)
}

// flatParams lists every weight then bias, layer by layer.
func flatParams(tr *Trainer) []float64 {
	var p []float64
	for _, ly := range tr.layers {
		p = append(p, ly.W...)
		p = append(p, ly.B...)
	}
	return p
}

func setParams(tr *Trainer, p []float64) {
	for i := range tr.layers {
		ly := &tr.layers[i]
		p = p[copy(ly.W, p):]
		p = p[copy(ly.B, p):]
	}
}

// objective is the batch's mean loss plus the regularization penalty
// (whose gradient is rate·w for l2 and rate·sign(w) for l1), computed by
// forward passes only.
func objective(tr *Trainer, reg string, rate float64) func([]float64) float64 {
	return func(p []float64) float64 {
		setParams(tr, p)
		sum := tr.meanLoss(tr.train)
		for _, ly := range tr.layers {
			for _, w := range ly.W {
				switch reg {
				case "l2":
					sum += rate / 2 * w * w
				case "l1":
					sum += rate * math.Abs(w)
				}
			}
		}
		return sum
	}
}

// TestGradientsMatchFiniteDifferences checks every activation × loss pair:
// the gradient the backward pass computes (as the update events report it)
// equals a central finite difference of the loss.
func TestGradientsMatchFiniteDifferences(t *testing.T) {
	elementwise := []Activation{Sigmoid, Tanh, ReLU, LeakyReLU, Linear}
	for _, loss := range []LossKind{HalfSquaredError, MSE, CrossEntropy} {
		for _, out := range append(elementwise, Softmax) {
			if loss == CrossEntropy && out != Sigmoid && out != Softmax {
				continue // refused by validation: log of values outside (0, 1)
			}
			for _, hidden := range elementwise {
				for _, reg := range []string{"none", "l2"} {
					name := fmt.Sprintf("%s/%s-%s/%s", loss, hidden, out, reg)
					t.Run(name, func(t *testing.T) { checkGradient(t, gradLesson(t, hidden, out, loss, reg), reg) })
				}
			}
		}
	}
}

func checkGradient(t *testing.T, l *Lesson, reg string) {
	t.Helper()
	tr := newTrainer(t, l)
	var got []float64
	tr.Step(StepBatch, func(e *Event) {
		if e.Type == EventUpdate {
			got = append(got, e.Grad)
		}
	})
	// Update events list a layer's weights, then its biases: flatParams' order.
	probe := newTrainer(t, l)
	want := fd.Gradient(nil, objective(probe, reg, 0.01), flatParams(probe), &fd.Settings{Formula: fd.Central, Step: 1e-6})
	if len(got) != len(want) {
		t.Fatalf("%d update events, %d parameters", len(got), len(want))
	}
	for i := range want {
		if d := math.Abs(got[i] - want[i]); d > 1e-6*max(1, math.Abs(want[i])) {
			t.Errorf("parameter %d: backward pass %.10g, finite difference %.10g", i, got[i], want[i])
		}
	}
}

// TestOptimizersFirstSteps follows three updates of each optimizer and
// checks each event against the textbook formula applied to a
// finite-difference gradient.
func TestOptimizersFirstSteps(t *testing.T) {
	for _, opt := range []string{"sgd", "momentum", "adam"} {
		for _, reg := range []string{"l1", "l2"} {
			t.Run(opt+"-"+reg, func(t *testing.T) {
				doc := strings.Replace(lessonDoc(gradLesson(t, Tanh, Sigmoid, CrossEntropy, reg)), `"optimizer":"sgd"`, `"optimizer":"`+opt+`"`, 1)
				l := mustLesson(t, doc)
				tr := newTrainer(t, l)
				probe := newTrainer(t, l)
				p := flatParams(probe)
				m, v := make([]float64, len(p)), make([]float64, len(p))
				lr, mu := l.Training.LearningRate, l.Training.Momentum
				for step := 1; step <= 3; step++ {
					g := fd.Gradient(nil, objective(probe, reg, 0.01), p, &fd.Settings{Formula: fd.Central, Step: 1e-6})
					k := 0
					tr.Step(StepBatch, func(e *Event) {
						if e.Type != EventUpdate {
							return
						}
						var want float64
						switch opt {
						case "sgd":
							want = p[k] - lr*g[k]
						case "momentum":
							m[k] = mu*m[k] + g[k]
							want = p[k] - lr*m[k]
						case "adam":
							m[k] = 0.9*m[k] + 0.1*g[k]
							v[k] = 0.999*v[k] + 0.001*g[k]*g[k]
							mh, vh := m[k]/(1-math.Pow(0.9, float64(step))), v[k]/(1-math.Pow(0.999, float64(step)))
							want = p[k] - lr*mh/(math.Sqrt(vh)+1e-8)
						}
						if e.Old != p[k] {
							t.Fatalf("update %d parameter %d: old %v, want %v", step, k, e.Old, p[k])
						}
						if d := math.Abs(e.New - want); d > 1e-7*max(1, math.Abs(want)) {
							t.Errorf("update %d parameter %d: new %.12g, formula gives %.12g", step, k, e.New, want)
						}
						p[k] = e.New
						k++
					})
					if k != len(p) {
						t.Fatalf("update %d: %d events for %d parameters", step, k, len(p))
					}
				}
			})
		}
	}
}

func lessonDoc(l *Lesson) string {
	b, err := l.JSON()
	if err != nil {
		panic(err)
	}
	return strings.ReplaceAll(string(b), " ", "")
}
