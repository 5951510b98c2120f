package engine

import "fmt"

// checkpoint is a full copy of the trainer's mutable state at one moment.
type checkpoint struct {
	s      scalars
	slab   []float64 // nil: the lesson's starting numbers, rebuilt rather than kept
	pinned bool      // made by an edit (or the start): never thinned away
}

// Bounds on history. Past maxHistory undoable steps, every other one of the
// older half is forgotten, so Back takes bigger strides there but still
// reaches the beginning. Past maxCheckpoints, every other unpinned
// checkpoint is dropped and the spacing doubles, so replay stays bounded
// relative to the run's length while memory stays fixed.
const (
	maxHistory     = 4096
	maxCheckpoints = 24
	maxPinned      = 256
)

func (t *Trainer) snapshot(pinned bool) checkpoint {
	var slab []float64
	if n := len(t.spare); n > 0 {
		slab, t.spare = t.spare[n-1], t.spare[:n-1]
		copy(slab, t.slab)
	} else {
		slab = append([]float64(nil), t.slab...)
	}
	return checkpoint{s: t.s, slab: slab, pinned: pinned}
}

// drop keeps a dropped checkpoint's slab for reuse, so a long run's
// checkpointing allocates nothing once it has thinned a few times.
func (t *Trainer) drop(c checkpoint) {
	if c.slab != nil && len(t.spare) < maxCheckpoints {
		t.spare = append(t.spare, c.slab)
	}
}

func (t *Trainer) pushHistory() {
	t.partial = false
	if len(t.history) == maxHistory {
		// Keep the first entry (the beginning) and every other entry of
		// the older half; keep the newer half exactly.
		half := maxHistory / 2
		kept := t.history[:1]
		for i := 2; i < half; i += 2 {
			kept = append(kept, t.history[i])
		}
		kept = append(kept, t.history[half:]...)
		t.history = kept
	}
	t.history = append(t.history, t.s.pos.T)
}

func (t *Trainer) maybeCheckpoint() {
	lastCk := t.checkpoints[len(t.checkpoints)-1]
	if t.s.pos.T-lastCk.s.pos.T < t.ckEvery {
		return
	}
	t.checkpoints = append(t.checkpoints, t.snapshot(false))
	unpinned := 0
	for _, c := range t.checkpoints {
		if !c.pinned {
			unpinned++
		}
	}
	if unpinned <= maxCheckpoints {
		return
	}
	kept, n := t.checkpoints[:1], 0
	for _, c := range t.checkpoints[1:] {
		if !c.pinned {
			n++
			if n%2 == 1 {
				t.drop(c)
				continue
			}
		}
		kept = append(kept, c)
	}
	t.checkpoints = kept
	t.ckEvery *= 2
}

// CanBack reports whether Back has a step to undo.
func (t *Trainer) CanBack() bool { return len(t.history) > 0 }

// Back undoes the last step, at the granularity it was taken, restoring
// every number (weights, optimizer state, the sample's values, the
// position). Stepping forward again reproduces the same events.
func (t *Trainer) Back() error {
	if len(t.history) == 0 {
		return ErrAtStart
	}
	target := t.history[len(t.history)-1]
	t.history = t.history[:len(t.history)-1]
	t.restore(target)
	t.note(Command{Kind: CommandBack, Steps: 1})
	return nil
}

// Reset returns to the lesson's starting weights and forgets the history.
func (t *Trainer) Reset() {
	t.history = t.history[:0]
	t.checkpoints = append(t.checkpoints[:0], checkpoint{s: scalars{hp: t.lesson.Training}, pinned: true})
	t.restoreFrom(&t.checkpoints[0])
	t.ckEvery = int64(64 * t.microsPerSample())
	t.losses, t.lossStride = t.losses[:0], 1
	t.note(Command{Kind: CommandReset})
}

func (t *Trainer) restoreFrom(c *checkpoint) {
	t.partial = false
	if c.slab == nil {
		t.loadLessonWeights()
	} else {
		copy(t.slab, c.slab)
	}
	t.s = c.s
	t.orderEpoch = -1
}

// restore puts the trainer at micro-step target of the current timeline:
// the newest checkpoint at or before it, then a silent replay.
func (t *Trainer) restore(target int64) {
	k := len(t.checkpoints) - 1
	for k > 0 && t.checkpoints[k].s.pos.T > target {
		k--
	}
	for _, c := range t.checkpoints[k+1:] {
		t.drop(c)
	}
	t.checkpoints = t.checkpoints[:k+1]
	t.restoreFrom(&t.checkpoints[k])
	n := len(t.losses)
	for n > 0 && t.losses[n-1].Epoch > t.s.pos.Epoch {
		n--
	}
	t.losses = t.losses[:n]
	t.sink = nil
	t.advanceTo(target, StepMicro, false)
}

// TrainingPatch changes some hyperparameters; nil fields stay as they are.
type TrainingPatch struct {
	LearningRate   *float64
	BatchSize      *int
	Optimizer      *OptimizerKind
	Momentum       *float64
	Regularization *Regularization
}

// ParseTrainingPatch reads a patch from a JSON object whose fields are those
// of a lesson's training section that may change mid-training:
// learningRate, batchSize, optimizer, momentum, regularization. Other
// fields in allowed (such as a command's name) are accepted and ignored.
func ParseTrainingPatch(data []byte, allowed ...string) (TrainingPatch, error) {
	var p TrainingPatch
	root, err := parseJSON(data)
	if err != nil {
		return p, &LessonError{Problems: []FieldError{{Message: err.Error()}}}
	}
	c := &checker{}
	fields := append([]string{"learningRate", "batchSize", "optimizer", "momentum", "regularization"}, allowed...)
	if !c.object("", root, fields...) {
		return p, c.err()
	}
	var tr Training
	c.patch("", root, &tr)
	if err := c.err(); err != nil {
		return p, err
	}
	if root.get("learningRate") != nil {
		p.LearningRate = &tr.LearningRate
	}
	if root.get("batchSize") != nil {
		p.BatchSize = &tr.BatchSize
	}
	if root.get("optimizer") != nil {
		p.Optimizer = &tr.Optimizer
	}
	if root.get("momentum") != nil {
		p.Momentum = &tr.Momentum
	}
	if root.get("regularization") != nil {
		p.Regularization = &tr.Regularization
	}
	if p == (TrainingPatch{}) {
		return p, &LessonError{Problems: []FieldError{{Message: "nothing to change: want at least one of learningRate, batchSize, optimizer, momentum, regularization"}}}
	}
	return p, nil
}

// Set changes hyperparameters mid-training as an undoable step. A new
// optimizer starts with fresh state; a new batch size applies from the
// batch in progress.
func (t *Trainer) Set(p TrainingPatch) error {
	hp := t.s.hp
	if p.LearningRate != nil {
		hp.LearningRate = *p.LearningRate
	}
	if p.BatchSize != nil {
		hp.BatchSize = *p.BatchSize
	}
	if p.Momentum != nil {
		hp.Momentum = *p.Momentum
	}
	if p.Regularization != nil {
		hp.Regularization = *p.Regularization
	}
	if err := hp.checkPatchable(); err != nil {
		return err
	}
	fresh := p.Optimizer != nil && *p.Optimizer != hp.Optimizer
	if p.Optimizer != nil {
		hp.Optimizer = *p.Optimizer
	}
	t.edit(func() {
		t.s.hp = hp
		if fresh {
			for i := range t.layers {
				ly := &t.layers[i]
				clear(ly.MW)
				clear(ly.MB)
				clear(ly.VW)
				clear(ly.VB)
			}
			t.s.pos.Updates = 0
		}
	})
	t.note(Command{Kind: CommandSet, Patch: p})
	return nil
}

// SetWeight sets one weight (or, with bias, one bias) as an undoable step:
// layer and to name the neuron, from the input or neuron it comes from.
func (t *Trainer) SetWeight(layer, to, from int, bias bool, value float64) error {
	if layer < 0 || layer >= len(t.layers) {
		return &RangeError{"layer", fmt.Sprintf("want a layer from 0 to %d, got %d", len(t.layers)-1, layer)}
	}
	ly := &t.layers[layer]
	if to < 0 || to >= ly.nout {
		return &RangeError{"to", fmt.Sprintf("want a neuron from 0 to %d, got %d", ly.nout-1, to)}
	}
	if !bias && (from < 0 || from >= ly.nin) {
		return &RangeError{"from", fmt.Sprintf("want a neuron from 0 to %d, got %d", ly.nin-1, from)}
	}
	if value != value || value < -maxValue || value > maxValue {
		return &RangeError{"value", fmt.Sprintf("want a number from %g to %g, got %g", -maxValue, maxValue, value)}
	}
	t.edit(func() {
		if bias {
			ly.B[to] = value
		} else {
			ly.W[to*ly.nin+from] = value
		}
	})
	t.note(Command{Kind: CommandSetWeight, Layer: layer, To: to, From: from, Bias: bias, Value: value})
	return nil
}

// edit applies a change as one micro-step of its own and pins a checkpoint
// after it, so replay never needs to re-apply it.
func (t *Trainer) edit(apply func()) {
	t.pushHistory()
	apply()
	t.s.diverged = ""
	t.s.pos.T++
	pinned, oldest := 0, -1
	for k, c := range t.checkpoints[1:] { // [0] is where Back stops: not an edit
		if c.pinned {
			pinned++
			if oldest < 0 {
				oldest = k + 1
			}
		}
	}
	if pinned >= maxPinned {
		// Forget everything before the oldest edit: Back then stops there.
		t.checkpoints = append([]checkpoint(nil), t.checkpoints[oldest:]...)
		first := t.checkpoints[0].s.pos.T
		n := 0
		for n < len(t.history) && t.history[n] < first {
			n++
		}
		t.history = append(t.history[:0], t.history[n:]...)
	}
	t.checkpoints = append(t.checkpoints, t.snapshot(true))
}
