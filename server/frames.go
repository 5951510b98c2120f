package server

import (
	"encoding/base64"
	"encoding/json"
	"strconv"

	"github.com/netstep/netstep/engine"
)

// Every frame is appended to a buffer the session reuses, then copied once
// into the frame that all viewers share. Numbers go through
// engine.AppendFloat, so they read back exactly, as in `netstep trace`.

// frameKind says how a viewer's queue treats a frame.
type frameKind uint8

const (
	kindOrdered  frameKind = iota // events, done, error, hello: kept in order
	kindState                     // state: a newer one replaces an unsent older one
	kindBoundary                  // boundary: likewise
	kindProgress                  // progress: held in its own slot, see viewer
)

// helloInfo is what the hello frame tells a client.
type helloInfo struct {
	session, resume string
	resumed         bool
	limits          []byte // the limits object, encoded once per server
}

func appendHello(dst []byte, h helloInfo) []byte {
	dst = append(dst, `{"type":"hello","protocol":1,"server":"netstep","session":`...)
	dst = engine.AppendString(dst, h.session)
	dst = append(dst, `,"resume":`...)
	dst = engine.AppendString(dst, h.resume)
	dst = append(dst, `,"resumed":`...)
	dst = strconv.AppendBool(dst, h.resumed)
	dst = append(dst, `,"limits":`...)
	dst = append(dst, h.limits...)
	return append(dst, '}')
}

func appendID(dst, id []byte) []byte {
	if id != nil {
		dst = append(dst, `,"id":`...)
		dst = append(dst, id...)
	}
	return dst
}

func appendDone(dst, id []byte) []byte {
	dst = append(dst, `{"type":"done"`...)
	return append(appendID(dst, id), '}')
}

func appendError(dst []byte, e *Error) []byte {
	dst = append(dst, `{"type":"error"`...)
	dst = appendID(dst, e.ID)
	dst = append(dst, `,"code":`...)
	dst = engine.AppendString(dst, e.Code)
	dst = append(dst, `,"message":`...)
	dst = engine.AppendString(dst, e.Message)
	return append(dst, '}')
}

// appendEventsHead opens an events frame; the events follow, comma
// separated, and appendEventsMore or appendEventsEnd closes it.
func appendEventsHead(dst, id []byte) []byte {
	dst = append(dst, `{"type":"events"`...)
	dst = appendID(dst, id)
	return append(dst, `,"events":[`...)
}

// appendEventsMore closes an events frame that another of the same step
// follows.
func appendEventsMore(dst []byte) []byte {
	return append(dst, `],"more":true}`...)
}

// appendEventsEnd closes the last events frame of a step with where the
// step left training (the position a state frame would give), so that the
// page need not re-derive it from the events; omitted counts events left
// out past the limit.
func appendEventsEnd(dst []byte, omitted int64, p engine.Position) []byte {
	dst = append(dst, ']')
	if omitted > 0 {
		dst = append(dst, `,"omitted":`...)
		dst = strconv.AppendInt(dst, omitted, 10)
	}
	dst = append(dst, `,"position":`...)
	dst = appendPosition(dst, p)
	return append(dst, '}')
}

// appendState writes a state frame: the engine's snapshot and, for 2-D
// lessons, the heatmaps. reason is the command that caused it.
func appendState(dst, id []byte, reason string, st *engine.State, hm *engine.Heatmaps) ([]byte, error) {
	body, err := json.Marshal(st)
	if err != nil {
		return dst, err
	}
	dst = append(dst, `{"type":"state"`...)
	dst = appendID(dst, id)
	dst = append(dst, `,"reason":`...)
	dst = engine.AppendString(dst, reason)
	dst = append(dst, `,"state":`...)
	if hm == nil {
		dst = append(dst, body...)
	} else {
		dst = append(dst, body[:len(body)-1]...) // the object without its closing brace
		dst = append(dst, `,"boundary":`...)
		dst = appendHeatmaps(dst, hm)
		dst = append(dst, '}')
	}
	return append(dst, '}'), nil
}

// appendBoundaryFrame writes a boundary frame.
func appendBoundaryFrame(dst []byte, hm *engine.Heatmaps) []byte {
	dst = append(dst, `{"type":"boundary",`...)
	n := len(dst)
	dst = appendHeatmaps(dst, hm)
	// Drop the object's own opening brace: its members follow "type".
	copy(dst[n:], dst[n+1:])
	return dst[:len(dst)-1]
}

// appendHeatmaps writes heatmaps as the protocol's boundary object:
// {"grid","domain","output","range","hidden","hiddenRanges"} plus "outputs"
// when there is more than one output neuron and "classes" when the output
// layer is a softmax over two or more classes.
func appendHeatmaps(dst []byte, hm *engine.Heatmaps) []byte {
	dst = append(dst, `{"grid":`...)
	dst = strconv.AppendInt(dst, int64(hm.Grid), 10)
	dst = append(dst, `,"domain":`...)
	dst = appendRange(dst, hm.Domain[0], hm.Domain[1])
	if len(hm.Output) > 0 {
		dst = append(dst, `,"output":`...)
		dst = appendBase64(dst, hm.Output[0].Data)
		dst = append(dst, `,"range":`...)
		dst = appendRange(dst, hm.Output[0].Lo, hm.Output[0].Hi)
	}
	dst = append(dst, `,"hidden":[`...)
	for l, maps := range hm.Hidden {
		if l > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, '[')
		for j, m := range maps {
			if j > 0 {
				dst = append(dst, ',')
			}
			dst = appendBase64(dst, m.Data)
		}
		dst = append(dst, ']')
	}
	dst = append(dst, `],"hiddenRanges":[`...)
	for l, maps := range hm.Hidden {
		if l > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, '[')
		for j, m := range maps {
			if j > 0 {
				dst = append(dst, ',')
			}
			dst = appendRange(dst, m.Lo, m.Hi)
		}
		dst = append(dst, ']')
	}
	dst = append(dst, ']')
	if len(hm.Output) > 1 {
		dst = append(dst, `,"outputs":[`...)
		for j, m := range hm.Output {
			if j > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, `{"data":`...)
			dst = appendBase64(dst, m.Data)
			dst = append(dst, `,"range":`...)
			dst = appendRange(dst, m.Lo, m.Hi)
			dst = append(dst, '}')
		}
		dst = append(dst, ']')
	}
	if c := hm.Classes; c != nil {
		dst = append(dst, `,"classes":{"winner":`...)
		dst = appendBase64(dst, c.Winner)
		dst = append(dst, `,"share":`...)
		dst = appendBase64(dst, c.Share)
		dst = append(dst, '}')
	}
	return append(dst, '}')
}

func appendRange(dst []byte, lo, hi float64) []byte {
	dst = append(dst, '[')
	dst = engine.AppendFloat(dst, lo)
	dst = append(dst, ',')
	dst = engine.AppendFloat(dst, hi)
	return append(dst, ']')
}

func appendBase64(dst, data []byte) []byte {
	dst = append(dst, '"')
	dst = base64.StdEncoding.AppendEncode(dst, data)
	return append(dst, '"')
}

// appendProgress writes a progress frame from the trainer itself, without
// building a State: where training is, the current weights and biases
// (engine.Trainer.AppendParams), the epoch losses after epoch since, the
// latest example's sample, activations, blames and loss
// (engine.Trainer.AppendLatest), and the heatmaps (nil for lessons that are
// not 2-D).
func appendProgress(dst []byte, tr *engine.Trainer, since int, hm *engine.Heatmaps) []byte {
	dst = append(dst, `{"type":"progress","position":`...)
	dst = appendPosition(dst, tr.Position())
	dst = append(dst, ',')
	n := len(dst)
	dst = tr.AppendParams(dst)
	// Splice the params object's members into the frame: drop its braces.
	copy(dst[n:], dst[n+1:])
	dst = dst[:len(dst)-2]
	dst = append(dst, `,"losses":[`...)
	first := true
	for _, e := range tr.Losses() {
		if e.Epoch <= since {
			continue
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = e.AppendJSON(dst)
	}
	dst = append(dst, `],"canBack":`...)
	dst = strconv.AppendBool(dst, tr.CanBack())
	// The latest example's values, so a page draws the network moving.
	dst = append(dst, ',')
	n = len(dst)
	if dst = tr.AppendLatest(dst); len(dst) == n {
		dst = dst[:n-1] // no example yet
	}
	if hm != nil {
		dst = append(dst, `,"boundary":`...)
		dst = appendHeatmaps(dst, hm)
	}
	return append(dst, '}')
}

// appendPosition writes a position as encoding/json does (same members,
// same order), without its reflection and allocations.
func appendPosition(dst []byte, p engine.Position) []byte {
	dst = append(dst, `{"t":`...)
	dst = strconv.AppendInt(dst, p.T, 10)
	dst = append(dst, `,"epoch":`...)
	dst = strconv.AppendInt(dst, int64(p.Epoch), 10)
	dst = append(dst, `,"sample":`...)
	dst = strconv.AppendInt(dst, int64(p.Sample), 10)
	dst = append(dst, `,"phase":"`...)
	dst = append(dst, p.Phase.String()...)
	dst = append(dst, `","layer":`...)
	dst = strconv.AppendInt(dst, int64(p.Layer), 10)
	dst = append(dst, `,"neuron":`...)
	dst = strconv.AppendInt(dst, int64(p.Neuron), 10)
	dst = append(dst, `,"batchCount":`...)
	dst = strconv.AppendInt(dst, int64(p.BatchCount), 10)
	dst = append(dst, `,"updates":`...)
	dst = strconv.AppendInt(dst, p.Updates, 10)
	return append(dst, '}')
}

// lastEpoch is the epoch of the newest loss in losses, or 0.
func lastEpoch(losses []engine.EpochLoss) int {
	if len(losses) == 0 {
		return 0
	}
	return losses[len(losses)-1].Epoch
}
