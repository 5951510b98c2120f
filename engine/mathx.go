package engine

import "math"

// The standard library's Exp and Log use assembly on amd64 that takes a
// fused multiply-add path only on CPUs that have one, so their last bit can
// differ between two machines. netstep promises the same numbers on every
// machine, so the few transcendental functions the engine needs are computed
// here in plain float64 arithmetic. Every product is wrapped in float64(…),
// which forbids the compiler from fusing it into an FMA on any architecture.
// Each function is within a couple of ulps of the correctly rounded result
// (checked against the standard library in mathx_test.go).

const (
	ln2Hi  = 6.93147180369123816490e-01 // high bits of ln 2: k·ln2Hi is exact for |k| < 2^11
	ln2Lo  = 1.90821492927058770002e-10 // ln 2 − ln2Hi
	log2e  = 1.44269504088896338700e+00
	ln2    = 0.693147180559945309417232121458176568
	expMax = 7.09782712893383973096e+02 // above this exp overflows
	expMin = -7.45133219101941108420e+02
)

// exp returns e**x.
func exp(x float64) float64 {
	switch {
	case x != x:
		return x
	case x > expMax:
		return math.Inf(1)
	case x < expMin:
		return 0
	}
	k := math.Floor(float64(x*log2e) + 0.5)
	r := float64(x-float64(k*ln2Hi)) - float64(k*ln2Lo)
	if k >= -1022 && k <= 1023 {
		// Multiplying by an exact power of two is exact for normal results
		// and much faster than Ldexp.
		return float64(expPoly(r) * math.Float64frombits(uint64(int64(k)+1023)<<52))
	}
	return math.Ldexp(expPoly(r), int(k))
}

// expPoly is e**r for |r| ≤ ln2/2 by its Taylor series to r**14/14!, whose
// remainder is below 1e-18.
func expPoly(r float64) float64 {
	p := 1.0 / 87178291200 // 1/14!
	for _, c := range [...]float64{
		1.0 / 6227020800, 1.0 / 479001600, 1.0 / 39916800, 1.0 / 3628800, 1.0 / 362880,
		1.0 / 40320, 1.0 / 5040, 1.0 / 720, 1.0 / 120, 1.0 / 24, 1.0 / 6, 0.5, 1,
	} {
		p = float64(p*r) + c
	}
	return float64(p*r) + 1
}

// expm1 returns e**x − 1, accurate for x near 0 too.
func expm1(x float64) float64 {
	if x > 0.7 || x < -0.7 || x != x {
		return exp(x) - 1
	}
	// Taylor series without the constant term: x + x²/2! + … + x¹⁹/19!.
	p := 1.0 / 121645100408832000 // 1/19!
	for n := 18; n >= 1; n-- {
		p = float64(p*x) + 1/factorial[n]
	}
	return float64(p * x)
}

var factorial = func() (f [20]float64) {
	f[0] = 1
	for i := 1; i < len(f); i++ {
		f[i] = f[i-1] * float64(i)
	}
	return f
}()

// log returns the natural logarithm of x.
func log(x float64) float64 {
	switch {
	case x != x || x < 0:
		return math.NaN()
	case x == 0:
		return math.Inf(-1)
	case math.IsInf(x, 1):
		return x
	}
	m, e := math.Frexp(x) // x = m·2^e, m in [0.5, 1)
	if m < math.Sqrt2/2 {
		m *= 2
		e--
	}
	// log m = 2·atanh(s) with s = (m−1)/(m+1), |s| ≤ 0.1716.
	return float64(float64(e)*ln2Hi) + (atanh2((m-1)/(m+1)) + float64(float64(e)*ln2Lo))
}

// log1p returns log(1+x) for x ≥ 0, accurate for x near 0 too.
func log1p(x float64) float64 {
	if x > 1 || x != x {
		return log(1 + x)
	}
	return atanh2(x / (2 + x)) // |s| ≤ 1/3
}

// atanh2 returns 2·atanh(s) = log((1+s)/(1−s)) for |s| ≤ 1/3 by its series.
func atanh2(s float64) float64 {
	s2 := float64(s * s)
	p := 1.0 / 41
	for n := 39; n >= 3; n -= 2 {
		p = float64(p*s2) + 1/float64(n)
	}
	return 2 * (s + float64(float64(s*s2)*p))
}

// tanh returns the hyperbolic tangent of x.
func tanh(x float64) float64 {
	a := math.Abs(x)
	if a > 22 {
		return math.Copysign(1, x) // tanh(22) rounds to 1
	}
	e := expm1(2 * a)
	return math.Copysign(e/(e+2), x)
}

// sigmoid returns 1/(1+e**−z) without overflow for large |z|.
func sigmoid(z float64) float64 {
	if z >= 0 {
		return 1 / (1 + exp(-z))
	}
	e := exp(z)
	return e / (1 + e)
}

// softplus returns log(1+e**z) without overflow for large z.
func softplus(z float64) float64 {
	if z > 0 {
		return z + log1p(exp(-z))
	}
	return log1p(exp(z))
}
