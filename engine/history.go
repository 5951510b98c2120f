package engine

import (
	"fmt"
	"math"
	"unsafe"
)

// checkpoint is a full copy of the trainer's mutable state at one moment.
// Its slab is never written after it is made, so a fork can share it.
type checkpoint struct {
	s        scalars
	slab     []float64 // nil: the lesson's starting numbers, rebuilt rather than kept
	pinned   bool      // made by an edit (or the start): never thinned away
	shared   bool      // the slab is also another trainer's (Fork): never reused for a new copy
	borrowed bool      // the slab was made by the trainer this one was forked from: not counted in MemoryBytes
}

// Bounds on history. Past maxHistory undoable steps, every other one of the
// older half is forgotten, so Back takes bigger strides there but still
// reaches the beginning. Past maxCheckpoints, every other unpinned
// checkpoint is dropped and the spacing doubles, so replay stays bounded
// relative to the run's length while memory stays fixed. maxCheckpoints
// and maxPinned are the most a trainer keeps; SetMemoryBudget lowers them
// for a big network.
const (
	maxHistory     = 4096
	maxCheckpoints = 24
	maxPinned      = 256
)

// SetMemoryBudget bounds what the trainer holds, in bytes, counting
// everything MemoryBytes counts: the live numbers, the checkpoints that
// Back replays from and the copies pinned by edits. The budget is spent
// on as many copies of the network's numbers as fit: a quarter (at most
// 24, at least 2) as checkpoints, the rest (at most 256, at least 1) for
// edits; past that the oldest edits are forgotten and Back stops at the
// oldest one kept. A budget too small for the minimums is exceeded by
// them. 0 means no budget: 24 checkpoints and 256 edits whatever their
// size.
func (t *Trainer) SetMemoryBudget(bytes int64) {
	t.budget = bytes
	if bytes <= 0 {
		t.maxCk, t.maxPin = maxCheckpoints, maxPinned
	} else {
		copies := int((bytes - t.baseBytes()) / t.slabBytes())
		t.maxCk = min(max(copies/4, 2), maxCheckpoints)
		t.maxPin = min(max(copies-t.maxCk-t.maxCk/2, 1), maxPinned)
	}
	for len(t.spare) > t.maxCk/2 {
		t.spare = t.spare[:len(t.spare)-1]
	}
	if t.pinnedCount() > t.maxPin {
		t.forgetEdits(t.maxPin)
	}
	for t.unpinnedCount() > t.maxCk {
		t.thin()
	}
}

// MemoryBudget returns the budget SetMemoryBudget set, or 0.
func (t *Trainer) MemoryBudget() int64 { return t.budget }

// slabBytes is the size of one copy of the network's numbers.
func (t *Trainer) slabBytes() int64 { return int64(len(t.slab)) * 8 }

// baseBytes is what the trainer holds besides copies of its numbers: the
// live slab, scratch, the sample order, the undo positions and losses
// (at their most), and the structs.
func (t *Trainer) baseBytes() int64 {
	n := t.slabBytes() + int64(len(t.scratch))*8 + int64(len(t.order))*4
	n += 2 * int64(t.neurons) * 8                                             // evalZ, evalA
	n += maxHistory * 8                                                       // history
	n += maxLosses * 32                                                       // losses
	n += int64(maxCheckpoints+maxPinned) * int64(unsafe.Sizeof(checkpoint{})) // checkpoint headers
	return n + 1024
}

// MemoryBytes returns the bytes the trainer holds that are its own: the
// live numbers and scratch, its history and losses, and every checkpoint
// and spare copy except those borrowed from the trainer it was forked
// from (which that trainer counts). The lesson, shared by every trainer
// made from it, is not counted.
func (t *Trainer) MemoryBytes() int64 {
	n := t.slabBytes() + int64(cap(t.scratch))*8 + int64(cap(t.order))*4 + 2*int64(t.neurons)*8
	n += int64(cap(t.history))*8 + int64(cap(t.losses))*32 + int64(cap(t.checkpoints))*int64(unsafe.Sizeof(checkpoint{}))
	for _, c := range t.checkpoints {
		if c.slab != nil && !c.borrowed {
			n += int64(cap(c.slab)) * 8
		}
	}
	for _, sl := range t.spare {
		n += int64(cap(sl)) * 8
	}
	n += int64(cap(t.undo.slab))*8 + int64(cap(t.undo.losses))*32
	return n + 1024
}

func (t *Trainer) pinnedCount() int {
	n := 0
	for _, c := range t.checkpoints[1:] { // [0] is where Back stops: not an edit
		if c.pinned {
			n++
		}
	}
	return n
}

func (t *Trainer) unpinnedCount() int {
	n := 0
	for _, c := range t.checkpoints {
		if !c.pinned {
			n++
		}
	}
	return n
}

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
// checkpointing allocates little once it has thinned a few times. A slab
// shared with a fork is never reused: the fork may still read it.
func (t *Trainer) drop(c checkpoint) {
	if c.slab != nil && !c.shared && len(t.spare) < t.maxCk/2 {
		t.spare = append(t.spare, c.slab)
	}
}

func (t *Trainer) pushHistory() {
	t.partial = false
	t.endBack()
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
	if t.unpinnedCount() > t.maxCk {
		t.thin()
	}
}

// thin drops every other unpinned checkpoint and doubles their spacing.
func (t *Trainer) thin() {
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
	_, err := t.BackLimited(math.MaxInt)
	return err
}

// BackLimited is Back in pieces: it replays at most budget micro-steps (a
// whole sample replayed at once counts as its micro-steps) and reports
// whether the Back is complete. Calling it again continues the same Back.
// Replaying from a checkpoint after a long run can take seconds, so a
// server takes it in pieces between which it can give the CPU to others,
// stop, or give up with CancelBack. Any other call (Step, Run, Set,
// SetWeight, Reset) while a Back is unfinished leaves the trainer at the
// earlier moment of the same timeline it has replayed to, a state it
// passed through. An unfinished Back holds one more copy of the numbers
// (for CancelBack), which MemoryBytes counts.
func (t *Trainer) BackLimited(budget int) (bool, error) {
	if !t.backing {
		if len(t.history) == 0 {
			return true, ErrAtStart
		}
		target := t.history[len(t.history)-1]
		t.keepForCancel()
		t.history = t.history[:len(t.history)-1]
		t.rewind(target)
		t.backing, t.backTarget = true, target
	}
	if t.replay(t.backTarget, budget) {
		t.endBack()
		t.note(Command{Kind: CommandBack, Steps: 1})
		return true, nil
	}
	return false, nil
}

// backUndo is what CancelBack needs to put the trainer back where it was
// before an unfinished Back: its numbers and scalars, the checkpoints after
// the one the replay started from (set aside by rewind, not yet dropped),
// its epoch losses and whether it was inside an unfinished step.
type backUndo struct {
	slab       []float64
	s          scalars
	target     int64
	later      []checkpoint
	losses     []EpochLoss
	lossStride int
	partial    bool
	partialG   Granularity
}

// keepForCancel saves what CancelBack restores, before a Back begins.
func (t *Trainer) keepForCancel() {
	u := &t.undo
	if n := len(t.spare); n > 0 {
		u.slab, t.spare = t.spare[n-1], t.spare[:n-1]
	} else if len(u.slab) != len(t.slab) {
		u.slab = make([]float64, len(t.slab))
	}
	copy(u.slab, t.slab)
	u.s, u.target = t.s, t.history[len(t.history)-1]
	u.losses = append(u.losses[:0], t.losses...)
	u.lossStride = t.lossStride
	u.partial, u.partialG = t.partial, t.partialG
	u.later = u.later[:0]
}

// endBack ends an unfinished Back where it is (complete, or given up for
// another call): what CancelBack would have needed is let go.
func (t *Trainer) endBack() {
	if !t.backing {
		return
	}
	t.backing = false
	u := &t.undo
	for _, c := range u.later {
		t.drop(c)
	}
	clear(u.later)
	u.later = u.later[:0]
	if u.slab != nil && len(t.spare) < t.maxCk/2 {
		t.spare = append(t.spare, u.slab)
	}
	u.slab = nil
	u.losses = u.losses[:0]
}

// CancelBack gives up an unfinished BackLimited and puts the trainer back
// exactly where it was before that Back began: the same numbers, position,
// history, checkpoints and losses, as if Back had never been asked for
// (nothing is logged). It reports whether there was a Back to cancel.
func (t *Trainer) CancelBack() bool {
	if !t.backing {
		return false
	}
	u := &t.undo
	copy(t.slab, u.slab)
	t.s = u.s
	t.orderEpoch = -1
	t.sink = nil
	t.history = append(t.history, u.target)
	t.checkpoints = append(t.checkpoints, u.later...)
	u.later = u.later[:0] // in use again: endBack must not drop them
	t.losses = append(t.losses[:0], u.losses...)
	t.lossStride = u.lossStride
	t.partial, t.partialG = u.partial, u.partialG
	t.endBack()
	return true
}

// Reset returns to the lesson's starting weights and forgets the history.
func (t *Trainer) Reset() {
	t.endBack()
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

// rewind puts the trainer at the newest checkpoint at or before micro-step
// target of the current timeline; replay then brings it to target.
func (t *Trainer) rewind(target int64) {
	k := len(t.checkpoints) - 1
	for k > 0 && t.checkpoints[k].s.pos.T > target {
		k--
	}
	// The checkpoints after k are set aside, not dropped, until the Back
	// ends (endBack) or is cancelled (CancelBack).
	t.undo.later = append(t.undo.later[:0], t.checkpoints[k+1:]...)
	clear(t.checkpoints[k+1:])
	t.checkpoints = t.checkpoints[:k+1]
	t.restoreFrom(&t.checkpoints[k])
	n := len(t.losses)
	for n > 0 && t.losses[n-1].Epoch > t.s.pos.Epoch {
		n--
	}
	t.losses = t.losses[:n]
}

// replay steps silently towards micro-step target, at most budget
// micro-steps' worth, and reports whether it got there.
func (t *Trainer) replay(target int64, budget int) bool {
	t.sink = nil
	for used := 0; t.s.pos.T < target && t.s.diverged == ""; {
		if used >= budget {
			return false
		}
		p := &t.s.pos
		whole := int64(t.microsPerSample())
		if p.BatchCount+1 >= t.s.hp.BatchSize || p.Sample == t.train.n-1 {
			whole += int64(len(t.layers))
		}
		if t.atSampleStart() && p.T+whole <= target {
			t.fastSample()
			used += int(whole)
		} else {
			t.micro()
			used++
		}
	}
	return true
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
	if t.pinnedCount() >= t.maxPin {
		t.forgetEdits(t.maxPin - 1)
	}
	t.checkpoints = append(t.checkpoints, t.snapshot(true))
}

// forgetEdits forgets everything before the oldest edits until at most
// keep pinned copies are left: Back then stops at the oldest edit kept.
func (t *Trainer) forgetEdits(keep int) {
	for t.pinnedCount() > keep {
		oldest := 0
		for k, c := range t.checkpoints[1:] {
			if c.pinned {
				oldest = k + 1
				break
			}
		}
		for _, c := range t.checkpoints[:oldest] {
			t.drop(c)
		}
		t.checkpoints = append(t.checkpoints[:0:0], t.checkpoints[oldest:]...)
	}
	first := t.checkpoints[0].s.pos.T
	n := 0
	for n < len(t.history) && t.history[n] < first {
		n++
	}
	t.history = append(t.history[:0], t.history[n:]...)
}
