package engine

import "math"

// layer is one fully connected layer's numbers. Every slice is a window into
// the trainer's single state slab (see Trainer.slab), so a checkpoint is one
// copy. W is row-major: W[j*nin+i] is the weight into neuron j from neuron i.
type layer struct {
	nin, nout int
	act       Activation

	W, B   []float64 // weights and biases
	GW, GB []float64 // gradient sums over the current batch
	MW, MB []float64 // momentum velocity, or Adam's first moment
	VW, VB []float64 // Adam's second moment
	Z, A   []float64 // the current sample's pre-activations and activations
	DA, DZ []float64 // ∂L/∂a and ∂L/∂z for the current sample
	oldW   []float64 // the last update: values before, and the gradient used
	oldB   []float64
	gradW  []float64
	gradB  []float64
}

// slabSize is how many float64s a layer needs in the state slab.
func slabSize(nin, nout int) int { return 6*nin*nout + 10*nout }

func (l *layer) carve(slab []float64) []float64 {
	take := func(n int) []float64 {
		s := slab[:n:n]
		slab = slab[n:]
		return s
	}
	p, n := l.nin*l.nout, l.nout
	l.W, l.GW, l.MW, l.VW, l.oldW, l.gradW = take(p), take(p), take(p), take(p), take(p), take(p)
	l.B, l.GB, l.MB, l.VB, l.oldB, l.gradB = take(n), take(n), take(n), take(n), take(n), take(n)
	l.Z, l.A, l.DA, l.DZ = take(n), take(n), take(n), take(n)
	return slab
}

// forward computes z = W·in + b and a = f(z) into Z and A, and reports
// whether every value is finite.
func (l *layer) forward(in, Z, A []float64) bool {
	nin := l.nin
	in = in[:nin] // lets the compiler drop the bounds checks below
	sum := 0.0
	j := 0
	// Four neurons at a time: each neuron's sum still runs bias first, then
	// inputs in order (the same bits as one at a time), but the four
	// independent chains of additions overlap in the CPU.
	for ; j+4 <= len(Z); j += 4 {
		r0 := l.W[j*nin : j*nin+nin]
		r1 := l.W[(j+1)*nin : (j+1)*nin+nin]
		r2 := l.W[(j+2)*nin : (j+2)*nin+nin]
		r3 := l.W[(j+3)*nin : (j+3)*nin+nin]
		s0, s1, s2, s3 := l.B[j], l.B[j+1], l.B[j+2], l.B[j+3]
		for i, a := range in {
			s0 += float64(r0[i] * a) // float64(): no fused multiply-add, on any CPU
			s1 += float64(r1[i] * a)
			s2 += float64(r2[i] * a)
			s3 += float64(r3[i] * a)
		}
		Z[j], Z[j+1], Z[j+2], Z[j+3] = s0, s1, s2, s3
		sum += s0 + s1 + s2 + s3
	}
	for ; j < len(Z); j++ {
		row := l.W[j*nin : j*nin+nin]
		s := l.B[j]
		for i, w := range row {
			s += float64(w * in[i])
		}
		Z[j] = s
		sum += s
	}
	activate(l.act, Z, A)
	return sum-sum == 0 // false for NaN and ±Inf; a finite sum means finite terms
}

// activate applies f elementwise (softmax over the whole layer).
func activate(act Activation, Z, A []float64) {
	switch act {
	case Sigmoid:
		for j, z := range Z {
			A[j] = sigmoid(z)
		}
	case Tanh:
		for j, z := range Z {
			A[j] = tanh(z)
		}
	case ReLU:
		for j, z := range Z {
			A[j] = max(z, 0)
		}
	case LeakyReLU:
		for j, z := range Z {
			if z > 0 {
				A[j] = z
			} else {
				A[j] = 0.01 * z
			}
		}
	case Linear:
		copy(A, Z)
	case Softmax:
		m := math.Inf(-1)
		for _, z := range Z {
			m = max(m, z)
		}
		s := 0.0
		for j, z := range Z {
			A[j] = exp(z - m)
			s += A[j]
		}
		for j := range A {
			A[j] /= s
		}
	}
}

// slope is ∂a/∂z for elementwise activations (not softmax).
func slope(act Activation, z, a float64) float64 {
	switch act {
	case Sigmoid:
		return float64(a * (1 - a))
	case Tanh:
		return 1 - float64(a*a) // float64(): no fused multiply-add
	case ReLU:
		if z > 0 {
			return 1
		}
		return 0 // the derivative at 0 is taken as 0
	case LeakyReLU:
		if z > 0 {
			return 1
		}
		return 0.01
	default:
		return 1
	}
}

// lossValue is the per-sample loss of prediction y (pre-activation z)
// against target t.
func lossValue(kind LossKind, act Activation, z, y, t []float64) float64 {
	s := 0.0
	switch kind {
	case HalfSquaredError:
		for k := range y {
			d := y[k] - t[k]
			s += float64(0.5 * float64(d*d))
		}
	case MSE:
		for k := range y {
			d := y[k] - t[k]
			s += float64(d * d)
		}
		s /= float64(len(y))
	case CrossEntropy:
		if act == Softmax {
			// −Σ t log y = Σ t·(logsumexp(z) − z), exact even when y underflows.
			m := math.Inf(-1)
			for _, v := range z {
				m = max(m, v)
			}
			e := 0.0
			for _, v := range z {
				e += exp(v - m)
			}
			lse := m + log(e)
			for k := range z {
				if t[k] != 0 {
					s += float64(t[k] * (lse - z[k]))
				}
			}
		} else {
			// −[t log σ(z) + (1−t) log(1−σ(z))] = softplus(z) − t·z.
			for k := range z {
				s += softplus(z[k]) - float64(t[k]*z[k])
			}
		}
	}
	return s
}

// maxReported caps ∂L/∂a on a saturated output (y exactly 0 or 1), where the
// true value is infinite; training uses ∂L/∂z = y − t there, which is exact.
const maxReported = 1e300

// lossGrad writes ∂L/∂y into dA.
func lossGrad(kind LossKind, act Activation, y, t, dA []float64) {
	switch kind {
	case HalfSquaredError:
		for k := range y {
			dA[k] = y[k] - t[k]
		}
	case MSE:
		n := float64(len(y))
		for k := range y {
			dA[k] = 2 * (y[k] - t[k]) / n
		}
	case CrossEntropy:
		for k := range y {
			g := 0.0
			if t[k] != 0 {
				g -= t[k] / y[k]
			}
			if t[k] != 1 && act != Softmax {
				g += (1 - t[k]) / (1 - y[k])
			}
			dA[k] = max(-maxReported, min(maxReported, g))
		}
	}
}

// naturalPair reports whether ∂L/∂z simplifies to y − t: cross-entropy on a
// sigmoid or softmax output.
func naturalPair(kind LossKind, act Activation) bool {
	return kind == CrossEntropy && (act == Sigmoid || act == Softmax)
}

// outputDZ computes ∂L/∂z of the output layer from its ∂L/∂a.
func (l *layer) outputDZ(kind LossKind, t []float64) {
	switch {
	case naturalPair(kind, l.act):
		for k := range l.DZ {
			l.DZ[k] = l.A[k] - t[k]
		}
	case l.act == Softmax:
		softmaxDZ(l.A, l.DA, l.DZ)
	default:
		for k, da := range l.DA {
			l.DZ[k] = float64(da * slope(l.act, l.Z[k], l.A[k]))
		}
	}
}

// softmaxDZ applies the softmax Jacobian: dZ_k = a_k·(dA_k − Σ_j a_j·dA_j).
func softmaxDZ(A, DA, DZ []float64) {
	s := 0.0
	for j := range A {
		s += float64(A[j] * DA[j])
	}
	for k := range A {
		DZ[k] = float64(A[k] * (DA[k] - s))
	}
}

// hiddenDZ computes this layer's ∂L/∂a from the next layer's ∂L/∂z and
// weights, then ∂L/∂z.
func (l *layer) hiddenDZ(next *layer) {
	clear(l.DA)
	nin := next.nin
	da := l.DA[:nin]
	for j, dz := range next.DZ {
		row := next.W[j*nin : j*nin+nin]
		for i, w := range row {
			da[i] += float64(w * dz)
		}
	}
	for k, da := range l.DA {
		l.DZ[k] = float64(da * slope(l.act, l.Z[k], l.A[k]))
	}
}

// accumulate adds this sample's ∂L/∂W = dZ·inᵀ and ∂L/∂b = dZ to the batch
// sums, and reports whether dA and dZ are finite.
func (l *layer) accumulate(in []float64) bool {
	nin := l.nin
	in = in[:nin]
	sum := 0.0
	for j, dz := range l.DZ {
		row := l.GW[j*nin : j*nin+nin]
		for i, a := range in {
			row[i] += float64(dz * a)
		}
		l.GB[j] += dz
		sum += dz + l.DA[j]
	}
	return sum-sum == 0
}
