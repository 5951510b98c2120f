package engine

// Fork returns an independent trainer in exactly this trainer's state: the
// same weights, optimizer state, position in the epoch, current sample's
// values, epoch losses and history, so Back on the fork undoes the steps
// taken before it was made. The two share the lesson and the checkpoints
// made before the fork (read-only: a checkpoint's copy is never written
// after it is made), so a fork costs one copy of the live numbers and its
// undo positions, not the whole history; stepping one never changes the
// other. The fork keeps this trainer's memory budget. A classroom uses it
// for "explore on my own".
func (t *Trainer) Fork() *Trainer {
	f, err := NewTrainer(t.lesson)
	if err != nil {
		panic("engine: Fork of a trainer whose lesson no longer builds: " + err.Error()) // NewTrainer accepted it before
	}
	copy(f.slab, t.slab)
	f.s = t.s
	f.losses = append(f.losses[:0], t.losses...)
	f.lossStride = t.lossStride
	f.history = append([]int64(nil), t.history...)
	f.checkpoints = make([]checkpoint, len(t.checkpoints))
	for i := range t.checkpoints {
		c := &t.checkpoints[i]
		if c.slab != nil {
			c.shared = true
		}
		f.checkpoints[i] = *c
		f.checkpoints[i].borrowed = c.slab != nil
	}
	f.ckEvery = t.ckEvery
	f.budget, f.maxCk, f.maxPin = t.budget, t.maxCk, t.maxPin
	return f
}
