package provenance

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"unicode/utf8"

	intoto "github.com/in-toto/attestation/go/v1"

	"github.com/provenant/provenant/internal/inputfile"
)

// Subject is one artifact an attestation is about: a name and its digests.
type Subject struct {
	// Name is the artifact's name (a file's base name).
	Name string
	// Digest maps algorithm (sha256, sha384, sha512) to lower-case hex.
	Digest map[string]string
	// Source says where the subject came from (a file path or the input
	// that named it), for error messages and the step summary.
	Source string
}

// SubjectOptions are the ways subjects are named. At least one must give a
// subject.
type SubjectOptions struct {
	// Paths are globs (with **) of files; relative ones are relative to Dir.
	Paths []string
	// Name and Digest name one subject by digest ("sha256:<hex>").
	Name, Digest string
	// Checksums is sha256sum-format text: "<hex>  <name>" lines.
	Checksums string
	// ChecksumsSource names where Checksums came from, for errors.
	ChecksumsSource string
	// Dir is the directory relative globs start from.
	Dir string
	// Workers is how many files are hashed at once; 0 means one per CPU.
	Workers int
	// Warn receives warnings, such as a symbolic link loop skipped in a
	// glob; nil drops them.
	Warn func(string)
}

// InputError is a bad subject input: the input named, the value and why.
type InputError struct {
	// Input is the flag/input name, e.g. "subject-path".
	Input string
	// Value is the offending value (a glob, a path, a digest).
	Value string
	// Err is why it is bad.
	Err error
}

func (e *InputError) Error() string {
	if e.Value == "" {
		return fmt.Sprintf("%s: %v", e.Input, e.Err)
	}
	return fmt.Sprintf("%s %q: %v", e.Input, e.Value, e.Err)
}

func (e *InputError) Unwrap() error { return e.Err }

// SplitList splits a newline- or comma-separated input into its trimmed,
// non-empty items.
func SplitList(s string) []string {
	var out []string
	for _, line := range strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == ',' || r == '\r' }) {
		if line = strings.TrimSpace(line); line != "" {
			out = append(out, line)
		}
	}
	return out
}

// CheckName refuses a subject name that holds a control character (C0
// such as newline, carriage return, ESC or NUL; DEL; C1) or is not valid
// UTF-8. Such a name would be rewritten in the statement (invalid UTF-8
// becomes U+FFFD) or could forge log lines and step outputs where it is
// printed.
func CheckName(name string) error {
	if !utf8.ValidString(name) {
		return errors.New("the subject name is not valid UTF-8")
	}
	for i, r := range name {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f) {
			return fmt.Errorf("the subject name holds the control character U+%04X at byte %d", r, i)
		}
	}
	return nil
}

// digestLengths maps a digest algorithm to its hex length.
var digestLengths = map[string]int{
	string(intoto.AlgorithmSHA256): intoto.AlgorithmSHA256.HexLength() * 2,
	string(intoto.AlgorithmSHA384): intoto.AlgorithmSHA384.HexLength() * 2,
	string(intoto.AlgorithmSHA512): intoto.AlgorithmSHA512.HexLength() * 2,
}

// ParseDigest parses "alg:hex" for sha256, sha384 and sha512, checking the
// hex and its length.
func ParseDigest(s string) (alg, hexDigest string, err error) {
	alg, hexDigest, ok := strings.Cut(strings.TrimSpace(s), ":")
	if !ok {
		return "", "", errors.New(`want "<algorithm>:<hex>", for example sha256:<64 hex digits>`)
	}
	alg = strings.ToLower(alg)
	want, known := digestLengths[alg]
	if !known {
		return "", "", fmt.Errorf("unsupported digest algorithm %q (sha256, sha384 or sha512)", alg)
	}
	if err := checkHex(hexDigest, want); err != nil {
		return "", "", fmt.Errorf("%s digest: %w", alg, err)
	}
	return alg, strings.ToLower(hexDigest), nil
}

func checkHex(h string, want int) error {
	if len(h) != want {
		return fmt.Errorf("%d hex digits, want %d", len(h), want)
	}
	if _, err := hex.DecodeString(h); err != nil {
		return errors.New("not hexadecimal")
	}
	return nil
}

// algorithmForLength tells the algorithm of a checksum by its hex length.
func algorithmForLength(n int) (string, bool) {
	for alg, l := range digestLengths {
		if l == n {
			return alg, true
		}
	}
	return "", false
}

// MaxChecksumsLine is the longest line of a checksums file: 1 MiB.
const MaxChecksumsLine = 1 << 20

// ParseChecksums parses sha256sum-style text: one "<hex> <name>" per line,
// with one or two spaces and an optional "*" binary marker before the name.
// The algorithm is told by the hex length (sha256, sha384, sha512). Blank
// lines and lines starting with # are skipped.
func ParseChecksums(text, source string) ([]Subject, error) {
	var out []Subject
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 64*1024), MaxChecksumsLine)
	n := 1
	for ; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		sum, name, ok := strings.Cut(strings.TrimLeft(line, " \t"), " ")
		// After the digest and a space comes one mode character, a space
		// (text) or "*" (binary), as sha256sum writes; only one is
		// dropped, so "<hex>  *a" names "*a" as sha256sum -c reads it.
		if strings.HasPrefix(name, " ") || strings.HasPrefix(name, "*") {
			name = name[1:]
		}
		if !ok || name == "" {
			return nil, &InputError{Input: "subject-checksums", Value: source, Err: fmt.Errorf("line %d: want \"<hex digest>  <name>\"", n)}
		}
		if err := CheckName(name); err != nil {
			return nil, &InputError{Input: "subject-checksums", Value: source, Err: fmt.Errorf("line %d: %q: %w", n, name, err)}
		}
		alg, known := algorithmForLength(len(sum))
		if !known {
			return nil, &InputError{Input: "subject-checksums", Value: source, Err: fmt.Errorf("line %d: a digest of %d hex digits is not sha256, sha384 or sha512", n, len(sum))}
		}
		if err := checkHex(sum, len(sum)); err != nil {
			return nil, &InputError{Input: "subject-checksums", Value: source, Err: fmt.Errorf("line %d: %w", n, err)}
		}
		out = append(out, Subject{Name: name, Digest: map[string]string{alg: strings.ToLower(sum)}, Source: fmt.Sprintf("%s line %d", source, n)})
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			err = fmt.Errorf("line %d is longer than the %d MiB line limit", n, MaxChecksumsLine>>20)
		}
		return nil, &InputError{Input: "subject-checksums", Value: source, Err: err}
	}
	if len(out) == 0 {
		return nil, &InputError{Input: "subject-checksums", Value: source, Err: errors.New("no checksum lines")}
	}
	return out, nil
}

// CollectSubjects gathers, hashes and merges the subjects the options name.
// Identical name and digest pairs are merged; one name with two different
// digests is an error naming both sources.
func CollectSubjects(ctx context.Context, opts SubjectOptions) ([]Subject, error) {
	var subjects []Subject
	files, err := matchFiles(ctx, opts.Paths, opts.Dir, opts.Warn)
	if err != nil {
		return nil, err
	}
	hashed, err := hashFiles(ctx, files, opts.Workers)
	if err != nil {
		return nil, err
	}
	subjects = append(subjects, hashed...)

	if opts.Name != "" || opts.Digest != "" {
		if opts.Name == "" {
			return nil, &InputError{Input: "subject-name", Err: errors.New("subject-digest needs a subject-name")}
		}
		if opts.Digest == "" {
			return nil, &InputError{Input: "subject-digest", Err: errors.New("subject-name needs a subject-digest")}
		}
		if err := CheckName(opts.Name); err != nil {
			return nil, &InputError{Input: "subject-name", Value: opts.Name, Err: err}
		}
		alg, h, err := ParseDigest(opts.Digest)
		if err != nil {
			return nil, &InputError{Input: "subject-digest", Value: opts.Digest, Err: err}
		}
		subjects = append(subjects, Subject{Name: opts.Name, Digest: map[string]string{alg: h}, Source: "subject-name"})
	}
	if opts.Checksums != "" {
		sums, err := ParseChecksums(opts.Checksums, opts.ChecksumsSource)
		if err != nil {
			return nil, err
		}
		subjects = append(subjects, sums...)
	}
	if len(subjects) == 0 {
		return nil, &InputError{Input: "subject-path", Err: errors.New("no subjects: give subject-path, subject-name with subject-digest, or subject-checksums")}
	}
	return mergeSubjects(subjects)
}

// mergeSubjects drops repeated name+digest pairs, keeping first-seen order.
func mergeSubjects(in []Subject) ([]Subject, error) {
	seen := make(map[string]int, len(in))
	out := in[:0:0]
	for _, s := range in {
		i, dup := seen[s.Name]
		if !dup {
			seen[s.Name] = len(out)
			out = append(out, s)
			continue
		}
		prev := out[i]
		for alg, h := range s.Digest {
			if ph, ok := prev.Digest[alg]; ok && ph != h {
				return nil, fmt.Errorf("subject name %q has two different %s digests: %s (from %s) and %s (from %s); GitHub rejects duplicate subject names",
					s.Name, alg, ph, prev.Source, h, s.Source)
			}
		}
		for alg, h := range s.Digest {
			prev.Digest[alg] = h
		}
	}
	return out, nil
}

// matchFiles expands the globs into the regular files they name, following
// symbolic links. Every glob must match at least one file.
func matchFiles(ctx context.Context, patterns []string, dir string, warn func(string)) ([]string, error) {
	var files []string
	seen := map[string]bool{}
	for _, pattern := range patterns {
		full := pattern
		if !filepath.IsAbs(full) && dir != "" {
			full = filepath.Join(dir, pattern)
		}
		literal := !strings.ContainsAny(pattern, "*?[{")
		matches := []string{full}
		if !literal {
			// I/O errors below the pattern (an unrelated link loop, say)
			// do not fail the glob; every match is checked below.
			var err error
			if matches, err = glob(ctx, full, warn); err != nil {
				return nil, &InputError{Input: "subject-path", Value: pattern, Err: err}
			}
		}
		count := 0
		for _, m := range matches {
			fi, err := os.Lstat(m)
			if errors.Is(err, fs.ErrNotExist) && literal {
				return nil, &InputError{Input: "subject-path", Value: pattern, Err: errors.New("no such file")}
			}
			if err != nil {
				return nil, &InputError{Input: "subject-path", Value: m, Err: err}
			}
			if fi.Mode()&fs.ModeSymlink != 0 {
				target, err := os.Stat(m)
				if err != nil {
					what := "dangling symbolic link"
					if errors.Is(err, syscall.ELOOP) {
						what = "symbolic link loop"
					}
					return nil, &InputError{Input: "subject-path", Value: m, Err: fmt.Errorf("%s: %w", what, err)}
				}
				fi = target
			}
			if fi.IsDir() {
				if literal {
					return nil, &InputError{Input: "subject-path", Value: m, Err: errors.New("is a directory; name files, or a glob such as dir/**")}
				}
				continue
			}
			if !fi.Mode().IsRegular() {
				if literal {
					return nil, &InputError{Input: "subject-path", Value: m, Err: errors.New("is not a regular file")}
				}
				continue
			}
			if err := CheckName(filepath.Base(m)); err != nil {
				return nil, &InputError{Input: "subject-path", Value: m, Err: err}
			}
			count++
			if !seen[m] {
				seen[m] = true
				files = append(files, m)
			}
		}
		if count == 0 {
			return nil, &InputError{Input: "subject-path", Value: pattern, Err: errors.New("matches no file")}
		}
	}
	return files, nil
}

// hashFiles computes the sha256 digest of each file, streaming and in
// parallel, and returns the subjects in the order of files.
func hashFiles(ctx context.Context, files []string, workers int) ([]Subject, error) {
	if len(files) == 0 {
		return nil, nil
	}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, len(files))
	out := make([]Subject, len(files))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	jobs := make(chan int)
	var (
		wg       sync.WaitGroup
		once     sync.Once
		firstErr error
	)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 256*1024)
			h := sha256.New()
			for i := range jobs {
				sum, err := hashFile(ctx, files[i], h, buf)
				if err != nil {
					once.Do(func() { firstErr = &InputError{Input: "subject-path", Value: files[i], Err: err}; cancel() })
					continue
				}
				out[i] = Subject{Name: filepath.Base(files[i]), Digest: map[string]string{"sha256": sum}, Source: files[i]}
			}
		}()
	}
feed:
	for i := range files {
		select {
		case jobs <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

func hashFile(ctx context.Context, path string, h hash.Hash, buf []byte) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h.Reset()
	// Read through the context, so a signal stops hashing a large file.
	if _, err := io.CopyBuffer(h, &inputfile.Reader{Ctx: ctx, R: f}, buf); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
