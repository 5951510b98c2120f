package engine

import "strconv"

// The latest example, for a page that watches training run: Run trains
// without events, so a page that draws the network while it runs needs the
// numbers of the sample the layers hold now, and the loss before training
// to start its loss chart at epoch 0.

// AppendLatest appends the members
// "sample":{"index","x","y"},"values":{"a","dZ"},"sampleLoss" for the
// sample whose values the layers hold (the last one Run trained on), in the
// forms State uses (a[l][j], dZ[l][j]; null where the step machine has not
// reached yet). It appends nothing when no sample has been seen. It
// allocates nothing beyond growing dst, so a server can call it for every
// progress frame.
func (t *Trainer) AppendLatest(dst []byte) []byte {
	s := &t.s
	if !s.haveSample {
		return dst
	}
	dst = append(dst, `"sample":{"index":`...)
	dst = strconv.AppendInt(dst, int64(s.index), 10)
	dst = append(dst, `,"x":`...)
	dst = appendVector(dst, t.train.input(s.index))
	dst = append(dst, `,"y":`...)
	dst = appendVector(dst, t.train.target(s.index))
	dst = append(dst, `},"values":{"a":[`...)
	dst = t.appendReached(dst, false)
	dst = append(dst, `],"dZ":[`...)
	dst = t.appendReached(dst, true)
	dst = append(dst, `]}`...)
	if s.haveLoss {
		dst = append(dst, `,"sampleLoss":`...)
		dst = AppendFloat(dst, s.loss)
	}
	return dst
}

// appendReached appends every layer's activations (blame: their ∂L/∂z) as
// arrays separated by commas, null where the step machine has not reached,
// as values does.
func (t *Trainer) appendReached(dst []byte, blame bool) []byte {
	p := t.s.pos
	mid := !t.atSampleStart()
	for l := range t.layers {
		ly := &t.layers[l]
		if l > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, '[')
		for j := range ly.nout {
			if j > 0 {
				dst = append(dst, ',')
			}
			var done bool
			if blame {
				done = !mid || p.Phase == PhaseUpdate || (p.Phase == PhaseBackward && (l > p.Layer || (l == p.Layer && j < p.Neuron)))
			} else {
				done = !mid || p.Phase != PhaseForward || l < p.Layer || (l == p.Layer && j < p.Neuron)
			}
			switch {
			case !done:
				dst = append(dst, "null"...)
			case blame:
				dst = AppendFloat(dst, ly.DZ[j])
			default:
				dst = AppendFloat(dst, ly.A[j])
			}
		}
		dst = append(dst, ']')
	}
	return dst
}

// CurrentLoss is the mean per-sample loss over each set with the current
// weights, labelled with the epochs completed. At the start of training it
// is the loss before any training: a page plots it as epoch 0. It uses the
// evaluation buffers, so the current sample's values stay as they are, and
// allocates nothing.
func (t *Trainer) CurrentLoss() EpochLoss {
	e := EpochLoss{Epoch: t.s.pos.Epoch, TrainLoss: t.meanLoss(t.train)}
	if t.test.n > 0 {
		e.TestLoss, e.HasTest = t.meanLoss(t.test), true
	}
	return e
}
