package cmdutil

import "fmt"

// Exit codes shared by every command.
const (
	// ExitOK: the command did what was asked.
	ExitOK = 0
	// ExitFailed: a check failed or the work could not be done.
	ExitFailed = 1
	// ExitUsage: bad flags, bad input, unreadable files.
	ExitUsage = 2
)

// UsageError is a command line or an input the command cannot run with:
// exit 2. The CLI logs it as the command's error.
type UsageError struct{ Err error }

// Error is the wrapped error's message.
func (e *UsageError) Error() string { return e.Err.Error() }

// Unwrap is the wrapped error.
func (e *UsageError) Unwrap() error { return e.Err }

// FailedError is work that could not be done or a check that failed:
// exit 1. The CLI logs it as the command's error.
type FailedError struct{ Err error }

// Error is the wrapped error's message.
func (e *FailedError) Error() string { return e.Err.Error() }

// Unwrap is the wrapped error.
func (e *FailedError) Unwrap() error { return e.Err }

// Usage wraps err as a *UsageError (nil stays nil).
func Usage(err error) error {
	if err == nil {
		return nil
	}
	return &UsageError{Err: err}
}

// Usagef is a *UsageError of a formatted message.
func Usagef(format string, args ...any) error { return &UsageError{Err: fmt.Errorf(format, args...)} }

// Failed wraps err as a *FailedError (nil stays nil).
func Failed(err error) error {
	if err == nil {
		return nil
	}
	return &FailedError{Err: err}
}

// Failedf is a *FailedError of a formatted message.
func Failedf(format string, args ...any) error { return &FailedError{Err: fmt.Errorf(format, args...)} }

// SilentError ends a command whose outcome is already said (a report
// that shows the failed checks, a refusal logged line by line) with its
// exit code: the CLI prints nothing more.
type SilentError struct{ Code int }

// Error names the exit code.
func (e *SilentError) Error() string { return fmt.Sprintf("exit status %d", e.Code) }

// ErrSilentFailure is a *SilentError of exit 1: the report says why.
var ErrSilentFailure error = &SilentError{Code: ExitFailed}
