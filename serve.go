package main

import (
	"context"
	"io"
)

// cmdServe will run the server; until the server package lands it prints
// the help.
func cmdServe(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	usage(stdout)
	return nil
}
