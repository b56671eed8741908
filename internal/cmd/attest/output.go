package attest

// output.go: where attest writes the attestation, settled and checked
// before anything is signed.

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/provenant/provenant/builder"
	"github.com/provenant/provenant/internal/cmdutil"
	"github.com/provenant/provenant/provenance"
)

// output is where an attestation is written.
type output struct {
	// path is the file to write.
	path string
	// fresh is the folder made for this run, removed when nothing is
	// written; empty for a folder the user named.
	fresh string
}

// discard removes the fresh folder of a run that wrote nothing.
func (o *output) discard() {
	if o.fresh != "" {
		os.Remove(o.fresh)
	}
}

// prepareOutput settles where to write: the flag's path, the default name
// inside it when it names a folder, or the default name in a folder made
// for this run under $RUNNER_TEMP/provenant (in a workflow; the current
// folder elsewhere), so two attest steps never write the same file. A file
// that exists is replaced only with --overwrite.
func prepareOutput(o *Options, subjects []provenance.Subject, ext string) (*output, error) {
	dst := &output{path: o.Out}
	switch {
	case o.Out == "" && o.f.InActions() && o.f.Getenv("RUNNER_TEMP") != "":
		parent := filepath.Join(o.f.Getenv("RUNNER_TEMP"), "provenant")
		if err := os.MkdirAll(parent, 0o755); err != nil {
			return nil, fmt.Errorf("output folder: %w", err)
		}
		dir, err := os.MkdirTemp(parent, "run-")
		if err != nil {
			return nil, fmt.Errorf("output folder: %w", err)
		}
		dst.fresh, dst.path = dir, filepath.Join(dir, defaultName(subjects, ext))
	case o.Out == "":
		dst.path = defaultName(subjects, ext)
	default:
		if fi, err := os.Stat(o.Out); (err == nil && fi.IsDir()) || strings.HasSuffix(o.Out, string(filepath.Separator)) {
			dst.path = filepath.Join(o.Out, defaultName(subjects, ext))
		}
		// A folder the user named is not made: a typo in it would otherwise
		// put the attestation where nobody looks for it.
		if _, err := os.Stat(filepath.Dir(dst.path)); errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("bundle-path %q: the folder %q does not exist (provenant makes no folder you name: create it first)", o.Out, filepath.Dir(dst.path))
		}
	}
	if err := cmdutil.CheckFileName(filepath.Base(dst.path)); err != nil {
		dst.discard()
		return nil, fmt.Errorf("bundle-path %q: %w", dst.path, err)
	}
	if dst.fresh == "" {
		if fi, err := os.Lstat(dst.path); err == nil {
			if fi.IsDir() {
				return nil, fmt.Errorf("bundle-path %q is a folder that holds a folder of the same name as the attestation", dst.path)
			}
			if !o.Overwrite {
				return nil, fmt.Errorf("bundle-path %q exists: refusing to replace another attestation (say overwrite: true, or --overwrite, to replace it)", dst.path)
			}
		}
	}
	if err := cmdutil.ProbeFolder(filepath.Dir(dst.path)); err != nil {
		dst.discard()
		return nil, fmt.Errorf("bundle-path %q: the folder is not writable: %w", dst.path, err)
	}
	return dst, nil
}

// checkCommandFiles makes sure, before anything is signed, that the step's
// outputs and summary can be written (when the runner names them).
func checkCommandFiles(e *cmdutil.Factory, summary bool) error {
	files := &builder.FileCommands{Getenv: e.Getenv}
	vars := []string{"GITHUB_OUTPUT"}
	if summary {
		vars = append(vars, "GITHUB_STEP_SUMMARY")
	}
	for _, v := range vars {
		if err := files.CheckWritable(v); err != nil && !errors.Is(err, builder.ErrNoCommandFile) {
			return err
		}
	}
	return nil
}

// defaultName is <subject><ext> for one subject, attestation<ext> for
// several.
func defaultName(subjects []provenance.Subject, ext string) string {
	if len(subjects) == 1 && !strings.ContainsAny(subjects[0].Name, `/\`) && cmdutil.CheckFileName(subjects[0].Name+ext) == nil {
		return subjects[0].Name + ext
	}
	return "attestation" + ext
}
