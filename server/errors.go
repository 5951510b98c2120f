package server

import "fmt"

// Error codes, as docs/protocol.md lists them.
const (
	CodeBadJSON       = "bad_json"
	CodeBadCommand    = "bad_command"
	CodeBadLesson     = "bad_lesson"
	CodeNotFound      = "not_found"
	CodeNoLesson      = "no_lesson"
	CodeAtStart       = "at_start"
	CodeDiverged      = "diverged"
	CodeRunning       = "running"
	CodeSlowDown      = "slow_down"
	CodeNotPresenter  = "not_presenter"
	CodeResumeExpired = "resume_expired"
	CodeNoQuestion    = "no_question"
	CodeQuestionOpen  = "question_open"
	CodeVotingClosed  = "voting_closed"
	CodeNotFollower   = "not_follower"
	CodeServerBusy    = "server_busy"
	CodeInterrupted   = "interrupted"
	CodeInternal      = "internal"
)

// Error is what the server says when a command fails: a code from the
// protocol's table and a message in plain English for the person at the
// page. ID is the command's id as JSON, or nil.
type Error struct {
	Code    string
	Message string
	ID      []byte
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}
