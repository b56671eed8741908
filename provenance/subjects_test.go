package provenance

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/provenant/provenant/internal/otheruser"
)

func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// tree writes files (path → content) under a new temp dir.
func tree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for p, c := range files {
		full := filepath.Join(dir, p)
		os.MkdirAll(filepath.Dir(full), 0o755)
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func names(subjects []Subject) string {
	var n []string
	for _, s := range subjects {
		n = append(n, s.Name)
	}
	return strings.Join(n, ",")
}

func TestSplitList(t *testing.T) {
	got := SplitList(" dist/*.tgz, bin/app\n\n  sbom.json ,\r\n")
	if strings.Join(got, "|") != "dist/*.tgz|bin/app|sbom.json" {
		t.Errorf("SplitList = %q", got)
	}
}

func TestCollectSubjectsFromPaths(t *testing.T) {
	dir := tree(t, map[string]string{
		"dist/a.tgz":          "A",
		"dist/b.tgz":          "B",
		"dist/nested/deep/c":  "C",
		"dist/notes.txt":      "N",
		"other/a.tgz":         "A", // same name, same digest: merged
		"dist/nested/skip.md": "S",
	})
	got, err := CollectSubjects(context.Background(), SubjectOptions{
		Paths: []string{"dist/*.tgz", "dist/**/c", "other/a.tgz"}, Dir: dir,
	})
	if err != nil {
		t.Fatal(err)
	}
	if names(got) != "a.tgz,b.tgz,c" {
		t.Errorf("subjects = %s", names(got))
	}
	if got[0].Digest["sha256"] != sha("A") || got[2].Digest["sha256"] != sha("C") {
		t.Errorf("digests = %v", got)
	}

	// An absolute glob works too, and directories matched by a wildcard
	// are skipped.
	got, err = CollectSubjects(context.Background(), SubjectOptions{Paths: []string{filepath.Join(dir, "dist", "*")}})
	if err != nil {
		t.Fatal(err)
	}
	if names(got) != "a.tgz,b.tgz,notes.txt" {
		t.Errorf("subjects = %s", names(got))
	}
}

func TestCollectSubjectsByDigestAndChecksums(t *testing.T) {
	d256, d512 := strings.Repeat("a", 64), strings.Repeat("b", 128)
	d384 := strings.Repeat("c", 96)
	sums := fmt.Sprintf("%s  app-linux\n%s *app.exe\n# comment\n\n%s app-mac\n", d256, strings.ToUpper(d512), d384)
	got, err := CollectSubjects(context.Background(), SubjectOptions{
		Name: "image", Digest: "sha256:" + strings.Repeat("1", 64),
		Checksums: sums, ChecksumsSource: "SHA256SUMS",
	})
	if err != nil {
		t.Fatal(err)
	}
	if names(got) != "image,app-linux,app.exe,app-mac" {
		t.Fatalf("subjects = %s", names(got))
	}
	if got[1].Digest["sha256"] != d256 || got[2].Digest["sha512"] != d512 || got[3].Digest["sha384"] != d384 {
		t.Errorf("digests: %v", got)
	}
}

func TestCollectSubjectsErrors(t *testing.T) {
	dir := tree(t, map[string]string{"a/app": "one", "b/app": "two", "dir/x": "x", "ok": "ok"})
	os.Symlink(filepath.Join(dir, "missing"), filepath.Join(dir, "dangling"))
	os.Symlink(filepath.Join(dir, "loop2"), filepath.Join(dir, "loop1"))
	os.Symlink(filepath.Join(dir, "loop1"), filepath.Join(dir, "loop2"))
	mkfifo(filepath.Join(dir, "pipe"))

	tests := []struct {
		name    string
		opts    SubjectOptions
		wantErr []string
	}{
		{"glob matches nothing", SubjectOptions{Paths: []string{"dist/*.zip"}}, []string{`subject-path "dist/*.zip"`, "matches no file"}},
		{"missing file", SubjectOptions{Paths: []string{"nope.bin"}}, []string{`"nope.bin"`, "no such file"}},
		{"directory named", SubjectOptions{Paths: []string{"dir"}}, []string{"is a directory"}},
		{"dangling link", SubjectOptions{Paths: []string{"dangling"}}, []string{"dangling", "dangling symbolic link"}},
		{"link loop", SubjectOptions{Paths: []string{"loop1"}}, []string{"loop1", "symbolic link loop"}},
		{"same name, different digests", SubjectOptions{Paths: []string{"*/app"}}, []string{`"app"`, filepath.Join(dir, "a/app"), filepath.Join(dir, "b/app"), sha("one"), sha("two")}},
		{"malformed digest", SubjectOptions{Name: "x", Digest: "sha256:xyz"}, []string{"subject-digest", "3 hex digits, want 64"}},
		{"digest not hex", SubjectOptions{Name: "x", Digest: "sha256:" + strings.Repeat("z", 64)}, []string{"not hexadecimal"}},
		{"unknown algorithm", SubjectOptions{Name: "x", Digest: "md5:" + strings.Repeat("a", 32)}, []string{"unsupported digest algorithm"}},
		{"digest without colon", SubjectOptions{Name: "x", Digest: strings.Repeat("a", 64)}, []string{"<algorithm>:<hex>"}},
		{"name without digest", SubjectOptions{Name: "x"}, []string{"subject-name needs a subject-digest"}},
		{"digest without name", SubjectOptions{Digest: "sha256:" + strings.Repeat("a", 64)}, []string{"subject-digest needs a subject-name"}},
		{"bad checksum line", SubjectOptions{Checksums: "abc\n", ChecksumsSource: "SUMS"}, []string{"subject-checksums", "SUMS", "line 1"}},
		{"bad checksum length", SubjectOptions{Checksums: strings.Repeat("a", 40) + "  f\n", ChecksumsSource: "SUMS"}, []string{"40 hex digits"}},
		{"checksum not hex", SubjectOptions{Checksums: strings.Repeat("g", 64) + "  f\n", ChecksumsSource: "SUMS"}, []string{"line 1", "not hexadecimal"}},
		{"empty checksums", SubjectOptions{Checksums: "# nothing\n", ChecksumsSource: "SUMS"}, []string{"no checksum lines"}},
		{"no subjects", SubjectOptions{}, []string{"no subjects"}},
		{"bad glob", SubjectOptions{Paths: []string{"[x"}}, []string{`"[x"`}},
		{"named pipe", SubjectOptions{Paths: []string{"pipe"}}, []string{"pipe", "is not a regular file"}},
		// A file that opens but fails to read, even for root: reading a
		// process's memory at offset 0 is an I/O error.
		{"read error", SubjectOptions{Paths: []string{"/proc/self/mem"}}, []string{"/proc/self/mem", "input/output error"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.Dir = dir
			_, err := CollectSubjects(context.Background(), tt.opts)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

// collectSubjectsCase is the child's case of otheruser.Run that collects
// the subject paths of its arguments in its working folder.
const collectSubjectsCase = "collect-subjects"

// TestMain runs a child's case of otheruser.Run instead of the tests.
func TestMain(m *testing.M) {
	if name := otheruser.Case(); name != "" {
		os.Exit(runOtherUserCase(name))
	}
	os.Exit(m.Run())
}

// runOtherUserCase runs collectSubjectsCase: exit 1 with the error on
// stderr, or 0 when the subjects were collected.
func runOtherUserCase(name string) int {
	if name != collectSubjectsCase {
		fmt.Fprintf(os.Stderr, "unknown case %q\n", name)
		return 3
	}
	wd, err := os.Getwd()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 3
	}
	if _, err := CollectSubjects(context.Background(), SubjectOptions{Paths: os.Args[1:], Dir: wd}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// TestCollectSubjectsUnreadable: a subject file the process may not read is
// an error naming the file and the reason. Root reads any file, so as root
// (CI) the case runs in a child process as another user (otheruser), the
// file being root's with mode 0000 in a folder that user can enter.
func TestCollectSubjectsUnreadable(t *testing.T) {
	otheruser.NeedModeBits(t)
	dir := tree(t, map[string]string{"ok": "ok"})
	secret := filepath.Join(dir, "secret")
	if err := os.WriteFile(secret, []byte("s"), 0o000); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(secret, 0o000); err != nil { // whatever the umask
		t.Fatal(err)
	}
	var msg string
	if otheruser.Needed() {
		otheruser.Traversable(t, dir)
		r := otheruser.Run(t, collectSubjectsCase, dir, nil, "ok", "secret")
		if r.Code != 1 {
			t.Fatalf("child as uid %d: exit %d, want 1 (an error)\nstdout:\n%s\nstderr:\n%s", otheruser.UID, r.Code, r.Stdout, r.Stderr)
		}
		msg = r.Stderr
	} else {
		_, err := CollectSubjects(context.Background(), SubjectOptions{Paths: []string{"ok", "secret"}, Dir: dir})
		if err == nil {
			t.Fatal("no error")
		}
		msg = err.Error()
	}
	for _, w := range []string{"secret", "permission denied"} {
		if !strings.Contains(msg, w) {
			t.Errorf("error %q lacks %q", msg, w)
		}
	}
}

func TestSymlinkToFileIsFollowed(t *testing.T) {
	dir := tree(t, map[string]string{"real/app-1.0.tgz": "payload"})
	os.Symlink(filepath.Join(dir, "real/app-1.0.tgz"), filepath.Join(dir, "latest.tgz"))
	got, err := CollectSubjects(context.Background(), SubjectOptions{Paths: []string{"latest.tgz"}, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Name != "latest.tgz" || got[0].Digest["sha256"] != sha("payload") {
		t.Errorf("subjects = %+v", got)
	}
}

func TestTenThousandSubjects(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 10,000 files")
	}
	dir := t.TempDir()
	const n = 10000
	for i := 0; i < n; i++ {
		sub := filepath.Join(dir, fmt.Sprintf("d%02d", i%50))
		os.MkdirAll(sub, 0o755)
		if err := os.WriteFile(filepath.Join(sub, fmt.Sprintf("file-%05d.bin", i)), []byte(fmt.Sprint(i)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := CollectSubjects(context.Background(), SubjectOptions{Paths: []string{"**/*.bin"}, Dir: dir, Workers: 4})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != n {
		t.Fatalf("%d subjects, want %d", len(got), n)
	}
	for _, s := range got {
		var i int
		fmt.Sscanf(s.Name, "file-%05d.bin", &i)
		if s.Digest["sha256"] != sha(fmt.Sprint(i)) {
			t.Fatalf("%s: digest %s", s.Name, s.Digest["sha256"])
		}
	}
	st, err := NewProvenanceStatement(got, fixedJob(), PredicateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if c := strings.Count(string(st.JSON), `"sha256"`); c != n {
		t.Errorf("statement has %d subject digests, want %d", c, n)
	}
}

func TestHashingIsCancelled(t *testing.T) {
	dir := tree(t, map[string]string{"a": "a", "b": "b"})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := CollectSubjects(ctx, SubjectOptions{Paths: []string{"*"}, Dir: dir}); err == nil {
		t.Error("cancelled context: no error")
	}
}

// BenchmarkHash512MiB hashes 8 files of 64 MiB, the figure the closing note
// compares with openssl dgst -sha256.
func BenchmarkHash512MiB(b *testing.B) {
	dir := b.TempDir()
	chunk := make([]byte, 1<<20)
	for i := range chunk {
		chunk[i] = byte(i * 7)
	}
	for f := 0; f < 8; f++ {
		fh, _ := os.Create(filepath.Join(dir, fmt.Sprintf("part-%d.bin", f)))
		for i := 0; i < 64; i++ {
			fh.Write(chunk)
		}
		fh.Close()
	}
	b.SetBytes(512 << 20)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := CollectSubjects(context.Background(), SubjectOptions{Paths: []string{"*.bin"}, Dir: dir}); err != nil {
			b.Fatal(err)
		}
	}
}

func TestCollectSubjects_SymlinkLoopInGlobExhaustsMemory(t *testing.T) {
	dir := t.TempDir()
	dist := filepath.Join(dir, "dist")
	os.MkdirAll(filepath.Join(dist, "sub"), 0o755)
	os.WriteFile(filepath.Join(dist, "a.bin"), []byte("a"), 0o644)
	os.WriteFile(filepath.Join(dist, "sub", "b.bin"), []byte("b"), 0o644)
	for _, l := range []string{"l1", "l2"} {
		if err := os.Symlink(".", filepath.Join(dist, l)); err != nil {
			t.Fatal(err)
		}
	}
	os.Symlink("..", filepath.Join(dist, "sub", "up"))
	var warnings []string
	subjects, err := CollectSubjects(context.Background(), SubjectOptions{
		Paths: []string{"dist/**"}, Dir: dir, Warn: func(m string) { warnings = append(warnings, m) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(subjects) != 2 {
		t.Errorf("subjects = %v, want a.bin and b.bin", subjects)
	}
	all := strings.Join(warnings, "\n")
	for _, l := range []string{"dist/l1", "dist/l2", "sub/up"} {
		if !strings.Contains(all, l) {
			t.Errorf("no warning names the loop %s:\n%s", l, all)
		}
	}
}

func TestCollectSubjects_GlobWalkIsBounded(t *testing.T) {
	dir := t.TempDir()
	deep := filepath.Join(dir, "d")
	for i := 0; i <= MaxGlobDepth+1; i++ {
		deep = filepath.Join(deep, "d")
	}
	os.MkdirAll(deep, 0o755)
	os.WriteFile(filepath.Join(deep, "x.bin"), []byte("x"), 0o644)
	_, err := CollectSubjects(context.Background(), SubjectOptions{Paths: []string{"d/**/*.bin"}, Dir: dir})
	if err == nil || !strings.Contains(err.Error(), "deeper than") {
		t.Errorf("err = %v, want the depth bound", err)
	}
}

func TestCollectSubjects_GlobHonoursCancel(t *testing.T) {
	dir := t.TempDir()
	for i := 0; i < 3000; i++ {
		os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%04d", i)), nil, 0o644)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := CollectSubjects(ctx, SubjectOptions{Paths: []string{"**"}, Dir: dir}); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}
