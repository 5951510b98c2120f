package engine

import (
	"errors"
	"fmt"
	"strings"
)

// FieldError is one problem with one field of a lesson or command, for the
// person who wrote it: Path names the field ("training.learningRate",
// "data.samples[3].x") and Message says what was expected and what was found.
type FieldError struct {
	Path    string
	Message string
}

func (e FieldError) Error() string {
	if e.Path == "" {
		return e.Message
	}
	return e.Path + ": " + e.Message
}

// LessonError lists every problem found in a lesson, in document order.
type LessonError struct {
	Problems []FieldError
}

func (e *LessonError) Error() string {
	msgs := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		msgs[i] = p.Error()
	}
	return strings.Join(msgs, "; ")
}

// ErrDiverged is returned by Step and Run once training has produced a value
// that is not a finite number. Back or Reset make training possible again.
var ErrDiverged = errors.New("training has diverged: go back or reset")

// ErrAtStart is returned by Back when there is nothing to undo.
var ErrAtStart = errors.New("already at the beginning: nothing to undo")

// RangeError reports a command argument outside what the network allows,
// such as a layer that does not exist.
type RangeError struct {
	Field string
	Msg   string
}

func (e *RangeError) Error() string { return fmt.Sprintf("%s: %s", e.Field, e.Msg) }
