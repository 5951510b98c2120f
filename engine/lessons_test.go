package engine

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// builtinTrainer returns a fresh trainer for a built-in lesson.
func builtinTrainer(t *testing.T, name string) *Trainer {
	t.Helper()
	l, ok := Builtin().Lookup(name)
	if !ok {
		t.Fatalf("no built-in lesson %q (have %v)", name, Builtin().Names())
	}
	tr, err := NewTrainer(l)
	if err != nil {
		t.Fatalf("NewTrainer(%s): %v", name, err)
	}
	return tr
}

// lastTrainLoss is the training loss after the last completed epoch.
func lastTrainLoss(t *testing.T, tr *Trainer) float64 {
	t.Helper()
	ls := tr.Losses()
	if len(ls) == 0 {
		t.Fatal("no epoch has been completed")
	}
	return ls[len(ls)-1].TrainLoss
}

func TestBuiltinLessonsParse(t *testing.T) {
	if err := BuiltinError(); err != nil {
		t.Fatalf("a built-in lesson is invalid:\n%v", err)
	}
	names := Builtin().Names()
	if len(names) < len(featured) {
		t.Fatalf("Names() = %v, want at least the featured %v", names, featured)
	}
	if got, want := names[:len(featured)], featured; !slices.Equal(got, want) {
		t.Errorf("Names() starts %v, want the featured order %v", got, want)
	}
	if _, ok := Builtin().Lookup(DefaultLesson); !ok {
		t.Errorf("the default lesson %q is not built in", DefaultLesson)
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			l, _ := Builtin().Lookup(name)
			if l.Name != name {
				t.Errorf("Name = %q, want %q", l.Name, name)
			}
			if l.Title == "" || l.Summary == "" || l.Intro == "" {
				t.Errorf("want a title, a summary and an intro; got %q, %q, %q", l.Title, l.Summary, l.Intro)
			}
			if strings.Contains(l.Summary, "\n") {
				t.Errorf("summary %q: want one line", l.Summary)
			}
			if n := strings.Count(l.Intro, ". ") + 1; n > 6 {
				t.Errorf("intro has about %d sentences; keep it short for a beginner", n)
			}
			// One note per phase: a page shows the first note whose at matches.
			seen := map[string]bool{}
			for _, n := range l.Notes {
				if seen[n.At] {
					t.Errorf("two notes at %q; only the first would be shown", n.At)
				}
				seen[n.At] = true
			}
			for _, at := range []string{"start", "forward", "loss", "backward", "update", "epoch"} {
				if !seen[at] {
					t.Errorf("no note at %q", at)
				}
			}
			terms := map[string]bool{}
			for _, g := range l.Glossary {
				terms[g.Term] = true
			}
			for _, term := range []string{"forward pass", "loss", "backward pass", "gradient descent", "learning rate", "epoch"} {
				if !terms[term] {
					t.Errorf("glossary lacks %q", term)
				}
			}
			if _, err := NewTrainer(l); err != nil {
				t.Fatalf("NewTrainer: %v", err)
			}
			// The lesson survives a round trip through its own JSON, as a
			// page's "save as lesson file" does.
			doc, err := l.JSON()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := ParseLesson(doc); err != nil {
				t.Errorf("ParseLesson(l.JSON()): %v", err)
			}
		})
	}
}

func TestBuiltinLessonsTrain(t *testing.T) {
	tests := []struct {
		name   string
		epochs int
		ratio  float64 // the loss after training is below ratio × the loss before
	}{
		{"house-prices", 100, 0.05},
		{"cat-or-dog", 100, 0.1},
		{"worked-example", 1000, 0.1},
		{"xor", 500, 0.1},
		{"circle", 300, 0.25},
		{"spiral", 500, 0.1},
		{"which-size", 100, 0.1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := builtinTrainer(t, tt.name)
			before := tr.meanLoss(tr.train)
			if err := tr.Run(StepEpoch, tt.epochs, nil); err != nil {
				t.Fatalf("Run: %v (%s)", err, tr.Diverged())
			}
			after := lastTrainLoss(t, tr)
			if after >= tt.ratio*before {
				t.Errorf("training loss %.4g after %d epochs, from %.4g: want below %.4g", after, tt.epochs, before, tt.ratio*before)
			}
		})
	}

	t.Run("xor-no-hidden", func(t *testing.T) {
		// With one sigmoid neuron the best mean cross-entropy on XOR's four
		// points is ln 2, at w = 0, b = 0: the loss can never go below it.
		tr := builtinTrainer(t, "xor-no-hidden")
		for e := 0; e < 1000; e += 100 {
			if err := tr.Run(StepEpoch, 100, nil); err != nil {
				t.Fatalf("Run: %v", err)
			}
			if got := lastTrainLoss(t, tr); got < math.Ln2-1e-9 || got > 1 {
				t.Fatalf("epoch %d: training loss %.4g, want it stuck between ln 2 and 1", e+100, got)
			}
		}
	})

	t.Run("too-fast", func(t *testing.T) {
		tr := builtinTrainer(t, "too-fast")
		var reason string
		err := tr.Run(StepEpoch, 10, func(e *Event) {
			if e.Type == EventDiverged {
				reason = e.Reason
			}
		})
		if err != nil && err != ErrDiverged {
			t.Fatalf("Run: %v", err)
		}
		if reason == "" || tr.Diverged() == "" {
			t.Fatalf("no diverged event within 10 epochs (at epoch %d)", tr.Position().Epoch)
		}
		if e := tr.Position().Epoch; e > 5 {
			t.Errorf("diverged after %d epochs; want it within a few", e)
		}
		if !strings.Contains(reason, "learning rate") {
			t.Errorf("reason %q does not mention the learning rate", reason)
		}
		l, _ := Builtin().Lookup("too-fast")
		if !slices.ContainsFunc(l.Notes, func(n Note) bool { return n.At == "diverged" }) {
			t.Error("too-fast has no note at diverged")
		}
	})
}

// firstSteps records the loss events and the re-evaluated prediction for
// the first sample after each of n sample steps.
func firstSteps(t *testing.T, tr *Trainer, n int) (preds, targets, again []float64) {
	t.Helper()
	var first []float64
	for i := 0; i < n; i++ {
		err := tr.Step(StepSample, func(e *Event) {
			switch e.Type {
			case EventSample:
				if first == nil {
					first = append([]float64(nil), e.X...)
				}
			case EventLoss:
				preds = append(preds, e.Prediction[0])
				targets = append(targets, e.Target[0])
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		in := first
		for l := range tr.layers {
			tr.layers[l].forward(in, tr.evalZ[l], tr.evalA[l])
			in = tr.evalA[l]
		}
		again = append(again, in[0])
	}
	return preds, targets, again
}

func TestHousePricesFirstGuesses(t *testing.T) {
	tr := builtinTrainer(t, "house-prices")
	u := tr.Lesson().Display.Outputs[0]
	if u.Prefix != "$" || u.Scale != 100000 || u.Offset != 300000 {
		t.Fatalf("price display %+v, want $ with scale 100000 and offset 300000", u)
	}
	dollars := func(v float64) float64 { return v*u.Scale + u.Offset }
	preds, targets, again := firstSteps(t, tr, 4)

	// The intro promises: about $250,000 for a house that sold for $304,000,
	// and about $262,000 for the same house after one step.
	if got := dollars(preds[0]); got < 245000 || got > 255000 {
		t.Errorf("first guess $%.0f, want about $250,000", got)
	}
	if got := dollars(targets[0]); math.Abs(got-304000) > 1 {
		t.Errorf("first house's price $%.0f, want $304,000", got)
	}
	if got := dollars(again[0]); got < 258000 || got > 266000 {
		t.Errorf("guess for the first house after one step $%.0f, want about $262,000", got)
	}
	// The first guesses are too low, and less wrong each step.
	for i := range preds {
		miss := dollars(targets[i]) - dollars(preds[i])
		if miss <= 0 {
			t.Errorf("guess %d: $%.0f for a $%.0f house; want it too low", i+1, dollars(preds[i]), dollars(targets[i]))
		}
		if i > 0 {
			prev := dollars(targets[i-1]) - dollars(preds[i-1])
			if miss >= prev {
				t.Errorf("guess %d misses by $%.0f, guess %d by $%.0f: want less wrong each step", i+1, miss, i, prev)
			}
		}
	}
	// Re-guessing the first house, the guess climbs towards its price.
	for i := 1; i < len(again); i++ {
		if !(again[i] > again[i-1] && again[i] < targets[0]) {
			t.Errorf("first house after step %d: %.4g, after step %d: %.4g; want it climbing towards %.4g", i, again[i-1], i+1, again[i], targets[0])
		}
	}
}

// TestFirstUpdateDirections pins the answers the lessons' weight questions
// explain: which way each asked-about weight moves at the first update.
func TestFirstUpdateDirections(t *testing.T) {
	tests := []struct {
		lesson          string
		layer, to, from int
		bias            bool
		up              bool
	}{
		{"house-prices", 1, 0, 0, true, true},
		{"cat-or-dog", 0, 0, 0, false, false},
		{"worked-example", 1, 0, 0, false, false},
		{"worked-example", 1, 1, 1, false, true},
	}
	for _, tt := range tests {
		tr := builtinTrainer(t, tt.lesson)
		asked := false
		for _, q := range tr.Lesson().Questions {
			if q.Kind == "weight" && q.Layer == tt.layer && q.To == tt.to && q.Bias == tt.bias && (tt.bias || q.From == tt.from) {
				asked = true
			}
		}
		if !asked {
			t.Errorf("%s: no question about layer %d, to %d, from %d, bias %v", tt.lesson, tt.layer, tt.to, tt.from, tt.bias)
		}
		found := false
		err := tr.Step(StepBatch, func(e *Event) {
			if e.Type == EventUpdate && e.Layer == tt.layer && e.To == tt.to && e.Bias == tt.bias && (tt.bias || e.From == tt.from) {
				found = true
				if up := e.New > e.Old; up != tt.up {
					t.Errorf("%s: layer %d to %d from %d bias %v went from %g to %g; the question's answer says up=%v", tt.lesson, tt.layer, tt.to, tt.from, tt.bias, e.Old, e.New, tt.up)
				}
			}
		})
		if err != nil || !found {
			t.Errorf("%s: no update event for the asked weight (err %v)", tt.lesson, err)
		}
	}
}

func TestCatOrDogConfidentMistake(t *testing.T) {
	tr := builtinTrainer(t, "cat-or-dog")
	if got := tr.Lesson().Display.Outputs[0].Classes; !slices.Equal(got, []string{"cat", "dog"}) {
		t.Errorf("classes %v, want [cat dog]", got)
	}
	preds, targets, again := firstSteps(t, tr, 1)
	// The first animal is a cat that the backwards network calls a dog with
	// over 90% confidence, so its loss is big: −ln(1 − p) > 2.
	if targets[0] != 0 || preds[0] < 0.9 {
		t.Errorf("first animal: target %g, prediction %.3f; want a cat called a dog, over 90%% sure", targets[0], preds[0])
	}
	if loss := -math.Log(1 - preds[0]); loss < 2 {
		t.Errorf("loss %.3f for the first, confidently wrong answer; want above 2", loss)
	}
	if again[0] > 0.5 {
		t.Errorf("after one step the neuron still calls the first cat a dog (%.3f)", again[0])
	}
}

// TestWorkedExample checks the worked example's first step against a
// computation by hand (the one in its notes), number by number.
func TestWorkedExample(t *testing.T) {
	sig := func(z float64) float64 { return 1 / (1 + math.Exp(-z)) }
	x := []float64{0.05, 0.10}
	target := []float64{0.01, 0.99}
	w1 := [2][2]float64{{0.15, 0.20}, {0.25, 0.30}} // w1[j][i]: input i → hidden j
	b1 := [2]float64{0.35, 0.35}
	w2 := [2][2]float64{{0.40, 0.45}, {0.50, 0.55}} // w2[k][j]: hidden j → output k
	b2 := [2]float64{0.60, 0.60}
	const lr = 0.5

	// Forward.
	var z1, h, z2, o [2]float64
	for j := range 2 {
		z1[j] = w1[j][0]*x[0] + w1[j][1]*x[1] + b1[j]
		h[j] = sig(z1[j])
	}
	for k := range 2 {
		z2[k] = w2[k][0]*h[0] + w2[k][1]*h[1] + b2[k]
		o[k] = sig(z2[k])
	}
	loss := 0.5*(o[0]-target[0])*(o[0]-target[0]) + 0.5*(o[1]-target[1])*(o[1]-target[1])
	// Backward: ∂L/∂a, then ∂L/∂z = ∂L/∂a · a(1 − a).
	var da2, dz2, da1, dz1 [2]float64
	for k := range 2 {
		da2[k] = o[k] - target[k]
		dz2[k] = da2[k] * o[k] * (1 - o[k])
	}
	for j := range 2 {
		da1[j] = w2[0][j]*dz2[0] + w2[1][j]*dz2[1]
		dz1[j] = da1[j] * h[j] * (1 - h[j])
	}

	// The published values of this example (rounded to 9 digits), so a
	// reader can match the hand computation above against the literature.
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"z of h1", z1[0], 0.3775},
		{"a of h1", h[0], 0.593269992},
		{"a of h2", h[1], 0.596884378},
		{"a of o1", o[0], 0.75136507},
		{"a of o2", o[1], 0.772928465},
		{"loss", loss, 0.298371109},
		{"new w h1→o1", w2[0][0] - lr*dz2[0]*h[0], 0.35891648},
		{"new w h2→o2", w2[1][1] - lr*dz2[1]*h[1], 0.561370121},
		{"new w i1→h1", w1[0][0] - lr*dz1[0]*x[0], 0.149780716},
		{"new w i2→h2", w1[1][1] - lr*dz1[1]*x[1], 0.29950229},
	} {
		if math.Abs(c.got-c.want) > 1e-8 {
			t.Errorf("hand computation: %s = %.10f, published %.9f", c.name, c.got, c.want)
		}
	}

	tr := builtinTrainer(t, "worked-example")
	const tol = 1e-12
	near := func(what string, got, want float64) {
		t.Helper()
		if math.Abs(got-want) > tol {
			t.Errorf("%s = %.17g, by hand %.17g (off by %.3g)", what, got, want, got-want)
		}
	}
	updates := 0
	var epochLoss float64
	err := tr.Step(StepEpoch, func(e *Event) {
		switch e.Type {
		case EventForward:
			zs, as := z1, h
			if e.Layer == 1 {
				zs, as = z2, o
			}
			near("forward z", e.Z, zs[e.Neuron])
			near("forward a", e.A, as[e.Neuron])
		case EventLoss:
			near("loss", e.Value, loss)
		case EventBackward:
			das, dzs := da1, dz1
			if e.Layer == 1 {
				das, dzs = da2, dz2
			}
			near("backward dA", e.DA, das[e.Neuron])
			near("backward dZ", e.DZ, dzs[e.Neuron])
		case EventUpdate:
			updates++
			var old, grad float64
			switch {
			case e.Layer == 0 && e.Bias:
				old, grad = b1[e.To], dz1[e.To]
			case e.Layer == 0:
				old, grad = w1[e.To][e.From], dz1[e.To]*x[e.From]
			case e.Bias:
				old, grad = b2[e.To], dz2[e.To]
			default:
				old, grad = w2[e.To][e.From], dz2[e.To]*h[e.From]
			}
			near("update old", e.Old, old)
			near("update grad", e.Grad, grad)
			near("update new", e.New, old-lr*grad)
		case EventEpoch:
			epochLoss = e.TrainLoss
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if updates != 12 {
		t.Errorf("%d update events, want 12 (8 weights and 4 biases)", updates)
	}
	// The loss after the update, quoted in the lesson's notes.
	if math.Abs(epochLoss-0.280471) > 5e-7 {
		t.Errorf("loss after one step %.7f, want 0.280471 as the notes say", epochLoss)
	}
}

// TestBuiltinNotesHoldEveryTime: a note is shown every time its moment
// comes round and the learner may change the training settings, so a
// built-in note or question that names the learning rate or batch size by
// its number also says the one in force ({learningRate}, {batchSize}); an
// epoch's note does not say the examples have been seen "once" (on the
// second epoch they have been seen twice); and no text counts the weights
// of a network whose layers the settings can change.
func TestBuiltinNotesHoldEveryTime(t *testing.T) {
	named := []struct {
		re          *regexp.Regexp
		placeholder string
	}{
		{regexp.MustCompile(`(?i)learning rate (of )?[0-9]`), "{learningRate}"},
		{regexp.MustCompile(`(?i)batch size (of )?[0-9]`), "{batchSize}"},
	}
	once := regexp.MustCompile(`\bonce\b`)
	counted := regexp.MustCompile(`\b[0-9]+ weights\b`)
	for _, name := range Builtin().Names() {
		l, _ := Builtin().Lookup(name)
		texts := map[string]string{}
		for i, n := range l.Notes {
			texts[fmt.Sprintf("notes[%d] (%s)", i, n.At)] = n.Say
		}
		for i, q := range l.Questions {
			texts[fmt.Sprintf("questions[%d].ask", i)] = q.Ask
		}
		for where, text := range texts {
			for _, n := range named {
				if n.re.MatchString(text) && !strings.Contains(text, n.placeholder) {
					t.Errorf("%s %s names %q by its number without %s: %q", name, where, n.re.FindString(text), n.placeholder, text)
				}
			}
			if strings.HasSuffix(where, "(epoch)") && len(once.FindAllString(text, -1)) > strings.Count(text, "once more") {
				t.Errorf("%s %s says \"once\", untrue from the second epoch: %q", name, where, text)
			}
			if m := counted.FindString(text); m != "" {
				t.Errorf("%s %s counts %q, which the settings can change: %q", name, where, m, text)
			}
		}
	}
}

// TestBuiltinNamesReadInSentences: the narration and the math name a
// weight by its ends ("the weight from height to hidden neuron 2"), so no
// built-in input or output is called by a word they use for the network's
// own parts; "the weight from weight" says nothing.
func TestBuiltinNamesReadInSentences(t *testing.T) {
	reserved := []string{"weight", "bias", "gradient", "blame", "loss", "input", "output"}
	for _, name := range Builtin().Names() {
		l, _ := Builtin().Lookup(name)
		for _, n := range append(slices.Clone(l.Network.Inputs), l.Network.Outputs...) {
			if slices.Contains(reserved, strings.ToLower(strings.TrimSpace(n))) {
				t.Errorf("%s: a neuron named %q reads as the network's own %s in the narration", name, n, n)
			}
		}
	}
}

// TestHousePricesNotesNumbers: the numbers house-prices' intro and update
// note quote come from the engine: the first house's guess, its price, and
// the guess for the same house after the first update.
func TestHousePricesNotesNumbers(t *testing.T) {
	tr := builtinTrainer(t, "house-prices")
	var x []float64
	var guess, price float64
	tr.Step(StepSample, func(e *Event) {
		switch e.Type {
		case EventSample:
			x = append([]float64(nil), e.X...)
		case EventLoss:
			guess, price = e.Prediction[0], e.Target[0]
		}
	})
	in := x
	for _, ly := range tr.layers {
		z, a := make([]float64, ly.nout), make([]float64, ly.nout)
		ly.forward(in, z, a)
		in = a
	}
	// The built-in display: dollars = 300,000 + 100,000 × the network's value.
	dollars := func(v float64) float64 { return 300000 + 100000*v }
	l, _ := Builtin().Lookup("house-prices")
	var update string
	for _, n := range l.Notes {
		if n.At == "update" {
			update = n.Say
		}
	}
	for _, c := range []struct {
		what        string
		value, unit float64
		text        string
	}{
		{"first guess", dollars(guess), 10000, l.Intro},
		{"first price", dollars(price), 1000, l.Intro},
		{"first guess", dollars(guess), 10000, update},
		{"guess after the first update", dollars(in[0]), 500, update},
	} {
		want := fmt.Sprintf("$%d,%03d", int(math.Round(c.value/c.unit)*c.unit)/1000, int(math.Round(c.value/c.unit)*c.unit)%1000)
		if !strings.Contains(c.text, want) {
			t.Errorf("the %s is %.0f; want the text to say %s: %q", c.what, c.value, want, c.text)
		}
	}
}

// TestTooFastWhyNumbers: too-fast's question explains itself with the
// first two houses' mistakes, which the engine computes.
func TestTooFastWhyNumbers(t *testing.T) {
	tr := builtinTrainer(t, "too-fast")
	var gaps []float64
	for range 2 {
		tr.Step(StepSample, func(e *Event) {
			if e.Type == EventLoss {
				gaps = append(gaps, 100000*(e.Prediction[0]-e.Target[0]))
			}
		})
	}
	if len(gaps) != 2 || gaps[0] >= 0 || gaps[1] <= 0 {
		t.Fatalf("the first two mistakes %v; want one too low, then one too high", gaps)
	}
	l, _ := Builtin().Lookup("too-fast")
	why := l.Questions[0].Why
	for i, how := range []string{"too low", "too high"} {
		want := fmt.Sprintf("$%d,000 %s", int(math.Round(math.Abs(gaps[i])/1000)), how)
		if !strings.Contains(why, want) {
			t.Errorf("house %d was off by %.0f; want the why to say %q: %q", i+1, gaps[i], want, why)
		}
	}
}
