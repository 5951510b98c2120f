package engine

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
)

// CommandKind is what a Command does to a session.
type CommandKind uint8

// The kinds of command, one per Trainer method that changes a session.
const (
	CommandStep      CommandKind = iota + 1 // Step, Run or StepLimited
	CommandBack                             // Back
	CommandReset                            // Reset
	CommandSet                              // Set
	CommandSetWeight                        // SetWeight
)

var commandNames = []string{"", "step", "back", "reset", "set", "setWeight"}

func (k CommandKind) String() string {
	if int(k) < len(commandNames) && k > 0 {
		return commandNames[k]
	}
	return fmt.Sprintf("command(%d)", k)
}

// Command is one thing done to a session, as a log keeps it: what was done
// and with which arguments, never when or how fast. Apply does it again.
//
// A step command is G-sized steps: Steps whole ones (taken by Step, Run or
// StepLimited, however a run was cut into slices), then, when Unfinished,
// one more left Micro micro-steps after its start (a StepLimited step that
// something else interrupted, or that was still going when the log was
// taken). Continues says the first of them continues the unfinished step
// the session was already in.
type Command struct {
	Kind       CommandKind
	G          Granularity // step
	Steps      int64       // step: whole steps taken; back: steps undone
	Continues  bool        // step
	Unfinished bool        // step
	Micro      int64       // step, when Unfinished

	Patch TrainingPatch // set

	Layer, To, From int // setWeight
	Bias            bool
	Value           float64
}

// Record starts keeping a log of every command that changes the trainer
// (with false, stops and forgets it). Commands that change nothing (a Step
// after a divergence, a Back at the start, a refused Set) are not kept.
// A snapshot plus the commands recorded after it rebuild the trainer
// exactly: Restore, then Apply. A Fork does not record.
func (t *Trainer) Record(on bool) {
	t.recording = on
	t.log = nil
}

// TakeLog returns the commands recorded since Record or the last TakeLog,
// and starts a new log.
func (t *Trainer) TakeLog() []Command {
	log := t.log
	t.log = nil
	return log
}

// note adds a command to the log, folding it into the last one where the
// two are one command (several Backs, several whole steps).
func (t *Trainer) note(c Command) {
	if !t.recording {
		return
	}
	if n := len(t.log); n > 0 && c.Kind == CommandBack && t.log[n-1].Kind == CommandBack {
		t.log[n-1].Steps++
		return
	}
	if c.Kind == CommandSet {
		c.Patch = c.Patch.clone()
	}
	t.log = append(t.log, c)
}

// noteStep records a step of granularity g that has just finished (done)
// or paused unfinished, continuing (cont) the unfinished step the trainer
// was in.
func (t *Trainer) noteStep(g Granularity, done, cont bool) {
	if !t.recording {
		return
	}
	n := len(t.log)
	var last *Command
	if n > 0 && t.log[n-1].Kind == CommandStep && t.log[n-1].G == g {
		last = &t.log[n-1]
	}
	switch {
	case cont && last != nil && last.Unfinished:
		// Another piece of the same step.
	case !cont && last != nil && !last.Unfinished:
		// One more whole step.
	default:
		t.log = append(t.log, Command{Kind: CommandStep, G: g, Continues: cont})
		last = &t.log[n]
	}
	if done {
		last.Steps++
		last.Unfinished, last.Micro = false, 0
	} else {
		last.Unfinished, last.Micro = true, t.s.pos.T-t.history[len(t.history)-1]
	}
}

func (p TrainingPatch) clone() TrainingPatch {
	return TrainingPatch{LearningRate: clonePtr(p.LearningRate), BatchSize: clonePtr(p.BatchSize), Optimizer: clonePtr(p.Optimizer), Momentum: clonePtr(p.Momentum), Regularization: clonePtr(p.Regularization)}
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	return ptr(*p)
}

// ErrBadLog is wrapped by the errors Apply and Replay return for a command
// that cannot have come from a session in that state.
var ErrBadLog = errors.New("command log does not fit the session")

// Apply does each command to the trainer, as the calls it records did: a
// trainer rebuilt this way equals the one that recorded them bit for bit,
// Back included, provided it started in the same state. A command that
// does not fit (a Back past the start, a weight that does not exist, a step
// said to be unfinished that would end) stops Apply with an error wrapping
// ErrBadLog and naming the command; the commands before it stay applied.
func (t *Trainer) Apply(cmds ...Command) error {
	for i, c := range cmds {
		if err := t.apply(c); err != nil {
			return fmt.Errorf("engine: command %d (%s): %w", i, c.Kind, err)
		}
	}
	return nil
}

// Replay rebuilds a session from its lesson and the log of everything done
// to it since it started.
func Replay(l *Lesson, log []Command) (*Trainer, error) {
	t, err := NewTrainer(l)
	if err != nil {
		return nil, err
	}
	if err := t.Apply(log...); err != nil {
		return nil, err
	}
	return t, nil
}

func badLog(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrBadLog, fmt.Sprintf(format, args...))
}

func (t *Trainer) apply(c Command) error {
	switch c.Kind {
	case CommandStep:
		return t.applyStep(c)
	case CommandBack:
		if c.Steps < 1 {
			return badLog("want at least one step back, got %d", c.Steps)
		}
		for k := int64(0); k < c.Steps; k++ {
			if t.Back() != nil {
				return badLog("back %d of %d is past the start", k+1, c.Steps)
			}
		}
	case CommandReset:
		t.Reset()
	case CommandSet:
		if err := t.Set(c.Patch); err != nil {
			return fmt.Errorf("%w: %w", ErrBadLog, err)
		}
	case CommandSetWeight:
		if err := t.SetWeight(c.Layer, c.To, c.From, c.Bias, c.Value); err != nil {
			return fmt.Errorf("%w: %w", ErrBadLog, err)
		}
	default:
		return badLog("unknown command kind %d", c.Kind)
	}
	return nil
}

func (t *Trainer) applyStep(c Command) error {
	g, steps := c.G, c.Steps
	switch {
	case g > StepEpoch:
		return badLog("unknown granularity %d", g)
	case steps < 0 || c.Micro < 0 || (!c.Unfinished && c.Micro != 0):
		return badLog("steps %d, micro-steps %d", steps, c.Micro)
	case steps == 0 && !c.Unfinished:
		return badLog("a step command that takes no step")
	case c.Continues && !(t.partial && t.partialG == g):
		return badLog("continues an unfinished %s step the session is not in", g)
	}
	if c.Continues && steps > 0 {
		done, err := t.StepLimited(g, nil, math.MaxInt)
		if err != nil || !done {
			return badLog("the unfinished step cannot be finished (%v)", err)
		}
		steps--
	}
	for ; steps > 0; steps -= math.MaxInt32 {
		if t.Run(g, int(min(steps, math.MaxInt32)), nil) != nil {
			break // diverged: the recorded session stopped here too
		}
	}
	if !c.Unfinished {
		return nil
	}
	cont := c.Continues && c.Steps == 0
	if t.s.diverged != "" {
		return badLog("an unfinished step after training diverged")
	}
	if !cont {
		t.pushHistory()
	}
	t.partial, t.partialG = true, g
	target := t.history[len(t.history)-1] + c.Micro
	if target < t.s.pos.T || !t.advanceTo(target, g, true) {
		t.partial = false
		return badLog("a %s step said to be unfinished %d micro-steps in is not", g, c.Micro)
	}
	t.noteStep(g, false, cont)
	return nil
}

// The binary form of a command log: magic "nscl", version 1, the number of
// commands, each command, and a CRC-32 (IEEE) of everything before it.
// A command is its kind byte and then: for a step, its granularity, a flag
// byte (1 continues, 2 unfinished), its whole steps and micro-steps as
// unsigned varints; for a back, its steps; for a set, a byte saying which
// fields follow (1 learningRate, 2 batchSize, 4 optimizer, 8 momentum, 16
// regularization) and those fields; for a setWeight, layer, to and from as
// unsigned varints, a bias byte and the value's 8 bytes.
const commandLogVersion = 1

var commandLogMagic = [4]byte{'n', 's', 'c', 'l'}

// maxLogCommands bounds the commands ParseCommands accepts.
const maxLogCommands = 1 << 20

// AppendCommands appends the binary form of a command log to dst, for
// ParseCommands.
func AppendCommands(dst []byte, cmds []Command) []byte {
	start := len(dst)
	dst = append(dst, commandLogMagic[:]...)
	dst = append(dst, commandLogVersion)
	dst = binary.AppendUvarint(dst, uint64(len(cmds)))
	for _, c := range cmds {
		dst = append(dst, byte(c.Kind))
		switch c.Kind {
		case CommandStep:
			flags := byte(0)
			if c.Continues {
				flags |= 1
			}
			if c.Unfinished {
				flags |= 2
			}
			dst = append(dst, byte(c.G), flags)
			dst = binary.AppendUvarint(dst, uint64(c.Steps))
			dst = binary.AppendUvarint(dst, uint64(c.Micro))
		case CommandBack:
			dst = binary.AppendUvarint(dst, uint64(c.Steps))
		case CommandSet:
			p := c.Patch
			mask := byte(0)
			for i, set := range []bool{p.LearningRate != nil, p.BatchSize != nil, p.Optimizer != nil, p.Momentum != nil, p.Regularization != nil} {
				if set {
					mask |= 1 << i
				}
			}
			dst = append(dst, mask)
			if p.LearningRate != nil {
				dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(*p.LearningRate))
			}
			if p.BatchSize != nil {
				dst = binary.AppendUvarint(dst, uint64(*p.BatchSize))
			}
			if p.Optimizer != nil {
				dst = append(dst, byte(*p.Optimizer))
			}
			if p.Momentum != nil {
				dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(*p.Momentum))
			}
			if p.Regularization != nil {
				dst = append(dst, byte(regKindIndex(p.Regularization.Kind)))
				dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(p.Regularization.Rate))
			}
		case CommandSetWeight:
			dst = binary.AppendUvarint(dst, uint64(c.Layer))
			dst = binary.AppendUvarint(dst, uint64(c.To))
			dst = binary.AppendUvarint(dst, uint64(c.From))
			bias := byte(0)
			if c.Bias {
				bias = 1
			}
			dst = append(dst, bias)
			dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(c.Value))
		}
	}
	return binary.LittleEndian.AppendUint32(dst, crc32.ChecksumIEEE(dst[start:]))
}

// ParseCommands reads a command log AppendCommands wrote. Damaged, cut or
// unknown-version input gets a *SnapshotError; a log that parses may still
// not fit a session, which Apply reports.
func ParseCommands(data []byte) ([]Command, error) {
	if len(data) < 5 || [4]byte(data[:4]) != commandLogMagic {
		if len(data) < 5 && len(data) <= 4 && string(commandLogMagic[:len(data)]) == string(data) {
			return nil, truncated("header")
		}
		return nil, corrupt("header", "not a netstep command log")
	}
	if data[4] != commandLogVersion {
		return nil, &SnapshotError{Kind: ErrSnapshotVersion, Field: "version", Detail: fmt.Sprintf("want %d, got %d", commandLogVersion, data[4])}
	}
	if len(data) < 5+1+4 {
		return nil, truncated("commands")
	}
	body, sum := data[:len(data)-4], binary.LittleEndian.Uint32(data[len(data)-4:])
	r := snapshotReader{b: body[5:]}
	cmds, err := r.commands()
	if crc32.ChecksumIEEE(body) != sum {
		if err != nil && errors.Is(err, ErrSnapshotTruncated) {
			return nil, err
		}
		return nil, r.corrupt("checksum", "the bytes do not match their checksum")
	}
	if err != nil {
		return nil, err
	}
	if len(r.b) != 0 {
		return nil, r.corrupt("end", "%d bytes after the last command", len(r.b))
	}
	return cmds, nil
}

func (r *snapshotReader) commands() ([]Command, error) {
	n, err := r.count("commands", maxLogCommands)
	if err != nil {
		return nil, err
	}
	cmds := make([]Command, n)
	r.prefix = "commands"
	defer func() { r.prefix = "" }()
	for i := range cmds {
		c := &cmds[i]
		r.item = i
		k, err := r.byte("kind")
		if err != nil {
			return nil, err
		}
		c.Kind = CommandKind(k)
		switch c.Kind {
		case CommandStep:
			g, err := r.byte("granularity")
			if err != nil {
				return nil, err
			}
			flags, err := r.byte("flags")
			if err != nil {
				return nil, err
			}
			if g > byte(StepEpoch) || flags > 3 {
				return nil, r.corrupt("granularity", "granularity %d, flags %d", g, flags)
			}
			c.G, c.Continues, c.Unfinished = Granularity(g), flags&1 != 0, flags&2 != 0
			steps, err := r.uint("steps", math.MaxInt64)
			if err != nil {
				return nil, err
			}
			micro, err := r.uint("micro", math.MaxInt64)
			if err != nil {
				return nil, err
			}
			c.Steps, c.Micro = int64(steps), int64(micro)
		case CommandBack:
			steps, err := r.uint("steps", math.MaxInt64)
			if err != nil {
				return nil, err
			}
			c.Steps = int64(steps)
		case CommandReset:
		case CommandSet:
			if err := r.patch(&c.Patch); err != nil {
				return nil, err
			}
		case CommandSetWeight:
			var v [3]int
			for j, name := range []string{"layer", "to", "from"} {
				if v[j], err = r.int(name, MaxWeights); err != nil {
					return nil, err
				}
			}
			c.Layer, c.To, c.From = v[0], v[1], v[2]
			b, err := r.byte("bias")
			if err != nil {
				return nil, err
			}
			if b > 1 {
				return nil, r.corrupt("bias", "got %d", b)
			}
			c.Bias = b == 1
			if c.Value, err = r.float("value"); err != nil {
				return nil, err
			}
		default:
			return nil, r.corrupt("kind", "unknown kind %d", k)
		}
	}
	return cmds, nil
}

func (r *snapshotReader) patch(p *TrainingPatch) error {
	mask, err := r.byte("fields")
	if err != nil {
		return err
	}
	if mask == 0 || mask >= 1<<5 {
		return r.corrupt("fields", "got %d", mask)
	}
	if mask&1 != 0 {
		v, err := r.float("learningRate")
		if err != nil {
			return err
		}
		p.LearningRate = &v
	}
	if mask&2 != 0 {
		v, err := r.int("batchSize", MaxSamples)
		if err != nil {
			return err
		}
		p.BatchSize = &v
	}
	if mask&4 != 0 {
		v, err := r.byte("optimizer")
		if err != nil {
			return err
		}
		if v > byte(Adam) {
			return r.corrupt("optimizer", "got %d", v)
		}
		p.Optimizer = ptr(OptimizerKind(v))
	}
	if mask&8 != 0 {
		v, err := r.float("momentum")
		if err != nil {
			return err
		}
		p.Momentum = &v
	}
	if mask&16 != 0 {
		k, err := r.byte("regularization.kind")
		if err != nil {
			return err
		}
		if int(k) >= len(regKinds) {
			return r.corrupt("regularization.kind", "got %d", k)
		}
		rate, err := r.float("regularization.rate")
		if err != nil {
			return err
		}
		p.Regularization = &Regularization{Kind: regKinds[k], Rate: rate}
	}
	return nil
}
