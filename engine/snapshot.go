package engine

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"unicode/utf8"
)

// A snapshot is a Trainer written out as bytes: everything Restore needs to
// rebuild it bit for bit, Back included, and nothing it can recompute (the
// lesson and its data, the epoch's sample order, buffers). The layout of
// version 1, all integers unsigned varints unless sized:
//
//	magic "nstp" · version (1 byte) · lesson fingerprint (8 bytes, little-endian)
//	scalars · partial step (1 byte: 0, or 1 + its granularity) · checkpoint spacing · loss stride
//	epoch losses: count, then per loss the epoch's distance from the last and its losses
//	history: count, then each micro-step's distance from the one before
//	checkpoints: count, then per checkpoint its scalars, a flag byte (1 pinned, 2 has numbers) and its numbers
//	the current numbers
//	CRC-32 (IEEE) of everything before it (4 bytes, little-endian)
//
// Scalars are the position, the hyperparameters in force, the current
// sample and its loss, the last update's batch and the divergence reason.
// Numbers (the state slab of weights, gradient sums, optimizer moments,
// current sample's values and last update) are written as the XOR with a
// reference slab: each checkpoint's with the checkpoint before, the
// current one's with the newest checkpoint, the first with the lesson's
// starting numbers. A run of unchanged numbers takes one byte; any other
// number takes a byte plus the XOR's bytes between its leading and
// trailing zero bytes. The shuffle state is not written: an epoch's order
// derives from the lesson's seed and the epoch's number.
const snapshotVersion = 1

var snapshotMagic = [4]byte{'n', 's', 't', 'p'}

// The reasons a snapshot can be refused; a *SnapshotError wraps one of them,
// so callers can test with errors.Is.
var (
	ErrSnapshotVersion   = errors.New("unknown snapshot version")
	ErrSnapshotTruncated = errors.New("snapshot is truncated")
	ErrSnapshotCorrupt   = errors.New("snapshot is corrupt")
	ErrSnapshotLesson    = errors.New("snapshot is of another lesson")
)

// SnapshotError says why Restore refused a snapshot (or ParseCommands a
// command log): Field names the part that is wrong, Kind is one of the
// ErrSnapshot… values.
type SnapshotError struct {
	Kind   error
	Field  string
	Detail string
}

func (e *SnapshotError) Error() string {
	msg := "engine: " + e.Kind.Error()
	if e.Field != "" {
		msg += ": " + e.Field
	}
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	return msg
}

// Unwrap returns the kind of problem.
func (e *SnapshotError) Unwrap() error { return e.Kind }

// Snapshot returns the trainer's state as a versioned snapshot (see
// AppendSnapshot).
func (t *Trainer) Snapshot() []byte { return t.AppendSnapshot(nil) }

// AppendSnapshot appends the trainer's state (weights, optimizer state,
// position, hyperparameters, current sample's values, epoch losses, and
// the history and checkpoints Back needs) to dst in the compact versioned
// format Restore reads. A command log being recorded is not included.
func (t *Trainer) AppendSnapshot(dst []byte) []byte {
	start := len(dst)
	dst = append(dst, snapshotMagic[:]...)
	dst = append(dst, snapshotVersion)
	dst = binary.LittleEndian.AppendUint64(dst, t.lesson.fingerprint())
	dst = appendScalars(dst, &t.s)
	if t.partial {
		dst = append(dst, 1+byte(t.partialG))
	} else {
		dst = append(dst, 0)
	}
	dst = binary.AppendUvarint(dst, uint64(t.ckEvery))
	dst = binary.AppendUvarint(dst, uint64(t.lossStride))
	dst = binary.AppendUvarint(dst, uint64(len(t.losses)))
	prev := EpochLoss{}
	for _, e := range t.losses {
		dst = binary.AppendUvarint(dst, uint64(e.Epoch-prev.Epoch))
		dst = appendXOR(dst, e.TrainLoss, prev.TrainLoss)
		if e.HasTest {
			dst = appendXOR(dst, e.TestLoss, prev.TestLoss)
		}
		prev = e
	}
	dst = binary.AppendUvarint(dst, uint64(len(t.history)))
	last := int64(0)
	for _, h := range t.history {
		dst = binary.AppendUvarint(dst, uint64(h-last))
		last = h
	}
	start0 := t.startSlab()
	ref := start0
	dst = binary.AppendUvarint(dst, uint64(len(t.checkpoints)))
	for i := range t.checkpoints {
		c := &t.checkpoints[i]
		dst = appendScalars(dst, &c.s)
		flags := byte(0)
		if c.pinned {
			flags |= 1
		}
		if c.slab != nil {
			flags |= 2
		}
		dst = append(dst, flags)
		if c.slab != nil {
			dst = appendSlab(dst, c.slab, ref)
			ref = c.slab
		} else {
			ref = start0
		}
	}
	dst = appendSlab(dst, t.slab, ref)
	return binary.LittleEndian.AppendUint32(dst, crc32.ChecksumIEEE(dst[start:]))
}

// startSlab is the slab as a fresh trainer has it: the lesson's starting
// weights and biases, everything else zero.
func (t *Trainer) startSlab() []float64 {
	s := make([]float64, len(t.slab))
	off := 0
	n := &t.lesson.Network
	for i := range t.layers {
		ly := &t.layers[i]
		for j := range ly.nout {
			copy(s[off+j*ly.nin:], n.Weights[i][j])
		}
		copy(s[off+6*ly.nin*ly.nout:], n.Biases[i]) // carve: six weight-sized blocks, then B
		off += slabSize(ly.nin, ly.nout)
	}
	return s
}

// Restore rebuilds a trainer for lesson l from a snapshot AppendSnapshot
// wrote for the same lesson. A snapshot of an unknown version, of another
// lesson, cut short or damaged is refused with a *SnapshotError; Restore
// never panics on its input and allocates no more than the lesson's own
// size and the snapshot's length allow.
func Restore(l *Lesson, data []byte) (*Trainer, error) {
	t, err := NewTrainer(l)
	if err != nil {
		return nil, err
	}
	if len(data) < len(snapshotMagic)+1 || [4]byte(data[:4]) != snapshotMagic {
		if len(data) < len(snapshotMagic) && string(snapshotMagic[:len(data)]) == string(data) {
			return nil, &SnapshotError{Kind: ErrSnapshotTruncated, Field: "header"}
		}
		if len(data) >= 4 && [4]byte(data[:4]) == snapshotMagic {
			return nil, &SnapshotError{Kind: ErrSnapshotTruncated, Field: "version"}
		}
		return nil, &SnapshotError{Kind: ErrSnapshotCorrupt, Field: "header", Detail: "not a netstep snapshot"}
	}
	if v := data[4]; v != snapshotVersion {
		return nil, &SnapshotError{Kind: ErrSnapshotVersion, Field: "version", Detail: fmt.Sprintf("want %d, got %d", snapshotVersion, v)}
	}
	if len(data) < 5+8+4 {
		return nil, &SnapshotError{Kind: ErrSnapshotTruncated, Field: "header"}
	}
	body, sum := data[:len(data)-4], binary.LittleEndian.Uint32(data[len(data)-4:])
	if crc32.ChecksumIEEE(body) != sum {
		// A snapshot cut short fails its checksum too; say which it
		// probably is by whether the body parses as far as its end.
		r := snapshotReader{b: body[5:]}
		if err := r.trainer(t); err != nil && errors.Is(err, ErrSnapshotTruncated) {
			return nil, err
		}
		return nil, &SnapshotError{Kind: ErrSnapshotCorrupt, Field: "checksum", Detail: "the bytes do not match their checksum"}
	}
	r := snapshotReader{b: body[5:]}
	if err := r.trainer(t); err != nil {
		return nil, err
	}
	if len(r.b) != 0 {
		return nil, &SnapshotError{Kind: ErrSnapshotCorrupt, Field: "end", Detail: fmt.Sprintf("%d bytes after the current numbers", len(r.b))}
	}
	return t, nil
}

// snapshotReader reads a snapshot's body, checking every value against the
// lesson it is restored for.
type snapshotReader struct {
	b      []byte
	prefix string // the record being read: "position", "checkpoints", "commands"
	item   int    // which command, when reading a log
}

// where is a field's full name, built only for an error so that reading
// allocates nothing per field.
func (r *snapshotReader) where(field string) string {
	switch {
	case r.prefix == "":
		return field
	case r.prefix == "commands":
		return fmt.Sprintf("commands[%d].%s", r.item, field)
	}
	return r.prefix + "." + field
}

func truncated(field string) error { return (&snapshotReader{}).truncated(field) }

func corrupt(field, format string, args ...any) error {
	return (&snapshotReader{}).corrupt(field, format, args...)
}

func (r *snapshotReader) truncated(field string) error {
	return &SnapshotError{Kind: ErrSnapshotTruncated, Field: r.where(field)}
}

func (r *snapshotReader) corrupt(field, format string, args ...any) error {
	return &SnapshotError{Kind: ErrSnapshotCorrupt, Field: r.where(field), Detail: fmt.Sprintf(format, args...)}
}

func (r *snapshotReader) byte(field string) (byte, error) {
	if len(r.b) == 0 {
		return 0, r.truncated(field)
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v, nil
}

// uint reads an unsigned varint no larger than limit.
func (r *snapshotReader) uint(field string, limit uint64) (uint64, error) {
	v, n := binary.Uvarint(r.b)
	switch {
	case n == 0:
		return 0, r.truncated(field)
	case n < 0:
		return 0, r.corrupt(field, "a whole number too large")
	case v > limit:
		return 0, r.corrupt(field, "want at most %d, got %d", limit, v)
	}
	r.b = r.b[n:]
	return v, nil
}

func (r *snapshotReader) int(field string, limit int) (int, error) {
	v, err := r.uint(field, uint64(limit))
	return int(v), err
}

func (r *snapshotReader) float(field string) (float64, error) {
	if len(r.b) < 8 {
		return 0, r.truncated(field)
	}
	v := math.Float64frombits(binary.LittleEndian.Uint64(r.b))
	r.b = r.b[8:]
	return v, nil
}

// count reads a number of entries, each at least one byte long, so a
// declared size larger than the bytes left is refused before allocating.
func (r *snapshotReader) count(field string, limit int) (int, error) {
	n, err := r.int(field, limit)
	if err == nil && n > len(r.b) {
		return 0, r.truncated(field)
	}
	return n, err
}

func (r *snapshotReader) trainer(t *Trainer) error {
	if len(r.b) < 8 {
		return r.truncated("fingerprint")
	}
	if got, want := binary.LittleEndian.Uint64(r.b), t.lesson.fingerprint(); got != want {
		return &SnapshotError{Kind: ErrSnapshotLesson, Field: "fingerprint", Detail: fmt.Sprintf("made for lesson %016x, this is %016x", got, want)}
	}
	r.b = r.b[8:]
	if err := r.scalars("position", t, &t.s); err != nil {
		return err
	}
	p, err := r.byte("partial")
	if err != nil {
		return err
	}
	if p > 1+byte(StepEpoch) {
		return r.corrupt("partial", "want 0 to %d, got %d", 1+StepEpoch, p)
	}
	t.partial, t.partialG = p > 0, Granularity(max(p, 1)-1)
	minEvery := uint64(64 * t.microsPerSample())
	every, err := r.uint("checkpointEvery", math.MaxInt64)
	if err != nil {
		return err
	}
	if every < minEvery || every%minEvery != 0 || (every/minEvery)&(every/minEvery-1) != 0 {
		return r.corrupt("checkpointEvery", "want %d times a power of two, got %d", minEvery, every)
	}
	t.ckEvery = int64(every)
	stride, err := r.int("lossStride", 1<<40)
	if err != nil {
		return err
	}
	if stride == 0 || stride&(stride-1) != 0 {
		return r.corrupt("lossStride", "want a power of two, got %d", stride)
	}
	t.lossStride = stride
	if err := r.losses(t); err != nil {
		return err
	}
	if err := r.history(t); err != nil {
		return err
	}
	if err := r.checkpoints(t); err != nil {
		return err
	}
	ref := t.startSlab()
	if c := t.checkpoints[len(t.checkpoints)-1]; c.slab != nil {
		ref = c.slab
	}
	if err := r.slab("numbers", t.slab, ref); err != nil {
		return err
	}
	if last := t.checkpoints[len(t.checkpoints)-1].s.pos.T; t.s.pos.T < last {
		return r.corrupt("position.t", "at %d, before the newest checkpoint at %d", t.s.pos.T, last)
	}
	if n := len(t.history); n > 0 && t.history[n-1] > t.s.pos.T {
		return r.corrupt("history", "a step starts at %d, after the position %d", t.history[n-1], t.s.pos.T)
	}
	return nil
}

func (r *snapshotReader) losses(t *Trainer) error {
	n, err := r.count("losses", maxLosses)
	if err != nil {
		return err
	}
	t.losses = make([]EpochLoss, 0, n)
	prev := EpochLoss{}
	for range n {
		d, err := r.int("losses.epoch", math.MaxInt32)
		if err != nil {
			return err
		}
		e := EpochLoss{Epoch: prev.Epoch + d, HasTest: t.test.n > 0}
		if d == 0 || e.Epoch > t.s.pos.Epoch || e.Epoch%t.lossStride != 0 {
			return r.corrupt("losses.epoch", "epoch %d after %d with stride %d, at epoch %d", e.Epoch, prev.Epoch, t.lossStride, t.s.pos.Epoch)
		}
		if e.TrainLoss, err = r.xor("losses.trainLoss", prev.TrainLoss); err != nil {
			return err
		}
		if e.HasTest {
			if e.TestLoss, err = r.xor("losses.testLoss", prev.TestLoss); err != nil {
				return err
			}
		}
		t.losses = append(t.losses, e)
		prev = e
	}
	return nil
}

func (r *snapshotReader) history(t *Trainer) error {
	n, err := r.count("history", maxHistory)
	if err != nil {
		return err
	}
	t.history = make([]int64, 0, n)
	last := uint64(0)
	for range n {
		d, err := r.uint("history", math.MaxInt64)
		if err != nil {
			return err
		}
		if last+d > math.MaxInt64 {
			return r.corrupt("history", "a micro-step past 2⁶³")
		}
		last += d
		t.history = append(t.history, int64(last))
	}
	return nil
}

// maxSnapshotCheckpoints bounds the checkpoints a trainer keeps: the start,
// maxCheckpoints unpinned ones and one more before thinning, and the
// pinned ones of edits.
const maxSnapshotCheckpoints = 2 + maxCheckpoints + maxPinned

func (r *snapshotReader) checkpoints(t *Trainer) error {
	n, err := r.count("checkpoints", maxSnapshotCheckpoints)
	if err != nil {
		return err
	}
	if n == 0 {
		return r.corrupt("checkpoints", "want at least one (the start)")
	}
	start := t.startSlab()
	ref := start
	t.checkpoints = make([]checkpoint, n)
	for i := range t.checkpoints {
		c := &t.checkpoints[i]
		if err := r.scalars("checkpoints", t, &c.s); err != nil {
			return err
		}
		if i > 0 && c.s.pos.T <= t.checkpoints[i-1].s.pos.T {
			return r.corrupt("checkpoints.position.t", "checkpoint %d at %d is not after the one before at %d", i, c.s.pos.T, t.checkpoints[i-1].s.pos.T)
		}
		flags, err := r.byte("checkpoints.flags")
		if err != nil {
			return err
		}
		if flags > 3 || (i == 0 && flags&1 == 0) {
			return r.corrupt("checkpoints.flags", "checkpoint %d has flags %d", i, flags)
		}
		c.pinned = flags&1 != 0
		if flags&2 == 0 {
			if i > 0 {
				return r.corrupt("checkpoints.flags", "only the first checkpoint may be the lesson's own numbers")
			}
			ref = start
			continue
		}
		c.slab = make([]float64, len(t.slab))
		if err := r.slab("checkpoints.numbers", c.slab, ref); err != nil {
			return err
		}
		ref = c.slab
	}
	if n := len(t.history); n > 0 && t.history[0] < t.checkpoints[0].s.pos.T {
		return r.corrupt("history", "a step starts at %d, before the first checkpoint at %d", t.history[0], t.checkpoints[0].s.pos.T)
	}
	return nil
}

// maxReason bounds a divergence reason (the engine's own are under 500 bytes).
const maxReason = 2048

func appendScalars(dst []byte, s *scalars) []byte {
	p := &s.pos
	for _, v := range []uint64{uint64(p.T), uint64(p.Epoch), uint64(p.Sample), uint64(p.Phase), uint64(p.Layer), uint64(p.Neuron), uint64(p.BatchCount), uint64(p.Updates)} {
		dst = binary.AppendUvarint(dst, v)
	}
	dst = appendTraining(dst, &s.hp)
	flags := byte(0)
	for i, b := range []bool{s.haveSample, s.haveLoss, s.haveUpdate} {
		if b {
			flags |= 1 << i
		}
	}
	dst = append(dst, flags)
	dst = binary.AppendUvarint(dst, uint64(s.index))
	dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(s.loss))
	dst = binary.AppendUvarint(dst, uint64(s.lastBatch))
	dst = binary.AppendUvarint(dst, uint64(len(s.diverged)))
	return append(dst, s.diverged...)
}

func appendTraining(dst []byte, hp *Training) []byte {
	shuffle := byte(0)
	if hp.Shuffle {
		shuffle = 1
	}
	dst = append(dst, byte(hp.Loss), byte(hp.Optimizer), shuffle, byte(regKindIndex(hp.Regularization.Kind)))
	dst = binary.AppendUvarint(dst, uint64(hp.BatchSize))
	for _, v := range []float64{hp.LearningRate, hp.Momentum, hp.Regularization.Rate} {
		dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(v))
	}
	return dst
}

func regKindIndex(kind string) int {
	for i, k := range regKinds {
		if k == kind {
			return i
		}
	}
	return len(regKinds) // never: Set and ParseLesson accept only regKinds
}

// scalars reads one scalars record and checks it against the lesson: a
// position the step machine can be at, hyperparameters Set would accept.
func (r *snapshotReader) scalars(field string, t *Trainer, s *scalars) error {
	r.prefix = field
	defer func() { r.prefix = "" }()
	var v [8]uint64
	names := [8]string{"t", "epoch", "sample", "phase", "layer", "neuron", "batchCount", "updates"}
	limits := [8]uint64{math.MaxInt64, math.MaxInt32, uint64(t.train.n - 1), uint64(PhaseUpdate), uint64(len(t.layers) - 1), MaxNeurons - 1, uint64(t.train.n), math.MaxInt64}
	for i := range v {
		var err error
		if v[i], err = r.uint(names[i], limits[i]); err != nil {
			return err
		}
	}
	p := Position{T: int64(v[0]), Epoch: int(v[1]), Sample: int(v[2]), Phase: Phase(v[3]), Layer: int(v[4]), Neuron: int(v[5]), BatchCount: int(v[6]), Updates: int64(v[7])}
	last := len(t.layers) - 1
	switch {
	case p.Neuron >= t.layers[p.Layer].nout:
		return r.corrupt("neuron", "layer %d has %d neurons, got neuron %d", p.Layer, t.layers[p.Layer].nout, p.Neuron)
	case p.Phase == PhaseLoss && (p.Layer != last || p.Neuron != 0),
		p.Phase == PhaseUpdate && p.Neuron != 0:
		return r.corrupt("phase", "%s at layer %d, neuron %d", p.Phase, p.Layer, p.Neuron)
	case p.Updates > p.T:
		return r.corrupt("updates", "%d updates in %d micro-steps", p.Updates, p.T)
	}
	s.pos = p
	hp, err := r.training(t)
	if err != nil {
		return err
	}
	s.hp = hp
	flags, err := r.byte("flags")
	if err != nil {
		return err
	}
	if flags > 7 {
		return r.corrupt("flags", "got %d", flags)
	}
	s.haveSample, s.haveLoss, s.haveUpdate = flags&1 != 0, flags&2 != 0, flags&4 != 0
	if s.index, err = r.int("index", t.train.n-1); err != nil {
		return err
	}
	if s.loss, err = r.float("loss"); err != nil {
		return err
	}
	if s.lastBatch, err = r.int("lastBatch", t.train.n); err != nil {
		return err
	}
	n, err := r.count("diverged", maxReason)
	if err != nil {
		return err
	}
	if !utf8.Valid(r.b[:n]) {
		return r.corrupt("diverged", "not UTF-8 text")
	}
	s.diverged, r.b = string(r.b[:n]), r.b[n:]
	return nil
}

func (r *snapshotReader) training(t *Trainer) (Training, error) {
	if len(r.b) < 4 {
		return Training{}, r.truncated("training")
	}
	b := r.b[:4]
	r.b = r.b[4:]
	lesson := &t.lesson.Training
	hp := Training{Loss: LossKind(b[0]), Optimizer: OptimizerKind(b[1]), Shuffle: b[2] == 1}
	switch {
	case hp.Loss != lesson.Loss:
		return hp, r.corrupt("training.loss", "the lesson's loss is %s, got %d", lesson.Loss, b[0])
	case b[1] > byte(Adam):
		return hp, r.corrupt("training.optimizer", "got %d", b[1])
	case b[2] > 1 || hp.Shuffle != lesson.Shuffle:
		return hp, r.corrupt("training.shuffle", "the lesson's is %v, got %d", lesson.Shuffle, b[2])
	case int(b[3]) >= len(regKinds):
		return hp, r.corrupt("training.regularization.kind", "got %d", b[3])
	}
	hp.Regularization.Kind = regKinds[b[3]]
	var err error
	if hp.BatchSize, err = r.int("training.batchSize", MaxSamples); err != nil {
		return hp, err
	}
	for _, f := range []struct {
		name string
		v    *float64
	}{{"training.learningRate", &hp.LearningRate}, {"training.momentum", &hp.Momentum}, {"training.regularization.rate", &hp.Regularization.Rate}} {
		if *f.v, err = r.float(f.name); err != nil {
			return hp, err
		}
	}
	if err := hp.checkPatchable(); err != nil {
		var re *RangeError
		if errors.As(err, &re) {
			return hp, r.corrupt("training."+re.Field, "%s", re.Msg)
		}
		return hp, r.corrupt("training", "%v", err)
	}
	return hp, nil
}

// appendSlab writes v as its XOR with ref (see the format above).
func appendSlab(dst []byte, v, ref []float64) []byte {
	for i := 0; i < len(v); {
		if math.Float64bits(v[i]) == math.Float64bits(ref[i]) {
			run := 1
			for i+run < len(v) && run < 128 && math.Float64bits(v[i+run]) == math.Float64bits(ref[i+run]) {
				run++
			}
			dst = append(dst, byte(run-1))
			i += run
			continue
		}
		dst = appendXOR(dst, v[i], ref[i])
		i++
	}
	return dst
}

// appendXOR writes one number as a header byte 0x80|lead<<3|trail and the
// XOR's 8−lead−trail middle bytes, most significant first; a number equal to
// its reference is the header 0x00 (a run of one).
func appendXOR(dst []byte, v, ref float64) []byte {
	x := math.Float64bits(v) ^ math.Float64bits(ref)
	if x == 0 {
		return append(dst, 0)
	}
	lead, trail := 0, 0
	for x>>(56-8*lead)&0xff == 0 {
		lead++
	}
	for x>>(8*trail)&0xff == 0 {
		trail++
	}
	dst = append(dst, 0x80|byte(lead)<<3|byte(trail))
	for k := 7 - lead; k >= trail; k-- {
		dst = append(dst, byte(x>>(8*k)))
	}
	return dst
}

func (r *snapshotReader) xor(field string, ref float64) (float64, error) {
	var v [1]float64
	err := r.slab(field, v[:], []float64{ref})
	return v[0], err
}

// slab reads len(dst) numbers written by appendSlab against ref.
func (r *snapshotReader) slab(field string, dst, ref []float64) error {
	for i := 0; i < len(dst); {
		h, err := r.byte(field)
		if err != nil {
			return err
		}
		if h < 0x80 {
			run := int(h) + 1
			if i+run > len(dst) {
				return r.corrupt(field, "a run of %d unchanged numbers past the end of %d", run, len(dst))
			}
			copy(dst[i:i+run], ref[i:i+run])
			i += run
			continue
		}
		lead, trail := int(h>>3&7), int(h&7)
		n := 8 - lead - trail
		if n <= 0 {
			return r.corrupt(field, "header %#x", h)
		}
		if len(r.b) < n {
			return r.truncated(field)
		}
		var x uint64
		for _, b := range r.b[:n] {
			x = x<<8 | uint64(b)
		}
		r.b = r.b[n:]
		dst[i] = math.Float64frombits(math.Float64bits(ref[i]) ^ x<<(8*trail))
		i++
	}
	return nil
}

// fingerprint identifies the numbers a lesson trains on: its shape,
// activations, starting weights, hyperparameters, seed and data. A
// snapshot carries it so it is never restored onto another lesson; text
// (titles, notes) does not change the numbers and is left out.
func (l *Lesson) fingerprint() uint64 {
	h := uint64(14695981039346656037) // FNV-1a's offset basis, one 64-bit word at a time
	mix := func(v uint64) { h = (h ^ v) * 1099511628211 }
	f := func(v float64) { mix(math.Float64bits(v)) }
	n := &l.Network
	mix(l.Seed)
	mix(uint64(len(n.Inputs)))
	for i, spec := range n.Layers {
		mix(uint64(spec.Size)<<8 | uint64(spec.Activation))
		for _, row := range n.Weights[i] {
			for _, w := range row {
				f(w)
			}
		}
		for _, b := range n.Biases[i] {
			f(b)
		}
	}
	tr := l.Training
	mix(uint64(tr.Loss)<<16 | uint64(tr.Optimizer)<<8 | uint64(regKindIndex(tr.Regularization.Kind)))
	mix(uint64(tr.BatchSize))
	if tr.Shuffle {
		mix(1)
	}
	f(tr.LearningRate)
	f(tr.Momentum)
	f(tr.Regularization.Rate)
	for _, ds := range []*dataset{&l.train, &l.test} {
		mix(uint64(ds.n)<<32 | uint64(ds.nx)<<16 | uint64(ds.ny))
		for _, v := range ds.x {
			f(v)
		}
		for _, v := range ds.y {
			f(v)
		}
	}
	h ^= h >> 33 // spread the last words' bits over the whole value
	h *= 0xff51afd7ed558ccd
	return h ^ h>>33
}
