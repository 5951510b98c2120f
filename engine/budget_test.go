package engine

import (
	"bytes"
	"runtime"
	"testing"
)

// bigLesson is a 2-D lesson near the weight limit: [2, 64, 64, 64, 1] has
// 8,577 weights and biases, so one copy of its numbers is about 420 KB.
func bigLesson(t testing.TB) *Lesson { return circleBench(t, []int{64, 64, 64}) }

// heapNow is the live heap after a collection.
func heapNow() int64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

// TestSetWeightFloodStaysInBudget: a client sending setWeight without end
// used to pin a full copy of the numbers per edit (256 of them, over 100 MB
// for this network). Under a budget the trainer holds at most the budget,
// as the heap measures it, and Back still undoes the edits it kept, in
// order.
func TestSetWeightFloodStaysInBudget(t *testing.T) {
	const budget = 8 << 20
	l := bigLesson(t)
	before := heapNow()
	tr := newTrainer(t, l)
	tr.SetMemoryBudget(budget)
	for i := range 600 {
		if i%7 == 0 {
			tr.Step(StepSample, nil)
		}
		if err := tr.SetWeight(1, i%64, (i/64)%64, false, float64(i)/1000); err != nil {
			t.Fatal(err)
		}
	}
	grew := heapNow() - before
	t.Logf("heap grew %d KiB; MemoryBytes %d KiB; %d copies of %d KiB", grew>>10, tr.MemoryBytes()>>10, len(tr.checkpoints)+len(tr.spare), tr.slabBytes()>>10)
	if got := tr.MemoryBytes(); got > budget {
		t.Errorf("MemoryBytes %d after 600 edits; want at most the budget %d", got, budget)
	}
	if grew > budget+budget/8 {
		t.Errorf("the heap grew by %d bytes for one trainer under a budget of %d", grew, budget)
	}
	// Back undoes the kept edits one at a time, each to the weight before it.
	for i := 599; i > 599-tr.maxPin+1; i-- {
		w := tr.layers[1].W[(i%64)*64+(i/64)%64]
		if w != float64(i)/1000 {
			t.Fatalf("edit %d: weight %g before Back, want %g", i, w, float64(i)/1000)
		}
		if i%7 == 0 {
			if err := tr.Back(); err != nil { // the sample before the edit
				t.Fatal(err)
			}
		}
		if err := tr.Back(); err != nil {
			t.Fatalf("Back over edit %d: %v", i, err)
		}
	}
	runtime.KeepAlive(tr)
}

// TestForksShareHistory: "explore on my own" forks used to copy every
// checkpoint (15 forks of a room added 1.8 GiB). A fork shares the
// checkpoints made before it, so 15 forks of a trainer holding its whole
// budget cost about two copies of the numbers each, and each fork still
// goes back before the fork and counts only what is its own.
func TestForksShareHistory(t *testing.T) {
	const budget = 8 << 20
	l := bigLesson(t)
	tr := newTrainer(t, l)
	tr.SetMemoryBudget(budget)
	for i := range 300 {
		tr.Step(StepSample, nil)
		if err := tr.SetWeight(0, i%64, 0, false, float64(i)/1000); err != nil {
			t.Fatal(err)
		}
	}
	before := heapNow()
	forks := make([]*Trainer, 15)
	for i := range forks {
		forks[i] = tr.Fork()
	}
	grew := (heapNow() - before) / int64(len(forks))
	t.Logf("%d KiB per fork of a trainer holding %d KiB (one copy %d KiB)", grew>>10, tr.MemoryBytes()>>10, tr.slabBytes()>>10)
	if limit := 3 * tr.slabBytes(); grew > limit {
		t.Errorf("a fork costs %d bytes; want at most %d (three copies of the numbers)", grew, limit)
	}
	for _, f := range forks {
		if got, limit := f.MemoryBytes(), tr.baseBytes()+2*tr.slabBytes(); got > limit {
			t.Errorf("a fresh fork counts %d bytes as its own; want at most %d", got, limit)
		}
	}
	// Forks and the original step and go back independently: the shared
	// copies are never reused for new ones.
	want := stateJSON(t, tr)
	for _, f := range forks[:3] {
		for range 3 {
			f.Step(StepSample, nil)
			f.SetWeight(0, 1, 0, false, 9)
		}
		for range 6 {
			if err := f.Back(); err != nil {
				t.Fatal(err)
			}
		}
		if got := stateJSON(t, f); got != want {
			t.Fatalf("a fork back where it was made differs from the original:\n%s", firstDiff(got, want))
		}
	}
	if err := tr.Back(); err != nil {
		t.Fatal(err)
	}
	if err := forks[4].Back(); err != nil {
		t.Fatal(err)
	}
	if got, want := stateJSON(t, forks[4]), stateJSON(t, tr); got != want {
		t.Fatalf("Back on a fork and on the original differ:\n%s", firstDiff(got, want))
	}
	runtime.KeepAlive(forks)
}

// TestBackLimitedMatchesBack: Back in pieces of any size ends in the same
// state as Back in one go, and a long replay takes many pieces.
func TestBackLimitedMatchesBack(t *testing.T) {
	l := circleBench(t, []int{8, 8})
	a, b := newTrainer(t, l), newTrainer(t, l)
	a.Run(StepSample, 5000, nil)
	b.Run(StepSample, 5000, nil)
	most := 0
	for range 3 {
		if err := a.Back(); err != nil {
			t.Fatal(err)
		}
		pieces := 0
		for {
			done, err := b.BackLimited(1)
			if err != nil {
				t.Fatal(err)
			}
			pieces++
			if done {
				break
			}
		}
		if got, want := stateJSON(t, b), stateJSON(t, a); got != want {
			t.Fatalf("BackLimited differs from Back:\n%s", firstDiff(got, want))
		}
		most = max(most, pieces)
	}
	if most < 10 {
		t.Errorf("the longest Back after 5,000 samples took %d pieces; want a replay of many samples", most)
	}
	if _, err := newTrainer(t, l).BackLimited(10); err != ErrAtStart {
		t.Errorf("BackLimited at the start: %v, want ErrAtStart", err)
	}
}

// TestCancelBack: a Back given up part way (CancelBack) leaves the trainer
// exactly as it was before the Back (its snapshot, every number, position,
// history and losses), and the trainer goes on as if the Back had never
// been asked for: the same later Back, the same next step.
func TestCancelBack(t *testing.T) {
	l := circleBench(t, []int{8, 8})
	a, b := newTrainer(t, l), newTrainer(t, l)
	for _, tr := range []*Trainer{a, b} {
		tr.Run(StepSample, 3000, nil)
		tr.SetWeight(0, 1, 0, false, 0.25) // a pinned copy among the checkpoints
		tr.Run(StepEpoch, 3, nil)
	}
	before, wantState := b.Snapshot(), stateJSON(t, b)
	for try := range 3 {
		for range 5 + try {
			if done, err := b.BackLimited(3); done || err != nil {
				t.Fatalf("BackLimited(3) after a long run: done %v, %v; want an unfinished Back", done, err)
			}
		}
		if b.Position() == a.Position() {
			t.Fatal("an unfinished Back has not moved the trainer; the test shows nothing")
		}
		if !b.CancelBack() {
			t.Fatal("CancelBack found no Back to cancel")
		}
		if got := stateJSON(t, b); got != wantState {
			t.Fatalf("after CancelBack:\n%s", firstDiff(got, wantState))
		}
		if !bytes.Equal(b.Snapshot(), before) {
			t.Fatal("after CancelBack the snapshot differs from the one before the Back")
		}
	}
	if b.CancelBack() {
		t.Error("CancelBack with no Back under way reported one")
	}
	for range 2 {
		if err := a.Back(); err != nil {
			t.Fatal(err)
		}
		if err := b.Back(); err != nil {
			t.Fatal(err)
		}
		if got, want := stateJSON(t, b), stateJSON(t, a); got != want {
			t.Fatalf("Back after a cancelled Back:\n%s", firstDiff(got, want))
		}
	}
	var ea, eb []byte
	a.Step(StepSample, func(e *Event) { ea = e.AppendJSON(ea) })
	b.Step(StepSample, func(e *Event) { eb = e.AppendJSON(eb) })
	if !bytes.Equal(ea, eb) {
		t.Fatalf("the step after a cancelled Back:\n%s", firstDiff(string(eb), string(ea)))
	}
}
