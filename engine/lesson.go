package engine

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
)

// Limits keep one session small. Values past them are refused when a lesson
// is parsed, before anything is allocated for them.
const (
	MaxLessonBytes = 1 << 20 // a lesson document
	MaxLayers      = 8       // layers with weights
	MaxNeurons     = 64      // neurons in one layer
	MaxInputs      = 64
	MaxOutputs     = 16
	MaxWeights     = 10000 // weights and biases together
	MaxSamples     = 5000  // training and test samples together
	MaxValue       = 1e6   // |x|, |y| and |weight| in a lesson
	MaxNameChars   = 60    // input, output, class and term names
	maxText        = 4000  // intro and other prose

	maxValue = MaxValue // the parser's short names
	maxName  = MaxNameChars
)

// Activation is a neuron's activation function.
type Activation uint8

// The activations. Softmax is allowed on the output layer only.
const (
	Sigmoid Activation = iota
	Tanh
	ReLU
	LeakyReLU
	Linear
	Softmax
)

var activationNames = []string{"sigmoid", "tanh", "relu", "leaky_relu", "linear", "softmax"}

func (a Activation) String() string { return activationNames[a] }

// MarshalText writes the activation's lesson name.
func (a Activation) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// LossKind is a per-sample loss function.
type LossKind uint8

// The losses.
const (
	HalfSquaredError LossKind = iota // Σ ½(y−t)²
	MSE                              // (1/K) Σ (y−t)²
	CrossEntropy                     // −Σ [t log y + (1−t) log(1−y)], or −Σ t log y with softmax
)

var lossNames = []string{"half_squared_error", "mse", "cross_entropy"}

func (l LossKind) String() string { return lossNames[l] }

// MarshalText writes the loss's lesson name.
func (l LossKind) MarshalText() ([]byte, error) { return []byte(l.String()), nil }

// OptimizerKind is how a gradient becomes a weight change.
type OptimizerKind uint8

// The optimizers.
const (
	SGD OptimizerKind = iota
	Momentum
	Adam
)

var optimizerNames = []string{"sgd", "momentum", "adam"}

func (o OptimizerKind) String() string { return optimizerNames[o] }

// MarshalText writes the optimizer's lesson name.
func (o OptimizerKind) MarshalText() ([]byte, error) { return []byte(o.String()), nil }

// Lesson is a parsed, validated lesson: a network, its data, how to train it,
// and the words a page shows around it. A Lesson is never changed after
// ParseLesson returns it, so many sessions may share one.
type Lesson struct {
	Name      string     `json:"name,omitempty"`
	Title     string     `json:"title"`
	Summary   string     `json:"summary,omitempty"`
	Intro     string     `json:"intro,omitempty"`
	Seed      uint64     `json:"seed"`
	Network   Network    `json:"network"`
	Data      Data       `json:"data"`
	Training  Training   `json:"training"`
	Display   *Display   `json:"display,omitempty"`
	View      View       `json:"view"`
	Notes     []Note     `json:"notes,omitempty"`
	Glossary  []Term     `json:"glossary,omitempty"`
	Questions []Question `json:"questions,omitempty"`

	// train and test are the data sets the network sees (features applied,
	// generators run), built once by ParseLesson.
	train, test dataset
}

// Network is the shape of a network and, optionally, its starting weights.
type Network struct {
	Inputs  []string      `json:"inputs"`
	Outputs []string      `json:"outputs"`
	Layers  []LayerSpec   `json:"layers"`
	Weights [][][]float64 `json:"weights"`
	Biases  [][]float64   `json:"biases"`
}

// LayerSpec is one layer with weights: its neuron count and activation.
type LayerSpec struct {
	Size       int        `json:"size"`
	Activation Activation `json:"activation"`
}

// Data is where a lesson's samples come from: inline, or a generator.
type Data struct {
	Samples   []Sample `json:"samples,omitempty"`
	Test      []Sample `json:"test,omitempty"`
	Generator string   `json:"generator,omitempty"`
	N         int      `json:"n,omitempty"`
	Noise     float64  `json:"noise,omitempty"`
	TestRatio float64  `json:"testRatio,omitempty"`
	Features  []string `json:"features,omitempty"`
}

// Sample is one example: inputs x (before features) and targets y.
type Sample struct {
	X []float64 `json:"x"`
	Y []float64 `json:"y"`
}

// Training holds the hyperparameters.
type Training struct {
	Loss           LossKind       `json:"loss"`
	Optimizer      OptimizerKind  `json:"optimizer"`
	LearningRate   float64        `json:"learningRate"`
	BatchSize      int            `json:"batchSize"`
	Shuffle        bool           `json:"shuffle"`
	Momentum       float64        `json:"momentum"`
	Regularization Regularization `json:"regularization"`
}

// Regularization penalises large weights (never biases).
type Regularization struct {
	Kind string  `json:"kind"` // "none", "l1" or "l2"
	Rate float64 `json:"rate"`
}

// Display says how a page shows inputs and outputs in real units: a real
// value is value·Scale + Offset.
type Display struct {
	Inputs  []Unit `json:"inputs,omitempty"`
	Outputs []Unit `json:"outputs,omitempty"`
}

// Unit is how one input or output is shown.
type Unit struct {
	Unit     string   `json:"unit,omitempty"`
	Prefix   string   `json:"prefix,omitempty"`
	Scale    float64  `json:"scale"`
	Offset   float64  `json:"offset"`
	Decimals int      `json:"decimals"`
	Classes  []string `json:"classes,omitempty"`
}

// View is how a page starts: the step size, whether the math is shown, and
// how many significant digits the math writes numbers with.
type View struct {
	Granularity string `json:"granularity"`
	Math        bool   `json:"math"`
	Decimals    int    `json:"decimals"`
}

// Significant digits of the math panel's numbers: the default, and the
// range a lesson may ask for.
const (
	DefaultMathDigits = 3
	MaxMathDigits     = 8
)

// Note is a sentence a page's narration shows when training reaches At.
type Note struct {
	At  string `json:"at"`
	Say string `json:"say"`
}

// Term is a glossary entry.
type Term struct {
	Term    string `json:"term"`
	Meaning string `json:"meaning"`
}

// Question is a predict-then-reveal moment: before training reaches At, the
// page asks; it grades the answer at the question's Horizon and only then
// shows it, with Why when Why explains what really happened (Answer).
type Question struct {
	At      string   `json:"at"`
	Kind    string   `json:"kind"` // "weight" (up or down), "loss" (grow or shrink, or below a threshold), "winner" (which output)
	Ask     string   `json:"ask"`
	Why     string   `json:"why,omitempty"`
	Answer  string   `json:"answer,omitempty"` // the answer Why explains; empty when Why fits every answer
	Horizon *Horizon `json:"horizon,omitempty"`
	Layer   int      `json:"layer"`
	To      int      `json:"to"`
	From    int      `json:"from"`
	Bias    bool     `json:"bias,omitempty"`
}

// Horizon is how far ahead a loss question looks. Without one a question
// is graded by the step that reaches its moment (a loss question at
// forward, backward or update: by the next example's loss). With Epochs it
// is graded when that many epochs have ended, counting from the question
// (the epoch under way is the first): the mean training loss then against
// the one before. With LossBelow as well it asks "will the mean training
// loss fall below LossBelow within Epochs epochs?", answered yes as soon as
// an epoch ends below it and no after Epochs epochs.
type Horizon struct {
	Epochs    int     `json:"epochs"`
	LossBelow float64 `json:"lossBelow,omitempty"`
}

// MaxHorizonEpochs is the furthest a question may look ahead: the page
// trains that far, epoch by epoch, before it reveals the answer.
const MaxHorizonEpochs = 1000

// Answers lists the answers a question of this kind and horizon can have
// (a winner question's are the output indices "0", "1", …).
func (q *Question) Answers(outputs int) []string {
	switch {
	case q.Kind == "weight":
		return []string{"up", "down"}
	case q.Kind == "loss" && q.Horizon != nil && q.Horizon.LossBelow > 0:
		return []string{"yes", "no"}
	case q.Kind == "loss":
		return []string{"smaller", "bigger"}
	default:
		out := make([]string, outputs)
		for i := range out {
			out[i] = strconv.Itoa(i)
		}
		return out
	}
}

// MarshalJSON writes the weight's position only for weight questions, so
// the result parses again.
func (q Question) MarshalJSON() ([]byte, error) {
	type plain Question
	if q.Kind == "weight" {
		return json.Marshal(plain(q))
	}
	return json.Marshal(struct {
		At      string   `json:"at"`
		Kind    string   `json:"kind"`
		Ask     string   `json:"ask"`
		Why     string   `json:"why,omitempty"`
		Answer  string   `json:"answer,omitempty"`
		Horizon *Horizon `json:"horizon,omitempty"`
	}{q.At, q.Kind, q.Ask, q.Why, q.Answer, q.Horizon})
}

// Granularity is how far one step goes.
type Granularity uint8

// The granularities, smallest first.
const (
	StepMicro  Granularity = iota // one neuron's forward value, the loss, one neuron's backward value, or one layer's update
	StepPhase                     // a whole forward pass, the loss, a whole backward pass, or one update
	StepSample                    // one sample through forward, loss and backward (and the update if it ends a batch)
	StepBatch                     // to the end of the current batch's update
	StepEpoch                     // to the end of the current epoch
)

var granularityNames = []string{"micro", "phase", "sample", "batch", "epoch"}

func (g Granularity) String() string { return granularityNames[g] }

// ParseGranularity reads a granularity's name.
func ParseGranularity(s string) (Granularity, error) {
	for i, n := range granularityNames {
		if s == n {
			return Granularity(i), nil
		}
	}
	return 0, fmt.Errorf(`want one of micro, phase, sample, batch, epoch; got %q`, s)
}

// GranularityNames lists the granularities' names, smallest first.
func GranularityNames() []string { return append([]string(nil), granularityNames...) }

// fillWeights writes starting weights when the lesson gives none: uniform in
// ±√(6/(fan_in+fan_out)) (Glorot) for sigmoid, tanh, linear and softmax
// layers and ±√(6/fan_in) (He) for relu and leaky_relu, drawn in order
// (layer, to, from) from a PCG seeded with (seed, 0x5eed). Biases start at 0.
func (l *Lesson) fillWeights() {
	n := &l.Network
	r := newRand(l.Seed, 0x5eed)
	if n.Weights == nil {
		n.Weights = make([][][]float64, len(n.Layers))
		prev := len(n.Inputs)
		for i, spec := range n.Layers {
			limit := math.Sqrt(6 / float64(prev+spec.Size))
			if spec.Activation == ReLU || spec.Activation == LeakyReLU {
				limit = math.Sqrt(6 / float64(prev))
			}
			n.Weights[i] = make([][]float64, spec.Size)
			for j := range n.Weights[i] {
				n.Weights[i][j] = make([]float64, prev)
				for k := range n.Weights[i][j] {
					n.Weights[i][j][k] = float64(float64(2*r.Float64())-1) * limit // float64(): no fused multiply-add
				}
			}
			prev = spec.Size
		}
	}
	if n.Biases == nil {
		n.Biases = make([][]float64, len(n.Layers))
		for i, spec := range n.Layers {
			n.Biases[i] = make([]float64, spec.Size)
		}
	}
}

// JSON returns the lesson as a document ParseLesson accepts, with every
// default written out and the starting weights included.
func (l *Lesson) JSON() ([]byte, error) { return json.Marshal(l) }

// ParamCount is the number of weights and biases in the network.
func (l *Lesson) ParamCount() int {
	n, prev := 0, len(l.Network.Inputs)
	for _, spec := range l.Network.Layers {
		n += (prev + 1) * spec.Size
		prev = spec.Size
	}
	return n
}

// Is2D reports whether the lesson's raw inputs are points in the plane, so a
// page can draw them and a decision boundary.
func (l *Lesson) Is2D() bool { return l.train.points }

// TrainSize and TestSize are the number of samples in each set.
func (l *Lesson) TrainSize() int { return l.train.n }

// TestSize is the number of test samples.
func (l *Lesson) TestSize() int { return l.test.n }
