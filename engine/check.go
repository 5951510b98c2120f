package engine

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// checker collects FieldErrors while a JSON tree is validated, so one pass
// reports every problem rather than the first.
type checker struct {
	problems []FieldError
}

func (c *checker) addf(path, format string, args ...any) {
	if len(c.problems) < 100 { // a hostile document cannot make the report huge
		c.problems = append(c.problems, FieldError{Path: path, Message: fmt.Sprintf(format, args...)})
	}
}

func (c *checker) err() error {
	if len(c.problems) == 0 {
		return nil
	}
	return &LessonError{Problems: c.problems}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func index(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

// object checks that v is an object whose keys are all among fields.
func (c *checker) object(path string, v *jsonValue, fields ...string) bool {
	if v.kind != jsonObject {
		c.addf(path, "want an object, got %s", v.describe())
		return false
	}
	for _, k := range v.keys {
		known := false
		for _, f := range fields {
			if k == f {
				known = true
				break
			}
		}
		if !known {
			c.addf(join(path, k), "unknown field; want one of %s", strings.Join(fields, ", "))
		}
	}
	return true
}

// number reads a finite number in [lo, hi].
func (c *checker) number(path string, v *jsonValue, lo, hi float64) (float64, bool) {
	if v.kind != jsonNumber {
		c.addf(path, "want a number, got %s", v.describe())
		return 0, false
	}
	f, err := strconv.ParseFloat(string(v.num), 64)
	if err != nil || math.IsInf(f, 0) {
		c.addf(path, "%s, got %s", WantNumberFrom(lo, hi), v.describe())
		return 0, false
	}
	if f < lo || f > hi {
		c.addf(path, "%s, got %s", WantNumberFrom(lo, hi), v.describe())
		return 0, false
	}
	return f, true
}

// positive reads a finite number in (0, hi].
func (c *checker) positive(path string, v *jsonValue, hi float64) (float64, bool) {
	if v.kind != jsonNumber {
		c.addf(path, "want a number, got %s", v.describe())
		return 0, false
	}
	f, err := strconv.ParseFloat(string(v.num), 64)
	if err != nil || math.IsInf(f, 0) || f <= 0 || f > hi {
		c.addf(path, "want a number above 0 and at most %g, got %s", hi, v.describe())
		return 0, false
	}
	return f, true
}

// integer reads a whole number in [lo, hi].
func (c *checker) integer(path string, v *jsonValue, lo, hi int) (int, bool) {
	if v.kind != jsonNumber {
		c.addf(path, "want a whole number, got %s", v.describe())
		return 0, false
	}
	f, err := strconv.ParseFloat(string(v.num), 64)
	if err != nil || f != math.Trunc(f) || f < float64(lo) || f > float64(hi) {
		c.addf(path, "%s, got %s", WantWholeFrom(lo, hi), v.describe())
		return 0, false
	}
	return int(f), true
}

func (c *checker) boolean(path string, v *jsonValue) (bool, bool) {
	if v.kind != jsonBool {
		c.addf(path, "want true or false, got %s", v.describe())
		return false, false
	}
	return v.b, true
}

// str reads a string of at most maxLen bytes.
func (c *checker) str(path string, v *jsonValue, maxLen int) (string, bool) {
	if v.kind != jsonString {
		c.addf(path, "want a string, got %s", v.describe())
		return "", false
	}
	if n := utf8.RuneCountInString(v.str); n > maxLen {
		c.addf(path, "want at most %d characters, got %d", maxLen, n)
		return "", false
	}
	return v.str, true
}

// oneOf reads a string that must be one of options.
func (c *checker) oneOf(path string, v *jsonValue, options []string) (string, bool) {
	if v.kind == jsonString {
		for _, o := range options {
			if v.str == o {
				return o, true
			}
		}
	}
	c.addf(path, "want one of %s; got %s", strings.Join(options, ", "), v.describe())
	return "", false
}

// requiredStr reads the member name of the object obj at path, a string of
// at most maxLen characters; a missing one is reported with want, what the
// member should hold.
func (c *checker) requiredStr(path string, obj *jsonValue, name string, maxLen int, want string) string {
	v := obj.get(name)
	if v == nil {
		c.addf(join(path, name), "missing; want %s", want)
		return ""
	}
	s, _ := c.str(join(path, name), v, maxLen)
	return s
}

// requiredOneOf reads the member name of the object obj at path, which must
// be one of options.
func (c *checker) requiredOneOf(path string, obj *jsonValue, name string, options []string) string {
	v := obj.get(name)
	if v == nil {
		c.addf(join(path, name), "missing; want one of %s", joinNames(options))
		return ""
	}
	s, _ := c.oneOf(join(path, name), v, options)
	return s
}

// list reads a list of minLen to maxLen elements.
func (c *checker) list(path string, v *jsonValue, minLen, maxLen int) ([]*jsonValue, bool) {
	if v.kind != jsonArray {
		c.addf(path, "want a list, got %s", v.describe())
		return nil, false
	}
	if len(v.arr) < minLen || len(v.arr) > maxLen {
		if minLen == maxLen {
			c.addf(path, "want a list of %d, got %d", minLen, len(v.arr))
		} else {
			c.addf(path, "want a list of %d to %d, got %d", minLen, maxLen, len(v.arr))
		}
		return nil, false
	}
	return v.arr, true
}

// numbers reads a list of exactly n finite numbers within ±limit.
func (c *checker) numbers(path string, v *jsonValue, n int, limit float64) ([]float64, bool) {
	items, ok := c.list(path, v, n, n)
	if !ok {
		return nil, false
	}
	out := make([]float64, len(items))
	for i, it := range items {
		if out[i], ok = c.number(index(path, i), it, -limit, limit); !ok {
			return nil, false
		}
	}
	return out, true
}

// strings reads a list of minLen to maxLen non-empty strings.
func (c *checker) strings(path string, v *jsonValue, minLen, maxLen, maxChars int) ([]string, bool) {
	items, ok := c.list(path, v, minLen, maxLen)
	if !ok {
		return nil, false
	}
	out := make([]string, len(items))
	for i, it := range items {
		s, ok := c.str(index(path, i), it, maxChars)
		if !ok {
			return nil, false
		}
		if strings.TrimSpace(s) == "" {
			c.addf(index(path, i), "want a name, got an empty string")
			return nil, false
		}
		out[i] = s
	}
	return out, true
}
