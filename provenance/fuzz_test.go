package provenance

// Fuzz targets for what a user hands attest: a predicate file, a checksums
// file and the subject-path globs over a folder tree. Each asserts what the
// input's contract says (errors name the input, round trips hold, limits
// hold), not only that nothing panics. Seeds come from testdata/fixtures.
//
//	go test -run '^$' -fuzz FuzzReadPredicate -parallel 1 ./provenance

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/bmatcuk/doublestar/v4"
	intoto "github.com/in-toto/attestation/go/v1"
	"google.golang.org/protobuf/encoding/protojson"
)

// fixture reads a file of ../testdata/fixtures.
func fixture(f *testing.F, p string) []byte {
	f.Helper()
	data, err := os.ReadFile(filepath.Join("..", "testdata", "fixtures", p))
	if err != nil {
		f.Fatal(err)
	}
	return data
}

// fixturePredicates returns the predicates inside the fixture bundles'
// DSSE payloads (one JSON document, or the first line of a JSON Lines file).
func fixturePredicates(f *testing.F) [][]byte {
	var out [][]byte
	for _, p := range []string{
		"github-attest/custom-issuer.sigstore.json",
		"sigstore-go/bundle-provenance.json",
		"npm/sigstore-js-2.1.0-bundle.json",
		"slsa-github-generator/gha_delegator-v2.1.0/binary-linux-amd64-workflow_dispatch.build.slsa",
		"slsa-github-generator/gha_generic-v2.1.0/binary-linux-amd64-workflow_dispatch.intoto.jsonl",
		"slsa-github-generator/legacy-dsse/workflow-inputs.intoto.jsonl",
	} {
		data := fixture(f, p)
		if i := bytes.IndexByte(bytes.TrimSpace(data), '\n'); i > 0 && strings.HasSuffix(p, ".jsonl") {
			data = data[:i]
		}
		var b struct {
			DSSEEnvelope *struct {
				Payload string `json:"payload"`
			} `json:"dsseEnvelope"`
			Payload string `json:"payload"` // a bare DSSE envelope
		}
		if err := json.Unmarshal(data, &b); err != nil {
			f.Fatalf("%s: %v", p, err)
		}
		payload := b.Payload
		if b.DSSEEnvelope != nil {
			payload = b.DSSEEnvelope.Payload
		}
		raw, err := base64.StdEncoding.DecodeString(payload)
		if err != nil {
			f.Fatalf("%s: %v", p, err)
		}
		var st struct {
			Predicate json.RawMessage `json:"predicate"`
		}
		if err := json.Unmarshal(raw, &st); err != nil {
			f.Fatalf("%s: %v", p, err)
		}
		out = append(out, st.Predicate)
	}
	return out
}

// FuzzReadPredicate: a predicate file either reads back byte for byte and
// makes a statement whose predicate is the file's JSON (compacted, numbers
// untouched) and which in-toto's own parser accepts, or fails with an
// error naming the file (read) or the predicate type (statement).
func FuzzReadPredicate(f *testing.F) {
	for _, p := range fixturePredicates(f) {
		f.Add(p)
	}
	for _, s := range []string{
		``, ` `, `{}`, `[]`, `null`, `{"a":1,"a":2}`, `{"n":1e400}`, `{"n":123456789012345678901234567890}`,
		`{"a":{"b":[1,2,{"c":"\u0000"}]}}`, `{"s":"\xff"}`, `{} {}`, "\xef\xbb\xbf{}", `{"a.b":{"[":1}}`,
		strings.Repeat(`{"a":`, 200) + `1` + strings.Repeat(`}`, 200),
		strings.Repeat(`[`, 10001) + strings.Repeat(`]`, 10001),
	} {
		f.Add([]byte(s))
	}
	const predicateType = "https://example.com/fuzz/v1"
	subjects := []Subject{{Name: "a.tgz", Digest: map[string]string{"sha256": strings.Repeat("ab", 32)}}}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		file := filepath.Join(dir, "predicate.json")
		if err := os.WriteFile(file, data, 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := ReadPredicate(context.Background(), PredicateInput{Type: predicateType, Path: file})
		if err != nil {
			var ie *InputError
			if !errors.As(err, &ie) || ie.Input != "predicate-path" || ie.Value != file || !strings.Contains(err.Error(), file) {
				t.Fatalf("a read error that does not name the file: %v", err)
			}
			if json.Valid(data) && len(bytes.TrimSpace(data)) > 0 {
				t.Fatalf("valid JSON refused on reading: %v", err)
			}
			return
		}
		if !bytes.Equal(got, data) {
			t.Fatal("ReadPredicate changed the file's bytes")
		}
		// The inline form reads the same bytes.
		inline, err := ReadPredicate(context.Background(), PredicateInput{Type: predicateType, Inline: string(data)})
		if err != nil || !bytes.Equal(inline, data) {
			t.Fatalf("inline predicate: %v", err)
		}

		st, err := NewStatement(subjects, predicateType, got)
		if err != nil {
			var pe *PredicateError
			if !errors.As(err, &pe) || pe.Source != predicateType {
				t.Fatalf("a statement error that does not name the predicate: %v", err)
			}
			if strings.ContainsAny(err.Error(), "\n\r") {
				t.Fatalf("a multi-line error: %q", err)
			}
			return
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, data); err != nil {
			t.Fatalf("a statement from JSON that does not compact: %v", err)
		}
		var out struct {
			Type          string `json:"_type"`
			PredicateType string `json:"predicateType"`
			Subject       []struct{ Name string }
			Predicate     json.RawMessage `json:"predicate"`
		}
		if err := json.Unmarshal(st.JSON, &out); err != nil {
			t.Fatalf("the statement is not JSON: %v", err)
		}
		if out.Type != StatementType || out.PredicateType != predicateType || len(out.Subject) != 1 || out.Subject[0].Name != "a.tgz" {
			t.Fatalf("statement header changed: %+v", out)
		}
		if !bytes.Equal(out.Predicate, compact.Bytes()) {
			t.Fatalf("the predicate does not round-trip:\n got %s\nwant %s", out.Predicate, compact.Bytes())
		}
		// What a verifier reads with in-toto's own types must be valid too.
		var pb intoto.Statement
		if err := protojson.Unmarshal(st.JSON, &pb); err != nil {
			t.Fatalf("in-toto cannot read the statement: %v", err)
		}
		if err := pb.Validate(); err != nil {
			t.Fatalf("in-toto refuses the statement: %v", err)
		}
	})
}

// FuzzReadChecksums: checksum text, inline or from a file, parses into
// subjects that format back ("<hex>  <name>") to text parsing to the same
// subjects; or fails with an *InputError for subject-checksums naming the
// source and, for a bad line, its number. Every subject has exactly one
// digest of a known algorithm in lower-case hex of its length, and a name
// CheckName accepts. A line longer than the 1 MiB line limit always fails.
func FuzzReadChecksums(f *testing.F) {
	for _, p := range []string{
		"slsa-github-generator/gha_generic-v2.1.0/binary-linux-amd64-push-v14.2.sha256",
		"slsa-github-generator/gha_generic-v2.1.0/binary-linux-amd64-workflow_dispatch.sha256",
	} {
		f.Add(fixture(f, p))
	}
	for _, s := range []string{
		"", "\n", "# comment\n", strings.Repeat("a", 64) + "  x\n" + strings.Repeat("B", 96) + " *y\r\n" + strings.Repeat("0", 128) + "  z",
		strings.Repeat("a", 64) + "  bad\x1bname\n", strings.Repeat("g", 64) + "  x\n", strings.Repeat("a", 63) + "  x\n",
		"  \t" + strings.Repeat("a", 64) + "   x\n", strings.Repeat("a", 64) + "\n", strings.Repeat("a", 64) + "  \xff\n",
	} {
		f.Add([]byte(s))
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		file := filepath.Join(dir, "SHA256SUMS")
		if err := os.WriteFile(file, data, 0o600); err != nil {
			t.Fatal(err)
		}
		// As a file: the text is the file's bytes, the source its name,
		// unless the value itself reads as checksum text.
		text, source, err := ReadChecksums(context.Background(), "SHA256SUMS", dir)
		if err != nil || text != string(data) || source != "SHA256SUMS" {
			t.Fatalf("ReadChecksums(file) = %q, %v", source, err)
		}
		// Inline: the text is taken as it is whenever it is not a path.
		if strings.Contains(string(data), "\n") {
			it, isrc, err := ReadChecksums(context.Background(), string(data), dir)
			if err != nil || it != string(data) || isrc != "subject-checksums (inline)" {
				t.Fatalf("ReadChecksums(inline) = %q, %v", isrc, err)
			}
		}

		subs, err := ParseChecksums(text, source)
		if longestLine(data) > 1<<20 && err == nil {
			t.Fatal("a line over the 1 MiB limit was accepted")
		}
		if err != nil {
			var ie *InputError
			if !errors.As(err, &ie) || ie.Input != "subject-checksums" || ie.Value != source || !strings.Contains(err.Error(), source) {
				t.Fatalf("an error that does not name the input: %v", err)
			}
			if n, ok := lineOf(err.Error()); ok && n > strings.Count(text, "\n")+1 {
				t.Fatalf("an error names line %d of a %d-line text", n, strings.Count(text, "\n")+1)
			}
			return
		}
		var again strings.Builder
		for _, s := range subs {
			if len(s.Digest) != 1 {
				t.Fatalf("subject %q has %d digests", s.Name, len(s.Digest))
			}
			for alg, h := range s.Digest {
				if want, ok := digestLengths[alg]; !ok || len(h) != want || strings.ToLower(h) != h {
					t.Fatalf("subject %q: digest %s:%s", s.Name, alg, h)
				}
				if _, err := hex.DecodeString(h); err != nil {
					t.Fatalf("subject %q: digest %s is not hex", s.Name, h)
				}
				fmt.Fprintf(&again, "%s  %s\n", h, s.Name)
			}
			if err := CheckName(s.Name); err != nil {
				t.Fatalf("subject %q: %v", s.Name, err)
			}
			if !strings.HasPrefix(s.Source, source+" line ") {
				t.Fatalf("subject %q: source %q", s.Name, s.Source)
			}
		}
		subs2, err := ParseChecksums(again.String(), "again")
		if err != nil {
			t.Fatalf("formatted checksums do not parse: %v\n%s", err, again.String())
		}
		if len(subs2) != len(subs) {
			t.Fatalf("round trip: %d subjects, then %d", len(subs), len(subs2))
		}
		for i := range subs {
			if subs[i].Name != subs2[i].Name || fmt.Sprint(subs[i].Digest) != fmt.Sprint(subs2[i].Digest) {
				t.Fatalf("round trip: %+v became %+v", subs[i], subs2[i])
			}
		}
	})
}

func longestLine(data []byte) int {
	n := 0
	for _, l := range bytes.Split(data, []byte("\n")) {
		n = max(n, len(l))
	}
	return n
}

// lineOf finds "line N" in an error message.
func lineOf(msg string) (int, bool) {
	i := strings.Index(msg, ": line ")
	if i < 0 {
		return 0, false
	}
	var n int
	if _, err := fmt.Sscanf(msg[i+len(": line "):], "%d", &n); err != nil {
		return 0, false
	}
	return n, true
}

// fuzzTree builds a small folder tree from spec under dir: each group of
// three bytes is one entry (kind, parent, name); at most 48 entries, at
// most 6 folders deep, so a run stays fast. Kind 7 adds, once, a chain of
// folders deeper than MaxGlobDepth. It returns whether it made symbolic
// links and whether it made the deep chain.
func fuzzTree(t *testing.T, dir string, spec []byte) (links, deep bool) {
	names := []string{"a", "b", "c.txt", "d.tgz", "e e", "f\x1bg", ".h", "i{j", "k*", "l[1]"}
	dirs := []string{"."}
	for i := 0; i+2 < len(spec) && i < 3*48; i += 3 {
		kind, parent, name := spec[i]%8, dirs[int(spec[i+1])%len(dirs)], names[int(spec[i+2])%len(names)]
		rel := path.Join(parent, name)
		full := filepath.Join(dir, filepath.FromSlash(rel))
		if _, err := os.Lstat(full); err == nil {
			continue
		}
		switch kind {
		case 0, 1, 2: // a file whose content is its path
			os.WriteFile(full, []byte(rel), 0o644) //nolint:errcheck // a bad name is fine
		case 3, 4:
			if strings.Count(rel, "/") < 6 && os.Mkdir(full, 0o755) == nil {
				dirs = append(dirs, rel)
			}
		case 5: // a link to a folder above (maybe a loop) or to a file
			links = true
			os.Symlink("."+strings.Repeat("/..", strings.Count(rel, "/")), full) //nolint:errcheck
		case 6: // a dangling link
			links = true
			os.Symlink("nowhere", full) //nolint:errcheck
		case 7:
			if deep {
				continue
			}
			deep = true
			chain := filepath.Join(append([]string{dir, "deep"}, strings.Split(strings.Repeat("z/", MaxGlobDepth+2), "/")...)...)
			if err := os.MkdirAll(chain, 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	return links, deep
}

// FuzzCollectSubjects: subject-path globs over a tree built from the fuzz
// input. Without symbolic links the files hashed are exactly the regular
// files doublestar.Match says the glob matches (each digest the sha256 of
// the file); an error is an *InputError for subject-path (or a duplicate
// name with two digests) naming the glob or the file; the walk's depth
// limit is honoured.
func FuzzCollectSubjects(f *testing.F) {
	for _, s := range []struct{ tree, pattern string }{
		{"\x00\x00\x00\x00\x00\x01\x03\x00\x00\x00\x01\x02", "*"},
		{"\x03\x00\x00\x00\x01\x02\x00\x01\x03", "**/*.txt"},
		{"\x03\x00\x00\x05\x01\x00\x00\x01\x02", "**"},
		{"\x07\x00\x00\x00\x00\x02", "**"},
		{"\x00\x00\x07\x00\x00\x08\x00\x00\x09", "[a-z]*"},
		{"\x06\x00\x00", "a"},
		{"\x03\x00\x01\x00\x01\x03", "b/{c.txt,d.tgz}"},
		{"\x00\x00\x05", "e?e"},
	} {
		f.Add([]byte(s.tree), s.pattern)
	}
	// The gha_generic fixture's artifact is a real subject as a seed.
	f.Add(fixture(f, "slsa-github-generator/gha_generic-v2.1.0/binary-linux-amd64-push-v14.2.sha256")[:48], "*")
	f.Fuzz(func(t *testing.T, spec []byte, pattern string) {
		if pattern == "" || len(pattern) > 64 || strings.Contains(pattern, "..") || strings.ContainsAny(pattern, "\\\x00") ||
			path.IsAbs(pattern) || path.Clean(pattern) == "." {
			return // only patterns inside the tree
		}
		dir := t.TempDir()
		links, deep := fuzzTree(t, dir, spec)
		var warnings []string
		subs, err := CollectSubjects(context.Background(), SubjectOptions{
			Paths: []string{pattern}, Dir: dir, Workers: 1, Warn: func(s string) { warnings = append(warnings, s) },
		})
		for _, w := range warnings {
			if !strings.Contains(w, "subject-path") || !strings.Contains(w, dir) {
				t.Fatalf("a warning that does not name the input and path: %q", w)
			}
		}
		if err != nil {
			if strings.Contains(err.Error(), "deeper than") && !deep {
				t.Fatalf("a depth error without a deep tree: %v", err)
			}
			var ie *InputError
			switch {
			case errors.As(err, &ie):
				if ie.Input != "subject-path" || (ie.Value != pattern && !strings.HasPrefix(ie.Value, dir)) {
					t.Fatalf("an error naming neither the glob nor a file: %v", err)
				}
			case strings.Contains(err.Error(), "has two different sha256 digests"):
			default:
				t.Fatalf("an error of the wrong kind: %T %v", err, err)
			}
		}
		if deep && pattern == "**" && err == nil {
			t.Fatal("** walked a chain deeper than MaxGlobDepth without an error")
		}
		for _, s := range subs {
			data, rerr := os.ReadFile(s.Source)
			if rerr != nil {
				t.Fatalf("subject %q from %s: %v", s.Name, s.Source, rerr)
			}
			sum := sha256.Sum256(data)
			if s.Digest["sha256"] != hex.EncodeToString(sum[:]) || s.Name != filepath.Base(s.Source) {
				t.Fatalf("subject %+v is not its file", s)
			}
			if !strings.HasPrefix(s.Source, dir+string(filepath.Separator)) {
				t.Fatalf("subject %s outside the tree", s.Source)
			}
		}
		if links || deep {
			return
		}
		want, wantErr := referenceMatches(dir, pattern)
		if wantErr {
			if err == nil {
				t.Fatalf("glob %q: want an error, got %d subjects", pattern, len(subs))
			}
			return
		}
		names := map[string]bool{}
		for _, w := range want {
			names[filepath.Base(w)] = true
		}
		dupNames := len(names) < len(want)
		if err != nil {
			if len(want) > 0 && !dupNames && !strings.Contains(err.Error(), "is a directory") && !strings.Contains(err.Error(), "not a regular file") {
				t.Fatalf("glob %q matches %v but: %v", pattern, want, err)
			}
			return
		}
		var got []string
		for _, s := range subs {
			got = append(got, s.Source)
		}
		sort.Strings(got)
		if !dupNames && strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("glob %q:\n got %q\nwant %q", pattern, got, want)
		}
	})
}

// referenceMatches lists, sorted, the regular files under dir whose slash
// path doublestar.Match matches with pattern (cleaned, as the collector
// joins it to dir), or for a literal pattern that file; wantErr when the
// collector must fail: nothing matched, a bad pattern, or a matched name
// CheckName refuses.
func referenceMatches(dir, pattern string) (files []string, wantErr bool) {
	pattern = path.Clean(pattern)
	if !strings.ContainsAny(pattern, "*?[{") {
		fi, err := os.Stat(filepath.Join(dir, filepath.FromSlash(pattern)))
		if err != nil || !fi.Mode().IsRegular() || CheckName(path.Base(pattern)) != nil {
			return nil, true
		}
		return []string{filepath.Join(dir, filepath.FromSlash(pattern))}, false
	}
	if !doublestar.ValidatePattern(pattern) {
		return nil, true
	}
	bad := false
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error { //nolint:errcheck
		if err != nil || p == dir || !d.Type().IsRegular() {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		if ok, _ := doublestar.Match(pattern, filepath.ToSlash(rel)); ok {
			files = append(files, p)
			if CheckName(d.Name()) != nil {
				bad = true
			}
		}
		return nil
	})
	sort.Strings(files)
	return files, bad || len(files) == 0
}
