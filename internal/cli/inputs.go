package cli

import (
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/provenant/provenant/internal/cmdutil"
)

// ApplyInputs sets every flag of cmd not given on the command line from the
// action input of the same name (INPUT_<NAME>), or of its rename, or of one
// of its hidden aliases (an action's deprecated input, such as verify's
// summary for show-summary; two that disagree are refused), and names the
// inputs it applied on stderr. It reads inputs only for a command that
// takes them and only in a GitHub Actions step (GITHUB_ACTIONS=true):
// elsewhere an INPUT_* variable left in a shell would silently loosen a
// policy or swap the trust.
func ApplyInputs(cmd *cobra.Command, f *cmdutil.Factory) error {
	if cmd.Annotations[cmdutil.InputsAnnotation] != "true" || f.Getenv("GITHUB_ACTIONS") != "true" {
		return nil
	}
	fs := cmd.Flags()
	var applied []string
	var err error
	fs.VisitAll(func(fl *pflag.Flag) {
		if fl.Changed || fl.Hidden || err != nil {
			return
		}
		name := fl.Name
		if n, ok := cmd.Annotations[cmdutil.InputRenameAnnotation+name]; ok {
			name = n
		}
		v := strings.TrimSpace(f.Getenv("INPUT_" + strings.ToUpper(name)))
		for _, alias := range cmdutil.AliasesOf(fl.Name) {
			av := strings.TrimSpace(f.Getenv("INPUT_" + strings.ToUpper(alias)))
			switch {
			case av == "" || av == v:
			case v == "":
				name, v = alias, av
			default:
				err = fmt.Errorf("inputs %s and %s (its old name) disagree: give one", name, alias)
				return
			}
		}
		if v == "" {
			return
		}
		if serr := fs.Set(fl.Name, v); serr != nil {
			err = fmt.Errorf("input %s: %w", name, serr)
			return
		}
		applied = append(applied, name)
	})
	if len(applied) > 0 {
		sort.Strings(applied)
		fmt.Fprintf(f.Stderr, "%s: action inputs applied: %s\n", cmd.CommandPath(), strings.Join(applied, ", "))
	}
	return err
}
