package verifier

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
)

// Options is everything Verify needs: where the artifacts and attestations
// are, which roots to trust and what to require.
type Options struct {
	// Artifacts are files to verify.
	Artifacts []string
	// Digests are artifacts given by digest ("sha256:<hex>", "sha512:<hex>").
	Digests []string
	// BundleFiles are bundle files (JSON, or JSON Lines with several
	// bundles); each is tried for every artifact.
	BundleFiles []string
	// BundleDir holds release assets with their attestations
	// (<asset>.sigstore.json, <asset>.intoto.jsonl, multiple.intoto.jsonl…).
	// With no Artifacts and no Digests, every asset in it is verified, and
	// every other entry (a symbolic link, a folder, an attestation for no
	// asset) is reported as not verified unless Exclude matches its name.
	BundleDir string
	// Exclude are doublestar patterns (e.g. "*.txt", "docs") of BundleDir
	// entries to leave out on purpose.
	Exclude []string
	// TrustedRoots are the instances to trust (see package trust).
	TrustedRoots []TrustedRoot
	// Policy is what the signer and the provenance must be.
	Policy Policy
	// Parallelism bounds how many artifacts are verified at once (default 4).
	Parallelism int
}

// Report is the outcome of Verify.
type Report struct {
	// Verified is true when every artifact is verified.
	Verified bool `json:"verified"`
	// MinLevel is the SLSA Build level required (0: the default per predicate type).
	MinLevel int `json:"minLevel,omitempty"`
	// Artifacts holds one result per artifact, in input order.
	Artifacts []ArtifactResult `json:"artifacts"`
	// Warnings are notes that do not fail verification (e.g. a cached
	// trusted root used offline).
	Warnings []string `json:"warnings,omitempty"`
}

// Verify verifies every artifact of opts against its attestations. It
// returns an *InputError for unusable input (unreadable files, malformed
// digests, no artifact); a failed check is not an error but a Report whose
// Verified is false.
func Verify(ctx context.Context, opts Options) (*Report, error) {
	if len(opts.TrustedRoots) == 0 {
		return nil, &InputError{Err: errors.New("no trusted root given")}
	}
	v, err := New(opts.TrustedRoots, opts.Policy)
	var pe *PolicyError
	if errors.As(err, &pe) {
		return nil, pe
	}
	if err != nil {
		return nil, &InputError{Err: err}
	}
	items, err := collectItems(opts)
	if err != nil {
		return nil, err
	}
	rep := &Report{MinLevel: opts.Policy.MinLevel, Artifacts: v.VerifyItems(ctx, items, opts.Parallelism)}
	rep.Verified = len(rep.Artifacts) > 0
	for _, a := range rep.Artifacts {
		rep.Verified = rep.Verified && a.Verified
	}
	return rep, nil
}

// collectItems pairs every artifact with the attestations that may cover
// it; each bundle file is read and parsed once.
func collectItems(opts Options) ([]Item, error) {
	parsed := map[string][]Attestation{}
	load := func(path string) ([]Attestation, error) {
		if a, ok := parsed[path]; ok {
			return a, nil
		}
		a, err := LoadAttestations(path)
		if err != nil {
			return nil, err
		}
		parsed[path] = a
		return a, nil
	}
	var shared []Attestation
	for _, f := range opts.BundleFiles {
		a, err := load(f)
		if err != nil {
			return nil, err
		}
		shared = append(shared, a...)
	}
	paths := opts.Artifacts
	var skipped []dirEntry
	if len(paths) == 0 && len(opts.Digests) == 0 {
		if opts.BundleDir == "" {
			return nil, &InputError{Err: errors.New("nothing to verify: give artifacts, --digest, or --bundle-dir")}
		}
		var err error
		if paths, skipped, err = assetsIn(opts.BundleDir, opts.Exclude); err != nil {
			return nil, err
		}
		if len(paths) == 0 && len(skipped) == 0 {
			return nil, &InputError{Err: fmt.Errorf("no release asset in %s", opts.BundleDir)}
		}
	}
	if len(shared) == 0 && opts.BundleDir == "" {
		return nil, &InputError{Err: errors.New("no attestation source: give --bundle or --bundle-dir")}
	}
	var items []Item
	add := func(art Artifact, asset string) error {
		it := Item{Artifact: art, Attestations: append([]Attestation(nil), shared...)}
		if opts.BundleDir != "" {
			var files []string
			if asset != "" {
				files = attestationFilesFor(opts.BundleDir, asset)
			} else {
				files = allAttestationFiles(opts.BundleDir)
			}
			for _, f := range files {
				a, err := load(f)
				if err != nil {
					return err
				}
				it.Attestations = append(it.Attestations, a...)
			}
			if len(it.Attestations) == 0 {
				it.Missing = fmt.Sprintf("no attestation found in %s (looked for %s<%s> and %s)", opts.BundleDir, asset, strings.Join(attestationSuffixes, "|"), MultipleAttestations)
			}
		}
		items = append(items, it)
		return nil
	}
	for _, p := range paths {
		art, err := ArtifactFromFile(p)
		if err != nil {
			return nil, err
		}
		if err := add(art, filepath.Base(p)); err != nil {
			return nil, err
		}
	}
	for _, d := range opts.Digests {
		art, err := ArtifactFromDigest(d)
		if err != nil {
			return nil, err
		}
		if err := add(art, ""); err != nil {
			return nil, err
		}
	}
	for _, e := range skipped {
		items = append(items, Item{Artifact: Artifact{Name: e.path}, Missing: e.reason})
	}
	return items, nil
}

// allAttestationFiles lists every attestation file of a directory.
func allAttestationFiles(dir string) []string {
	matches, _ := filepath.Glob(filepath.Join(dir, "*"))
	var out []string
	for _, m := range matches {
		if isAttestationFile(filepath.Base(m)) {
			out = append(out, m)
		}
	}
	return out
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText writes the report for a human: per artifact, per bundle, one
// line per check with its status and reason, then the level reached.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	for _, wmsg := range r.Warnings {
		fmt.Fprintf(&b, "warning: %s\n", wmsg)
	}
	for _, a := range r.Artifacts {
		verdict := "FAILED"
		if a.Verified {
			verdict = fmt.Sprintf("VERIFIED at SLSA Build L%d", a.Level)
		}
		fmt.Fprintf(&b, "%s (%s): %s\n", a.Artifact, a.Digest, verdict)
		if a.Error != "" {
			fmt.Fprintf(&b, "  %s\n", a.Error)
		}
		for _, br := range a.Bundles {
			status := "failed"
			if br.Verified {
				status = "verified"
			}
			fmt.Fprintf(&b, "  bundle %s: %s\n", br.Source, status)
			if br.Signer != nil {
				fmt.Fprintf(&b, "    signer: %s (issuer %s)\n", br.Signer.SubjectAlternativeName, br.Signer.Extensions.Issuer)
			}
			for _, c := range br.Checks {
				fmt.Fprintf(&b, "    %-9s %d %-11s %s\n", strings.ToUpper(string(c.Status)), c.Number, c.Name, c.Reason)
			}
		}
	}
	n, ok := 0, 0
	for _, a := range r.Artifacts {
		n++
		if a.Verified {
			ok++
		}
	}
	fmt.Fprintf(&b, "%d of %d artifacts verified\n", ok, n)
	_, err := io.WriteString(w, b.String())
	return err
}

// Level is the SLSA Build level every artifact reached (the lowest among
// them), or 0 when one is not verified.
func (r *Report) Level() int {
	lvl := 0
	for i, a := range r.Artifacts {
		if !a.Verified {
			return 0
		}
		if i == 0 || a.Level < lvl {
			lvl = a.Level
		}
	}
	return lvl
}

// WriteMarkdown writes the report as a GitHub step summary: a table with
// one row per artifact and check.
func (r *Report) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	verdict := "❌ not verified"
	if r.Verified {
		verdict = fmt.Sprintf("✅ verified, SLSA Build L%d", r.Level())
	}
	fmt.Fprintf(&b, "### provenant verify: %s\n\n", verdict)
	for _, wmsg := range r.Warnings {
		fmt.Fprintf(&b, "> warning: %s\n\n", mdCell(wmsg))
	}
	b.WriteString("| artifact | bundle | check | result | reason |\n|---|---|---|---|---|\n")
	for _, a := range r.Artifacts {
		name := mdCell(filepath.Base(a.Artifact))
		if a.Error != "" {
			fmt.Fprintf(&b, "| %s | | | fail | %s |\n", name, mdCell(a.Error))
		}
		for _, br := range a.Bundles {
			for _, c := range br.Checks {
				fmt.Fprintf(&b, "| %s | %s | %d %s | %s | %s |\n", name, mdCell(filepath.Base(br.Source)), c.Number, c.Name, c.Status, mdCell(c.Reason))
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// mdCell makes text safe inside a Markdown table cell.
func mdCell(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ", "\r", " ").Replace(s)
}
