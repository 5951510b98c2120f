package engine

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// expandCompact turns one compact event back into the object form, the way
// a page does (static/js/socket.js), so the test can compare the two forms.
func expandCompact(t *testing.T, line string) map[string]any {
	t.Helper()
	var a []any
	if err := json.Unmarshal([]byte(line), &a); err != nil {
		t.Fatalf("compact %q: %v", line, err)
	}
	fields := map[string][]string{
		"s": {"sample", "epoch", "index", "x", "y"},
		"f": {"forward", "layer", "neuron", "z", "a"},
		"l": {"loss", "index", "value", "prediction", "target"},
		"b": {"backward", "layer", "neuron", "dA", "dZ", "slope"},
		"u": {"update", "layer", "to", "from", "old", "grad", "new", "batch"},
		"e": {"epoch", "epoch", "trainLoss", "testLoss"},
		"d": {"diverged", "reason"},
	}[a[0].(string)]
	m := map[string]any{"type": fields[0]}
	for i, v := range a[1:] {
		m[fields[i+1]] = v
	}
	if m["type"] == "update" && m["from"] == float64(-1) {
		delete(m, "from")
		m["bias"] = true
	}
	return m
}

func TestCompactCarriesTheSameNumbers(t *testing.T) {
	for _, path := range []string{"testdata/tiny.json", "testdata/softmax.json"} {
		tr := newTrainer(t, lessonFile(t, path))
		var full, compact int
		for i := 0; i < 6; i++ {
			tr.Step(StepBatch, func(e *Event) {
				obj, arr := e.AppendJSON(nil), e.AppendCompact(nil)
				full, compact = full+len(obj), compact+len(arr)
				var want map[string]any
				if err := json.Unmarshal(obj, &want); err != nil {
					t.Fatal(err)
				}
				if got := expandCompact(t, string(arr)); !reflect.DeepEqual(got, want) {
					t.Fatalf("compact %s expands to %v, want %v", arr, got, want)
				}
			})
		}
		if compact*10 > full*7 {
			t.Errorf("%s: compact form is %d bytes, the objects %d: want at least 30%% smaller", path, compact, full)
		}
	}
	div := Event{Type: EventDiverged, Reason: `too "big"`}
	if got := string(div.AppendCompact(nil)); !strings.Contains(got, `"too \"big\""`) {
		t.Errorf("diverged compact %s", got)
	}
}
