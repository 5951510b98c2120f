package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netstep/netstep/engine"
)

func runCLI(t *testing.T, env map[string]string, args ...string) (string, string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	getenv := func(k string) string { return env[k] }
	err := run(context.Background(), args, getenv, &stdout, &stderr)
	return stdout.String(), stderr.String(), err
}

func TestTracePrintsEngineEvents(t *testing.T) {
	out, _, err := runCLI(t, nil, "trace", "--lesson", "engine/testdata/tiny.json", "--granularity", "phase", "--steps", "5")
	if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile("engine/testdata/tiny.json")
	l, err := engine.ParseLesson(data)
	if err != nil {
		t.Fatal(err)
	}
	tr, _ := engine.NewTrainer(l)
	var want []byte
	for i := 0; i < 5; i++ {
		tr.Step(engine.StepPhase, func(e *engine.Event) { want = append(e.AppendJSON(want), '\n') })
	}
	if out != string(want) {
		t.Fatalf("trace printed\n%s\nwant\n%s", out, want)
	}
}

func TestTrainSummary(t *testing.T) {
	out, _, err := runCLI(t, nil, "train", "--lesson", "engine/testdata/tiny.json", "--epochs", "50")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var s struct {
		Epochs           int
		Samples          int
		Seconds          float64
		SamplesPerSecond float64
		TrainLoss        *float64
		TestLoss         *float64
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &s); err != nil {
		t.Fatalf("last line %q: %v", lines[len(lines)-1], err)
	}
	if s.Epochs != 50 || s.Samples != 250 || s.TrainLoss == nil || s.TestLoss == nil || s.SamplesPerSecond <= 0 {
		t.Errorf("summary %+v", s)
	}
}

func TestValidate(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.json")
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(good, []byte(`{"title":"g","network":{"layers":[{"size":1}]},"data":{"generator":"plane"}}`), 0o644)
	os.WriteFile(bad, []byte(`{"title":"b","network":{"layers":[{"size":0}]},"data":{"generator":"plane"},"training":{"learningRate":"fast"}}`), 0o644)
	if out, _, err := runCLI(t, nil, "validate", good); err != nil || !strings.Contains(out, "ok") {
		t.Errorf("good lesson: %v %q", err, out)
	}
	out, _, err := runCLI(t, nil, "validate", good, bad)
	if err == nil {
		t.Fatal("a bad lesson validated")
	}
	for _, want := range []string{"network.layers[0].size: want a whole number from 1 to 64, got 0", `training.learningRate: want a number, got "fast"`} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestLessonsList(t *testing.T) {
	out, _, err := runCLI(t, nil, "lessons")
	if err != nil {
		t.Fatal(err)
	}
	names := engine.Builtin().Names()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != len(names) {
		t.Fatalf("%d lines for %d lessons", len(lines), len(names))
	}
	for i, n := range names {
		if !strings.HasPrefix(lines[i], n+"\t") {
			t.Errorf("line %d %q does not start with the name %q", i, lines[i], n)
		}
	}
}

func TestBadCommandLines(t *testing.T) {
	tests := []struct {
		args  []string
		env   map[string]string
		want  string
		usage bool
	}{
		{[]string{"dance"}, nil, `unknown command "dance"`, true},
		{[]string{"trace"}, nil, "--lesson is required", true},
		{[]string{"trace", "--lesson", "tiny-nonexistent"}, nil, "not a built-in lesson", false},
		{[]string{"trace", "--lesson", "engine/testdata/tiny.json", "--steps", "0"}, nil, "want a whole number from 1 to 1000000", true},
		{[]string{"trace", "--lesson", "engine/testdata/tiny.json", "--steps", "many"}, nil, "want a whole number", true},
		{[]string{"trace", "--lesson", "engine/testdata/tiny.json", "--granularity", "forever"}, nil, `want one of micro, phase, sample, batch, epoch; got "forever"`, true},
		{[]string{"train", "--lesson", "engine/testdata/tiny.json"}, map[string]string{"NETSTEP_EPOCHS": "-3"}, `NETSTEP_EPOCHS="-3"`, true},
		{[]string{"train", "--lesson", "engine/testdata/tiny.json", "extra"}, nil, `unexpected argument "extra"`, true},
		{[]string{"validate"}, nil, "needs at least one lesson file", true},
		{[]string{"serve", "--data", "memory", "--trust-proxy", "10.0.0.0/33"}, nil, `"10.0.0.0/33" for flag -trust-proxy: "10.0.0.0/33": not an IP address or CIDR`, true},
		{[]string{"serve", "--data", "memory", "--trust-proxy", "10.0.0.0/8,lb.example"}, nil, `-trust-proxy: "lb.example": not an IP address or CIDR`, true},
		{[]string{"serve", "--data", "memory"}, map[string]string{"NETSTEP_TRUST_PROXY": "true"}, `NETSTEP_TRUST_PROXY="true": want the proxies' addresses`, true},
		{[]string{"serve", "--data", "memory", "--nats-routes", "nats://10.0.0.2:6222"}, nil, "--nats-routes: give --nats-cluster-listen too", true},
		{[]string{"serve", "--data", "memory", "--nats-cluster-listen", "6222"}, nil, `--nats-cluster-listen: listening for routes at "6222": want HOST:PORT`, true},
		{[]string{"serve", "--data", "memory", "--nats-cluster-listen", "127.0.0.1:6222", "--nats-routes", "10.0.0.2:6222"}, nil, `--nats-routes: route "10.0.0.2:6222": want nats://host:port`, true},
		{[]string{"serve", "--nats", "nats://127.0.0.1:1", "--nats-cluster-listen", "127.0.0.1:6222"}, nil, "not with --nats", true},
		{[]string{"trace", "--lesson", "engine/testdata"}, nil, "", false},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			_, _, err := runCLI(t, tt.env, tt.args...)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
			var ue usageError
			if got := errors.As(err, &ue); got != tt.usage {
				t.Errorf("usage error = %v, want %v (%v)", got, tt.usage, err)
			}
		})
	}
}

func TestEnvironmentTwins(t *testing.T) {
	out, _, err := runCLI(t, map[string]string{"NETSTEP_LESSON": "engine/testdata/tiny.json", "NETSTEP_STEPS": "2", "NETSTEP_GRANULARITY": "epoch"}, "trace")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(out, `"type":"epoch"`); got != 2 {
		t.Errorf("%d epoch events from the environment's settings, want 2", got)
	}
	// A flag wins over its variable.
	out, _, err = runCLI(t, map[string]string{"NETSTEP_STEPS": "2"}, "trace", "--lesson", "engine/testdata/tiny.json", "--granularity", "epoch", "--steps", "1")
	if err != nil || strings.Count(out, `"type":"epoch"`) != 1 {
		t.Errorf("flag did not win over the variable: %v", err)
	}
}

// TestListFlagBeatsItsVariable: a list flag given on the command line
// replaces its environment variable's list, as every other flag does: an
// operator narrowing --allow-origin must not keep the variable's origins.
func TestListFlagBeatsItsVariable(t *testing.T) {
	tests := []struct {
		env  string
		args []string
		want string
	}{
		{"https://a.example", []string{"--allow-origin", "https://b.example"}, "https://b.example"},
		{"https://a.example", []string{"--allow-origin", "https://b.example", "--allow-origin", "https://c.example"}, "https://b.example,https://c.example"},
		{"https://a.example, https://d.example", nil, "https://a.example,https://d.example"},
		{"", []string{"--allow-origin", "https://b.example,https://c.example"}, "https://b.example,https://c.example"},
	}
	for _, tt := range tests {
		f := newFlags("serve", "", func(k string) string {
			if k == "NETSTEP_ALLOW_ORIGIN" {
				return tt.env
			}
			return ""
		}, io.Discard)
		var origins listFlag
		f.Var(&origins, "allow-origin", "")
		if err := f.parse(tt.args); err != nil {
			t.Fatal(err)
		}
		if got := origins.String(); got != tt.want {
			t.Errorf("NETSTEP_ALLOW_ORIGIN=%q %q: origins %q, want %q", tt.env, tt.args, got, tt.want)
		}
	}
}

// TestTrustProxyFlagBeatsItsVariable: --trust-proxy is a list flag like
// the others: on the command line it replaces the variable's proxies.
func TestTrustProxyFlagBeatsItsVariable(t *testing.T) {
	tests := []struct {
		env  string
		args []string
		want string
	}{
		{"10.0.0.0/8", []string{"--trust-proxy", "127.0.0.1"}, "127.0.0.1"},
		{"10.0.0.0/8", []string{"--trust-proxy", "127.0.0.1", "--trust-proxy", "fd00::/8"}, "127.0.0.1,fd00::/8"},
		{"10.0.0.0/8, 192.168.0.0/16", nil, "10.0.0.0/8,192.168.0.0/16"},
		{"", nil, ""},
	}
	for _, tt := range tests {
		f := newFlags("serve", "", func(k string) string {
			if k == "NETSTEP_TRUST_PROXY" {
				return tt.env
			}
			return ""
		}, io.Discard)
		var p proxyFlag
		f.Var(&p, "trust-proxy", "")
		if err := f.parse(tt.args); err != nil {
			t.Fatal(err)
		}
		if got := p.p.String(); got != tt.want {
			t.Errorf("NETSTEP_TRUST_PROXY=%q %q: proxies %q, want %q", tt.env, tt.args, got, tt.want)
		}
	}
}

// brokenWriter fails every write, as a closed pipe does.
type brokenWriter struct{}

func (brokenWriter) Write([]byte) (int, error) { return 0, errors.New("broken pipe") }

// TestOutputErrorsAreReported: a command whose output cannot be written
// says so (exit status 1) instead of succeeding silently.
func TestOutputErrorsAreReported(t *testing.T) {
	for _, args := range [][]string{
		{"train", "--lesson", "engine/testdata/tiny.json", "--epochs", "2"},
		{"trace", "--lesson", "engine/testdata/tiny.json"},
	} {
		err := run(context.Background(), args, func(string) string { return "" }, brokenWriter{}, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "broken pipe") {
			t.Errorf("%s with a broken output: %v, want the write error", args[0], err)
		}
	}
}
