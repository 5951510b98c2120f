// Command netstep is an interactive backpropagation visualizer: a server
// that streams a neural network's training, one neuron, phase, sample, batch
// or epoch at a time, to a page that animates it, and command-line tools
// that print the same numbers.
//
//	netstep [serve]      run the server (the default)
//	netstep trace        print every event of some steps as JSON lines
//	netstep train        train at full speed and print a summary
//	netstep lessons      list the built-in lessons
//	netstep validate     check a lesson file
//	netstep loadtest     measure the server under many sessions
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		var ue usageError
		if errors.As(err, &ue) || errors.Is(err, flag.ErrHelp) {
			if !errors.Is(err, flag.ErrHelp) {
				fmt.Fprintln(os.Stderr, "netstep:", err)
			}
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "netstep:", err)
		os.Exit(1)
	}
}

// usageError is a mistake on the command line: exit status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// command is one subcommand.
type command struct {
	name, summary string
	run           func(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"serve", "run the server (the default): the page at http://localhost:8080", cmdServe},
		{"trace", "print every event of some steps of a lesson as JSON lines", cmdTrace},
		{"train", "train a lesson at full speed and print a one-line summary", cmdTrain},
		{"lessons", "list the built-in lessons, one a line, name first", cmdLessons},
		{"validate", "check lesson files; exit 0 when all are good", cmdValidate},
		{"loadtest", "measure latency and memory with many websocket sessions on this machine", cmdLoadtest},
	}
}

// run is the whole program, with its world passed in so tests can run it.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	name := "serve"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		name, args = args[0], args[1:]
	}
	if name == "help" {
		usage(stdout)
		return nil
	}
	for _, c := range commands() {
		if c.name == name {
			return c.run(ctx, args, getenv, stdout, stderr)
		}
	}
	usage(stderr)
	return usageError{fmt.Sprintf("unknown command %q", name)}
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "netstep: watch a neural network learn, one step at a time.")
	fmt.Fprintln(w, "\nUsage: netstep [command] [flags]   (netstep COMMAND --help for its flags)")
	fmt.Fprintln(w, "\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
}
