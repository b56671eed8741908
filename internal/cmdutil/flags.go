package cmdutil

import (
	"strings"

	"github.com/spf13/pflag"
)

// ListFlag is a repeatable flag; a value from an action input may hold
// several, one a line.
type ListFlag []string

// String joins the values, for flag defaults.
func (l *ListFlag) String() string { return strings.Join(*l, ",") }

// Type names the value in help.
func (l *ListFlag) Type() string { return "strings" }

// Set appends a value, or one value per line.
func (l *ListFlag) Set(v string) error {
	for _, s := range strings.Split(v, "\n") {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}

// Given reports whether the named flag of fs was set (on the command line
// or as an action input).
func Given(fs *pflag.FlagSet, name string) bool {
	fl := fs.Lookup(name)
	return fl != nil && fl.Changed
}
