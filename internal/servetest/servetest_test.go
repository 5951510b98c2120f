package servetest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
)

// fakeServe listens on a free port, prints the line serve prints, answers
// /healthz after a few tries, and shuts down when ctx is done.
func fakeServe(ctx context.Context, stdout io.Writer) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	var tries atomic.Int32
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" || tries.Add(1) < 3 {
			http.Error(w, "not yet", http.StatusServiceUnavailable)
		}
	})}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	fmt.Fprintln(stdout, "starting")
	fmt.Fprintf(stdout, "netstep is listening on http://%s/ (open it in a browser)\n", ln.Addr())
	fmt.Fprintln(stdout, "netstep serves its metrics on nowhere")
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func TestStartReadsTheAddressAndWaitsForHealth(t *testing.T) {
	lines := make(chan string, 10)
	s := Start(t, fakeServe, func(line string) { lines <- line })
	res, err := http.Get(s.Base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Errorf("after Start, /healthz = %d, want 200", res.StatusCode)
	}
	s.Stop(t)
	if _, err := http.Get(s.Base + "/healthz"); err == nil {
		t.Error("the server still answers after Stop")
	}
	close(lines)
	var got []string
	for l := range lines {
		got = append(got, l)
	}
	if len(got) != 3 || got[2] != "netstep serves its metrics on nowhere" {
		t.Errorf("onLine saw %q, want the 3 lines printed", got)
	}
}

// TestProgramKilled: a program killed by the test ends Run with its signal
// (what Ended then keeps from failing the test) and the end of what it
// wrote to standard error.
func TestProgramKilled(t *testing.T) {
	p := Program("/bin/sh", "-c", `echo "WARNING: DATA RACE" >&2; echo started; exec sleep 60`)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out, w := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx, w) }()
	if _, err := bufio.NewReader(out).ReadString('\n'); err != nil { // after its standard error
		t.Fatal(err)
	}
	go io.Copy(io.Discard, out)
	if err := p.Kill(); err != nil {
		t.Fatal(err)
	}
	err := <-done
	if err == nil || !strings.Contains(err.Error(), "killed") || !strings.Contains(err.Error(), "WARNING: DATA RACE") {
		t.Errorf("Run of a killed program returned %v, want its signal and its standard error", err)
	}
}
