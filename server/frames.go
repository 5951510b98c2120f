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
// separated, and appendEventsTail closes it.
func appendEventsHead(dst, id []byte) []byte {
	dst = append(dst, `{"type":"events"`...)
	dst = appendID(dst, id)
	return append(dst, `,"events":[`...)
}

// appendEventsTail closes an events frame. more says another events frame
// of the same step follows; omitted counts events left out past the limit.
func appendEventsTail(dst []byte, more bool, omitted int64) []byte {
	dst = append(dst, ']')
	if more {
		dst = append(dst, `,"more":true`...)
	}
	if omitted > 0 {
		dst = append(dst, `,"omitted":`...)
		dst = strconv.AppendInt(dst, omitted, 10)
	}
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
// when there is more than one output neuron.
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

// appendParams writes weights[l][j][i] or biases[l][j] as nested lists.
func appendVectors(dst []byte, vs []engine.Vector) []byte {
	dst = append(dst, '[')
	for i, v := range vs {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, '[')
		for k, x := range v {
			if k > 0 {
				dst = append(dst, ',')
			}
			dst = engine.AppendFloat(dst, x)
		}
		dst = append(dst, ']')
	}
	return append(dst, ']')
}

// appendProgress writes a progress frame: where training is, the current
// weights and biases, the epoch losses after epoch since, and the heatmaps
// (nil for lessons that are not 2-D).
func appendProgress(dst []byte, st *engine.State, since int, hm *engine.Heatmaps) []byte {
	pos, _ := json.Marshal(st.Position)
	dst = append(dst, `{"type":"progress","position":`...)
	dst = append(dst, pos...)
	dst = append(dst, `,"weights":[`...)
	for l, w := range st.Network.Weights {
		if l > 0 {
			dst = append(dst, ',')
		}
		dst = appendVectors(dst, w)
	}
	dst = append(dst, `],"biases":`...)
	dst = appendVectors(dst, st.Network.Biases)
	dst = append(dst, `,"losses":[`...)
	first := true
	for _, e := range st.Losses {
		if e.Epoch <= since {
			continue
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = appendEpochLoss(dst, e)
	}
	dst = append(dst, `],"canBack":`...)
	dst = strconv.AppendBool(dst, st.CanBack)
	if hm != nil {
		dst = append(dst, `,"boundary":`...)
		dst = appendHeatmaps(dst, hm)
	}
	return append(dst, '}')
}

func appendEpochLoss(dst []byte, e engine.EpochLoss) []byte {
	dst = append(dst, `{"epoch":`...)
	dst = strconv.AppendInt(dst, int64(e.Epoch), 10)
	dst = append(dst, `,"trainLoss":`...)
	dst = engine.AppendFloat(dst, e.TrainLoss)
	dst = append(dst, `,"testLoss":`...)
	if e.HasTest {
		dst = engine.AppendFloat(dst, e.TestLoss)
	} else {
		dst = append(dst, "null"...)
	}
	return append(dst, '}')
}

// lastEpoch is the epoch of the newest loss in losses, or 0.
func lastEpoch(losses []engine.EpochLoss) int {
	if len(losses) == 0 {
		return 0
	}
	return losses[len(losses)-1].Epoch
}
