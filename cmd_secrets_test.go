package main

// Secrets and faults of attest: every failure path of the token endpoint,
// Fulcio and the GitHub upload, with a fault proxy in front of each, and a
// grep of every output (stdout, stderr, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY,
// every file the run left) for the OIDC token, the runner's request token
// and the GitHub token, in clear, base64 and as JWT segments.

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/provenant/provenant/internal/faultproxy"
	"github.com/provenant/provenant/internal/homes"
	"github.com/provenant/provenant/provenance"
	"github.com/provenant/provenant/remote/githubtest"
)

// secrets is the set of secret values a test run may have seen.
type secrets struct {
	mu   sync.Mutex
	vals []string
}

func (s *secrets) add(v string) {
	if v = strings.TrimSpace(v); v == "" {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.vals = append(s.vals, v)
}

// forms are the ways a secret could show: as it is, base64 (standard and
// URL, padded or not) and, for a JWT, its payload and signature segments
// (the header is the same for every token and holds nothing secret).
func (s *secrets) forms() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, v := range s.vals {
		out = append(out, v,
			base64.StdEncoding.EncodeToString([]byte(v)), base64.RawStdEncoding.EncodeToString([]byte(v)),
			base64.URLEncoding.EncodeToString([]byte(v)), base64.RawURLEncoding.EncodeToString([]byte(v)))
		if parts := strings.Split(v, "."); len(parts) == 3 {
			out = append(out, parts[1], parts[2])
		}
	}
	return out
}

// leaks returns "WHERE: FORM…" for every secret form found in outputs. The
// one line allowed to hold a secret is the runner's mask command for it,
// "::add-mask::SECRET", which the runner consumes and never shows.
func (s *secrets) leaks(outputs map[string]string) []string {
	var found []string
	for where, text := range outputs {
		for _, v := range s.vals {
			text = strings.ReplaceAll(text, "::add-mask::"+v+"\n", "")
		}
		for _, f := range s.forms() {
			if len(f) >= 8 && strings.Contains(text, f) {
				found = append(found, fmt.Sprintf("%s: %.24s…", where, f))
			}
		}
	}
	return found
}

// runOutputs gathers everything a step run produced: its streams and every
// file under the step's root (GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, the
// workspace, RUNNER_TEMP and whatever else was written).
func runOutputs(t *testing.T, s *step, stdout, stderr string) map[string]string {
	t.Helper()
	out := map[string]string{"stdout": stdout, "stderr": stderr}
	root := filepath.Dir(s.workspace)
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error { //nolint:errcheck
		if err == nil && d.Type().IsRegular() {
			data, _ := os.ReadFile(p)
			out[p] = string(data)
		}
		return nil
	})
	return out
}

// TestSecrets_LeakCheckFindsPlantedTokens is the negative control: the
// check finds each form of each token (clear, standard and URL-safe base64,
// padded or not, a JWT's payload and signature) planted in each kind of
// output, framed by other text as a log line or a JSON value would hold it.
func TestSecrets_LeakCheckFindsPlantedTokens(t *testing.T) {
	jwt := "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZXBvOm9jdG8tb3JnL29jdG8tcmVwbyJ9.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg"
	// A JWT's characters never make '+' or '/' in base64, so its URL-safe
	// form equals the standard one; a value with '>', '?' and '~' (as an
	// opaque runner token may hold) makes the two differ.
	opaque := "runner>request?token~0123456789"
	sec := &secrets{}
	sec.add(jwt)
	sec.add("ghs_plantedGitHubToken0123456789")
	sec.add(opaque)
	forms := sec.forms()
	if want := 3*5 + 2; len(forms) != want {
		t.Fatalf("%d forms of three tokens, want %d (5 each, and a JWT's payload and signature)", len(forms), want)
	}
	for _, enc := range []*base64.Encoding{base64.URLEncoding, base64.RawURLEncoding} {
		if u := enc.EncodeToString([]byte(opaque)); !slices.Contains(forms, u) || u == base64.StdEncoding.EncodeToString([]byte(opaque)) {
			t.Fatalf("URL-safe base64 %q is not a form of its own", u)
		}
	}
	s := newStep(t)
	clean := runOutputs(t, s, "::add-mask::"+jwt+"\nall fine\n", "")
	if l := sec.leaks(clean); len(l) != 0 {
		t.Fatalf("the mask command counted as a leak: %v", l)
	}
	outputs := map[string]func(text string) map[string]string{
		"stdout": func(text string) map[string]string { return runOutputs(t, s, "token "+text+"\n", "") },
		"stderr": func(text string) map[string]string { return runOutputs(t, s, "", "error: "+text) },
		"GITHUB_OUTPUT": func(text string) map[string]string {
			os.WriteFile(s.env["GITHUB_OUTPUT"], []byte("x<<D\n"+text+"\nD\n"), 0o644)
			return runOutputs(t, s, "", "")
		},
		"GITHUB_STEP_SUMMARY": func(text string) map[string]string {
			os.WriteFile(s.env["GITHUB_STEP_SUMMARY"], []byte("| "+text+" |"), 0o644)
			return runOutputs(t, s, "", "")
		},
		"a file in temp": func(text string) map[string]string {
			s.file("../runner-temp/provenant/x.json", `{"sig":"`+text+`"}`)
			return runOutputs(t, s, "", "")
		},
	}
	for where, plant := range outputs {
		for i, form := range forms {
			if l := sec.leaks(plant(form)); len(l) == 0 {
				t.Errorf("%s: form %d of a token (%.24s…) was not found", where, i, form)
			}
			os.Remove(s.env["GITHUB_OUTPUT"])
			os.Remove(s.env["GITHUB_STEP_SUMMARY"])
			os.RemoveAll(s.temp)
		}
	}
}

// echoFulcio is a Fulcio that refuses every request with status, echoing
// the bearer token it was sent in its error body, as a careless server
// might; it records the tokens it saw.
func echoFulcio(t *testing.T, status int, sec *secrets, requests *atomic.Int32) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		sec.add(tok)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(map[string]any{"code": status, "message": "token " + tok + " refused"})
	}))
	t.Cleanup(srv.Close)
	return srv
}

// signingInstance writes a Sigstore instance folder whose Fulcio is
// fulcioURL and whose Rekor is rekorURL.
func signingInstance(t *testing.T, fulcioURL, rekorURL string) string {
	svc := func(u string) string {
		return fmt.Sprintf(`[{"url":%q,"majorApiVersion":1,"validFor":{"start":"2020-01-01T00:00:00Z"},"operator":"test"}]`, u)
	}
	sc := `{"mediaType":"application/vnd.dev.sigstore.signingconfig.v0.2+json","caUrls":` + svc(fulcioURL) +
		`,"rekorTlogUrls":` + svc(rekorURL) + `,"rekorTlogConfig":{"selector":"ANY"},"tsaConfig":{"selector":"ANY"}}`
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "signing_config.json"), []byte(sc), 0o644)
	tr, err := os.ReadFile("testdata/fixtures/trusted-roots/public-good-2023.json")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "trusted_root.json"), tr, 0o644)
	return dir
}

// tokenCapture records the OIDC tokens the token endpoint hands out.
func tokenCapture(sec *secrets) func(*http.Request, int, http.Header, []byte) (int, []byte) {
	return func(_ *http.Request, status int, _ http.Header, body []byte) (int, []byte) {
		var v struct {
			Value string `json:"value"`
		}
		if json.Unmarshal(body, &v) == nil {
			sec.add(v.Value)
		}
		return status, body
	}
}

// fulcio500Error is the error of a Fulcio that answers 500 to every try:
// the status and the attempts, provenance.DefaultAttempts, as
// docs/hardening.md quotes it (TestHardeningDocFulcioAttempts).
var fulcio500Error = fmt.Sprintf("answered 500 Internal Server Error (after %d attempts)", provenance.DefaultAttempts)

// TestAttestFaults_TokenEndpointAndFulcio runs attest, as a workflow step,
// with each fault in front of the token endpoint and with a Fulcio that
// refuses and echoes the token: each ends non-zero with a one-line error
// naming the remote, writes no bundle and no output, and leaks no secret.
func TestAttestFaults_TokenEndpointAndFulcio(t *testing.T) {
	tests := []struct {
		name     string
		token    []faultproxy.Fault // in front of the token endpoint
		fulcio   int                // the status Fulcio answers
		wantErr  string
		says     string // a further text of the line that says wantErr
		tokenReq int    // token requests the proxy must have seen
		// fulcioReq is the requests Fulcio must have seen: none when the
		// token fails, one for a 4xx,
		// provenance.DefaultAttempts for a 5xx (docs/hardening.md).
		fulcioReq int32
	}{
		{name: "token endpoint down", token: []faultproxy.Fault{{Mode: faultproxy.Status, Status: 503}}, wantErr: "requesting the job's OIDC token", tokenReq: 3},
		{name: "token endpoint 401", token: []faultproxy.Fault{{Mode: faultproxy.Status, Status: 401}}, wantErr: "refused the request token (HTTP 401)", tokenReq: 1},
		{name: "token endpoint resets mid-answer", token: []faultproxy.Fault{{Mode: faultproxy.Reset}}, wantErr: "requesting the job's OIDC token", tokenReq: 3},
		{name: "token endpoint answers HTML", token: []faultproxy.Fault{{Mode: faultproxy.WrongType}}, wantErr: "requesting the job's OIDC token", tokenReq: 3},
		{name: "token endpoint drops the connection", token: []faultproxy.Fault{{Mode: faultproxy.Drop}}, wantErr: "requesting the job's OIDC token", tokenReq: 3},
		{name: "token endpoint 500 carrying a token", token: []faultproxy.Fault{{Mode: faultproxy.Pass, Rewrite: func(_ *http.Request, _ int, _ http.Header, b []byte) (int, []byte) {
			return 500, b // the token in an error answer's body
		}}}, wantErr: "HTTP 500 (after 3 attempts)", tokenReq: 3},
		{name: "429 then a 503 burst, then Fulcio refuses", token: []faultproxy.Fault{{Mode: faultproxy.TooMany, Times: 1}, {Mode: faultproxy.Status, Times: 1}},
			fulcio: 401, wantErr: "Fulcio at", tokenReq: 3, fulcioReq: 1},
		{name: "Fulcio 400 echoing the token", fulcio: 400, wantErr: "Fulcio at", tokenReq: 1, fulcioReq: 1},
		{name: "Fulcio 500 echoing the token", fulcio: 500, wantErr: "Fulcio at", says: fulcio500Error, tokenReq: 1, fulcioReq: provenance.DefaultAttempts},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Each case has its own token service, proxy and Fulcio, and
			// waits on retries, not the CPU.
			t.Parallel()
			sec := &secrets{}
			s := newStep(t)
			srv := s.withTokenService()
			sec.add(srv.RequestToken)
			proxy := faultproxy.New(t, srv.Issuer)
			capture := tokenCapture(sec)
			for _, f := range tt.token {
				// A fault that forwards captures the token it passes on
				// (whole or cut), then applies its own rewrite.
				orig := f.Rewrite
				f.Rewrite = func(r *http.Request, st int, h http.Header, b []byte) (int, []byte) {
					if st, b = capture(r, st, h, b); orig != nil {
						return orig(r, st, h, b)
					}
					return st, b
				}
				proxy.Add(f)
			}
			proxy.Add(faultproxy.Fault{Mode: faultproxy.Pass, Rewrite: capture})
			s.env["ACTIONS_ID_TOKEN_REQUEST_URL"] = proxy.URL + "/token?api-version=2.0"
			var fulcioReq atomic.Int32
			fulcio := echoFulcio(t, max(tt.fulcio, 401), sec, &fulcioReq)
			s.file("a.bin", "a")
			stdout, stderr, code := s.runGuarded("attest", "--subject-path", "a.bin", "--sigstore", signingInstance(t, fulcio.URL, "http://127.0.0.1:1"))
			for _, f := range proxy.Seen() {
				sec.add(strings.TrimPrefix(f.Header.Get("Authorization"), "Bearer "))
			}
			if code == 0 || !strings.Contains(stdout+stderr, tt.wantErr) {
				t.Fatalf("exit %d, want non-zero and %q:\n%s\n%s", code, tt.wantErr, stdout, stderr)
			}
			if n := proxy.Count("/token"); n != tt.tokenReq {
				t.Errorf("%d token requests, want %d", n, tt.tokenReq)
			}
			if tt.says != "" && !slices.ContainsFunc(strings.Split(stdout+stderr, "\n"), func(l string) bool {
				return strings.Contains(l, tt.wantErr) && strings.Contains(l, tt.says)
			}) {
				t.Errorf("no line says both %q and %q:\n%s\n%s", tt.wantErr, tt.says, stdout, stderr)
			}
			if n := fulcioReq.Load(); n != tt.fulcioReq {
				t.Errorf("%d Fulcio requests, want %d", n, tt.fulcioReq)
			}
			checkFailedRun(t, s, stdout, stderr, tt.wantErr)
			if l := sec.leaks(runOutputs(t, s, stdout, stderr)); len(l) > 0 {
				t.Errorf("secrets leaked: %v", l)
			}
		})
	}
}

// checkFailedRun: the error is one line, nothing is left in the run
// folder, no output is set.
func checkFailedRun(t *testing.T, s *step, stdout, stderr, wantErr string) {
	t.Helper()
	for _, line := range strings.Split(stdout+stderr, "\n") {
		if strings.Contains(line, wantErr) && (strings.Contains(line, "\r") || strings.Contains(line, "\x1b")) {
			t.Errorf("error line with control characters: %q", line)
		}
	}
	if strings.Contains(stdout+stderr, "panic") {
		t.Errorf("panicked:\n%s", stderr)
	}
	if entries, _ := os.ReadDir(filepath.Join(s.temp, "provenant")); len(entries) != 0 {
		t.Errorf("left behind in RUNNER_TEMP/provenant: %v", entries)
	}
	if out := s.outputs(); len(out) != 0 {
		t.Errorf("outputs set on failure: %v", out)
	}
}

// ghSecret is the GitHub token of the upload tests: recognisable, and
// known to the stand-in with attestations: write.
const ghSecret = "ghs_S3cretUploadToken4242424242424242"

// TestPublishFaults_GitHubAPI uploads a signed bundle through a fault proxy
// in front of the GitHub API stand-in: 429 with retry-after recovers; 401,
// 403, 422, 5xx, a reset, an HTML answer, a dropped connection and an error
// that echoes the token fail with one line naming the API host, keep the
// bundle and say what to re-run; no output holds the token.
func TestPublishFaults_GitHubAPI(t *testing.T) {
	signed := readFixture(t, npmBundle)
	echo := func(r *http.Request, _ int, h http.Header, _ []byte) (int, []byte) {
		h.Set("Content-Type", "application/json")
		return 401, []byte(`{"message":"Bad credentials: ` + r.Header.Get("Authorization") + `","documentation_url":"https://docs.github.com/rest"}`)
	}
	tests := []struct {
		name    string
		token   string
		bundle  []byte
		faults  []faultproxy.Fault
		code    int
		want    string
		uploads int // upload requests the proxy must have seen
	}{
		{name: "429 with retry-after, then up", token: ghSecret, faults: []faultproxy.Fault{{Mode: faultproxy.TooMany, RetryAfter: "1", Times: 1}}, code: exitOK, want: "uploaded to GitHub as attestation", uploads: 2},
		{name: "401 unknown token", token: "ghs_UnknownToken9999999999999999", code: exitFailed, want: "answered 401", uploads: 1},
		{name: "403 read-only token", token: ghRead, code: exitFailed, want: "answered 403", uploads: 1},
		{name: "422 refused bundle", token: ghSecret, bundle: []byte(`{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}`), code: exitFailed, want: "answered 422", uploads: 1},
		{name: "500", token: ghSecret, faults: []faultproxy.Fault{{Mode: faultproxy.Status, Status: 500}}, code: exitFailed, want: "answered 500", uploads: 1},
		{name: "502 burst", token: ghSecret, faults: []faultproxy.Fault{{Mode: faultproxy.Status, Status: 502, Times: 5}}, code: exitFailed, want: "answered 502", uploads: 1},
		{name: "reset mid-answer", token: ghSecret, faults: []faultproxy.Fault{{Mode: faultproxy.Reset}}, code: exitFailed, want: "127.0.0.1", uploads: 1},
		{name: "HTML answer", token: ghSecret, faults: []faultproxy.Fault{{Mode: faultproxy.WrongType}}, code: exitFailed, want: "127.0.0.1", uploads: 1},
		{name: "dropped connection", token: ghSecret, faults: []faultproxy.Fault{{Mode: faultproxy.Drop}}, code: exitFailed, want: "127.0.0.1", uploads: 1},
		{name: "401 echoing the token", token: ghSecret, faults: []faultproxy.Fault{{Mode: faultproxy.Pass, Rewrite: echo}}, code: exitFailed, want: "answered 401", uploads: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gh := githubtest.New(t)
			gh.AddRepo(npmRepo, true, false)
			gh.AddToken(ghSecret, true)
			gh.AddToken(ghRead, false)
			proxy := faultproxy.New(t, strings.TrimSuffix(gh.URL, "/"))
			for _, f := range tt.faults {
				proxy.Add(f)
			}
			sec := &secrets{}
			sec.add(tt.token)
			bundle := tt.bundle
			if bundle == nil {
				bundle = signed
			}
			dir := t.TempDir()
			bundlePath := filepath.Join(dir, "app.sigstore.json")
			os.WriteFile(bundlePath, bundle, 0o644)
			vars := map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": npmRepo, "GITHUB_API_URL": proxy.URL + "/",
				"GITHUB_SERVER_URL": "https://github.com", "GITHUB_OUTPUT": filepath.Join(dir, "output"),
				"GITHUB_STEP_SUMMARY": filepath.Join(dir, "summary"), "GITHUB_TOKEN": tt.token}
			var stdout, stderr bytes.Buffer
			e := env{stdout: &stdout, stderr: &stderr, getenv: func(k string) string { return vars[k] }}
			code := reported(e, publisher(e, "", false).GitHubAPI().Publish(context.Background(), homes.Signed{Path: bundlePath, JSON: bundle}))
			log := stdout.String() + stderr.String()
			if code != tt.code || !strings.Contains(log, tt.want) {
				t.Fatalf("exit %d, want %d with %q\n%s", code, tt.code, tt.want, log)
			}
			if n := proxy.Count("/attestations"); n != tt.uploads {
				t.Errorf("%d upload requests, want %d", n, tt.uploads)
			}
			for _, s := range proxy.Seen() {
				if got := s.Header.Get("Authorization"); got != "Bearer "+tt.token {
					t.Errorf("the upload was sent with Authorization %q", got)
				}
			}
			if tt.code != exitOK {
				var errLine string
				for _, l := range strings.Split(log, "\n") {
					if strings.Contains(l, tt.want) {
						errLine = l
					}
				}
				if !strings.Contains(errLine, bundlePath) || !strings.Contains(errLine, "re-run") || !regexp.MustCompile(`127\.0\.0\.1:\d+`).MatchString(errLine) {
					t.Errorf("the error line must name the remote, the bundle and what to re-run: %q", errLine)
				}
				if got, err := os.ReadFile(bundlePath); err != nil || !bytes.Equal(got, bundle) {
					t.Errorf("the signed bundle is not kept as it was: %v", err)
				}
			}
			outputs := map[string]string{"stdout": stdout.String(), "stderr": stderr.String()}
			for _, f := range []string{"output", "summary"} {
				data, _ := os.ReadFile(filepath.Join(dir, f))
				outputs[f] = string(data)
			}
			if l := sec.leaks(outputs); len(l) > 0 {
				t.Errorf("secrets leaked: %v", l)
			}
		})
	}
}

// hardeningDocFulcio checks docs/hardening.md's Fulcio row against what the
// fault tests assert: the error text and the number of requests, both
// provenance.DefaultAttempts.
func hardeningDocFulcio(doc string) error {
	var row string
	for _, line := range strings.Split(doc, "\n") {
		if strings.HasPrefix(line, "| Fulcio |") {
			row = line
		}
	}
	if row == "" {
		return errors.New("docs/hardening.md: no Fulcio row in the faults table")
	}
	n := provenance.DefaultAttempts
	for _, want := range []string{
		fmt.Sprintf("budget %d, `provenance.DefaultAttempts`", n),
		"`" + fulcio500Error + "`",
		fmt.Sprintf("exactly %d requests seen by Fulcio, asserted", n),
	} {
		if !strings.Contains(row, want) {
			return fmt.Errorf("docs/hardening.md: the Fulcio row does not say %q, which the fault tests assert:\n%s", want, row)
		}
	}
	if m := regexp.MustCompile(`\d+ attempts|budget \d+|exactly \d+`).FindAllString(row, -1); len(m) != 3 {
		return fmt.Errorf("docs/hardening.md: the Fulcio row states %q, want the three figures above only", m)
	}
	return nil
}

// TestHardeningDocFulcioAttempts: docs/hardening.md's figure of Fulcio
// attempts is provenance.DefaultAttempts, which
// TestAttestFaults_TokenEndpointAndFulcio and TestE2EFaults/Fulcio count;
// the check fails on a doc that says another figure.
func TestHardeningDocFulcioAttempts(t *testing.T) {
	doc := string(readFixture(t, "docs/hardening.md"))
	if err := hardeningDocFulcio(doc); err != nil {
		t.Fatal(err)
	}
	n := fmt.Sprint(provenance.DefaultAttempts)
	for _, edit := range []struct{ from, to string }{
		{"(after " + n + " attempts)", "(after 9 attempts)"},
		{"exactly " + n + " requests seen by Fulcio", "exactly 9 requests seen by Fulcio"},
		{"budget " + n + ", `provenance.DefaultAttempts`", "budget 9, `provenance.DefaultAttempts`"},
		{"5xx for good (", "5xx for good (after 9 attempts; "},
	} {
		bad := strings.Replace(doc, edit.from, edit.to, 1)
		if bad == doc {
			t.Fatalf("the doc has no %q", edit.from)
		}
		if err := hardeningDocFulcio(bad); err == nil {
			t.Errorf("the doc with %q in place of %q passed", edit.to, edit.from)
		}
	}
}
