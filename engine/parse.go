package engine

// The lesson parser: a lesson document, read into a tree of JSON values
// (jsontree.go), checked field by field (check.go) and turned into a
// *Lesson. Every problem is collected and named by its field path, so a
// teacher sees all of them at once.

import (
	"fmt"
	"math"
)

var (
	noteTimes     = []string{"start", "sample", "forward", "loss", "backward", "update", "epoch", "diverged"}
	questionTimes = []string{"forward", "loss", "backward", "update", "epoch"}
	questionKinds = []string{"weight", "loss", "winner"}
	regKinds      = []string{"none", "l1", "l2"}
)

// ParseLesson reads and validates a lesson document. Its error is a
// *LessonError naming every problem by field path, or a plain error when the
// document is not JSON at all.
func ParseLesson(data []byte) (*Lesson, error) {
	if len(data) > MaxLessonBytes {
		return nil, &LessonError{Problems: []FieldError{{Message: fmt.Sprintf("the lesson is %d bytes; the limit is %d", len(data), MaxLessonBytes)}}}
	}
	root, err := parseJSON(data)
	if err != nil {
		return nil, &LessonError{Problems: []FieldError{{Message: err.Error()}}}
	}
	return lessonFromTree(root)
}

func lessonFromTree(root *jsonValue) (*Lesson, error) {
	c := &checker{}
	l := &Lesson{Seed: 1}
	if !c.object("", root, "name", "title", "summary", "intro", "seed", "network", "data", "training", "display", "view", "notes", "glossary", "questions") {
		return nil, c.err()
	}
	if v := root.get("name"); v != nil {
		l.Name, _ = c.str("name", v, maxName)
	}
	if v := root.get("title"); v != nil {
		l.Title, _ = c.str("title", v, 200)
	} else {
		c.addf("title", "missing; want the lesson's title")
	}
	if v := root.get("summary"); v != nil {
		l.Summary, _ = c.str("summary", v, 500)
	}
	if v := root.get("intro"); v != nil {
		l.Intro, _ = c.str("intro", v, maxText)
	}
	if v := root.get("seed"); v != nil {
		seed, _ := c.integer("seed", v, 0, 1<<53)
		l.Seed = uint64(seed)
	}
	l.parseData(c, root.get("data"))
	l.parseNetwork(c, root.get("network"))
	l.parseTraining(c, root.get("training"))
	l.parseDisplay(c, root.get("display"))
	l.parseView(c, root.get("view"))
	l.parseWords(c, root)
	if len(c.problems) > 0 {
		return nil, c.err()
	}
	l.checkTargets(c)
	if len(c.problems) > 0 {
		return nil, c.err()
	}
	l.fillWeights()
	return l, nil
}

// rawInputs is how many numbers each sample's x holds before features.
func (l *Lesson) rawInputs() int {
	if len(l.Data.Samples) > 0 {
		return len(l.Data.Samples[0].X)
	}
	if g, ok := generators[l.Data.Generator]; ok {
		return g.inputs
	}
	return 0
}

func (l *Lesson) parseData(c *checker, v *jsonValue) {
	if v == nil {
		c.addf("data", "missing; want samples or a generator")
		return
	}
	if !c.object("data", v, "samples", "test", "generator", "n", "noise", "testRatio", "features") {
		return
	}
	d := &l.Data
	gen, samples := v.get("generator"), v.get("samples")
	switch {
	case gen != nil && samples != nil:
		c.addf("data", "want either samples or a generator, not both")
		return
	case gen == nil && samples == nil:
		c.addf("data", "missing samples or generator; want one of them")
		return
	case gen != nil:
		name, ok := c.oneOf("data.generator", gen, generatorNames())
		if !ok {
			return
		}
		g := generators[name]
		d.Generator, d.N, d.Noise, d.TestRatio = name, g.n, g.noise, 0.5
		if n := v.get("n"); n != nil {
			d.N, _ = c.integer("data.n", n, 4, MaxSamples)
		}
		if n := v.get("noise"); n != nil {
			d.Noise, _ = c.number("data.noise", n, 0, 1)
		}
		if r := v.get("testRatio"); r != nil {
			d.TestRatio, _ = c.number("data.testRatio", r, 0, 0.9)
		}
		if v.get("test") != nil {
			c.addf("data.test", "not allowed with a generator; use testRatio")
		}
	default:
		for _, f := range []string{"n", "noise", "testRatio"} {
			if v.get(f) != nil {
				c.addf(join("data", f), "only for a generator")
			}
		}
		d.Samples = c.samples("data.samples", samples, 1, MaxSamples)
		if t := v.get("test"); t != nil {
			d.Test = c.samples("data.test", t, 0, MaxSamples)
		}
		if len(d.Samples)+len(d.Test) > MaxSamples {
			c.addf("data", "want at most %d samples in all, got %d", MaxSamples, len(d.Samples)+len(d.Test))
		}
		if len(d.Samples) > 0 {
			nx, ny := len(d.Samples[0].X), len(d.Samples[0].Y)
			for i, s := range append(d.Samples[1:len(d.Samples):len(d.Samples)], d.Test...) {
				path := index("data.samples", i+1)
				if i+1 >= len(d.Samples) {
					path = index("data.test", i+1-len(d.Samples))
				}
				if len(s.X) != nx || len(s.Y) != ny {
					c.addf(path, "want %d inputs and %d outputs like the first sample, got %d and %d", nx, ny, len(s.X), len(s.Y))
					break
				}
			}
		}
	}
	if f := v.get("features"); f != nil {
		d.Features, _ = c.strings("data.features", f, 1, len(featureNames), maxName)
		for i, name := range d.Features {
			if featureIndex(name) < 0 {
				c.addf(index("data.features", i), "want one of %s; got %q", joinNames(featureNames), name)
			}
			for _, prev := range d.Features[:i] {
				if prev == name {
					c.addf(index("data.features", i), "%q is listed twice", name)
				}
			}
		}
		if raw := l.rawInputs(); raw != 0 && raw != 2 {
			c.addf("data.features", "features need 2-D inputs (x1, x2); these samples have %d inputs", raw)
		}
	}
}

func (c *checker) samples(path string, v *jsonValue, minLen, maxLen int) []Sample {
	items, ok := c.list(path, v, minLen, maxLen)
	if !ok {
		return nil
	}
	out := make([]Sample, 0, len(items))
	for i, it := range items {
		p := index(path, i)
		if !c.object(p, it, "x", "y") {
			return nil
		}
		xv, yv := it.get("x"), it.get("y")
		if xv == nil || yv == nil {
			c.addf(p, "want both x and y")
			return nil
		}
		xs, ok1 := c.list(join(p, "x"), xv, 1, MaxInputs)
		ys, ok2 := c.list(join(p, "y"), yv, 1, MaxOutputs)
		if !ok1 || !ok2 {
			return nil
		}
		x, ok1 := c.numbers(join(p, "x"), xv, len(xs), maxValue)
		y, ok2 := c.numbers(join(p, "y"), yv, len(ys), maxValue)
		if !ok1 || !ok2 {
			return nil
		}
		out = append(out, Sample{X: x, Y: y})
	}
	return out
}

func (l *Lesson) parseNetwork(c *checker, v *jsonValue) {
	if v == nil {
		c.addf("network", "missing; want inputs, outputs and layers")
		return
	}
	if !c.object("network", v, "inputs", "outputs", "layers", "weights", "biases") {
		return
	}
	n := &l.Network
	nIn := l.rawInputs()
	if len(l.Data.Features) > 0 {
		nIn = len(l.Data.Features)
	}
	if iv := v.get("inputs"); iv != nil {
		n.Inputs, _ = c.strings("network.inputs", iv, 1, MaxInputs, maxName)
		if n.Inputs != nil && nIn != 0 && len(n.Inputs) != nIn {
			c.addf("network.inputs", "want %d names (one per input the data has), got %d", nIn, len(n.Inputs))
		}
	} else if nIn != 0 {
		n.Inputs = defaultInputNames(l, nIn)
	} else {
		c.addf("network.inputs", "missing; want the input names")
	}
	lv := v.get("layers")
	if lv == nil {
		c.addf("network.layers", "missing; want at least one layer")
		return
	}
	layers, ok := c.list("network.layers", lv, 1, MaxLayers)
	if !ok {
		return
	}
	total := 0
	prev := len(n.Inputs)
	for i, lay := range layers {
		p := index("network.layers", i)
		if !c.object(p, lay, "size", "activation") {
			continue
		}
		var spec LayerSpec
		if sv := lay.get("size"); sv != nil {
			spec.Size, _ = c.integer(join(p, "size"), sv, 1, MaxNeurons)
		} else {
			c.addf(join(p, "size"), "missing; want the number of neurons")
		}
		spec.Activation = Tanh
		if av := lay.get("activation"); av != nil {
			name, _ := c.oneOf(join(p, "activation"), av, activationNames)
			for k, an := range activationNames {
				if an == name {
					spec.Activation = Activation(k)
				}
			}
			if spec.Activation == Softmax && i != len(layers)-1 {
				c.addf(join(p, "activation"), "softmax is for the output layer only")
			}
			if spec.Activation == Softmax && spec.Size < 2 {
				c.addf(join(p, "activation"), "softmax needs at least 2 output neurons")
			}
		}
		total += spec.Size * (prev + 1)
		prev = spec.Size
		n.Layers = append(n.Layers, spec)
	}
	if total > MaxWeights {
		c.addf("network.layers", "these layers need %d weights and biases; the limit is %d", total, MaxWeights)
		return
	}
	if len(n.Layers) != len(layers) {
		return
	}
	nOut := n.Layers[len(n.Layers)-1].Size
	if nOut > MaxOutputs {
		c.addf(index("network.layers", len(layers)-1)+".size", "the output layer may have at most %d neurons, got %d", MaxOutputs, nOut)
	}
	if ov := v.get("outputs"); ov != nil {
		n.Outputs, _ = c.strings("network.outputs", ov, 1, MaxOutputs, maxName)
		if n.Outputs != nil && len(n.Outputs) != nOut {
			c.addf("network.outputs", "want %d names (one per output neuron), got %d", nOut, len(n.Outputs))
		}
	} else {
		n.Outputs = defaultOutputNames(l, nOut)
	}
	if len(l.Data.Samples) > 0 && len(l.Data.Samples[0].Y) != nOut {
		c.addf("data.samples[0].y", "want %d targets (one per output neuron), got %d", nOut, len(l.Data.Samples[0].Y))
	}
	if g, ok := generators[l.Data.Generator]; ok && nOut != g.outputs && !(g.classes && nOut == 2) {
		want := "1 output"
		if g.classes {
			want = "1 output (or 2 with one-hot targets)"
		}
		c.addf(index("network.layers", len(layers)-1)+".size", "the %s data has %s; the output layer has %d neurons", l.Data.Generator, want, nOut)
	}
	if wv := v.get("weights"); wv != nil {
		n.Weights = c.weights("network.weights", wv, len(n.Inputs), n.Layers)
	}
	if bv := v.get("biases"); bv != nil {
		n.Biases = c.biases("network.biases", bv, n.Layers)
	}
}

func (c *checker) weights(path string, v *jsonValue, nIn int, layers []LayerSpec) [][][]float64 {
	ls, ok := c.list(path, v, len(layers), len(layers))
	if !ok {
		return nil
	}
	out := make([][][]float64, len(layers))
	prev := nIn
	for l, lv := range ls {
		rows, ok := c.list(index(path, l), lv, layers[l].Size, layers[l].Size)
		if !ok {
			return nil
		}
		out[l] = make([][]float64, len(rows))
		for j, rv := range rows {
			if out[l][j], ok = c.numbers(index(index(path, l), j), rv, prev, maxValue); !ok {
				return nil
			}
		}
		prev = layers[l].Size
	}
	return out
}

func (c *checker) biases(path string, v *jsonValue, layers []LayerSpec) [][]float64 {
	ls, ok := c.list(path, v, len(layers), len(layers))
	if !ok {
		return nil
	}
	out := make([][]float64, len(layers))
	for l, lv := range ls {
		if out[l], ok = c.numbers(index(path, l), lv, layers[l].Size, maxValue); !ok {
			return nil
		}
	}
	return out
}

func (l *Lesson) parseTraining(c *checker, v *jsonValue) {
	t := &l.Training
	*t = Training{Loss: HalfSquaredError, Optimizer: SGD, LearningRate: 0.03, BatchSize: 10, Shuffle: true, Momentum: 0.9, Regularization: Regularization{Kind: "none"}}
	if v == nil {
		return
	}
	if !c.object("training", v, "loss", "optimizer", "learningRate", "batchSize", "shuffle", "momentum", "regularization") {
		return
	}
	if lv := v.get("loss"); lv != nil {
		name, _ := c.oneOf("training.loss", lv, lossNames)
		for k, n := range lossNames {
			if n == name {
				t.Loss = LossKind(k)
			}
		}
	}
	if sv := v.get("shuffle"); sv != nil {
		t.Shuffle, _ = c.boolean("training.shuffle", sv)
	}
	c.patch("training", v, t)
	if t.Loss == CrossEntropy && len(l.Network.Layers) > 0 {
		if out := l.Network.Layers[len(l.Network.Layers)-1].Activation; out != Sigmoid && out != Softmax {
			c.addf("training.loss", "cross_entropy needs a sigmoid or softmax output layer, got %s", out)
		}
	}
}

// patch reads the hyperparameters that may also change mid-training.
func (c *checker) patch(path string, v *jsonValue, t *Training) {
	if ov := v.get("optimizer"); ov != nil {
		name, _ := c.oneOf(join(path, "optimizer"), ov, optimizerNames)
		for k, n := range optimizerNames {
			if n == name {
				t.Optimizer = OptimizerKind(k)
			}
		}
	}
	if lv := v.get("learningRate"); lv != nil {
		t.LearningRate, _ = c.positive(join(path, "learningRate"), lv, 100)
	}
	if bv := v.get("batchSize"); bv != nil {
		t.BatchSize, _ = c.integer(join(path, "batchSize"), bv, 1, MaxSamples)
	}
	if mv := v.get("momentum"); mv != nil {
		t.Momentum, _ = c.number(join(path, "momentum"), mv, 0, 0.999)
	}
	if rv := v.get("regularization"); rv != nil {
		p := join(path, "regularization")
		if c.object(p, rv, "kind", "rate") {
			t.Regularization.Kind = c.requiredOneOf(p, rv, "kind", regKinds)
			if r := rv.get("rate"); r != nil {
				t.Regularization.Rate, _ = c.number(join(p, "rate"), r, 0, 1)
			}
		}
	}
}

func (l *Lesson) parseDisplay(c *checker, v *jsonValue) {
	if v == nil {
		l.Display = generatorDisplay(l)
		return
	}
	if !c.object("display", v, "inputs", "outputs") {
		return
	}
	d := &Display{}
	if iv := v.get("inputs"); iv != nil {
		d.Inputs = c.units("display.inputs", iv, len(l.Network.Inputs))
	}
	if ov := v.get("outputs"); ov != nil {
		d.Outputs = c.units("display.outputs", ov, len(l.Network.Outputs))
	}
	l.Display = d
}

func (c *checker) units(path string, v *jsonValue, n int) []Unit {
	items, ok := c.list(path, v, n, n)
	if !ok {
		return nil
	}
	out := make([]Unit, len(items))
	for i, it := range items {
		p := index(path, i)
		u := Unit{Scale: 1, Decimals: 2}
		if !c.object(p, it, "unit", "prefix", "scale", "offset", "decimals", "classes") {
			continue
		}
		if s := it.get("unit"); s != nil {
			u.Unit, _ = c.str(join(p, "unit"), s, 16)
		}
		if s := it.get("prefix"); s != nil {
			u.Prefix, _ = c.str(join(p, "prefix"), s, 16)
		}
		if s := it.get("scale"); s != nil {
			if u.Scale, ok = c.number(join(p, "scale"), s, -1e12, 1e12); ok && u.Scale == 0 {
				c.addf(join(p, "scale"), "want a number other than 0")
			}
		}
		if s := it.get("offset"); s != nil {
			u.Offset, _ = c.number(join(p, "offset"), s, -1e12, 1e12)
		}
		if s := it.get("decimals"); s != nil {
			u.Decimals, _ = c.integer(join(p, "decimals"), s, 0, 10)
		}
		if s := it.get("classes"); s != nil {
			u.Classes, _ = c.strings(join(p, "classes"), s, 2, MaxOutputs, maxName)
		}
		out[i] = u
	}
	return out
}

func (l *Lesson) parseView(c *checker, v *jsonValue) {
	l.View = View{Granularity: "sample", Decimals: DefaultMathDigits}
	if v == nil || !c.object("view", v, "granularity", "math", "decimals") {
		return
	}
	if d := v.get("decimals"); d != nil {
		l.View.Decimals, _ = c.integer("view.decimals", d, 2, MaxMathDigits)
	}
	if g := v.get("granularity"); g != nil {
		l.View.Granularity, _ = c.oneOf("view.granularity", g, granularityNames)
	}
	if m := v.get("math"); m != nil {
		l.View.Math, _ = c.boolean("view.math", m)
	}
}

func (l *Lesson) parseWords(c *checker, root *jsonValue) {
	if v := root.get("notes"); v != nil {
		items, _ := c.list("notes", v, 0, 200)
		for i, it := range items {
			p := index("notes", i)
			if !c.object(p, it, "at", "say") {
				continue
			}
			l.Notes = append(l.Notes, Note{
				At:  c.requiredOneOf(p, it, "at", noteTimes),
				Say: c.requiredStr(p, it, "say", maxText, "the sentence to show"),
			})
		}
	}
	if v := root.get("glossary"); v != nil {
		items, _ := c.list("glossary", v, 0, 50)
		for i, it := range items {
			p := index("glossary", i)
			if !c.object(p, it, "term", "meaning") {
				continue
			}
			l.Glossary = append(l.Glossary, Term{
				Term:    c.requiredStr(p, it, "term", maxName, "the word"),
				Meaning: c.requiredStr(p, it, "meaning", maxText, "what the word means"),
			})
		}
	}
	if v := root.get("questions"); v != nil {
		items, _ := c.list("questions", v, 0, 50)
		for i, it := range items {
			l.parseQuestion(c, index("questions", i), it)
		}
	}
}

func (l *Lesson) parseQuestion(c *checker, p string, it *jsonValue) {
	if !c.object(p, it, "at", "kind", "ask", "why", "answer", "horizon", "layer", "to", "from", "bias") {
		return
	}
	q := Question{
		At:   c.requiredOneOf(p, it, "at", questionTimes),
		Kind: c.requiredOneOf(p, it, "kind", questionKinds),
		Ask:  c.requiredStr(p, it, "ask", maxText, "the question"),
	}
	if s := it.get("why"); s != nil {
		q.Why, _ = c.str(join(p, "why"), s, maxText)
	}
	if h := it.get("horizon"); h != nil {
		q.Horizon = c.horizon(join(p, "horizon"), h, q.Kind)
	}
	if a := it.get("answer"); a != nil && q.Kind != "" {
		q.Answer, _ = c.oneOf(join(p, "answer"), a, q.Answers(len(l.Network.Outputs)))
	}
	if q.Kind != "weight" {
		for _, f := range []string{"layer", "to", "from", "bias"} {
			if it.get(f) != nil {
				c.addf(join(p, f), "only for a weight question (kind weight)")
			}
		}
	}
	if q.Kind == "weight" {
		layers := l.Network.Layers
		if len(layers) == 0 {
			return
		}
		lv := it.get("layer")
		if lv == nil {
			c.addf(join(p, "layer"), "missing; a weight question names the weight's layer, to and from (or bias)")
			return
		}
		var ok bool
		if q.Layer, ok = c.integer(join(p, "layer"), lv, 0, len(layers)-1); !ok {
			return
		}
		if tv := it.get("to"); tv != nil {
			q.To, _ = c.integer(join(p, "to"), tv, 0, layers[q.Layer].Size-1)
		}
		if bv := it.get("bias"); bv != nil {
			q.Bias, _ = c.boolean(join(p, "bias"), bv)
		}
		fan := len(l.Network.Inputs)
		if q.Layer > 0 {
			fan = layers[q.Layer-1].Size
		}
		if fv := it.get("from"); fv != nil && !q.Bias {
			q.From, _ = c.integer(join(p, "from"), fv, 0, fan-1)
		}
	}
	l.Questions = append(l.Questions, q)
}

// horizon reads a question's horizon: {"epochs": N} or {"epochs": N,
// "lossBelow": x}, for loss questions only.
func (c *checker) horizon(p string, v *jsonValue, kind string) *Horizon {
	if !c.object(p, v, "epochs", "lossBelow") {
		return nil
	}
	if kind != "" && kind != "loss" {
		c.addf(p, "only for a loss question (kind loss); a %s question is answered by the step that reaches it", kind)
		return nil
	}
	h := &Horizon{}
	if e := v.get("epochs"); e != nil {
		h.Epochs, _ = c.integer(join(p, "epochs"), e, 1, MaxHorizonEpochs)
	} else {
		c.addf(join(p, "epochs"), "missing; want how many epochs ahead the question looks, 1 to %d", MaxHorizonEpochs)
	}
	if b := v.get("lossBelow"); b != nil {
		h.LossBelow, _ = c.positive(join(p, "lossBelow"), b, 1e6)
	}
	return h
}

// checkTargets refuses targets the loss cannot take.
func (l *Lesson) checkTargets(c *checker) {
	if err := l.buildData(); err != nil {
		c.addf("data", "%v", err)
		return
	}
	if l.Training.Loss != CrossEntropy {
		return
	}
	softmax := l.Network.Layers[len(l.Network.Layers)-1].Activation == Softmax
	for set, ds := range []*dataset{&l.train, &l.test} {
		name := "data.samples"
		if set == 1 {
			name = "data.test"
		}
		for i := 0; i < ds.n; i++ {
			sum := 0.0
			for _, t := range ds.target(i) {
				if t < 0 || t > 1 {
					c.addf(index(name, i)+".y", "cross_entropy needs targets from 0 to 1, got %g", t)
					return
				}
				sum += t
			}
			if softmax && math.Abs(sum-1) > 1e-9 {
				c.addf(index(name, i)+".y", "with softmax and cross_entropy the targets must add up to 1, got %g", sum)
				return
			}
		}
	}
}
