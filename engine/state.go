package engine

import "math"

// Vector is a list of numbers in which NaN stands for "not computed yet" and
// is written to JSON as null.
type Vector []float64

// MarshalJSON writes the numbers, with null for NaN.
func (v Vector) MarshalJSON() ([]byte, error) {
	if v == nil {
		return []byte("null"), nil
	}
	return appendVector(make([]byte, 0, 2+len(v)*20), v), nil
}

// State is a snapshot of everything a page needs to draw the network where
// training is now. The protocol sends it as the "state" frame.
type State struct {
	Lesson     *Lesson      `json:"lesson,omitempty"` // only in a full state
	Data       *DataState   `json:"data,omitempty"`   // only in a full state
	Network    NetworkState `json:"network"`
	Training   Training     `json:"training"`
	Position   Position     `json:"position"`
	Sample     *SampleState `json:"sample"`
	Values     *Values      `json:"values"`
	Loss       *LossState   `json:"loss"`
	Grads      *Params      `json:"grads"`
	LastUpdate *LastUpdate  `json:"lastUpdate"`
	Losses     []EpochLoss  `json:"losses"`
	CanBack    bool         `json:"canBack"`
	Diverged   *string      `json:"diverged"`
}

// NetworkState is the network's shape and current weights.
type NetworkState struct {
	Inputs  []string    `json:"inputs"`
	Outputs []string    `json:"outputs"`
	Layers  []LayerSpec `json:"layers"`
	Params
}

// Params holds one number per weight and bias: Weights[l][j][i], Biases[l][j].
type Params struct {
	Weights [][]Vector `json:"weights"`
	Biases  []Vector   `json:"biases"`
}

// DataState is the data a page plots: each sample's network inputs, targets
// and, for 2-D lessons, its raw point.
type DataState struct {
	Train []Point `json:"train"`
	Test  []Point `json:"test"`
}

// Point is one sample as a page plots it.
type Point struct {
	X     Vector `json:"x"`
	Y     Vector `json:"y"`
	Point Vector `json:"point,omitempty"`
}

// SampleState is the sample whose values the network holds.
type SampleState struct {
	Index int    `json:"index"`
	X     Vector `json:"x"`
	Y     Vector `json:"y"`
}

// Values are the current sample's per-neuron numbers, one Vector per layer;
// NaN (null) where the step machine has not reached yet.
type Values struct {
	Z  []Vector `json:"z"`
	A  []Vector `json:"a"`
	DA []Vector `json:"dA"`
	DZ []Vector `json:"dZ"`
}

// LossState is the current sample's loss.
type LossState struct {
	Value      float64 `json:"value"`
	Prediction Vector  `json:"prediction"`
	Target     Vector  `json:"target"`
}

// LastUpdate is the most recent update: the values before it and the
// gradient the optimizer used; the values after are the network's weights
// unless edited since.
type LastUpdate struct {
	Old   Params `json:"old"`
	Grad  Params `json:"grad"`
	Batch int    `json:"batch"`
}

// State returns a snapshot. A full one also carries the lesson and its
// data, which never change during a session, for a page drawing from
// scratch.
func (t *Trainer) State(full bool) *State {
	s := &t.s
	st := &State{
		Network: NetworkState{
			Inputs:  t.lesson.Network.Inputs,
			Outputs: t.lesson.Network.Outputs,
			Layers:  t.lesson.Network.Layers,
			Params:  t.params(func(l *layer) ([]float64, []float64) { return l.W, l.B }),
		},
		Training: s.hp,
		Position: s.pos,
		Losses:   append([]EpochLoss{}, t.losses...),
		CanBack:  t.CanBack(),
	}
	if full {
		st.Lesson = t.lesson
		st.Data = &DataState{Train: points(t.train), Test: points(t.test)}
	}
	if s.diverged != "" {
		reason := s.diverged
		st.Diverged = &reason
	}
	if s.haveSample {
		st.Sample = &SampleState{Index: s.index, X: t.train.input(s.index), Y: t.train.target(s.index)}
		st.Values = t.values()
	}
	if s.haveLoss {
		out := &t.layers[len(t.layers)-1]
		st.Loss = &LossState{Value: s.loss, Prediction: append(Vector(nil), out.A...), Target: t.train.target(s.index)}
	}
	if s.pos.BatchCount > 0 {
		m := float64(s.pos.BatchCount)
		st.Grads = ptr(t.params(func(l *layer) ([]float64, []float64) { return l.GW, l.GB }))
		for _, w := range st.Grads.Weights {
			for _, row := range w {
				for i := range row {
					row[i] /= m
				}
			}
		}
		for _, b := range st.Grads.Biases {
			for i := range b {
				b[i] /= m
			}
		}
	}
	if s.haveUpdate {
		st.LastUpdate = &LastUpdate{
			Old:   t.params(func(l *layer) ([]float64, []float64) { return l.oldW, l.oldB }),
			Grad:  t.params(func(l *layer) ([]float64, []float64) { return l.gradW, l.gradB }),
			Batch: s.lastBatch,
		}
	}
	return st
}

func ptr[T any](v T) *T { return &v }

// params copies one weight-shaped quantity out of every layer.
func (t *Trainer) params(pick func(*layer) ([]float64, []float64)) Params {
	p := Params{Weights: make([][]Vector, len(t.layers)), Biases: make([]Vector, len(t.layers))}
	for l := range t.layers {
		ly := &t.layers[l]
		w, b := pick(ly)
		p.Weights[l] = make([]Vector, ly.nout)
		for j := range p.Weights[l] {
			p.Weights[l][j] = append(Vector(nil), w[j*ly.nin:(j+1)*ly.nin]...)
		}
		p.Biases[l] = append(Vector(nil), b...)
	}
	return p
}

// values copies the current sample's numbers, hiding (NaN) those the step
// machine has not reached: a page must not show a value before its step.
func (t *Trainer) values() *Values {
	p := t.s.pos
	v := &Values{}
	mid := !t.atSampleStart() // between samples the last sample is whole
	for l := range t.layers {
		ly := &t.layers[l]
		z, a := append(Vector(nil), ly.Z...), append(Vector(nil), ly.A...)
		da, dz := append(Vector(nil), ly.DA...), append(Vector(nil), ly.DZ...)
		if mid {
			for j := range z {
				fwdDone := p.Phase != PhaseForward || l < p.Layer || (l == p.Layer && j < p.Neuron)
				bwdDone := p.Phase == PhaseUpdate || (p.Phase == PhaseBackward && (l > p.Layer || (l == p.Layer && j < p.Neuron)))
				if !fwdDone {
					z[j], a[j] = math.NaN(), math.NaN()
				}
				if !bwdDone {
					da[j], dz[j] = math.NaN(), math.NaN()
				}
			}
		}
		v.Z, v.A, v.DA, v.DZ = append(v.Z, z), append(v.A, a), append(v.DA, da), append(v.DZ, dz)
	}
	return v
}

func points(ds *dataset) []Point {
	out := make([]Point, ds.n)
	for i := range out {
		out[i] = Point{X: ds.input(i), Y: ds.target(i), Point: ds.point(i)}
	}
	return out
}
