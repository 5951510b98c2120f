package engine

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
)

//go:embed lessons/*.json
var builtinFS embed.FS

// featured is the order in which the built-in lessons are listed; lessons
// not named here follow in alphabetical order.
var featured = []string{"house-prices", "cat-or-dog", "worked-example", "xor-no-hidden", "xor", "circle", "spiral", "too-fast", "which-size"}

// Catalog is a set of named lessons: the built-in ones and a teacher's own.
type Catalog struct {
	names   []string
	lessons map[string]*Lesson
}

var builtin, builtinErr = func() (*Catalog, error) {
	c := &Catalog{lessons: map[string]*Lesson{}}
	err := c.AddFS(builtinFS, "lessons")
	return c, err
}()

// Builtin returns the lessons built into netstep. They are parsed once and
// shared; do not change them.
func Builtin() *Catalog { return builtin }

// BuiltinError reports a built-in lesson that failed validation (a bug
// caught by the tests); the others are still in Builtin.
func BuiltinError() error { return builtinErr }

// DefaultLesson is the name of the lesson a page opens with.
const DefaultLesson = "house-prices"

// Names lists the lessons, featured first.
func (c *Catalog) Names() []string { return append([]string(nil), c.names...) }

// Lookup returns the lesson with the given name.
func (c *Catalog) Lookup(name string) (*Lesson, bool) {
	l, ok := c.lessons[name]
	return l, ok
}

// With returns a new catalog holding c's lessons and those of the *.json
// files in dir of fsys (named by file name, without .json), which replace
// built-in lessons of the same name. Every file is validated; a bad file is
// skipped, and the error (errors.Join of one error a file, each naming its
// file) says why, beside the catalog of the good ones. Only a dir that
// cannot be listed gives a nil catalog.
func (c *Catalog) With(fsys fs.FS, dir string) (*Catalog, error) {
	n := &Catalog{lessons: map[string]*Lesson{}}
	for k, v := range c.lessons {
		n.lessons[k] = v
	}
	if err := n.AddFS(fsys, dir); err != nil {
		if _, perFile := err.(interface{ Unwrap() []error }); !perFile {
			return nil, err
		}
		return n, err
	}
	return n, nil
}

// AddFS adds the lessons in dir of fsys: every good one, and an error a bad
// file (see With).
func (c *Catalog) AddFS(fsys fs.FS, dir string) error {
	files, err := fs.Glob(fsys, path.Join(dir, "*.json"))
	if err != nil {
		return err
	}
	var problems []error
	for _, f := range files {
		name := strings.TrimSuffix(path.Base(f), ".json")
		if !validName(name) {
			problems = append(problems, fmt.Errorf("%s: a lesson's file name must be lowercase letters, digits and dashes", f))
			continue
		}
		data, err := fs.ReadFile(fsys, f)
		if err != nil {
			problems = append(problems, fmt.Errorf("%s: %w", f, unwrapPath(err)))
			continue
		}
		l, err := ParseLesson(data)
		if err != nil {
			problems = append(problems, fmt.Errorf("%s: %w", f, err))
			continue
		}
		l.Name = name
		c.lessons[name] = l
	}
	c.order()
	return errors.Join(problems...)
}

// unwrapPath drops an fs.PathError's own naming of the file, which the
// caller's message already starts with.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func (c *Catalog) order() {
	rank := map[string]int{}
	for i, n := range featured {
		rank[n] = i + 1
	}
	c.names = c.names[:0]
	for n := range c.lessons {
		c.names = append(c.names, n)
	}
	sort.Slice(c.names, func(i, j int) bool {
		a, b := c.names[i], c.names[j]
		ra, rb := rank[a], rank[b]
		if ra == 0 {
			ra = len(featured) + 1
		}
		if rb == 0 {
			rb = len(featured) + 1
		}
		if ra != rb {
			return ra < rb
		}
		return a < b
	})
}

func validName(s string) bool {
	if s == "" || len(s) > maxName {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}
