package main

// TestE2EFaults… put internal/faultproxy in front of one service of the
// local Sigstore stack at a time (Fulcio, Rekor v1, Rekor v2, the TSA) and
// run attest: each fault recovers within the retry budget (the bundle is
// then complete and verifies) or ends non-zero with one line naming the
// service, no file in the run folder and no bundle-path output. No output
// ever holds the OIDC token or the runner's request token. This extends
// TestE2EServiceFaults (503 twice, down for good) with the other faults.
//
//	scripts/sigstore-stack run --rekor both -- go test -count=1 -run TestE2EFaults .

import (
	"bytes"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/provenant/provenant/internal/faultproxy"
	"github.com/provenant/provenant/provenance"
)

// e2eService is one service of the stack a fault is put in front of.
type e2eService struct {
	name, kind, config, wantErr string
}

var e2eServices = []e2eService{
	{"Fulcio", "caUrls", "signing_config.json", "Fulcio at"},
	{"Rekor v1", "rekorTlogUrls", "signing_config-rekor-v1.json", "Rekor at"},
	{"Rekor v2", "rekorTlogUrls", "signing_config-rekor-v2.json", "Rekor at"},
	{"TSA", "tsaUrls", "signing_config-tsa-only.json", "timestamp authority at"},
}

// faultInstance is an instance folder of config with svc's URLs behind a
// fault proxy, and Fulcio (when it is not svc) behind a pass-through one
// that records the OIDC tokens sent to it.
func (s *stack) faultInstance(t *testing.T, svc e2eService, sec *secrets) (string, *faultproxy.Proxy) {
	var target *faultproxy.Proxy
	inst := s.instanceDir(t, svc.config, func(sc map[string]any) {
		for _, kind := range []string{"caUrls", svc.kind} {
			for _, e := range serviceURLs(sc, kind) {
				orig := e["url"].(string)
				u, _ := url.Parse(orig)
				if kind == svc.kind && target == nil {
					target = faultproxy.New(t, u.Scheme+"://"+u.Host)
					e["url"] = target.URL + u.Path
				} else if kind == "caUrls" && svc.kind != "caUrls" {
					p := faultproxy.New(t, u.Scheme+"://"+u.Host)
					p.Add(faultproxy.Fault{Rewrite: func(r *http.Request, st int, _ http.Header, b []byte) (int, []byte) {
						sec.add(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
						return st, b
					}})
					e["url"] = p.URL + u.Path
				}
			}
		}
	})
	if target == nil {
		// By design: this mode's signing config lists no such service (the
		// Rekor v1 config has no TSA); instanceDir already made a missing
		// config the mode writes fatal.
		t.Skipf("%s names no %s", svc.config, svc.kind)
	}
	return inst, target
}

// capture records the body of the service's first successful POST answer
// (a certificate, a log entry, a timestamp), for a later replay.
type capture struct {
	mu     sync.Mutex
	status int
	header http.Header
	body   []byte
}

func (c *capture) rewrite(r *http.Request, st int, h http.Header, b []byte) (int, []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if r.Method == http.MethodPost && st < 300 && c.body == nil {
		c.status, c.header, c.body = st, h.Clone(), append([]byte(nil), b...)
	}
	return st, b
}

// replay answers a POST with the captured answer: valid-looking, but for
// another request (a certificate of another key, a log entry or timestamp
// of another signature).
func (c *capture) replay(r *http.Request, st int, h http.Header, b []byte) (int, []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if r.Method != http.MethodPost || c.body == nil {
		return st, b
	}
	for k, v := range c.header {
		h[k] = v
	}
	return c.status, c.body
}

func TestE2EFaults(t *testing.T) {
	s := needStack(t)
	type mode struct {
		name      string
		faults    []faultproxy.Fault
		refuse    bool
		replay    bool
		recovers  bool
		wantErr   string // instead of the service's name
		onlyFor   string // a service name, or "" for every one
		minFaults int    // requests the proxy must have faulted
		// says is a further text the error line must hold, by service.
		says map[string]string
		// seen is the requests the proxy must have seen, by service.
		seen map[string]int
	}
	modes := []mode{
		{name: "5xx burst of 2, then up", faults: []faultproxy.Fault{{Mode: faultproxy.Status, Status: 502, Times: 2}}, recovers: true, minFaults: 2},
		{name: "429 with retry-after, then up", faults: []faultproxy.Fault{{Mode: faultproxy.TooMany, RetryAfter: "1", Times: 1}}, recovers: true, minFaults: 1},
		{name: "dropped connection, then up", faults: []faultproxy.Fault{{Mode: faultproxy.Drop, Times: 1}}, recovers: true, minFaults: 1},
		{name: "reset mid-answer for good", faults: []faultproxy.Fault{{Mode: faultproxy.Reset}}, minFaults: 1},
		{name: "wrong content type for good", faults: []faultproxy.Fault{{Mode: faultproxy.WrongType}}, minFaults: 1},
		// Fulcio is tried provenance.DefaultAttempts times, as
		// docs/hardening.md says (TestHardeningDocFulcioAttempts).
		{name: "5xx for good", faults: []faultproxy.Fault{{Mode: faultproxy.Status, Status: 500}}, minFaults: 1,
			says: map[string]string{"Fulcio": fulcio500Error}, seen: map[string]int{"Fulcio": provenance.DefaultAttempts}},
		{name: "connection refused", refuse: true},
		// JSON nesting ever deeper ends at the parsers' depth limit; one
		// endless string at a size limit, not the timeout: ours for Rekor
		// v1 (whose client reads without one), sigstore-go's 1 MiB for
		// Fulcio and the TSA, rekor-tiles' 10 MB for Rekor v2 (each then
		// says the cut answer does not parse).
		{name: "endless nesting", faults: []faultproxy.Fault{{Mode: faultproxy.Endless}}, minFaults: 1},
		{name: "endless string", faults: []faultproxy.Fault{{Mode: faultproxy.Endless, Prefix: []byte(`{"a":"`), Chunk: bytes.Repeat([]byte("a"), 4096)}}, minFaults: 1,
			says: map[string]string{"Rekor v1": "larger than the 16 MiB limit"}},
		{name: "slow beyond the client's timeout", faults: []faultproxy.Fault{{Mode: faultproxy.Slow, Delay: 40 * time.Second}}, onlyFor: "Fulcio", minFaults: 1},
		{name: "valid-looking answer for another request", replay: true, wantErr: "", minFaults: 0},
	}
	for _, svc := range e2eServices {
		for _, m := range modes {
			if m.onlyFor != "" && m.onlyFor != svc.name {
				continue
			}
			t.Run(svc.name+"/"+m.name, func(t *testing.T) {
				// Each case has its own proxies, signing config and step:
				// they wait on retries and timeouts, not the CPU, so they
				// run side by side (scripts/test passes -parallel 8).
				t.Parallel()
				sec := &secrets{}
				sec.add(s.tokenSecret)
				var rec capture
				if m.replay {
					// A first run records a genuine answer of the service.
					inst, p := s.faultInstance(t, svc, sec)
					p.Add(faultproxy.Fault{Rewrite: rec.rewrite})
					st := s.signedStep(t, inst)
					if _, stderr, code := st.run("attest"); code != 0 || rec.body == nil {
						t.Fatalf("the recording run failed (exit %d) or recorded nothing:\n%s", code, stderr)
					}
				}
				inst, p := s.faultInstance(t, svc, sec)
				for _, f := range m.faults {
					p.Add(f)
				}
				if m.replay {
					p.Add(faultproxy.Fault{Rewrite: rec.replay})
				}
				if m.refuse {
					p.Refuse()
				}
				st := s.signedStep(t, inst)
				stdout, stderr, code := st.run("attest")
				faulted := 0
				if want, ok := m.seen[svc.name]; ok && len(p.Seen()) != want {
					t.Errorf("the proxy saw %d requests to %s, want %d", len(p.Seen()), svc.name, want)
				}
				for _, r := range p.Seen() {
					if r.Mode != faultproxy.Pass {
						faulted++
					}
					sec.add(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
				}
				if faulted < m.minFaults {
					t.Errorf("%d requests faulted, want at least %d: the fault was not exercised", faulted, m.minFaults)
				}
				if l := sec.leaks(runOutputs(t, st, stdout, stderr)); len(l) > 0 {
					t.Errorf("secrets leaked: %v", l)
				}
				bundlePath := st.outputs()["bundle-path"]
				if m.recovers {
					if code != 0 {
						t.Fatalf("exit %d: did not recover within the retry budget\n%s\n%s", code, stdout, stderr)
					}
					if _, err := verifyWithSigstoreGo(filepath.Join(inst, "trusted_root.json"), bundlePath, []byte("the release artifact"), defaultSAN, s.issuer); err != nil {
						t.Errorf("the bundle written after recovering does not verify: %v", err)
					}
					return
				}
				want := svc.wantErr
				if code == 0 {
					t.Fatalf("exit 0 with %s: %s\n%s", svc.name, m.name, stdout)
				}
				var line string
				for _, l := range strings.Split(stdout+stderr, "\n") {
					if strings.Contains(l, want) {
						line = l
					}
				}
				if line == "" {
					t.Errorf("no line says %q:\n%s\n%s", want, stdout, stderr)
				}
				if want := m.says[svc.name]; !strings.Contains(line, want) {
					t.Errorf("the error line does not say %q: %q", want, line)
				}
				if m.replay && !strings.Contains(line, "verif") && !strings.Contains(line, "another key") {
					t.Errorf("the replayed answer was not caught as wrong: %q", line)
				}
				t.Logf("exit %d: %s", code, line)
				if bundlePath != "" {
					t.Errorf("bundle-path output set on failure: %s", bundlePath)
				}
				if entries, _ := os.ReadDir(filepath.Join(st.temp, "provenant")); len(entries) != 0 {
					t.Errorf("files left behind: %v", entries)
				}
			})
		}
	}
}
