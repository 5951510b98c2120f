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
	expMax = 7.09782712893383973096e+02 // above this exp overflows
	expMin = -7.45133219101941108420e+02
)

// exp returns e**x: e**x = 2**m · 2**(j/64) · e**r with k = 64m + j the
// nearest integer to x·64/ln2 and |r| ≤ ln2/128, where a short polynomial
// gets e**r to well under half an ulp.
func exp(x float64) float64 {
	switch {
	case x != x:
		return x
	case x > expMax:
		return math.Inf(1)
	case x < expMin:
		return 0
	}
	k := math.Floor(float64(x*invLn2By64) + 0.5)
	r := float64(x-float64(k*ln2By64Hi)) - float64(k*ln2By64Lo)
	ki := int64(k)
	t := expTable[ki&63]
	return scale2(t+float64(t*expPoly(r)), ki>>6)
}

// expm1 returns e**x − 1 for x ≥ 0 (all tanh needs), accurate near 0 too:
// with the same reduction, e**x − 1 = 2**m·((2**(j/64) − 1) + 2**(j/64)·(e**r − 1))
// + (2**m − 1), a sum of terms that cannot cancel.
func expm1(x float64) float64 {
	if x > expMax || x != x {
		return exp(x) - 1
	}
	// For 0 ≤ x ≤ expMax the rounded value is in [0.5, 46000], where
	// truncating to an integer is the floor: the same k as math.Floor,
	// without a call (tanh, most of a forward pass, comes through here).
	ki := int64(float64(x*invLn2By64) + 0.5)
	k := float64(ki)
	r := float64(x-float64(k*ln2By64Hi)) - float64(k*ln2By64Lo)
	j, m := ki&63, ki>>6
	inner := expm1Table[j] + float64(expTable[j]*expPoly(r))
	if m == 0 {
		return inner
	}
	p := scale2(1, m)
	return float64(inner*p) + (p - 1)
}

// expPoly is e**r − 1 for |r| ≤ ln2/128, by its Taylor series to r**7/7!,
// whose remainder is below 1e−20·r, so expm1 stays exact relative to tiny r.
func expPoly(r float64) float64 {
	p := float64(r*(1.0/5040)) + 1.0/720
	p = float64(r*p) + 1.0/120
	p = float64(r*p) + 1.0/24
	p = float64(r*p) + 1.0/6
	p = float64(r*p) + 0.5
	p = float64(r*p) + 1
	return float64(r * p)
}

// scale2 returns v·2**m, exactly while the result is a normal number.
func scale2(v float64, m int64) float64 {
	if m >= -1022 && m <= 1023 {
		return float64(v * math.Float64frombits(uint64(m+1023)<<52))
	}
	return math.Ldexp(v, int(m))
}

const (
	invLn2By64 = 92.33248261689366     // 64/ln 2
	ln2By64Hi  = 0.010830424695086549  // ln2/64 with its low 20 bits clear: k·ln2By64Hi is exact
	ln2By64Lo  = 1.162596423439437e-12 // ln2/64 − ln2By64Hi
)

// expTable[j] = 2^(j/64) and expm1Table[j] = 2^(j/64) − 1, each correctly
// rounded (computed to 60 digits and rounded once).
var expTable = [64]float64{
	1.0, 1.0108892860517005, 1.0218971486541166, 1.0330248790212284,
	1.0442737824274138, 1.0556451783605572, 1.0671404006768237, 1.0787607977571199,
	1.0905077326652577, 1.102382583307841, 1.1143867425958924, 1.1265216186082418,
	1.1387886347566916, 1.1511892299529827, 1.1637248587775775, 1.1763969916502812,
	1.189207115002721, 1.202156731452703, 1.215247359980469, 1.22848053610687,
	1.241857812073484, 1.255380757024691, 1.2690509571917332, 1.2828700160787783,
	1.2968395546510096, 1.3109612115247644, 1.3252366431597413, 1.339667524053303,
	1.3542555469368927, 1.3690024229745905, 1.383909881963832, 1.3989796725383112,
	1.4142135623730951, 1.42961333839197, 1.4451808069770467, 1.460917794180647,
	1.4768261459394993, 1.4929077282912648, 1.5091644275934228, 1.5255981507445384,
	1.5422108254079407, 1.559004400237837, 1.5759808451078865, 1.593142151342267,
	1.6104903319492543, 1.6280274218573478, 1.645755478153965, 1.6636765803267364,
	1.681792830507429, 1.7001063537185235, 1.718619298122478, 1.7373338352737062,
	1.7562521603732995, 1.7753764925265212, 1.7947090750031072, 1.8142521755003989,
	1.8340080864093424, 1.8539791250833855, 1.8741676341103, 1.8945759815869656,
	1.9152065613971474, 1.9360617934922943, 1.9571441241754002, 1.978456026387951,
}

var expm1Table = [64]float64{
	0.0, 0.01088928605170046, 0.02189714865411668, 0.03302487902122842,
	0.04427378242741384, 0.05564517836055716, 0.06714040067682361, 0.07876079775711979,
	0.09050773266525766, 0.10238258330784095, 0.11438674259589254, 0.1265216186082419,
	0.13878863475669165, 0.1511892299529827, 0.1637248587775775, 0.17639699165028128,
	0.18920711500272105, 0.20215673145270313, 0.21524735998046887, 0.22848053610687,
	0.24185781207348406, 0.2553807570246911, 0.2690509571917332, 0.28287001607877826,
	0.29683955465100964, 0.31096121152476436, 0.32523664315974127, 0.339667524053303,
	0.3542555469368927, 0.3690024229745906, 0.38390988196383197, 0.3989796725383111,
	0.41421356237309503, 0.42961333839197, 0.4451808069770466, 0.460917794180647,
	0.4768261459394993, 0.49290772829126484, 0.5091644275934227, 0.5255981507445383,
	0.5422108254079409, 0.5590044002378369, 0.5759808451078865, 0.5931421513422669,
	0.6104903319492543, 0.6280274218573477, 0.6457554781539648, 0.6636765803267365,
	0.6817928305074291, 0.7001063537185235, 0.7186192981224779, 0.7373338352737062,
	0.7562521603732995, 0.7753764925265213, 0.7947090750031072, 0.8142521755003987,
	0.8340080864093424, 0.8539791250833856, 0.8741676341102999, 0.8945759815869656,
	0.9152065613971473, 0.9360617934922945, 0.9571441241754003, 0.9784560263879509,
}

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
	v := 1.0 // tanh(22) rounds to 1
	if a <= 22 {
		e := expm1(2 * a)
		v = e / (e + 2)
	}
	if x < 0 {
		return -v
	}
	return v
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

// π/2 in three pieces for reducing sin and cos arguments: the first two
// have their low bits clear, so k·piBy2A and k·piBy2B are exact for
// |k| < 2^20 (|x| up to about 1.6e6, past every lesson's inputs), and the
// three together carry π/2 to about 100 bits.
const (
	piBy2A   = 1.5707963267341256     // π/2 to 33 bits
	piBy2B   = 6.077100506303966e-11  // the next 33 bits
	piBy2C   = 2.0222662487959506e-21 // the rest
	twoByPi  = 0.6366197723675814     // 2/π
	trigExac = 1 << 20                // |k| below this reduces exactly
	piBy4    = 0.78539816339744830962 // π/4
)

// reduce returns r = x − k·π/2 with |r| ≲ π/4 and k's last two bits (the
// quadrant). Beyond |k| = 2^20 the result is still the same on every
// machine, only less accurate.
func reduce(x float64) (float64, int64) {
	if math.Abs(x) <= piBy4 {
		return x, 0
	}
	k := math.Floor(float64(x*twoByPi) + 0.5)
	r := x - float64(k*piBy2A)
	r -= float64(k * piBy2B)
	r -= float64(k * piBy2C)
	ki := int64(0)
	if math.Abs(k) < trigExac {
		ki = int64(k)
	} else {
		ki = int64(math.Mod(k, 4))
	}
	return r, ki & 3
}

// sinPoly is sin r for |r| ≤ π/4 + a little: r + r³·(−1/3! + r²/5! − …) to
// r¹⁷/17!, whose remainder is below 1e−16 of the result.
func sinPoly(r float64) float64 {
	z := float64(r * r)
	p := -1.0 / 355687428096000 // −1/17!
	for _, c := range [...]float64{1.0 / 1307674368000, -1.0 / 6227020800, 1.0 / 39916800, -1.0 / 362880, 1.0 / 5040, -1.0 / 120, 1.0 / 6} {
		p = float64(p*z) + c
	}
	// p is now 1/3! − r²/5! + …; sin r = r − r³·p.
	return r - float64(float64(r*z)*p)
}

// cosPoly is cos r for |r| ≤ π/4 + a little: 1 − r²/2 + r⁴·(1/4! − r²/6! + …)
// to r¹⁸/18!, summed so the big terms are added last.
func cosPoly(r float64) float64 {
	z := float64(r * r)
	p := 1.0 / 6402373705728000 // 1/18!
	for _, c := range [...]float64{-1.0 / 20922789888000, 1.0 / 87178291200, -1.0 / 479001600, 1.0 / 3628800, -1.0 / 40320, 1.0 / 720, -1.0 / 24} {
		p = float64(p*z) + c
	}
	// p is now −1/4! + r²/6! − …; cos r = 1 − z/2 − z²·p.
	hz := 0.5 * z
	w := 1 - hz
	return w + (((1 - w) - hz) - float64(float64(z*z)*p))
}

// sin returns the sine of x (radians), within a couple of ulps.
func sin(x float64) float64 {
	switch {
	case x == 0:
		return x // keeps the sign of −0
	case x != x || math.IsInf(x, 0):
		return math.NaN()
	}
	r, q := reduce(x)
	switch q {
	case 0:
		return sinPoly(r)
	case 1:
		return cosPoly(r)
	case 2:
		return -sinPoly(r)
	}
	return -cosPoly(r)
}

// cos returns the cosine of x (radians), within a couple of ulps.
func cos(x float64) float64 {
	if x != x || math.IsInf(x, 0) {
		return math.NaN()
	}
	r, q := reduce(x)
	switch q {
	case 0:
		return cosPoly(r)
	case 1:
		return -sinPoly(r)
	case 2:
		return -cosPoly(r)
	}
	return sinPoly(r)
}

// hypot returns √(p² + q²) without overflow, within a couple of ulps.
func hypot(p, q float64) float64 {
	p, q = math.Abs(p), math.Abs(q)
	switch {
	case math.IsInf(p, 1) || math.IsInf(q, 1):
		return math.Inf(1)
	case p != p || q != q:
		return math.NaN()
	}
	if p < q {
		p, q = q, p
	}
	if p == 0 {
		return 0
	}
	q /= p
	return float64(p * math.Sqrt(1+float64(q*q)))
}

// powInt returns x**n for a whole n ≥ 0 by repeated squaring: the same
// products in the same order on every machine (Adam's bias corrections
// 0.9**t and 0.999**t need nothing else).
func powInt(x float64, n int64) float64 {
	v := 1.0
	for ; n > 0; n >>= 1 {
		if n&1 == 1 {
			v = float64(v * x)
		}
		x = float64(x * x)
	}
	return v
}
