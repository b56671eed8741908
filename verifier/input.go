package verifier

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/bmatcuk/doublestar/v4"

	"github.com/provenant/provenant/internal/inputfile"
)

// Artifact is what a bundle must be about: a name for reports and the
// artifact's digests by algorithm ("sha256", "sha512").
type Artifact struct {
	Name    string
	Digests map[string][]byte
}

// String renders the artifact's preferred digest as "alg:hex".
func (a Artifact) String() string {
	for _, alg := range digestAlgorithms {
		if d, ok := a.Digests[alg]; ok {
			return alg + ":" + hex.EncodeToString(d)
		}
	}
	return ""
}

// ArtifactFromReader digests an artifact with SHA-256 and SHA-512 in one pass.
func ArtifactFromReader(name string, r io.Reader) (Artifact, error) {
	return digestReader(name, r, true, nil)
}

// digestReader digests r with SHA-256, and with SHA-512 when withSHA512,
// through buf when given (a worker's buffer, not one per file).
func digestReader(name string, r io.Reader, withSHA512 bool, buf []byte) (Artifact, error) {
	h256 := sha256.New()
	w := io.Writer(h256)
	var h512 hash.Hash
	if withSHA512 {
		h512 = sha512.New()
		w = io.MultiWriter(h256, h512)
	}
	if buf == nil {
		buf = make([]byte, 32<<10)
	}
	// Only the hash's Write, not the file's WriteTo: io.Copy would use
	// (*os.File).WriteTo, which allocates a buffer of its own each time.
	if _, err := io.CopyBuffer(struct{ io.Writer }{w}, struct{ io.Reader }{r}, buf); err != nil {
		return Artifact{}, fmt.Errorf("digesting %s: %w", name, err)
	}
	a := Artifact{Name: name, Digests: map[string][]byte{"sha256": h256.Sum(nil)}}
	if withSHA512 {
		a.Digests["sha512"] = h512.Sum(nil)
	}
	return a, nil
}

// ArtifactFromFile digests a regular file (see ArtifactFromReader). Anything
// else (a folder, a device such as /dev/zero that never ends, a named pipe
// that blocks its reader) is refused before it is read.
func ArtifactFromFile(path string) (Artifact, error) {
	return artifactFromFile(path, DisplayName(path), true, nil)
}

// artifactFromFile is ArtifactFromFile, the artifact and errors naming the
// file name.
func artifactFromFile(path, name string, withSHA512 bool, buf []byte) (Artifact, error) {
	// Stat first: opening a named pipe would block until a writer comes.
	fi, err := os.Stat(path)
	if err != nil {
		return Artifact{}, &InputError{Err: fmt.Errorf("reading artifact %s: %w", name, unwrapPath(err))}
	}
	if !fi.Mode().IsRegular() {
		return Artifact{}, &InputError{Err: fmt.Errorf("reading artifact %s: %w (%s)", name, inputfile.ErrNotRegular, fileKind(fi.Mode()))}
	}
	f, err := os.Open(path)
	if err != nil {
		return Artifact{}, &InputError{Err: fmt.Errorf("reading artifact %s: %w", name, unwrapPath(err))}
	}
	defer f.Close()
	if fi, err = f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return Artifact{}, &InputError{Err: fmt.Errorf("reading artifact %s: %w (replaced while opened)", name, inputfile.ErrNotRegular)}
	}
	a, err := digestReader(name, f, withSHA512, buf)
	if err != nil {
		return Artifact{}, &InputError{Err: err}
	}
	return a, nil
}

// fileKind names what a non-regular file is.
func fileKind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a folder"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m&fs.ModeSocket != 0:
		return "a socket"
	}
	return "a special file"
}

// DisplayName is a file name as reports show it: as is, or quoted as a Go
// string when it holds control characters (a newline would forge a report
// line) or is not UTF-8.
func DisplayName(name string) string {
	if !utf8.ValidString(name) || strings.ContainsFunc(name, unicode.IsControl) {
		return strconv.Quote(name)
	}
	return name
}

// ArtifactFromDigest parses "sha256:<hex>" or "sha512:<hex>".
func ArtifactFromDigest(s string) (Artifact, error) {
	alg, h, ok := strings.Cut(s, ":")
	size := map[string]int{"sha256": sha256.Size, "sha512": sha512.Size}[alg]
	d, err := hex.DecodeString(h)
	if !ok || size == 0 || err != nil || len(d) != size {
		return Artifact{}, &InputError{Err: fmt.Errorf("digest %q: want sha256:<64 hex digits> or sha512:<128 hex digits>", s)}
	}
	return Artifact{Name: s, Digests: map[string][]byte{alg: d}}, nil
}

// attestationSuffixes are the names attestations take next to release
// assets: <asset><suffix>.
var attestationSuffixes = []string{".sigstore.json", ".sigstore", ".intoto.jsonl", ".intoto.sigstore", ".intoto.build.slsa", ".build.slsa"}

// MultipleAttestations is the name of slsa-github-generator's attestation
// file covering several assets.
const MultipleAttestations = "multiple.intoto.jsonl"

// isAttestationFile reports whether a file name is an attestation's.
func isAttestationFile(name string) bool {
	if name == MultipleAttestations {
		return true
	}
	for _, s := range attestationSuffixes {
		if strings.HasSuffix(name, s) {
			return true
		}
	}
	return false
}

// attestationFilesFor lists the attestation files in dir for an asset name:
// <asset>.sigstore.json, <asset>.intoto.jsonl, … and multiple.intoto.jsonl.
func attestationFilesFor(dir, asset string) []string {
	var out []string
	for _, s := range attestationSuffixes {
		p := filepath.Join(dir, asset+s)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			out = append(out, p)
		}
	}
	p := filepath.Join(dir, MultipleAttestations)
	if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
		out = append(out, p)
	}
	return out
}

// displayName is how reports name a file: under BundleDir, by
// BundleDirName when set; as DisplayName says.
func (o Options) displayName(path string) string {
	if o.BundleDirName != "" && o.BundleDir != "" {
		if path == o.BundleDir {
			return DisplayName(o.BundleDirName)
		}
		if rest, ok := strings.CutPrefix(path, o.BundleDir+string(filepath.Separator)); ok {
			return DisplayName(o.BundleDirName + "/" + filepath.ToSlash(rest))
		}
	}
	return DisplayName(path)
}

// dirEntry is an entry of a bundle directory that is not verified, and why.
type dirEntry struct {
	path   string
	reason string
}

// assetsIn lists the release assets of a directory: its regular files
// that are not attestations. Every other entry not excluded (a symbolic
// link, a folder, an attestation file for no asset) is returned in skipped
// with the reason it is not verified. exclude holds doublestar patterns
// matched against entry names.
func assetsIn(dir, dirName string, exclude []string) (assets []string, skipped []dirEntry, err error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, &InputError{Err: fmt.Errorf("reading bundle directory: %w", err)}
	}
	names := map[string]bool{}
	var attestations []string
	for _, e := range entries {
		name, p := e.Name(), filepath.Join(dir, e.Name())
		excluded, err := isExcluded(name, exclude)
		if err != nil {
			return nil, nil, err
		}
		switch {
		case excluded:
		case e.Type()&fs.ModeSymlink != 0:
			skipped = append(skipped, dirEntry{p, "not verified: a symbolic link, which is not followed in a bundle directory (give its target as an artifact, or --exclude it)"})
		case e.IsDir():
			skipped = append(skipped, dirEntry{p, "not verified: a folder; assets in subfolders are not searched (verify them with their own --bundle-dir, or --exclude it)"})
		case !e.Type().IsRegular():
			skipped = append(skipped, dirEntry{p, "not verified: not a regular file (--exclude it)"})
		case isAttestationFile(name):
			attestations = append(attestations, name)
		default:
			names[name] = true
			assets = append(assets, p)
		}
	}
	for _, name := range attestations {
		if name != MultipleAttestations && !names[assetOfAttestation(name)] {
			skipped = append(skipped, dirEntry{filepath.Join(dir, name), fmt.Sprintf("not verified: named like an attestation of %s, which is not an asset in %s: a provenance file for several assets is read under the name %s, one for one asset as <asset>.intoto.jsonl or <asset>.sigstore.json; rename it, give it with --bundle, or --exclude it", assetOfAttestation(name), dirName, MultipleAttestations)})
		}
	}
	return assets, skipped, nil
}

// assetOfAttestation is the asset an attestation file name is for:
// <asset><suffix>, the longest suffix first.
func assetOfAttestation(name string) string {
	best := ""
	for _, s := range attestationSuffixes {
		if strings.HasSuffix(name, s) && len(s) > len(best) {
			best = s
		}
	}
	return strings.TrimSuffix(name, best)
}

// isExcluded reports whether a name matches one of the doublestar patterns.
func isExcluded(name string, patterns []string) (bool, error) {
	for _, p := range patterns {
		ok, err := doublestar.Match(p, name)
		if err != nil {
			return false, &InputError{Err: fmt.Errorf("exclude pattern %q: %w", p, err)}
		}
		if ok {
			return true, nil
		}
	}
	return false, nil
}

// InputError reports unusable input: an unreadable file, a malformed digest,
// an impossible combination of options. The command exits with status 2.
type InputError struct{ Err error }

// Error returns the underlying error's text.
func (e *InputError) Error() string { return e.Err.Error() }

// Unwrap returns the underlying error.
func (e *InputError) Unwrap() error { return e.Err }

// collectItems pairs every artifact with the attestations that may cover
// it. The files of --bundle are read and parsed here, once; a bundle
// directory's are only listed (Item.files), to be read when their items
// are verified.
func collectItems(opts Options) ([]Item, error) {
	c := &collector{opts: opts, files: newAttestationFiles(opts.displayName)}
	for _, f := range opts.BundleFiles {
		a, err := c.load(f)
		if err != nil {
			return nil, err
		}
		c.shared = append(c.shared, a...)
	}
	paths := opts.Artifacts
	var skipped []dirEntry
	if len(paths) == 0 && len(opts.Digests) == 0 {
		if opts.BundleDir == "" {
			return nil, &InputError{Err: errors.New("nothing to verify: give artifacts, --digest, or --bundle-dir")}
		}
		var err error
		if paths, skipped, err = assetsIn(opts.BundleDir, opts.displayName(opts.BundleDir), opts.Exclude); err != nil {
			return nil, err
		}
		if len(paths) == 0 && len(skipped) == 0 {
			return nil, &InputError{Err: fmt.Errorf("no release asset in %s", opts.displayName(opts.BundleDir))}
		}
	}
	if len(c.shared) == 0 && opts.BundleDir == "" && opts.Attestations == nil {
		return nil, &InputError{Err: errors.New("no attestation source: give --bundle or --bundle-dir")}
	}
	arts, errs := hashAll(c, paths, needSHA512(opts, c.shared))
	for i, p := range paths {
		if errs[i] != nil {
			return nil, errs[i]
		}
		if err := c.add(arts[i], filepath.Base(p)); err != nil {
			return nil, err
		}
	}
	for _, d := range opts.Digests {
		art, err := ArtifactFromDigest(d)
		if err != nil {
			return nil, err
		}
		if err := c.add(art, ""); err != nil {
			return nil, err
		}
	}
	for _, e := range skipped {
		c.items = append(c.items, Item{Artifact: Artifact{Name: opts.displayName(e.path)}, Missing: e.reason})
	}
	return c.items, nil
}

// collector gathers the items of one Verify, reading and parsing each
// bundle file once.
type collector struct {
	opts   Options
	files  *attestationFiles
	shared []Attestation // from --bundle: tried for every artifact
	items  []Item
}

func (c *collector) load(path string) ([]Attestation, error) { return c.files.load(path) }

// add pairs an artifact with the shared attestations and those of the
// bundle directory for asset (every attestation file when asset is "").
func (c *collector) add(art Artifact, asset string) error {
	if alg := c.opts.DigestAlgorithm; alg != "" && art.Digests[alg] != nil && len(art.Digests) > 1 {
		// Compared in that one algorithm only, as the peer whose line it is.
		art.Digests = map[string][]byte{alg: art.Digests[alg]}
	}
	it := Item{Artifact: art, Attestations: append([]Attestation(nil), c.shared...)}
	for _, alg := range []string{"sha256", "sha512"} {
		if d, ok := art.Digests[alg]; ok {
			it.Attestations = append(it.Attestations, c.opts.Attestations[alg+":"+hex.EncodeToString(d)]...)
		}
	}
	if dir := c.opts.BundleDir; dir != "" {
		// Listing the whole directory for every asset made a release of
		// n assets cost n directory reads: only digests (asset "") need it.
		var files []string
		if asset != "" {
			files = attestationFilesFor(dir, asset)
		} else {
			files = allAttestationFiles(dir)
		}
		it.files = files
		if len(it.Attestations) == 0 && len(files) == 0 {
			it.Missing = fmt.Sprintf("no attestation found in %s (looked for %s<%s> and %s)", c.opts.displayName(dir), asset, strings.Join(attestationSuffixes, "|"), MultipleAttestations)
		}
	}
	c.items = append(c.items, it)
	return nil
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

// hashAll hashes the artifact files in parallel (opts.Parallelism
// workers, each with one read buffer): a release of a thousand assets is
// otherwise read and hashed one file at a time before verification
// starts. Errors are returned by index, for collectItems to report the
// first in order.
func hashAll(c *collector, paths []string, withSHA512 bool) ([]Artifact, []error) {
	arts, errs := make([]Artifact, len(paths)), make([]error, len(paths))
	workers := c.opts.Parallelism
	if workers < 1 {
		workers = 4
	}
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range min(workers, len(paths)) {
		wg.Go(func() {
			buf := make([]byte, 32<<10)
			for i := range jobs {
				arts[i], errs[i] = artifactFromFile(paths[i], c.opts.displayName(paths[i]), withSHA512, buf)
			}
		})
	}
	for i := range paths {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	return arts, errs
}

// needSHA512 reports whether artifact files must be hashed with SHA-512
// as well as SHA-256 (the digest reports show). SHA-512 costs more than
// SHA-256 with the CPU's SHA instructions, and most statements name
// subjects by SHA-256 alone, so it is left out only when every
// attestation is known before hashing and none can use it: no bundle
// directory (its files are read later), no attestation fetched by a
// sha512 digest, and every --bundle statement readable with no subject in
// sha512 (an unreadable one fails before its subjects are compared). The
// digest algorithm of a peer's line (gh's --digest-alg) decides alone.
func needSHA512(opts Options, shared []Attestation) bool {
	if opts.DigestAlgorithm != "" {
		return opts.DigestAlgorithm == "sha512"
	}
	if opts.BundleDir != "" {
		return true
	}
	for d, atts := range opts.Attestations {
		if !strings.HasPrefix(d, "sha256:") {
			return true
		}
		for _, a := range atts {
			if a.mayUseSHA512() {
				return true
			}
		}
	}
	for _, a := range shared {
		if a.mayUseSHA512() {
			return true
		}
	}
	return false
}

// unwrapPath is err without the path a *fs.PathError names: the message
// names the file as reports name it (a release's asset by the release,
// not by the temporary folder it was downloaded to).
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
