package cmdutil

// annotations.go: what a command tells the root command about itself,
// through cobra annotations the root reads (internal/cli).

import "github.com/spf13/cobra"

// Annotation keys a command sets for the root command.
const (
	// InputsAnnotation marks a command that takes GitHub Actions inputs.
	InputsAnnotation = "provenant/inputs"
	// InputRenameAnnotation + a flag's name is the input it is read from.
	InputRenameAnnotation = "provenant/input:"
	// AnnotateAnnotation marks a command whose errors are annotations in
	// a GitHub Actions step.
	AnnotateAnnotation = "provenant/annotate"
)

// BindInputs marks cmd as one whose flags an action input of the same name
// (INPUT_<NAME>), or of the name renames gives it, fills in a GitHub
// Actions step. The root command applies them once, before any command
// runs.
func BindInputs(cmd *cobra.Command, renames map[string]string) {
	annotate(cmd, InputsAnnotation, "true")
	for flag, input := range renames {
		annotate(cmd, InputRenameAnnotation+flag, input)
	}
}

// AnnotateErrors makes cmd's errors annotations in a GitHub Actions step
// (attest's, which a workflow shows on the run's page).
func AnnotateErrors(cmd *cobra.Command) { annotate(cmd, AnnotateAnnotation, "true") }

func annotate(cmd *cobra.Command, key, value string) {
	if cmd.Annotations == nil {
		cmd.Annotations = map[string]string{}
	}
	cmd.Annotations[key] = value
}
