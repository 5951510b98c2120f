package engine

import (
	"runtime"
	"testing"
)

// TestTrainerMemory keeps a session's engine small: a [2, 8, 8, 1] trainer
// on a shared lesson, stepped a little, holds a few KiB (the server's
// budget is 64 KiB for a whole idle session, sockets included).
func TestTrainerMemory(t *testing.T) {
	l := circleBench(t, []int{8, 8})
	const n = 200
	keep := make([]*Trainer, n)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range keep {
		tr, err := NewTrainer(l)
		if err != nil {
			t.Fatal(err)
		}
		for k := 0; k < 5; k++ {
			tr.Step(StepSample, nil)
		}
		keep[i] = tr
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	per := int64(after.HeapAlloc-before.HeapAlloc) / n
	t.Logf("%d bytes per trainer", per)
	if per > 24<<10 {
		t.Errorf("a stepped [2, 8, 8, 1] trainer holds %d bytes; want at most 24 KiB", per)
	}
	runtime.KeepAlive(keep)
}
