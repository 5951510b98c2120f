package engine

import (
	"encoding/base64"
	"encoding/json"
	"math"
	"sync"
)

// Domain is the square [−Domain, Domain]² in which generated 2-D data lies
// and over which its heatmaps are drawn. Inline 2-D data gets a square
// around its own points.
const Domain = 6

// domain is the square heatmaps cover: the generators' for generated data,
// else the points' bounding square with a 10% margin.
func (l *Lesson) domain() (lo, hi float64) {
	if l.Data.Generator != "" {
		return -Domain, Domain
	}
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, ds := range []*dataset{&l.train, &l.test} {
		for _, v := range ds.raw {
			lo, hi = min(lo, v), max(hi, v)
		}
	}
	margin := max((hi-lo)*0.1, 0.5)
	return lo - margin, hi + margin
}

// Heatmaps are every neuron's activation over a grid of points covering the
// plane, for drawing a decision boundary behind 2-D data.
type Heatmaps struct {
	Grid   int         `json:"grid"`
	Domain [2]float64  `json:"domain"`
	Output []Heatmap   `json:"output"` // one per output neuron
	Hidden [][]Heatmap `json:"hidden"` // [layer][neuron], hidden layers only
	// Classes is the winning class in every cell, for an output layer
	// that is a softmax over two or more classes; nil otherwise.
	Classes *ClassMap `json:"classes,omitempty"`
}

// ClassMap is a softmax network's decision on the grid, cell by cell in
// the order of Heatmap.Data: Winner[p] is the index of the biggest output
// at cell p (the lowest index among equal ones, as argmax is usually
// written), and Share[p] that output's value quantised over [0, 1]: v
// stands for v/255. Both come from the exact outputs of the forward pass,
// not from the quantised per-output heatmaps, so a cell whose two shares
// round to the same byte still names the class the network picks there.
type ClassMap struct {
	Winner []byte
	Share  []byte
}

// MarshalJSON writes {"winner":"base64","share":"base64"}.
func (c ClassMap) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Winner string `json:"winner"`
		Share  string `json:"share"`
	}{base64.StdEncoding.EncodeToString(c.Winner), base64.StdEncoding.EncodeToString(c.Share)})
}

// Heatmap is one neuron's activation on the grid, row by row from the top
// left (x1 = Domain[0], x2 = Domain[1]), quantised to a byte: v stands for
// Lo + v/255·(Hi−Lo).
type Heatmap struct {
	Lo, Hi float64
	Data   []byte
}

// MarshalJSON writes {"range":[lo,hi],"data":"base64"}.
func (h Heatmap) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Range [2]float64 `json:"range"`
		Data  string     `json:"data"`
	}{[2]float64{h.Lo, h.Hi}, base64.StdEncoding.EncodeToString(h.Data)})
}

// MaxGrid bounds a heatmap's side.
const MaxGrid = 100

// heatScratch holds the matrices of one batched pass; pooled, so idle
// sessions keep none.
var heatScratch = sync.Pool{New: func() any { return new([]float64) }}

// Boundary computes every neuron's activation over a grid×grid lattice, or
// returns nil when the lesson's inputs are not points in the plane. Each
// point goes through the same forward pass as a sample (the same
// arithmetic, so the same bits on every machine, and a pixel at a
// sample's point shows exactly the value the network computes for it).
func (t *Trainer) Boundary(grid int) *Heatmaps {
	if !t.train.points || grid < 2 || grid > MaxGrid {
		return nil
	}
	g2 := grid * grid
	widest := len(t.lesson.Network.Inputs)
	for _, ly := range t.layers {
		widest = max(widest, ly.nout)
	}
	bufp := heatScratch.Get().(*[]float64)
	defer heatScratch.Put(bufp)
	if cap(*bufp) < 2*g2*widest {
		*bufp = make([]float64, 2*g2*widest)
	}
	buf := (*bufp)[:2*g2*widest]

	features := t.lesson.Data.Features
	nin := len(t.lesson.Network.Inputs)
	// Two regions take turns: one holds a layer's input, the other its
	// output, each row-major with one row per grid point.
	regions := [2][]float64{buf[:g2*widest], buf[g2*widest:]}
	in := regions[0][:g2*nin]
	lo, hi := t.lesson.domain()
	step := (hi - lo) / float64(grid)
	for r := 0; r < grid; r++ {
		x2 := hi - float64((float64(r)+0.5)*step)
		for c := 0; c < grid; c++ {
			x1 := lo + float64((float64(c)+0.5)*step)
			row := in[(r*grid+c)*nin : (r*grid+c+1)*nin]
			if len(features) == 0 {
				row[0], row[1] = x1, x2
				continue
			}
			for k, f := range features {
				row[k] = feature(featureIndex(f), x1, x2)
			}
		}
	}
	hm := &Heatmaps{Grid: grid, Domain: [2]float64{lo, hi}}
	for l := range t.layers {
		ly := &t.layers[l]
		out := regions[(l+1)%2][:g2*ly.nout]
		for p := 0; p < g2; p++ {
			row := out[p*ly.nout : (p+1)*ly.nout]
			ly.forward(in[p*ly.nin:(p+1)*ly.nin], row, row)
		}
		maps := make([]Heatmap, ly.nout)
		for j := range maps {
			maps[j] = quantise(out, ly.nout, j, ly.act)
		}
		if l == len(t.layers)-1 {
			hm.Output = maps
			if ly.act == Softmax && ly.nout >= 2 {
				hm.Classes = classMap(out, ly.nout)
			}
		} else {
			hm.Hidden = append(hm.Hidden, maps)
		}
		in = out // this layer's output is the next layer's input
	}
	return hm
}

// quantise turns column j of m (rows of stride numbers) into bytes over
// the activation's range (or the column's own range for unbounded
// activations).
func quantise(m []float64, stride, j int, act Activation) Heatmap {
	rows := len(m) / stride
	col := func(r int) float64 { return m[r*stride+j] }
	lo, hi := 0.0, 1.0
	switch act {
	case Tanh:
		lo = -1
	case ReLU, LeakyReLU, Linear:
		lo, hi = col(0), col(0)
		for r := 1; r < rows; r++ {
			v := col(r)
			lo, hi = min(lo, v), max(hi, v)
		}
		if hi-lo < 1e-9 {
			lo, hi = lo-0.5, hi+0.5
		}
	}
	data := make([]byte, rows)
	scale := 255 / (hi - lo)
	for r := range data {
		data[r] = toByte(float64((col(r)-lo)*scale) + 0.5)
	}
	return Heatmap{Lo: lo, Hi: hi, Data: data}
}

// classMap picks, for every row of m (rows of k softmax outputs), the
// index of the biggest output and its value as a byte over [0, 1].
func classMap(m []float64, k int) *ClassMap {
	rows := len(m) / k
	c := &ClassMap{Winner: make([]byte, rows), Share: make([]byte, rows)}
	for r := range rows {
		row := m[r*k : (r+1)*k]
		best := 0
		for j := 1; j < k; j++ {
			if row[j] > row[best] {
				best = j
			}
		}
		c.Winner[r] = byte(best) // k <= MaxOutputs, so it fits
		c.Share[r] = toByte(float64(row[best]*255) + 0.5)
	}
	return c
}

// toByte truncates v to a byte, clamped to [0, 255]; NaN (a diverged
// network) becomes 0 on every machine, where a plain conversion's result
// would depend on the processor.
func toByte(v float64) byte {
	if !(v > 0) {
		return 0
	}
	return byte(min(255, v))
}
