package engine

import (
	"math"
	"strconv"
	"unicode/utf8"
)

// EventType says what an Event reports.
type EventType uint8

// The event types.
const (
	EventSample   EventType = iota + 1 // a sample enters the forward pass
	EventForward                       // one neuron's z and a
	EventLoss                          // one sample's loss
	EventBackward                      // one neuron's ∂L/∂a and ∂L/∂z
	EventUpdate                        // one weight's or bias's update
	EventEpoch                         // an epoch's mean losses
	EventDiverged                      // training stopped on a non-finite value
)

var eventNames = [...]string{"", "sample", "forward", "loss", "backward", "update", "epoch", "diverged"}

func (e EventType) String() string { return eventNames[e] }

// Event is one thing the engine computed. Which fields matter depends on
// Type; AppendJSON writes exactly those. Slices point into the trainer's
// buffers and are valid only while the event is being handled.
type Event struct {
	Type EventType

	Epoch  int // sample: the epoch it belongs to; epoch: epochs completed
	Index  int // sample, loss: the sample's index in the training set
	Layer  int // forward, backward, update (layers with weights count from 0)
	Neuron int // forward, backward
	To     int // update: the neuron the weight leads into
	From   int // update: the neuron (or input) the weight comes from
	Bias   bool

	Z, A     float64 // forward
	DA, DZ   float64 // backward: ∂L/∂a and ∂L/∂z
	Slope    float64 // backward: ∂a/∂z, when HasSlope
	HasSlope bool

	Value              float64   // loss
	X, Y               []float64 // sample
	Prediction, Target []float64 // loss

	Old, Grad, New float64 // update: grad is what the optimizer used
	Batch          int     // update: samples averaged

	TrainLoss, TestLoss float64 // epoch
	HasTest             bool

	Reason string // diverged
}

// AppendJSON appends the event as one JSON object, with numbers in their
// shortest exact form (as encoding/json writes them). It allocates nothing
// when dst has room.
func (e *Event) AppendJSON(dst []byte) []byte {
	dst = append(dst, `{"type":"`...)
	dst = append(dst, eventNames[e.Type]...)
	dst = append(dst, '"')
	switch e.Type {
	case EventSample:
		dst = appendInt(dst, "epoch", e.Epoch)
		dst = appendInt(dst, "index", e.Index)
		dst = appendFloats(dst, "x", e.X)
		dst = appendFloats(dst, "y", e.Y)
	case EventForward:
		dst = appendInt(dst, "layer", e.Layer)
		dst = appendInt(dst, "neuron", e.Neuron)
		dst = appendFloat(dst, "z", e.Z)
		dst = appendFloat(dst, "a", e.A)
	case EventLoss:
		dst = appendInt(dst, "index", e.Index)
		dst = appendFloat(dst, "value", e.Value)
		dst = appendFloats(dst, "prediction", e.Prediction)
		dst = appendFloats(dst, "target", e.Target)
	case EventBackward:
		dst = appendInt(dst, "layer", e.Layer)
		dst = appendInt(dst, "neuron", e.Neuron)
		dst = appendFloat(dst, "dA", e.DA)
		dst = appendFloat(dst, "dZ", e.DZ)
		if e.HasSlope {
			dst = appendFloat(dst, "slope", e.Slope)
		}
	case EventUpdate:
		dst = appendInt(dst, "layer", e.Layer)
		dst = appendInt(dst, "to", e.To)
		if e.Bias {
			dst = append(dst, `,"bias":true`...)
		} else {
			dst = appendInt(dst, "from", e.From)
		}
		dst = appendFloat(dst, "old", e.Old)
		dst = appendFloat(dst, "grad", e.Grad)
		dst = appendFloat(dst, "new", e.New)
		dst = appendInt(dst, "batch", e.Batch)
	case EventEpoch:
		dst = appendInt(dst, "epoch", e.Epoch)
		dst = appendFloat(dst, "trainLoss", e.TrainLoss)
		if e.HasTest {
			dst = appendFloat(dst, "testLoss", e.TestLoss)
		}
	case EventDiverged:
		dst = append(dst, `,"reason":`...)
		dst = AppendString(dst, e.Reason)
	}
	return append(dst, '}')
}

// MarshalJSON implements json.Marshaler with AppendJSON.
func (e *Event) MarshalJSON() ([]byte, error) { return e.AppendJSON(nil), nil }

func appendKey(dst []byte, key string) []byte {
	dst = append(dst, ',', '"')
	dst = append(dst, key...)
	return append(dst, '"', ':')
}

func appendInt(dst []byte, key string, v int) []byte {
	return strconv.AppendInt(appendKey(dst, key), int64(v), 10)
}

func appendFloat(dst []byte, key string, v float64) []byte {
	return AppendFloat(appendKey(dst, key), v)
}

func appendFloats(dst []byte, key string, vs []float64) []byte {
	return appendVector(appendKey(dst, key), vs)
}

// AppendFloat appends v in the shortest form that reads back exactly, as
// encoding/json writes numbers. Non-finite values, which the engine never
// emits, are written as null rather than as invalid JSON.
func AppendFloat(dst []byte, v float64) []byte {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return append(dst, "null"...)
	}
	abs := math.Abs(v)
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		n := len(dst)
		dst = strconv.AppendFloat(dst, v, 'e', -1, 64)
		// Like encoding/json: e-07 becomes e-7.
		if m := len(dst); m-n >= 4 && dst[m-4] == 'e' && dst[m-3] == '-' && dst[m-2] == '0' {
			dst[m-2] = dst[m-1]
			dst = dst[:m-1]
		}
		return dst
	}
	return strconv.AppendFloat(dst, v, 'f', -1, 64)
}

// AppendString appends s as a JSON string.
func AppendString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				dst = append(dst, '\\', c)
			case c == '\n':
				dst = append(dst, '\\', 'n')
			case c == '\r':
				dst = append(dst, '\\', 'r')
			case c == '\t':
				dst = append(dst, '\\', 't')
			case c == '\b':
				dst = append(dst, '\\', 'b')
			case c == '\f':
				dst = append(dst, '\\', 'f')
			case c < 0x20 || c == '<' || c == '>' || c == '&':
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				dst = append(dst, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			// A byte that is not UTF-8 becomes U+FFFD written as itself,
			// as encoding/json writes it since Go 1.27 (before, \ufffd).
			dst = utf8.AppendRune(dst, utf8.RuneError)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			dst = append(dst, s[i:i+size]...)
		}
		i += size
	}
	return append(dst, '"')
}

// compactCodes are the one-letter type codes of the compact form.
var compactCodes = [...]byte{0, 's', 'f', 'l', 'b', 'u', 'e', 'd'}

// AppendCompact appends the event in the compact form: a JSON array whose
// first element is a one-letter type code and whose other elements are the
// fields in a fixed order, without field names (docs/protocol.md lists the
// order for each type). It carries exactly the numbers AppendJSON does.
//
//	sample    ["s", epoch, index, [x…], [y…]]
//	forward   ["f", layer, neuron, z, a]
//	loss      ["l", index, value, [prediction…], [target…]]
//	backward  ["b", layer, neuron, dA, dZ] or ["b", layer, neuron, dA, dZ, slope]
//	update    ["u", layer, to, from, old, grad, new, batch] (from is −1 for a bias)
//	epoch     ["e", epoch, trainLoss] or ["e", epoch, trainLoss, testLoss]
//	diverged  ["d", reason]
func (e *Event) AppendCompact(dst []byte) []byte {
	dst = append(dst, '[', '"', compactCodes[e.Type], '"')
	num := func(v float64) { dst = AppendFloat(append(dst, ','), v) }
	integer := func(v int) { dst = strconv.AppendInt(append(dst, ','), int64(v), 10) }
	list := func(vs []float64) { dst = appendVector(append(dst, ','), vs) }
	switch e.Type {
	case EventSample:
		integer(e.Epoch)
		integer(e.Index)
		list(e.X)
		list(e.Y)
	case EventForward:
		integer(e.Layer)
		integer(e.Neuron)
		num(e.Z)
		num(e.A)
	case EventLoss:
		integer(e.Index)
		num(e.Value)
		list(e.Prediction)
		list(e.Target)
	case EventBackward:
		integer(e.Layer)
		integer(e.Neuron)
		num(e.DA)
		num(e.DZ)
		if e.HasSlope {
			num(e.Slope)
		}
	case EventUpdate:
		integer(e.Layer)
		integer(e.To)
		if e.Bias {
			integer(-1)
		} else {
			integer(e.From)
		}
		num(e.Old)
		num(e.Grad)
		num(e.New)
		integer(e.Batch)
	case EventEpoch:
		integer(e.Epoch)
		num(e.TrainLoss)
		if e.HasTest {
			num(e.TestLoss)
		}
	case EventDiverged:
		dst = AppendString(append(dst, ','), e.Reason)
	}
	return append(dst, ']')
}
