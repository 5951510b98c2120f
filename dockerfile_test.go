package main

import (
	"os"
	"strings"
	"testing"
)

// TestDockerfile checks what the container promises, since this machine
// cannot run a Docker build: a static binary, a minimal non-root image,
// port 8080.
func TestDockerfile(t *testing.T) {
	data, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	for _, want := range []string{"CGO_ENABLED=0", "FROM golang:1.26 AS build", "GOTOOLCHAIN=go1.27.3", "distroless/static", "USER nonroot", "EXPOSE 8080", "ENTRYPOINT"} {
		if !strings.Contains(doc, want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
	if strings.Count(doc, "FROM ") < 2 {
		t.Error("Dockerfile is not multi-stage")
	}
}
