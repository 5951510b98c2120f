package engine

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
)

// dataset is a set of samples as the network sees them: inputs after
// features, in one flat slice, so the training loop touches no pointers.
type dataset struct {
	n, nx, ny int
	x, y      []float64 // n×nx and n×ny, row-major
	raw       []float64 // n×2 raw points for 2-D data, else nil
	points    bool
}

func (d *dataset) input(i int) []float64  { return d.x[i*d.nx : (i+1)*d.nx] }
func (d *dataset) target(i int) []float64 { return d.y[i*d.ny : (i+1)*d.ny] }

// point is the raw 2-D point of sample i, or nil.
func (d *dataset) point(i int) []float64 {
	if !d.points {
		return nil
	}
	return d.raw[i*2 : i*2+2]
}

// The input features a 2-D lesson may use, after TensorFlow Playground's.
var featureNames = []string{"x1", "x2", "x1^2", "x2^2", "x1*x2", "sin(x1)", "sin(x2)"}

func featureIndex(name string) int {
	for i, f := range featureNames {
		if f == name {
			return i
		}
	}
	return -1
}

func feature(k int, x1, x2 float64) float64 {
	switch k {
	case 0:
		return x1
	case 1:
		return x2
	case 2:
		return x1 * x1
	case 3:
		return x2 * x2
	case 4:
		return x1 * x2
	case 5:
		return sin(x1)
	default:
		return sin(x2)
	}
}

func joinNames(names []string) string { return strings.Join(names, ", ") }

// newRand returns a generator for one purpose of one lesson: the stream
// separates weights, data and shuffles so changing one leaves the others.
func newRand(seed, stream uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, stream)) }

// generator makes a data set. 2-D generators place points in [−6, 6]².
type generator struct {
	inputs, outputs int
	classes         bool // labels are 0/1
	n               int  // default size
	noise           float64
	make            func(r *rand.Rand, n int, noise float64) []Sample
}

var generators = map[string]generator{
	"circle":         {2, 1, true, 200, 0, circleData},
	"xor":            {2, 1, true, 200, 0, xorData},
	"gaussian":       {2, 1, true, 200, 0, gaussianData},
	"spiral":         {2, 1, true, 200, 0, spiralData},
	"plane":          {2, 1, false, 200, 0, planeData},
	"multi_gaussian": {2, 1, false, 200, 0, multiGaussianData},
	"house_prices":   {3, 1, false, 100, 0.1, housePriceData},
}

func generatorNames() []string {
	names := make([]string, 0, len(generators))
	for n := range generators {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Every product below that meets a sum is wrapped in float64(…), so the
// compiler cannot fuse the two into one multiply-add on CPUs that have one
// (the Go spec allows that fusion, and forbids it across an explicit
// conversion): a lesson's data is the same on every machine.

func uniform(r *rand.Rand, lo, hi float64) float64 { return lo + float64((hi-lo)*r.Float64()) }

// normal draws from N(0, 1) by Marsaglia's polar method, in the engine's
// own arithmetic: math/rand's NormFloat64 takes math.Exp and math.Log on
// its rare slow paths, whose last bits differ between CPUs.
func normal(r *rand.Rand) float64 {
	for {
		u, v := uniform(r, -1, 1), uniform(r, -1, 1)
		s := float64(u*u) + float64(v*v)
		if s > 0 && s < 1 {
			return float64(u * math.Sqrt(float64(-2*log(s))/s))
		}
	}
}

// circleData: class 1 inside radius 2.5, class 0 in a ring from 3.5 to 5;
// noise shifts points by up to noise·5 in each direction.
func circleData(r *rand.Rand, n int, noise float64) []Sample {
	out := make([]Sample, 0, n)
	for i := 0; i < n; i++ {
		lo, hi := 0.0, 2.5
		if i%2 == 1 {
			lo, hi = 3.5, 5
		}
		rad, ang := uniform(r, lo, hi), uniform(r, 0, 2*math.Pi)
		x1 := float64(rad*sin(ang)) + float64(uniform(r, -5, 5)*noise)
		x2 := float64(rad*cos(ang)) + float64(uniform(r, -5, 5)*noise)
		label := 0.0
		if hypot(x1, x2) < 3 {
			label = 1
		}
		out = append(out, Sample{X: []float64{x1, x2}, Y: []float64{label}})
	}
	return out
}

// xorData: class 1 where x1·x2 ≥ 0, points kept 0.3 away from the axes.
func xorData(r *rand.Rand, n int, noise float64) []Sample {
	out := make([]Sample, 0, n)
	away := func(v float64) float64 {
		if v > 0 {
			return v + 0.3
		}
		return v - 0.3
	}
	for i := 0; i < n; i++ {
		x1, x2 := away(uniform(r, -5, 5)), away(uniform(r, -5, 5))
		label := 0.0
		if x1*x2 >= 0 {
			label = 1
		}
		x1 += float64(uniform(r, -5, 5) * noise)
		x2 += float64(uniform(r, -5, 5) * noise)
		out = append(out, Sample{X: []float64{x1, x2}, Y: []float64{label}})
	}
	return out
}

// gaussianData: two normal clouds around (2, 2) (class 1) and (−2, −2)
// (class 0), standard deviation from 0.7 (noise 0) to 2 (noise 1).
func gaussianData(r *rand.Rand, n int, noise float64) []Sample {
	sd := 0.7 + float64(1.3*noise)
	out := make([]Sample, 0, n)
	for i := 0; i < n; i++ {
		c, label := 2.0, 1.0
		if i%2 == 1 {
			c, label = -2, 0
		}
		x1 := c + float64(normal(r)*sd)
		x2 := c + float64(normal(r)*sd)
		out = append(out, Sample{X: []float64{x1, x2}, Y: []float64{label}})
	}
	return out
}

// spiralData: two interleaved spirals of 1.75 turns out to radius 5.
func spiralData(r *rand.Rand, n int, noise float64) []Sample {
	out := make([]Sample, 0, n)
	half := n / 2
	for i := 0; i < n; i++ {
		k, delta, label := i, 0.0, 1.0
		if i >= half {
			k, delta, label = i-half, math.Pi, 0
		}
		m := max(half, n-half)
		rad := float64(k) / float64(m) * 5
		t := float64(1.75*float64(k)/float64(m)*2*math.Pi) + delta
		x1 := float64(rad*sin(t)) + float64(uniform(r, -1, 1)*noise)
		x2 := float64(rad*cos(t)) + float64(uniform(r, -1, 1)*noise)
		out = append(out, Sample{X: []float64{x1, x2}, Y: []float64{label}})
	}
	return out
}

// planeData: y = (x1 + x2)/12 in [−1, 1], plus noise·U(−1, 1).
func planeData(r *rand.Rand, n int, noise float64) []Sample {
	out := make([]Sample, 0, n)
	for i := 0; i < n; i++ {
		x1, x2 := uniform(r, -6, 6), uniform(r, -6, 6)
		y := (x1+x2)/12 + float64(uniform(r, -1, 1)*noise)
		out = append(out, Sample{X: []float64{x1, x2}, Y: []float64{y}})
	}
	return out
}

// multiGaussianData: y is the sum of six bumps of height ±1 (and width 2),
// clipped to [−1, 1], plus noise·U(−1, 1).
func multiGaussianData(r *rand.Rand, n int, noise float64) []Sample {
	bumps := [][3]float64{{-4, 2.5, 1}, {0, 2.5, -1}, {4, 2.5, 1}, {-4, -2.5, -1}, {0, -2.5, 1}, {4, -2.5, -1}}
	out := make([]Sample, 0, n)
	for i := 0; i < n; i++ {
		x1, x2 := uniform(r, -6, 6), uniform(r, -6, 6)
		y := 0.0
		for _, b := range bumps {
			d2 := float64((x1-b[0])*(x1-b[0])) + float64((x2-b[1])*(x2-b[1]))
			y += float64(b[2] * exp(-d2/(2*2*2)))
		}
		y = math.Max(-1, math.Min(1, y)) + float64(uniform(r, -1, 1)*noise)
		out = append(out, Sample{X: []float64{x1, x2}, Y: []float64{y}})
	}
	return out
}

// The house-price formula, in real units, and the fixed normalisation that
// puts each value near [−1.5, 1.5] for training. A page shows real units
// through the lesson's display (value·scale + offset).
//
//	size     ~ U(800, 3200) square feet
//	bedrooms = round(size/800) + one of −1, 0, +1, kept in 1..5
//	age      ~ U(0, 60) years
//	price    = 60,000 + 110·size + 12,000·bedrooms − 1,100·age + noise·N(0, 1)·60,000
var houseScale = struct{ size, beds, age, price [2]float64 }{
	size:  [2]float64{800, 2000}, // scale, offset: real = v·scale + offset
	beds:  [2]float64{1.2, 3},
	age:   [2]float64{17, 30},
	price: [2]float64{100000, 300000},
}

func housePriceData(r *rand.Rand, n int, noise float64) []Sample {
	out := make([]Sample, 0, n)
	norm := func(v float64, s [2]float64) float64 { return (v - s[1]) / s[0] }
	for i := 0; i < n; i++ {
		size := math.Round(uniform(r, 800, 3200)/10) * 10
		beds := math.Max(1, math.Min(5, math.Round(size/800)+float64(r.IntN(3)-1)))
		age := math.Round(uniform(r, 0, 60))
		// The noise keeps math/rand's NormFloat64, so the built-in house
		// lessons keep the prices their text quotes. It is exact on every
		// machine but on its rare slow paths (the tail beyond 3.44, 0.06%
		// of draws, whose last bit can differ; and a float32 comparison, 1%
		// of draws, that could differ only on an exact tie), and a price
		// is rounded to $1,000 below, which erases a last bit.
		price := 60000 + float64(110*size) + float64(12000*beds) - float64(1100*age) + float64(float64(noise*r.NormFloat64())*60000)
		price = math.Round(price/1000) * 1000
		out = append(out, Sample{
			X: []float64{norm(size, houseScale.size), norm(beds, houseScale.beds), norm(age, houseScale.age)},
			Y: []float64{norm(price, houseScale.price)},
		})
	}
	return out
}

func defaultInputNames(l *Lesson, n int) []string {
	if len(l.Data.Features) > 0 {
		return append([]string(nil), l.Data.Features...)
	}
	if l.Data.Generator == "house_prices" {
		return []string{"size", "bedrooms", "age"}
	}
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("x%d", i+1)
	}
	return names
}

func defaultOutputNames(l *Lesson, n int) []string {
	switch {
	case l.Data.Generator == "house_prices":
		return []string{"price"}
	case generators[l.Data.Generator].classes && n == 2:
		return []string{"class 0", "class 1"}
	case generators[l.Data.Generator].classes:
		return []string{"class"}
	case n == 1:
		return []string{"y"}
	}
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("y%d", i+1)
	}
	return names
}

// generatorDisplay is the display a generated data set implies: real units
// for house prices, nothing otherwise.
func generatorDisplay(l *Lesson) *Display {
	if l.Data.Generator != "house_prices" || len(l.Network.Inputs) != 3 {
		return nil
	}
	u := func(s [2]float64, unit, prefix string, decimals int) Unit {
		return Unit{Unit: unit, Prefix: prefix, Scale: s[0], Offset: s[1], Decimals: decimals}
	}
	return &Display{
		Inputs:  []Unit{u(houseScale.size, "sq ft", "", 0), u(houseScale.beds, "bedrooms", "", 0), u(houseScale.age, "years", "", 0)},
		Outputs: []Unit{u(houseScale.price, "", "$", 0)},
	}
}

// buildData runs the generator (or takes the inline samples), splits off
// the test set and applies features.
func (l *Lesson) buildData() error {
	d := l.Data
	train, test := d.Samples, d.Test
	if g, ok := generators[d.Generator]; ok {
		all := g.make(newRand(l.Seed, 0xda7a), d.N, d.Noise)
		r := newRand(l.Seed, 0x5917)
		r.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
		nTest := int(math.Round(float64(len(all)) * d.TestRatio))
		train, test = all[:len(all)-nTest], all[len(all)-nTest:]
		if g.classes && len(l.Network.Layers) > 0 && l.Network.Layers[len(l.Network.Layers)-1].Size == 2 {
			for i := range all {
				all[i].Y = []float64{1 - all[i].Y[0], all[i].Y[0]}
			}
		}
	}
	if len(train) == 0 {
		return fmt.Errorf("want at least one training sample, got none")
	}
	l.train = makeDataset(train, d.Features)
	l.test = makeDataset(test, d.Features)
	l.test.points = l.train.points
	return nil
}

func makeDataset(samples []Sample, features []string) dataset {
	ds := dataset{n: len(samples)}
	if len(samples) == 0 {
		return ds
	}
	rawN := len(samples[0].X)
	ds.points = rawN == 2
	ds.nx, ds.ny = rawN, len(samples[0].Y)
	if len(features) > 0 {
		ds.nx = len(features)
	}
	ds.x = make([]float64, 0, ds.n*ds.nx)
	ds.y = make([]float64, 0, ds.n*ds.ny)
	for _, s := range samples {
		if ds.points && len(features) > 0 {
			ds.raw = append(ds.raw, s.X...)
		}
		if len(features) > 0 {
			for _, f := range features {
				ds.x = append(ds.x, feature(featureIndex(f), s.X[0], s.X[1]))
			}
		} else {
			ds.x = append(ds.x, s.X...)
		}
		ds.y = append(ds.y, s.Y...)
	}
	if ds.points && len(features) == 0 {
		ds.raw = ds.x // the points are the inputs: share them
	}
	return ds
}

// MarshalJSON writes the data the way ParseLesson reads it: a generator and
// its settings, or the inline samples.
func (d Data) MarshalJSON() ([]byte, error) {
	if d.Generator != "" {
		return json.Marshal(struct {
			Generator string   `json:"generator"`
			N         int      `json:"n"`
			Noise     float64  `json:"noise"`
			TestRatio float64  `json:"testRatio"`
			Features  []string `json:"features,omitempty"`
		}{d.Generator, d.N, d.Noise, d.TestRatio, d.Features})
	}
	return json.Marshal(struct {
		Samples  []Sample `json:"samples"`
		Test     []Sample `json:"test,omitempty"`
		Features []string `json:"features,omitempty"`
	}{d.Samples, d.Test, d.Features})
}
