package engine

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
)

// Phase is a part of training one sample.
type Phase uint8

// The phases, in the order a sample goes through them. Update follows only
// the last sample of a batch.
const (
	PhaseForward Phase = iota
	PhaseLoss
	PhaseBackward
	PhaseUpdate
)

var phaseNames = []string{"forward", "loss", "backward", "update"}

func (p Phase) String() string { return phaseNames[p] }

// MarshalText writes the phase's name.
func (p Phase) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// Position is where training is: the next micro-step to take.
type Position struct {
	T          int64 `json:"t"`          // micro-steps taken since the start
	Epoch      int   `json:"epoch"`      // epochs completed
	Sample     int   `json:"sample"`     // position of the current sample within the epoch
	Phase      Phase `json:"phase"`      // phase of the next micro-step
	Layer      int   `json:"layer"`      // layer of the next micro-step
	Neuron     int   `json:"neuron"`     // neuron of the next micro-step
	BatchCount int   `json:"batchCount"` // samples whose gradients the batch holds
	Updates    int64 `json:"updates"`    // updates applied (Adam's t)
}

// scalars is the mutable state that is not in the slab.
type scalars struct {
	pos        Position
	hp         Training
	index      int     // data-set index of the sample whose values the layers hold
	haveSample bool    // the layers hold a sample's values
	haveLoss   bool    // loss holds that sample's loss
	loss       float64 // that sample's loss
	haveUpdate bool    // oldW/gradW hold an update
	lastBatch  int     // samples averaged in that update
	diverged   string  // why training stopped, or ""
}

// EpochLoss is the mean per-sample loss over each set after an epoch.
type EpochLoss struct {
	Epoch     int
	TrainLoss float64
	TestLoss  float64 // meaningful when HasTest
	HasTest   bool    // the lesson has a test set
}

// AppendJSON appends {"epoch","trainLoss","testLoss"}, testLoss null when
// there is no test set.
func (e EpochLoss) AppendJSON(dst []byte) []byte {
	dst = append(dst, `{"epoch":`...)
	dst = strconv.AppendInt(dst, int64(e.Epoch), 10)
	dst = appendFloat(dst, "trainLoss", e.TrainLoss)
	if e.HasTest {
		dst = appendFloat(dst, "testLoss", e.TestLoss)
	} else {
		dst = append(dst, `,"testLoss":null`...)
	}
	return append(dst, '}')
}

// MarshalJSON implements json.Marshaler with AppendJSON.
func (e EpochLoss) MarshalJSON() ([]byte, error) { return e.AppendJSON(make([]byte, 0, 80)), nil }

// AppendParams appends the current weights and biases as
// {"weights":[[[…]]],"biases":[[…]]} (weights[l][j][i], biases[l][j]), the
// same numbers State's network carries, without building a State.
func (t *Trainer) AppendParams(dst []byte) []byte {
	dst = append(dst, `{"weights":[`...)
	for l := range t.layers {
		ly := &t.layers[l]
		if l > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, '[')
		for j := 0; j < ly.nout; j++ {
			if j > 0 {
				dst = append(dst, ',')
			}
			dst = appendVector(dst, ly.W[j*ly.nin:(j+1)*ly.nin])
		}
		dst = append(dst, ']')
	}
	dst = append(dst, `],"biases":[`...)
	for l := range t.layers {
		if l > 0 {
			dst = append(dst, ',')
		}
		dst = appendVector(dst, t.layers[l].B)
	}
	return append(dst, ']', '}')
}

// appendVector appends v as a JSON list of numbers (AppendFloat): the one
// loop every list of floats the engine writes goes through.
func appendVector(dst []byte, v []float64) []byte {
	dst = append(dst, '[')
	for i, x := range v {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = AppendFloat(dst, x)
	}
	return append(dst, ']')
}

// Trainer moves a network through training one step at a time, in either
// direction. It allocates its buffers once; stepping allocates nothing. A
// Trainer is not safe for concurrent use.
type Trainer struct {
	lesson *Lesson
	train  *dataset
	test   *dataset
	layers []layer
	slab   []float64 // every mutable number, so a checkpoint is one copy
	s      scalars

	order      []int32 // this epoch's sample order
	orderEpoch int     // the epoch order belongs to, or −1
	pcg        *rand.PCG
	rng        *rand.Rand

	neurons     int       // neurons in all layers
	scratch     []float64 // new W, M and V of one layer during an update
	evalZ       [][]float64
	evalA       [][]float64
	sink        func(*Event) // where events go during a step, or nil
	epochsOnly  bool         // deliver only epoch and diverged events
	ev          Event
	losses      []EpochLoss
	lossStride  int
	history     []int64 // where each undoable step started
	partial     bool    // a StepLimited step is unfinished
	partialG    Granularity
	checkpoints []checkpoint
	spare       [][]float64 // slabs of dropped checkpoints, for reuse
	ckEvery     int64
	recording   bool      // keep log (see Record)
	log         []Command // commands since Record or the last TakeLog
	backing     bool      // a BackLimited Back is unfinished
	backTarget  int64     // the micro-step it replays to
	undo        backUndo  // how to cancel it (CancelBack)
	budget      int64     // SetMemoryBudget's bytes, or 0
	maxCk       int       // unpinned checkpoints kept (maxCheckpoints, or fewer under a budget)
	maxPin      int       // pinned copies kept (maxPinned, or fewer under a budget)
}

// NewTrainer prepares a trainer for a parsed lesson.
func NewTrainer(l *Lesson) (*Trainer, error) {
	if l == nil || len(l.Network.Layers) == 0 || l.train.n == 0 {
		return nil, fmt.Errorf("engine: lesson was not made by ParseLesson")
	}
	t := &Trainer{lesson: l, train: &l.train, test: &l.test, orderEpoch: -1, lossStride: 1, maxCk: maxCheckpoints, maxPin: maxPinned}
	size, widest, prev := 0, 0, len(l.Network.Inputs)
	for _, spec := range l.Network.Layers {
		size += slabSize(prev, spec.Size)
		widest = max(widest, (prev+1)*spec.Size)
		prev = spec.Size
	}
	t.slab = make([]float64, size)
	t.scratch = make([]float64, 3*widest)
	rest := t.slab
	prev = len(l.Network.Inputs)
	t.layers = make([]layer, len(l.Network.Layers))
	t.evalZ = make([][]float64, len(t.layers))
	t.evalA = make([][]float64, len(t.layers))
	for i, spec := range l.Network.Layers {
		ly := &t.layers[i]
		ly.nin, ly.nout, ly.act = prev, spec.Size, spec.Activation
		rest = ly.carve(rest)
		t.evalZ[i] = make([]float64, spec.Size)
		t.evalA[i] = make([]float64, spec.Size)
		t.neurons += spec.Size
		prev = spec.Size
	}
	t.loadLessonWeights()
	t.order = make([]int32, t.train.n)
	t.pcg = rand.NewPCG(0, 0)
	t.rng = rand.New(t.pcg)
	t.s.hp = l.Training
	t.ckEvery = int64(64 * t.microsPerSample())
	t.checkpoints = []checkpoint{{s: t.s, pinned: true}} // no slab: the lesson's own numbers
	return t, nil
}

// loadLessonWeights puts the slab in the lesson's starting state: its
// weights and biases, everything else zero.
func (t *Trainer) loadLessonWeights() {
	clear(t.slab)
	n := &t.lesson.Network
	for i := range t.layers {
		ly := &t.layers[i]
		for j := range ly.nout {
			copy(ly.W[j*ly.nin:(j+1)*ly.nin], n.Weights[i][j])
		}
		copy(ly.B, n.Biases[i])
	}
}

// StepLimited is Step in pieces: it takes at most budget micro-steps (a
// whole sample taken without events counts as its micro-steps) and reports
// whether the step is complete. Calling it again with the same g continues
// the same step, which stays one step for Back; any other call (Step, Run,
// Back, Set, SetWeight, Reset) ends the unfinished step where it is. The
// netstep server uses it to let other sessions train between the pieces of
// one session's long step, and to stop that step where it has got to when
// its learner pauses or sends another command.
func (t *Trainer) StepLimited(g Granularity, emit func(*Event), budget int) (bool, error) {
	if t.s.diverged != "" {
		t.partial = false
		return true, ErrDiverged
	}
	cont := t.partial && t.partialG == g
	if !cont {
		t.pushHistory()
	}
	t.partial, t.partialG = true, g
	t.sink, t.epochsOnly = emit, false
	defer func() { t.sink = nil }()
	for used := 0; used < budget; {
		var f stepped
		if emit == nil && g >= StepSample && t.atSampleStart() {
			f = t.fastSample()
			used += t.microsPerSample()
		} else {
			f = t.micro()
			used++
		}
		if f.completesOrFails(g) {
			t.partial = false
			t.maybeCheckpoint()
			t.noteStep(g, true, cont)
			return true, nil
		}
	}
	// No checkpoint in the middle of a step: where checkpoints are then
	// depends on the steps taken, not on how a step was cut into pieces,
	// so a command log rebuilds the same trainer.
	t.noteStep(g, false, cont)
	return false, nil
}

// Lesson returns the lesson the trainer was made from.
func (t *Trainer) Lesson() *Lesson { return t.lesson }

// Position returns where training is.
func (t *Trainer) Position() Position { return t.s.pos }

// Training returns the hyperparameters in force.
func (t *Trainer) Training() Training { return t.s.hp }

// Diverged returns why training stopped, or "".
func (t *Trainer) Diverged() string { return t.s.diverged }

// Losses returns the epoch history (thinned for very long runs). The slice
// is the trainer's own: read it before the next step.
func (t *Trainer) Losses() []EpochLoss { return t.losses }

// microsPerSample is how many micro-steps a sample takes without its update.
func (t *Trainer) microsPerSample() int { return 2*t.neurons + 1 }

// ensureOrder computes the sample order of the current epoch: the identity,
// shuffled by a PCG seeded with (seed, epoch) when shuffling is on, so the
// order depends on nothing but the lesson and the epoch.
func (t *Trainer) ensureOrder() {
	e := t.s.pos.Epoch
	if t.orderEpoch == e {
		return
	}
	for i := range t.order {
		t.order[i] = int32(i)
	}
	if t.s.hp.Shuffle {
		t.pcg.Seed(t.lesson.Seed, 0x5000_0000_0000+uint64(e))
		for i := len(t.order) - 1; i > 0; i-- {
			j := t.rng.IntN(i + 1)
			t.order[i], t.order[j] = t.order[j], t.order[i]
		}
	}
	t.orderEpoch = e
}

// input is what layer l reads: the sample's inputs or the layer before.
func (t *Trainer) input(l int) []float64 {
	if l == 0 {
		return t.train.input(t.s.index)
	}
	return t.layers[l-1].A
}

// loud reports whether per-neuron events are wanted.
func (t *Trainer) loud() bool { return t.sink != nil && !t.epochsOnly }

func (t *Trainer) emit() {
	if t.sink != nil && (!t.epochsOnly || t.ev.Type == EventEpoch || t.ev.Type == EventDiverged) {
		t.sink(&t.ev)
	}
}

// stepped says which boundaries a micro-step reached.
type stepped struct {
	phase, sample, batch, epoch, failed bool
}

func (f stepped) completes(g Granularity) bool {
	switch g {
	case StepMicro:
		return true
	case StepPhase:
		return f.phase
	case StepSample:
		return f.sample
	case StepBatch:
		return f.batch
	}
	return f.epoch
}

// micro takes one micro-step.
func (t *Trainer) micro() stepped {
	s := &t.s
	p := &s.pos
	last := len(t.layers) - 1
	switch p.Phase {
	case PhaseForward:
		if p.Layer == 0 && p.Neuron == 0 {
			t.startSample()
		}
		ly := &t.layers[p.Layer]
		if p.Neuron == 0 && !ly.forward(t.input(p.Layer), ly.Z, ly.A) {
			return t.fail(fmt.Sprintf("neuron %d in layer %d computed a value too large to represent during the forward pass", firstBad(ly.Z), p.Layer))
		}
		if t.loud() {
			t.ev = Event{Type: EventForward, Layer: p.Layer, Neuron: p.Neuron, Z: ly.Z[p.Neuron], A: ly.A[p.Neuron]}
			t.emit()
		}
		if p.Neuron++; p.Neuron == ly.nout {
			p.Neuron = 0
			if p.Layer++; p.Layer > last {
				p.Layer, p.Phase = last, PhaseLoss
				p.T++
				return stepped{phase: true}
			}
		}
	case PhaseLoss:
		if !t.computeLoss() {
			return t.fail("the loss became too large to represent")
		}
		if t.loud() {
			out := &t.layers[last]
			t.ev = Event{Type: EventLoss, Index: s.index, Value: s.loss, Prediction: out.A, Target: t.train.target(s.index)}
			t.emit()
		}
		p.Phase, p.Layer, p.Neuron = PhaseBackward, last, 0
		p.T++
		return stepped{phase: true}
	case PhaseBackward:
		ly := &t.layers[p.Layer]
		if p.Neuron == 0 && !t.backwardLayer(p.Layer) {
			return t.fail(fmt.Sprintf("the blame for neuron %d in layer %d became too large to represent during the backward pass", firstBad(ly.DZ), p.Layer))
		}
		if t.loud() {
			t.ev = Event{Type: EventBackward, Layer: p.Layer, Neuron: p.Neuron, DA: ly.DA[p.Neuron], DZ: ly.DZ[p.Neuron]}
			if ly.act != Softmax {
				t.ev.Slope, t.ev.HasSlope = slope(ly.act, ly.Z[p.Neuron], ly.A[p.Neuron]), true
			}
			t.emit()
		}
		if p.Neuron++; p.Neuron == ly.nout {
			p.Neuron = 0
			if p.Layer--; p.Layer < 0 {
				p.Layer = 0
				p.T++
				p.BatchCount++
				if t.batchEnds() {
					p.Phase = PhaseUpdate
					return stepped{phase: true}
				}
				p.Sample++
				p.Phase = PhaseForward
				return stepped{phase: true, sample: true}
			}
		}
	case PhaseUpdate:
		if p.Layer == 0 {
			p.Updates++
			s.lastBatch = p.BatchCount
		}
		if !t.updateLayer(p.Layer) {
			if p.Layer == 0 {
				p.Updates--
			}
			return t.fail(fmt.Sprintf("a weight in layer %d became too large to represent during the update", p.Layer))
		}
		if p.Layer++; p.Layer > last {
			s.haveUpdate = true
			p.Layer, p.BatchCount, p.Phase = 0, 0, PhaseForward
			p.T++
			p.Sample++
			f := stepped{phase: true, sample: true, batch: true}
			if p.Sample == t.train.n {
				if !t.endEpoch() {
					return t.fail("the loss over the whole data set became too large to represent")
				}
				f.epoch = true
			}
			return f
		}
	}
	p.T++
	return stepped{}
}

// startSample loads the next sample of the epoch.
func (t *Trainer) startSample() {
	t.ensureOrder()
	t.s.index = int(t.order[t.s.pos.Sample])
	t.s.haveSample, t.s.haveLoss = true, false
	if t.loud() {
		t.ev = Event{Type: EventSample, Epoch: t.s.pos.Epoch, Index: t.s.index, X: t.train.input(t.s.index), Y: t.train.target(t.s.index)}
		t.emit()
	}
}

func (t *Trainer) batchEnds() bool {
	p := &t.s.pos
	return p.BatchCount >= t.s.hp.BatchSize || p.Sample == t.train.n-1
}

func (t *Trainer) computeLoss() bool {
	out := &t.layers[len(t.layers)-1]
	target := t.train.target(t.s.index)
	t.s.loss = lossValue(t.s.hp.Loss, out.act, out.Z, out.A, target)
	lossGrad(t.s.hp.Loss, out.act, out.A, target, out.DA)
	t.s.haveLoss = t.s.loss-t.s.loss == 0
	return t.s.haveLoss
}

// backwardLayer computes layer l's ∂L/∂a and ∂L/∂z and adds its gradients
// to the batch sums.
func (t *Trainer) backwardLayer(l int) bool {
	ly := &t.layers[l]
	if l == len(t.layers)-1 {
		ly.outputDZ(t.s.hp.Loss, t.train.target(t.s.index))
	} else {
		ly.hiddenDZ(&t.layers[l+1])
	}
	return ly.accumulate(t.input(l))
}

// endEpoch records the losses over both sets and moves to the next epoch.
func (t *Trainer) endEpoch() bool {
	p := &t.s.pos
	e := EpochLoss{Epoch: p.Epoch + 1, TrainLoss: t.meanLoss(t.train)}
	ok := e.TrainLoss-e.TrainLoss == 0
	if t.test.n > 0 {
		e.TestLoss, e.HasTest = t.meanLoss(t.test), true
		ok = ok && e.TestLoss-e.TestLoss == 0
	}
	if !ok {
		p.Sample--
		return false
	}
	p.Epoch++
	p.Sample = 0
	t.recordLoss(e)
	if t.sink != nil {
		t.ev = Event{Type: EventEpoch, Epoch: p.Epoch, TrainLoss: e.TrainLoss, TestLoss: e.TestLoss, HasTest: e.HasTest}
		t.emit()
	}
	return true
}

// maxLosses bounds the epoch history; past it every other point is dropped.
const maxLosses = 2000

func (t *Trainer) recordLoss(e EpochLoss) {
	if e.Epoch%t.lossStride != 0 {
		return
	}
	if len(t.losses) == maxLosses {
		kept := t.losses[:0]
		for _, l := range t.losses {
			if l.Epoch%(2*t.lossStride) == 0 {
				kept = append(kept, l)
			}
		}
		t.losses = kept
		t.lossStride *= 2
		if e.Epoch%t.lossStride != 0 {
			return
		}
	}
	t.losses = append(t.losses, e)
}

// meanLoss is the mean per-sample loss over a data set with the current
// weights, computed in the evaluation buffers so the current sample's
// values stay as they are.
func (t *Trainer) meanLoss(ds *dataset) float64 {
	sum := 0.0
	out := len(t.layers) - 1
	for i := 0; i < ds.n; i++ {
		in := ds.input(i)
		for l := range t.layers {
			t.layers[l].forward(in, t.evalZ[l], t.evalA[l])
			in = t.evalA[l]
		}
		sum += lossValue(t.s.hp.Loss, t.layers[out].act, t.evalZ[out], t.evalA[out], ds.target(i))
	}
	return sum / float64(ds.n)
}

// fail stops training with a reason a learner can act on.
func (t *Trainer) fail(what string) stepped {
	hp := t.s.hp
	reason := fmt.Sprintf("Training stopped in epoch %d, sample %d: %s (infinite or not a number). ", t.s.pos.Epoch+1, t.s.pos.Sample+1, what)
	switch {
	case hp.LearningRate > 0.1:
		reason += fmt.Sprintf("The learning rate (%g) is so large that each update overshoots, so the error grows instead of shrinking. Go back or reset, and try a smaller learning rate such as %g.", hp.LearningRate, hp.LearningRate/10)
	default:
		reason += "The weights grew until the numbers overflowed. Go back or reset, and try a smaller learning rate, a smaller batch of steps, or regularization."
	}
	t.s.diverged = reason
	if t.sink != nil {
		t.ev = Event{Type: EventDiverged, Reason: reason}
		t.emit()
	}
	return stepped{failed: true}
}

func firstBad(v []float64) int {
	for i, x := range v {
		if x-x != 0 {
			return i
		}
	}
	return 0
}

// updateLayer applies the optimizer to layer l with the batch's mean
// gradient plus regularization. New values are computed into scratch and
// committed only when all are finite, so a diverging update leaves the
// weights as they were.
func (t *Trainer) updateLayer(l int) bool {
	ly := &t.layers[l]
	hp := &t.s.hp
	m := float64(t.s.pos.BatchCount)
	np := len(ly.W) + len(ly.B)
	newV, newM, newS := t.scratch[:np], t.scratch[np:2*np], t.scratch[2*np:3*np]
	var c1, c2 float64
	if hp.Optimizer == Adam {
		c1 = 1 - powInt(0.9, t.s.pos.Updates)
		c2 = 1 - powInt(0.999, t.s.pos.Updates)
	}
	sum := 0.0
	step := func(k int, w, g, mo, se float64) {
		var nw, nm, ns float64
		switch hp.Optimizer {
		case SGD:
			nw = w - float64(hp.LearningRate*g)
		case Momentum:
			nm = float64(hp.Momentum*mo) + g
			nw = w - float64(hp.LearningRate*nm)
		case Adam:
			nm = float64(0.9*mo) + float64(0.1*g)
			ns = float64(0.999*se) + float64(0.001*float64(g*g))
			nw = w - float64(hp.LearningRate*(nm/c1))/(math.Sqrt(ns/c2)+1e-8)
		}
		newV[k], newM[k], newS[k] = nw, nm, ns
		sum += nw + nm + ns
	}
	nW := len(ly.W)
	for k, w := range ly.W {
		g := ly.GW[k] / m
		switch hp.Regularization.Kind {
		case "l2":
			g += float64(hp.Regularization.Rate * w)
		case "l1":
			if w > 0 {
				g += hp.Regularization.Rate
			} else if w < 0 {
				g -= hp.Regularization.Rate
			}
		}
		ly.gradW[k] = g
		step(k, w, g, ly.MW[k], ly.VW[k])
	}
	for k, b := range ly.B {
		g := ly.GB[k] / m
		ly.gradB[k] = g
		step(nW+k, b, g, ly.MB[k], ly.VB[k])
	}
	if sum-sum != 0 {
		return false
	}
	copy(ly.oldW, ly.W)
	copy(ly.oldB, ly.B)
	copy(ly.W, newV[:nW])
	copy(ly.B, newV[nW:])
	copy(ly.MW, newM[:nW])
	copy(ly.MB, newM[nW:])
	copy(ly.VW, newS[:nW])
	copy(ly.VB, newS[nW:])
	clear(ly.GW)
	clear(ly.GB)
	if t.loud() {
		batch := t.s.pos.BatchCount
		for j := 0; j < ly.nout; j++ {
			for i := 0; i < ly.nin; i++ {
				k := j*ly.nin + i
				t.ev = Event{Type: EventUpdate, Layer: l, To: j, From: i, Old: ly.oldW[k], Grad: ly.gradW[k], New: ly.W[k], Batch: batch}
				t.emit()
			}
		}
		for j := 0; j < ly.nout; j++ {
			t.ev = Event{Type: EventUpdate, Layer: l, To: j, Bias: true, Old: ly.oldB[j], Grad: ly.gradB[j], New: ly.B[j], Batch: batch}
			t.emit()
		}
	}
	return true
}

// checkPatchable reports the first hyperparameter that may change
// mid-training (see Set) and is out of range. A parsed lesson's own are
// always in range.
func (hp Training) checkPatchable() error {
	switch {
	case !(hp.LearningRate > 0 && hp.LearningRate <= 100):
		return &RangeError{"learningRate", fmt.Sprintf("want a number above 0 and at most 100, got %g", hp.LearningRate)}
	case hp.BatchSize < 1 || hp.BatchSize > MaxSamples:
		return &RangeError{"batchSize", fmt.Sprintf("want a whole number from 1 to %d, got %d", MaxSamples, hp.BatchSize)}
	case !(hp.Momentum >= 0 && hp.Momentum < 1):
		return &RangeError{"momentum", fmt.Sprintf("want a number from 0 to 0.999, got %g", hp.Momentum)}
	}
	r := hp.Regularization
	if (r.Kind != "none" && r.Kind != "l1" && r.Kind != "l2") || !(r.Rate >= 0 && r.Rate <= 1) {
		return &RangeError{"regularization", "want kind none, l1 or l2 and a rate from 0 to 1"}
	}
	return nil
}

// Step moves forward by one step of granularity g, giving each event to
// emit (which must not keep the *Event: it is reused). After a divergence
// the step ends with a diverged event and later steps return ErrDiverged.
func (t *Trainer) Step(g Granularity, emit func(*Event)) error {
	if t.s.diverged != "" {
		return ErrDiverged
	}
	t.partial = false
	t.pushHistory()
	t.sink, t.epochsOnly = emit, false
	defer func() { t.sink = nil }()
	for !t.micro().completesOrFails(g) {
	}
	t.maybeCheckpoint()
	t.noteStep(g, true, false)
	return nil
}

func (f stepped) completesOrFails(g Granularity) bool { return f.failed || f.completes(g) }

// Run takes n steps of granularity g as fast as it can, without per-neuron
// events: onEpoch (if not nil) sees each epoch and diverged event. It stops
// early at a divergence. Each step can be undone with Back.
func (t *Trainer) Run(g Granularity, n int, onEpoch func(*Event)) error {
	if n <= 0 {
		return nil // changes nothing, not even an unfinished step
	}
	t.partial = false
	t.endBack()
	t.sink, t.epochsOnly = onEpoch, true
	defer func() { t.sink, t.epochsOnly = nil, false }()
	for ; n > 0; n-- {
		if t.s.diverged != "" {
			return ErrDiverged
		}
		t.pushHistory()
		for {
			var f stepped
			if g >= StepSample && t.atSampleStart() {
				f = t.fastSample()
			} else {
				f = t.micro()
			}
			if f.completesOrFails(g) {
				break
			}
		}
		t.maybeCheckpoint()
		t.noteStep(g, true, false)
	}
	return nil
}

// advanceTo takes micro-steps without events (whole samples where one fits)
// until micro-step target. It stops early at a divergence, and, when
// within is true, at the end of a step of granularity g, reporting false
// then: a step that should still be unfinished at target.
func (t *Trainer) advanceTo(target int64, g Granularity, within bool) bool {
	for t.s.pos.T < target {
		if t.s.diverged != "" {
			return !within
		}
		p := &t.s.pos
		whole := int64(t.microsPerSample())
		if p.BatchCount+1 >= t.s.hp.BatchSize || p.Sample == t.train.n-1 {
			whole += int64(len(t.layers))
		}
		var f stepped
		if t.atSampleStart() && (g >= StepSample || !within) && p.T+whole <= target {
			f = t.fastSample()
		} else {
			f = t.micro()
		}
		if within && f.completesOrFails(g) {
			return false
		}
	}
	return true
}

func (t *Trainer) atSampleStart() bool {
	p := &t.s.pos
	return p.Phase == PhaseForward && p.Layer == 0 && p.Neuron == 0
}

// fastSample trains one whole sample (and its update, if it ends a batch)
// with the same arithmetic as the micro-steps, minus their bookkeeping.
func (t *Trainer) fastSample() stepped {
	p := &t.s.pos
	last := len(t.layers) - 1
	t.startSample()
	for l := range t.layers {
		ly := &t.layers[l]
		if !ly.forward(t.input(l), ly.Z, ly.A) {
			p.Layer = l
			p.T += int64(t.neuronsBefore(l))
			return t.fail(fmt.Sprintf("neuron %d in layer %d computed a value too large to represent during the forward pass", firstBad(ly.Z), l))
		}
	}
	p.T += int64(t.neurons)
	p.Phase, p.Layer = PhaseLoss, last
	if !t.computeLoss() {
		return t.fail("the loss became too large to represent")
	}
	p.T++
	p.Phase = PhaseBackward
	for l := last; l >= 0; l-- {
		p.Layer = l
		if !t.backwardLayer(l) {
			return t.fail(fmt.Sprintf("the blame for neuron %d in layer %d became too large to represent during the backward pass", firstBad(t.layers[l].DZ), l))
		}
		p.T += int64(t.layers[l].nout)
	}
	p.Layer = 0
	p.BatchCount++
	if !t.batchEnds() {
		p.Sample++
		p.Phase = PhaseForward
		return stepped{phase: true, sample: true}
	}
	p.Phase = PhaseUpdate
	var f stepped
	for !f.phase {
		f = t.micro()
		if f.failed {
			return f
		}
	}
	return f
}

// neuronsBefore counts the neurons in the layers before l.
func (t *Trainer) neuronsBefore(l int) int {
	n := 0
	for _, ly := range t.layers[:l] {
		n += ly.nout
	}
	return n
}
