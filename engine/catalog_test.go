package engine

import (
	"errors"
	"strings"
	"testing"
	"testing/fstest"
)

// TestWithSkipsBadFiles: one bad lesson file does not cost the good ones;
// the error names each bad file, one error a file.
func TestWithSkipsBadFiles(t *testing.T) {
	good := `{"title":"Mine","network":{"inputs":["a"],"outputs":["b"],"layers":[{"size":1,"activation":"linear"}]},"data":{"samples":[{"x":[1],"y":[2]}]},"training":{"learningRate":0.1}}`
	fsys := fstest.MapFS{
		"mine.json":     {Data: []byte(good)},
		"broken.json":   {Data: []byte(`{"title":"Broken"}`)},
		"Bad_Name.json": {Data: []byte(good)},
	}
	cat, err := Builtin().With(fsys, ".")
	if cat == nil {
		t.Fatalf("With returned no catalog: %v", err)
	}
	if _, ok := cat.Lookup("mine"); !ok {
		t.Error("the good lesson was not added")
	}
	if _, ok := cat.Lookup("broken"); ok {
		t.Error("the bad lesson was added")
	}
	many, ok := err.(interface{ Unwrap() []error })
	if !ok || len(many.Unwrap()) != 2 {
		t.Fatalf("err = %v, want one error for each of the 2 bad files", err)
	}
	for i, want := range []string{"Bad_Name.json: ", "broken.json: "} {
		if got := many.Unwrap()[i].Error(); !strings.HasPrefix(got, want) {
			t.Errorf("problem %d = %q, want it to start with %q", i, got, want)
		}
	}
	if _, err := Builtin().With(fstest.MapFS{"mine.json": {Data: []byte(good)}}, "."); err != nil {
		t.Errorf("a good folder: %v", err)
	}
	if cat, err := Builtin().With(fstest.MapFS{}, "[bad"); cat != nil || err == nil || errors.Unwrap(err) != nil {
		t.Errorf("an unlistable folder: %v, %v; want no catalog and the error", cat, err)
	}
}
