package provenance

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/bmatcuk/doublestar/v4"
)

// Bounds of a glob's walk: a glob that would visit more entries or go
// deeper fails with an error saying so, instead of exhausting memory.
const (
	// MaxGlobEntries is the most folder entries one glob may visit.
	MaxGlobEntries = 1_000_000
	// MaxGlobDepth is the deepest folder below a glob's base it may visit.
	MaxGlobDepth = 64
)

// glob expands a pattern (with **) into the paths it matches, following
// symbolic links to folders as doublestar does, but never into a folder
// that is already one of the folders being walked: such a link is a loop,
// skipped with a warning naming it, as @actions/glob does. The walk is
// bounded by MaxGlobEntries and MaxGlobDepth and honours ctx.
func glob(ctx context.Context, pattern string, warn func(string)) ([]string, error) {
	base, rest := doublestar.SplitPattern(filepath.ToSlash(pattern))
	if base == "" {
		base = "/"
	}
	base = filepath.FromSlash(base)
	if !doublestar.ValidatePattern(rest) {
		return nil, doublestar.ErrBadPattern
	}
	fi, err := os.Stat(base)
	if err != nil || !fi.IsDir() {
		return nil, nil // no match, as doublestar
	}
	real, err := filepath.EvalSymlinks(base)
	if err != nil {
		return nil, nil
	}
	w := &walker{ctx: ctx, pattern: rest, warn: warn, onPath: map[string]bool{real: true}}
	if err := w.walk(base, "", 0); err != nil {
		return nil, err
	}
	return w.matches, nil
}

type walker struct {
	ctx     context.Context
	pattern string
	warn    func(string)
	onPath  map[string]bool // real paths of the folders being walked
	entries int
	matches []string
}

func (w *walker) walk(dir, rel string, depth int) error {
	if depth > MaxGlobDepth {
		return fmt.Errorf("the walk goes deeper than %d folders below its base (at %s): narrow the glob", MaxGlobDepth, dir)
	}
	list, err := os.ReadDir(dir)
	if err != nil {
		return nil // unreadable folders match nothing, as doublestar
	}
	for _, ent := range list {
		if w.entries++; w.entries > MaxGlobEntries {
			return fmt.Errorf("the walk visits more than %d entries: narrow the glob", MaxGlobEntries)
		}
		if w.entries%1024 == 0 && w.ctx.Err() != nil {
			return w.ctx.Err()
		}
		full := filepath.Join(dir, ent.Name())
		relPath := ent.Name()
		if rel != "" {
			relPath = rel + "/" + ent.Name()
		}
		matched, _ := doublestar.Match(w.pattern, relPath)
		if matched {
			w.matches = append(w.matches, full)
		}
		isDir := ent.IsDir()
		if ent.Type()&os.ModeSymlink != 0 {
			fi, err := os.Stat(full)
			isDir = err == nil && fi.IsDir()
		}
		if !isDir || !w.mayMatchBelow(relPath) {
			continue
		}
		real, err := filepath.EvalSymlinks(full)
		if err != nil {
			continue
		}
		if w.onPath[real] {
			if w.warn != nil {
				w.warn(fmt.Sprintf("subject-path: skipping the symbolic link %q: it leads back to %q, a folder already being walked (a loop)", full, real))
			}
			continue
		}
		w.onPath[real] = true
		err = w.walk(full, relPath, depth+1)
		delete(w.onPath, real)
		if err != nil {
			return err
		}
	}
	return nil
}

// mayMatchBelow reports whether a path below the folder rel could match:
// always with "**", otherwise only while the folder is shallower than the
// pattern.
func (w *walker) mayMatchBelow(rel string) bool {
	if strings.Contains(w.pattern, "**") {
		return true
	}
	return strings.Count(rel, "/") < strings.Count(w.pattern, "/")
}
