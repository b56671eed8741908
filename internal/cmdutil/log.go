package cmdutil

import (
	"fmt"

	"github.com/sethvargo/go-githubactions"

	"github.com/provenant/provenant/builder"
)

// Logger is a command's log. Every line is made printable
// (builder.Printable): a file name or another value a user chose cannot
// start a log line, or a workflow command, of its own. With Annotate in a
// GitHub Actions step, errors and warnings are annotations (::error::) on
// stdout, where the runner reads them; elsewhere each line goes to stderr
// after "provenant <cmd>: ".
type Logger struct {
	// Prefix starts each line on stderr: the command path.
	Prefix string
	// Action writes workflow commands (annotations, masks).
	Action *githubactions.Action
	f      *Factory
	annot  bool
}

// Logger is the log of the command at cmdPath ("provenant attest").
// annotate asks for annotations in a GitHub Actions step.
func (f *Factory) Logger(cmdPath string, annotate bool) *Logger {
	// In a workflow, logs and workflow commands go to stdout where the
	// runner reads them; elsewhere stdout stays clean.
	logTo := f.Stderr
	if f.InActions() {
		logTo = f.Stdout
	}
	return &Logger{
		Prefix: cmdPath,
		Action: githubactions.New(githubactions.WithGetenv(f.Getenv), githubactions.WithWriter(logTo)),
		f:      f,
		annot:  annotate && f.InActions(),
	}
}

// printable escapes a message whole: a line break in a value (a file
// name) is shown as \n, never a line of its own that the runner would
// read as a workflow command.
func printable(s string) string { return builder.Printable(s) }

// Error logs an error: an annotation in Actions, "provenant <cmd>: msg"
// on stderr elsewhere.
func (l *Logger) Error(msg string) {
	msg = printable(msg)
	if l.annot {
		l.Action.Errorf("%s: %s", l.Prefix, msg)
		return
	}
	fmt.Fprintf(l.f.Stderr, "%s: %s\n", l.Prefix, msg)
}

// Errorf logs a formatted error (see Error).
func (l *Logger) Errorf(format string, args ...any) { l.Error(fmt.Sprintf(format, args...)) }

// Warn logs a warning: an annotation in Actions, "provenant <cmd>:
// warning: msg" on stderr elsewhere.
func (l *Logger) Warn(msg string) {
	msg = printable(msg)
	if l.annot {
		l.Action.Warningf("%s", msg)
		return
	}
	fmt.Fprintf(l.f.Stderr, "%s: warning: %s\n", l.Prefix, msg)
}

// Printf logs a line after the command's prefix, on stderr.
func (l *Logger) Printf(format string, args ...any) {
	fmt.Fprintf(l.f.Stderr, "%s: %s\n", l.Prefix, printable(fmt.Sprintf(format, args...)))
}

// Plainf logs a line without the prefix, on stderr ("wrote …").
func (l *Logger) Plainf(format string, args ...any) {
	fmt.Fprintf(l.f.Stderr, "%s\n", printable(fmt.Sprintf(format, args...)))
}

// Infof logs a progress line through the Actions log (stdout in a
// workflow, stderr elsewhere), without prefix.
func (l *Logger) Infof(format string, args ...any) {
	l.Action.Infof("%s", builder.Printable(fmt.Sprintf(format, args...)))
}

// Mask hides a secret in the rest of the workflow's log; outside a
// runner it does nothing (the command would only print it).
func (l *Logger) Mask(secret string) {
	if l.f.InActions() && secret != "" {
		l.Action.AddMask(secret)
	}
}
