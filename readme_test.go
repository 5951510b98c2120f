package main

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestReadmeListsEveryFlag keeps README.md's configuration table true: every
// flag that serve --help lists, with its environment variable, is in it,
// and the two commands a newcomer needs come first.
func TestReadmeListsEveryFlag(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(readme)
	_, help, _ := runCLI(t, nil, "serve", "--help")
	flags := regexp.MustCompile(`--([a-z-]+) \((NETSTEP_[A-Z_]+)\)`).FindAllStringSubmatch(help, -1)
	if len(flags) < 10 {
		t.Fatalf("serve --help lists %d flags:\n%s", len(flags), help)
	}
	for _, f := range flags {
		if !strings.Contains(doc, "`--"+f[1]+"`") || !strings.Contains(doc, f[2]) {
			t.Errorf("README.md does not list --%s (%s)", f[1], f[2])
		}
	}
	run, test := strings.Index(doc, "go run ."), strings.Index(doc, "./test.sh")
	if run < 0 || test < 0 || run > 2000 || test > 2500 {
		t.Errorf("README.md should show `go run .` and `./test.sh` near the top (at %d and %d)", run, test)
	}
}
