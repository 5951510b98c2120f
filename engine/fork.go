package engine

// Fork returns an independent trainer in exactly this trainer's state: the
// same weights, optimizer state, position in the epoch, current sample's
// values, epoch losses and history, so Back on the fork undoes the steps
// taken before it was made. The two share the lesson (read-only) and
// nothing else; stepping one never changes the other. A classroom uses it
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
	for i, c := range t.checkpoints {
		if c.slab != nil {
			c.slab = append([]float64(nil), c.slab...)
		}
		f.checkpoints[i] = c
	}
	f.ckEvery = t.ckEvery
	return f
}
