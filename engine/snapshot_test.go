package engine

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// randomCommand does one thing a session might have done to tr, the way a
// server does it: single steps with events, runs in slices, big steps in
// pieces (sometimes interrupted), Backs, edits and the odd Reset.
func randomCommand(tr *Trainer, r *rand.Rand) {
	g := Granularity(r.IntN(int(StepEpoch) + 1))
	emit := func(*Event) {}
	switch k := r.IntN(100); {
	case k < 25:
		tr.Step(g, emit)
	case k < 40:
		tr.Run(g, 1+r.IntN(4), nil)
	case k < 55:
		// A step in pieces; sometimes left unfinished for the next command.
		var e func(*Event)
		if r.IntN(2) == 0 {
			e = emit
		}
		for range 1 + r.IntN(4) {
			if done, err := tr.StepLimited(g, e, r.IntN(40)); done || err != nil {
				break
			}
		}
	case k < 80:
		tr.Back()
	case k < 86:
		p := TrainingPatch{}
		switch r.IntN(6) {
		case 0:
			p.LearningRate = ptr(0.001 + r.Float64()/4)
		case 5:
			p.LearningRate = ptr(20 + r.Float64()*80) // to diverge
		case 1:
			p.BatchSize = ptr(1 + r.IntN(10))
		case 2:
			p.Optimizer = ptr(OptimizerKind(r.IntN(3)))
		case 3:
			p.Momentum = ptr(r.Float64() * 0.99)
		default:
			p.Regularization = &Regularization{Kind: regKinds[r.IntN(3)], Rate: r.Float64() / 20}
		}
		if r.IntN(10) == 0 {
			p.LearningRate = ptr(-1.0) // refused: not in the log
		}
		tr.Set(p)
	case k < 96:
		l := r.IntN(len(tr.layers))
		ly := &tr.layers[l]
		tr.SetWeight(l, r.IntN(ly.nout), r.IntN(ly.nin+1), r.IntN(4) == 0, r.NormFloat64())
	case k < 98:
		tr.Reset()
	default:
		tr.StepLimited(g, nil, 0) // a step that has taken nothing yet
	}
}

// sameTrainers checks that two trainers are the same session: the same
// snapshot, the same state, and the same states all the way back.
func sameTrainers(t *testing.T, what string, got, want *Trainer, backs int) {
	t.Helper()
	if a, b := got.Snapshot(), want.Snapshot(); !bytes.Equal(a, b) {
		t.Fatalf("%s: snapshot differs (%d vs %d bytes)\n%s", what, len(a), len(b), stateDiff(t, got, want))
	}
	for i := 0; ; i++ {
		if stateJSON(t, got) != stateJSON(t, want) {
			t.Fatalf("%s: after %d backs the state differs:\n%s", what, i, stateDiff(t, got, want))
		}
		if i == backs || !want.CanBack() {
			break
		}
		if err := got.Back(); err != nil {
			t.Fatalf("%s: back %d: %v", what, i+1, err)
		}
		want.Back()
	}
	if a, b := trace(got, StepSample, 3), trace(want, StepSample, 3); a != b {
		t.Fatalf("%s: the next steps' events differ:\n%s", what, firstDiff(a, b))
	}
}

// stateDiff is the first field in which two trainers' states differ.
func stateDiff(t *testing.T, got, want *Trainer) string {
	split := func(s string) string { return strings.ReplaceAll(s, ",", ",\n") }
	return firstDiff(split(stateJSON(t, got)), split(stateJSON(t, want)))
}

// TestRebuildRandomSessions: 25 random sessions of 400 commands, with
// Backs, rebuild bit for bit from a snapshot taken midway plus the log
// since, and from the lesson plus the whole log.
func TestRebuildRandomSessions(t *testing.T) {
	seen := map[string]int{}
	defer func() {
		// The sessions must have done every kind of thing a log records.
		for _, k := range []string{"step", "unfinished", "continues", "back", "reset", "set", "setWeight", "diverged"} {
			if seen[k] == 0 {
				t.Errorf("no session had a %s command; seen %v", k, seen)
			}
		}
		t.Logf("commands in the logs: %v", seen)
	}()
	// session plays random session s, snapshotting it midway: the same s
	// gives the same session, so each check below gets an original of its own.
	session := func(s uint64) (l *Lesson, tr *Trainer, snap []byte, before, after []Command) {
		r := rand.New(rand.NewPCG(14, s))
		l = randomLesson(t, r)
		tr = newTrainer(t, l)
		tr.Record(true)
		cut := r.IntN(400)
		for i := range 400 {
			if i == cut {
				if s%2 == 0 {
					tr.StepLimited(StepEpoch, nil, 5) // the snapshot is mid-step
				}
				snap = tr.Snapshot()
				before = tr.TakeLog()
				if s%2 == 0 {
					tr.StepLimited(StepEpoch, nil, 10) // and the log continues it
				}
			}
			randomCommand(tr, r)
			if tr.Diverged() != "" {
				seen["diverged"]++
			}
		}
		return l, tr, snap, before, tr.TakeLog()
	}
	for s := range uint64(25) {
		l, tr, snap, before, after := session(s)
		whole := append(append([]Command(nil), before...), after...)
		for _, c := range whole {
			seen[c.Kind.String()]++
			if c.Unfinished {
				seen["unfinished"]++
			}
			if c.Continues {
				seen["continues"]++
			}
		}

		fromSnap, err := Restore(l, snap)
		if err != nil {
			t.Fatalf("session %d: Restore: %v", s, err)
		}
		if err := fromSnap.Apply(after...); err != nil {
			t.Fatalf("session %d: Apply: %v", s, err)
		}
		sameTrainers(t, "snapshot + log", fromSnap, tr, 40)

		_, tr, _, _, _ = session(s)
		parsed, err := ParseCommands(AppendCommands(nil, whole))
		if err != nil {
			t.Fatalf("session %d: ParseCommands: %v", s, err)
		}
		fromLog, err := Replay(l, parsed)
		if err != nil {
			t.Fatalf("session %d: Replay: %v", s, err)
		}
		sameTrainers(t, "lesson + log", fromLog, tr, 40)

		_, tr, _, _, _ = session(s)
		again, err := Restore(l, tr.Snapshot())
		if err != nil {
			t.Fatalf("session %d: Restore of the end: %v", s, err)
		}
		sameTrainers(t, "snapshot of the end", again, tr, 40)
	}
}

// TestRecordedLogIsCompact: a run in many slices and a long step in many
// pieces each log as one command.
func TestRecordedLogIsCompact(t *testing.T) {
	tr := newTrainer(t, lessonFile(t, "testdata/tiny.json"))
	tr.Record(true)
	for range 50 {
		tr.Run(StepSample, 3, nil)
	}
	for done := false; !done; {
		done, _ = tr.StepLimited(StepEpoch, nil, 7)
	}
	tr.Back()
	tr.Back()
	log := tr.TakeLog()
	want := []Command{{Kind: CommandStep, G: StepSample, Steps: 150}, {Kind: CommandStep, G: StepEpoch, Steps: 1}, {Kind: CommandBack, Steps: 2}}
	if len(log) != len(want) {
		t.Fatalf("log %+v, want %+v", log, want)
	}
	for i := range want {
		if log[i] != want[i] {
			t.Errorf("command %d = %+v, want %+v", i, log[i], want[i])
		}
	}
}

// resum replaces a snapshot's checksum, so a test can reach the checks
// behind it.
func resum(b []byte) []byte {
	b = bytes.Clone(b)
	binary.LittleEndian.PutUint32(b[len(b)-4:], crc32.ChecksumIEEE(b[:len(b)-4]))
	return b
}

func TestRestoreRefusesBadSnapshots(t *testing.T) {
	l := lessonFile(t, "testdata/tiny.json")
	tr := newTrainer(t, l)
	tr.Run(StepSample, 13, nil)
	tr.StepLimited(StepEpoch, nil, 5)
	good := tr.Snapshot()
	other := newTrainer(t, lessonFile(t, "testdata/softmax.json")).Snapshot()
	withVersion := func(v byte) []byte {
		b := bytes.Clone(good)
		b[4] = v
		return b
	}
	flip := func(at int) []byte {
		b := bytes.Clone(good)
		b[at] ^= 0x10
		return b
	}
	// The position's t is the first varint after the 13-byte header; the
	// next is the epoch, then the sample.
	badSample := func() []byte {
		b := bytes.Clone(good[:13])
		b = binary.AppendUvarint(b, uint64(tr.Position().T))
		b = binary.AppendUvarint(b, uint64(tr.Position().Epoch))
		b = binary.AppendUvarint(b, 99)
		rest := good[13+uvarintLen(uint64(tr.Position().T))+uvarintLen(uint64(tr.Position().Epoch))+1:]
		return resum(append(b, rest...))
	}()
	tests := []struct {
		name string
		data []byte
		kind error
	}{
		{"empty", nil, ErrSnapshotTruncated},
		{"magic only", good[:4], ErrSnapshotTruncated},
		{"not a snapshot", []byte("{\"lesson\":1}"), ErrSnapshotCorrupt},
		{"version 0", withVersion(0), ErrSnapshotVersion},
		{"version 2", withVersion(2), ErrSnapshotVersion},
		{"header only", good[:13], ErrSnapshotTruncated},
		{"cut in the numbers", good[:len(good)-10], ErrSnapshotTruncated},
		{"a flipped bit", flip(len(good) / 2), ErrSnapshotCorrupt},
		{"a flipped checksum", flip(len(good) - 1), ErrSnapshotCorrupt},
		{"trailing bytes", resum(append(bytes.Clone(good[:len(good)-4]), 1, 2, 3, 0, 0, 0, 0)), ErrSnapshotCorrupt},
		{"another lesson", other, ErrSnapshotLesson},
		{"sample past the data", badSample, ErrSnapshotCorrupt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Restore(l, tt.data)
			if err == nil {
				t.Fatalf("Restore accepted it (position %+v)", got.Position())
			}
			var se *SnapshotError
			if !errors.As(err, &se) || !errors.Is(err, tt.kind) {
				t.Fatalf("error %v (%T), want a *SnapshotError of kind %v", err, err, tt.kind)
			}
			t.Log(err)
		})
	}
	// Every cut is refused, and says so.
	for n := range len(good) {
		if _, err := Restore(l, good[:n]); !errors.Is(err, ErrSnapshotTruncated) {
			t.Fatalf("cut at %d of %d: %v, want truncated", n, len(good), err)
		}
	}
}

func uvarintLen(v uint64) int { return len(binary.AppendUvarint(nil, v)) }

func TestParseCommandsRefusesBadLogs(t *testing.T) {
	good := AppendCommands(nil, []Command{{Kind: CommandStep, G: StepBatch, Steps: 3}, {Kind: CommandSet, Patch: TrainingPatch{LearningRate: ptr(0.5)}}})
	for n := range len(good) {
		if _, err := ParseCommands(good[:n]); !errors.Is(err, ErrSnapshotTruncated) {
			t.Fatalf("cut at %d of %d: %v, want truncated", n, len(good), err)
		}
	}
	bad := bytes.Clone(good)
	bad[4] = 9
	if _, err := ParseCommands(bad); !errors.Is(err, ErrSnapshotVersion) {
		t.Errorf("version 9: %v", err)
	}
	bad = bytes.Clone(good)
	bad[7] = 42 // the first command's granularity
	if _, err := ParseCommands(resum(bad)); !errors.Is(err, ErrSnapshotCorrupt) {
		t.Errorf("granularity 42: %v", err)
	}
	// A log that parses but does not fit the session.
	tr := newTrainer(t, lessonFile(t, "testdata/tiny.json"))
	for _, c := range []Command{
		{Kind: CommandBack, Steps: 1},
		{Kind: CommandSetWeight, Layer: 5},
		{Kind: CommandStep, G: StepSample, Continues: true, Steps: 1},
		{Kind: CommandStep, G: StepSample, Unfinished: true, Micro: 1000},
		{Kind: CommandStep, G: StepSample},
		{Kind: 77},
	} {
		if err := tr.Apply(c); !errors.Is(err, ErrBadLog) {
			t.Errorf("Apply(%+v) = %v, want ErrBadLog", c, err)
		}
	}
}

// FuzzRestore feeds the snapshot decoder damaged and made-up snapshots:
// whatever it accepts must snapshot again to the same bytes and train
// (and go back) without panicking.
func FuzzRestore(f *testing.F) {
	tiny := lessonFile(f, "testdata/tiny.json")
	tr := newTrainer(f, tiny)
	f.Add(tr.Snapshot())
	tr.Run(StepSample, 9, nil)
	f.Add(tr.Snapshot())
	tr.StepLimited(StepEpoch, nil, 3)
	f.Add(tr.Snapshot())
	tr.SetWeight(0, 1, 0, false, 0.5)
	tr.Set(TrainingPatch{Optimizer: ptr(Adam)})
	tr.Run(StepEpoch, 400, nil)
	f.Add(tr.Snapshot())
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, b := range [][]byte{data, fixSum(data)} {
			got, err := Restore(tiny, b)
			if err != nil {
				var se *SnapshotError
				if !errors.As(err, &se) {
					t.Fatalf("error %v is not a *SnapshotError", err)
				}
				continue
			}
			again := got.Snapshot()
			back, err := Restore(tiny, again)
			if err != nil {
				t.Fatalf("a snapshot of an accepted snapshot is refused: %v", err)
			}
			if !bytes.Equal(back.Snapshot(), again) {
				t.Fatal("snapshot → restore → snapshot changed the bytes")
			}
			got.Step(StepMicro, func(*Event) {})
			got.Run(StepSample, 3, nil)
			for range 3 {
				got.Back()
			}
			got.StepLimited(StepBatch, nil, 5)
			got.State(true)
		}
	})
}

func fixSum(b []byte) []byte {
	if len(b) < 4 {
		return b
	}
	return resum(b)
}

// classroomSession is what a lesson's session has typically done when it is
// saved: a few samples one at a time, twenty epochs of Play, a weight
// edit, a batch step and three Backs. It returns the trainer and its log.
func classroomSession(t testing.TB, name string) (*Lesson, *Trainer, []Command) {
	t.Helper()
	l, ok := Builtin().Lookup(name)
	if !ok {
		t.Fatalf("no built-in lesson %q", name)
	}
	tr := newTrainer(t, l)
	tr.Record(true)
	for range 7 {
		tr.Step(StepSample, func(*Event) {})
	}
	tr.Run(StepEpoch, 20, nil)
	tr.SetWeight(0, 0, 0, false, 0.5)
	tr.Step(StepBatch, func(*Event) {})
	for range 3 {
		tr.Back()
	}
	return l, tr, tr.TakeLog()
}

// TestSnapshotSizes keeps snapshots of the built-in lessons small: a fresh
// session's is its header, scalars and one checkpoint's scalars; a
// classroom session's is a few KiB (spiral, with 145 weights and twenty
// checkpoints, is the largest). The figures are in docs/benchmarks.md.
func TestSnapshotSizes(t *testing.T) {
	for _, name := range Builtin().Names() {
		l, _ := Builtin().Lookup(name)
		fresh := len(newTrainer(t, l).Snapshot())
		_, tr, _ := classroomSession(t, name)
		used := len(tr.Snapshot())
		t.Logf("%-15s fresh %4d B, classroom session %6d B (%d checkpoints, %d steps to go back)", name, fresh, used, len(tr.checkpoints), len(tr.history))
		if fresh > 200 {
			t.Errorf("%s: a fresh session's snapshot is %d bytes, want at most 200", name, fresh)
		}
		if limit := 32 * l.ParamCount() * 24; used > limit {
			t.Errorf("%s: a classroom session's snapshot is %d bytes, want at most %d", name, used, limit)
		}
	}
}

// BenchmarkSnapshot measures writing, restoring and replaying a classroom
// session of each built-in lesson.
func BenchmarkSnapshot(b *testing.B) {
	for _, name := range []string{"house-prices", "xor", "circle", "spiral", "which-size"} {
		l, tr, log := classroomSession(b, name)
		snap := tr.Snapshot()
		b.Run("write/"+name, func(b *testing.B) {
			b.ReportAllocs()
			buf := make([]byte, 0, 2*len(snap))
			for b.Loop() {
				buf = tr.AppendSnapshot(buf[:0])
			}
			b.ReportMetric(float64(len(snap)), "bytes")
		})
		b.Run("restore/"+name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Restore(l, snap); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("replay/"+name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Replay(l, log); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(AppendCommands(nil, log))), "logbytes")
		})
	}
}

// FuzzParseCommands feeds the command-log decoder damaged and made-up
// logs: whatever it accepts must encode and parse again to the same
// commands, and applying it to a session must not panic.
func FuzzParseCommands(f *testing.F) {
	tiny := lessonFile(f, "testdata/tiny.json")
	tr := newTrainer(f, tiny)
	tr.Record(true)
	tr.Run(StepSample, 4, nil)
	tr.StepLimited(StepEpoch, nil, 3)
	tr.SetWeight(0, 1, 0, false, 0.5)
	tr.SetWeight(1, 0, 0, true, -0.25)
	tr.Set(TrainingPatch{Optimizer: ptr(Adam), LearningRate: ptr(0.2), BatchSize: ptr(3), Momentum: ptr(0.5), Regularization: &Regularization{Kind: "l1", Rate: 0.01}})
	tr.Back()
	tr.Back()
	tr.Reset()
	f.Add(AppendCommands(nil, tr.TakeLog()))
	f.Add(AppendCommands(nil, nil))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, b := range [][]byte{data, fixSum(data)} {
			cmds, err := ParseCommands(b)
			if err != nil {
				var se *SnapshotError
				if !errors.As(err, &se) {
					t.Fatalf("error %v is not a *SnapshotError", err)
				}
				continue
			}
			again, err := ParseCommands(AppendCommands(nil, cmds))
			if err != nil || len(again) != len(cmds) {
				t.Fatalf("a log that parsed does not parse again: %v", err)
			}
			for i := range cmds {
				if !sameCommand(cmds[i], again[i]) {
					t.Fatalf("command %d: %+v, after encoding again %+v", i, cmds[i], again[i])
				}
			}
			// Only short steps: a made-up log may ask for a million epochs.
			short := cmds[:0:0]
			for _, c := range cmds {
				if c.Steps < 8 && c.Micro < 100 {
					short = append(short, c)
				}
			}
			newTrainer(t, tiny).Apply(short...)
		}
	})
}

// sameCommand compares two commands, numbers by their bits and patches by
// value.
func sameCommand(a, b Command) bool {
	pa, pb := a.Patch, b.Patch
	a.Patch, b.Patch = TrainingPatch{}, TrainingPatch{}
	if math.Float64bits(a.Value) != math.Float64bits(b.Value) {
		return false
	}
	a.Value, b.Value = 0, 0 // NaN ≠ NaN
	eq := func(x, y *float64) bool {
		return (x == nil) == (y == nil) && (x == nil || math.Float64bits(*x) == math.Float64bits(*y))
	}
	return a == b && eq(pa.LearningRate, pb.LearningRate) && eq(pa.Momentum, pb.Momentum) &&
		(pa.BatchSize == nil) == (pb.BatchSize == nil) && (pa.BatchSize == nil || *pa.BatchSize == *pb.BatchSize) &&
		(pa.Optimizer == nil) == (pb.Optimizer == nil) && (pa.Optimizer == nil || *pa.Optimizer == *pb.Optimizer) &&
		(pa.Regularization == nil) == (pb.Regularization == nil) && (pa.Regularization == nil || (pa.Regularization.Kind == pb.Regularization.Kind && math.Float64bits(pa.Regularization.Rate) == math.Float64bits(pb.Regularization.Rate)))
}

// A session saved on one instance and rebuilt on another: the snapshot
// carries the session so far, the log what was done after it.
func ExampleRestore() {
	l, _ := Builtin().Lookup("xor")
	tr, _ := NewTrainer(l)
	tr.Run(StepEpoch, 50, nil)
	tr.Record(true)
	snap := tr.Snapshot() // saved now...
	tr.Step(StepSample, nil)
	tr.Back()
	tr.Step(StepBatch, nil)
	log := AppendCommands(nil, tr.TakeLog()) // ...and what happened since

	rebuilt, err := Restore(l, snap)
	if err != nil {
		fmt.Println(err)
		return
	}
	cmds, err := ParseCommands(log)
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := rebuilt.Apply(cmds...); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(len(cmds), "commands; same session:", bytes.Equal(rebuilt.Snapshot(), tr.Snapshot()))
	fmt.Println("position:", rebuilt.Position().Epoch, "epochs,", rebuilt.Position().Sample, "samples")
	// Output:
	// 3 commands; same session: true
	// position: 50 epochs, 1 samples
}
