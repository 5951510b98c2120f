package engine

import (
	"math"
	"math/rand/v2"
	"testing"
)

// ulps is the distance between a and b in units in the last place of b.
func ulps(a, b float64) float64 {
	if a == b {
		return 0
	}
	return math.Abs(a-b) / math.Abs(math.Nextafter(b, math.Inf(1))-b)
}

func TestMathAgainstStandardLibrary(t *testing.T) {
	tests := []struct {
		name     string
		got, std func(float64) float64
		lo, hi   float64
		maxUlps  float64
	}{
		{"exp", exp, math.Exp, -700, 700, 2},
		{"expm1", expm1, math.Expm1, 0, 30, 2},
		{"log", log, math.Log, 1e-300, 1e300, 2},
		{"log1p", log1p, math.Log1p, 0, 5, 2},
		{"tanh", tanh, math.Tanh, -25, 25, 3},
		{"sigmoid", sigmoid, func(z float64) float64 { return 1 / (1 + math.Exp(-z)) }, -30, 30, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			worst := 0.0
			for i := 0; i <= 20000; i++ {
				var x float64
				if tt.name == "log" {
					x = math.Exp(math.Log(tt.lo) + (math.Log(tt.hi)-math.Log(tt.lo))*float64(i)/20000)
				} else {
					x = tt.lo + (tt.hi-tt.lo)*float64(i)/20000
				}
				if d := ulps(tt.got(x), tt.std(x)); d > worst {
					worst = d
					if d > tt.maxUlps {
						t.Fatalf("%s(%v) = %v, standard library %v: %v ulps apart", tt.name, x, tt.got(x), tt.std(x), d)
					}
				}
			}
		})
	}
}

func TestMathEdges(t *testing.T) {
	tests := []struct {
		name      string
		got, want float64
	}{
		{"exp(0)", exp(0), 1},
		{"exp(1)", exp(1), math.E},
		{"exp(-inf)", exp(math.Inf(-1)), 0},
		{"exp(800)", exp(800), math.Inf(1)},
		{"log(1)", log(1), 0},
		{"log(e)", log(math.E), 1},
		{"tanh(0)", tanh(0), 0},
		{"tanh(100)", tanh(100), 1},
		{"tanh(-100)", tanh(-100), -1},
		{"sigmoid(0)", sigmoid(0), 0.5},
		{"sigmoid(-1000)", sigmoid(-1000), 0},
		{"softplus(-1000)", softplus(-1000), 0},
		{"softplus(1000)", softplus(1000), 1000},
		{"expm1(1e-20)", expm1(1e-20), 1e-20},
		{"expm1(0)", expm1(0), 0},
	}
	for _, tt := range tests {
		if tt.got != tt.want && ulps(tt.got, tt.want) > 1 {
			t.Errorf("%s = %v, want %v", tt.name, tt.got, tt.want)
		}
	}
	if !math.IsNaN(exp(math.NaN())) || !math.IsNaN(log(-1)) {
		t.Error("NaN in must give NaN out")
	}
}

// expm1Floor is expm1 as first written, with math.Floor: the reference
// that the faster rounding in expm1 must match bit for bit.
func expm1Floor(x float64) float64 {
	if x > expMax || x != x {
		return exp(x) - 1
	}
	k := math.Floor(float64(x*invLn2By64) + 0.5)
	r := float64(x-float64(k*ln2By64Hi)) - float64(k*ln2By64Lo)
	ki := int64(k)
	j, m := ki&63, ki>>6
	inner := expm1Table[j] + float64(expTable[j]*expPoly(r))
	if m == 0 {
		return inner
	}
	p := scale2(1, m)
	return float64(inner*p) + (p - 1)
}

// TestExpm1RoundingUnchanged: over every range tanh uses (and up to where
// expm1 overflows), rounding by truncation gives exactly the bits that
// math.Floor gave, so no trace changes.
func TestExpm1RoundingUnchanged(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	check := func(x float64) {
		if got, want := expm1(x), expm1Floor(x); math.Float64bits(got) != math.Float64bits(want) {
			t.Fatalf("expm1(%v) = %v, want %v", x, got, want)
		}
	}
	for _, x := range []float64{0, math.Copysign(0, -1), 1e-300, 1e-20, 0.5 / invLn2By64, 1 / invLn2By64, 44, expMax, math.Nextafter(expMax, 0), math.Inf(1), math.NaN()} {
		check(x)
	}
	for range 1_000_000 {
		check(rng.Float64() * 44)
		check(rng.Float64() * 1e-3)
		check(rng.Float64() * expMax)
	}
	// Every boundary between two roundings, and the floats beside it.
	for k := 0.0; k < 44*invLn2By64; k++ {
		x := (k + 0.5) / invLn2By64
		check(math.Nextafter(x, 0))
		check(x)
		check(math.Nextafter(x, 100))
	}
}

// TestTrigAgainstStandardLibrary: the engine's own sin, cos and hypot (used
// by the data generators and features) stay within a few ulps of the
// standard library's over the inputs lessons give them, and exact where it
// matters.
func TestTrigAgainstStandardLibrary(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	// Near a multiple of π/2 the result is tiny and an ulp of it is tiny
	// too: compare there in ulps of 1 (absolute error) instead.
	near := func(got, want float64) float64 {
		if math.Abs(want) < 1e-3 {
			return math.Abs(got-want) / 0x1p-52
		}
		return ulps(got, want)
	}
	for _, hi := range []float64{1, 7, 15, 100, 1e6} {
		worst := 0.0
		for range 200_000 {
			x := (2*rng.Float64() - 1) * hi
			for _, c := range []struct {
				name      string
				got, want float64
			}{{"sin", sin(x), math.Sin(x)}, {"cos", cos(x), math.Cos(x)}} {
				d := near(c.got, c.want)
				worst = max(worst, d)
				if d > 2 {
					t.Fatalf("%s(%v) = %v, standard library %v: %v ulps apart", c.name, x, c.got, c.want, d)
				}
			}
			y := (2*rng.Float64() - 1) * hi
			if d := ulps(hypot(x, y), math.Hypot(x, y)); d > 2 {
				t.Fatalf("hypot(%v, %v) = %v, standard library %v: %v ulps apart", x, y, hypot(x, y), math.Hypot(x, y), d)
			}
		}
		t.Logf("|x| ≤ %g: sin and cos within %.2f ulps", hi, worst)
	}
	exact := []struct {
		name      string
		got, want float64
	}{
		{"sin(0)", sin(0), 0},
		{"cos(0)", cos(0), 1},
		{"sin(π/2)", sin(math.Pi / 2), 1},
		{"cos(π)", cos(math.Pi), -1},
		{"sin(π/6)", sin(math.Pi / 6), math.Sin(math.Pi / 6)},
		{"hypot(3, 4)", hypot(3, 4), 5},
		{"hypot(-5, 12)", hypot(-5, 12), 13},
		{"hypot(0, 0)", hypot(0, 0), 0},
		{"hypot(1e300, 1e300)", hypot(1e300, 1e300), math.Hypot(1e300, 1e300)},
	}
	for _, tt := range exact {
		if math.Float64bits(tt.got) != math.Float64bits(tt.want) {
			t.Errorf("%s = %v, want %v", tt.name, tt.got, tt.want)
		}
	}
	if math.Signbit(sin(math.Copysign(0, -1))) != true {
		t.Error("sin(−0) must be −0")
	}
	for _, v := range []float64{sin(math.Inf(1)), cos(math.NaN()), hypot(math.NaN(), 1)} {
		if !math.IsNaN(v) {
			t.Errorf("got %v, want NaN", v)
		}
	}
	if !math.IsInf(hypot(math.Inf(-1), math.NaN()), 1) {
		t.Error("hypot(±Inf, NaN) must be +Inf")
	}
}

// TestPowInt: Adam's bias corrections are exact for powers that are
// exactly representable and within an ulp or two of math.Pow elsewhere.
func TestPowInt(t *testing.T) {
	for _, c := range []struct {
		x    float64
		n    int64
		want float64
	}{{2, 10, 1024}, {0.5, 60, 0x1p-60}, {0.9, 0, 1}, {0.9, 1, 0.9}, {0.9, 2, 0.81}, {3, 3, 27}} {
		if got := powInt(c.x, c.n); got != c.want && ulps(got, c.want) > 1 {
			t.Errorf("powInt(%v, %d) = %v, want %v", c.x, c.n, got, c.want)
		}
	}
	// Against math.Pow for 1 − powInt, as Adam uses it.
	worst := 0.0
	for n := int64(1); n < 100_000; n += 1 + n/7 {
		for _, x := range []float64{0.9, 0.999} {
			got, want := 1-powInt(x, n), 1-math.Pow(x, float64(n))
			worst = max(worst, ulps(got, want))
			if ulps(got, want) > 4 {
				t.Errorf("1 − powInt(%v, %d) = %v, with math.Pow %v: %v ulps", x, n, got, want, ulps(got, want))
			}
		}
	}
	t.Logf("1 − x**n within %.1f ulps of math.Pow's", worst)
}
