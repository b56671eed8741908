package verifier

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/provenant/provenant/trust"
)

// The tamper generator: every valid bundle we have (the verifying fixtures
// and bundles made here with a test Sigstore instance) is changed in one
// place at a time, and each change must make the bundle fail verification,
// unless it is on the harmless list below, each entry of which says why
// the change cannot alter what the bundle proves.

// tamperBase is a bundle that verifies, with the verifier and artifact it
// verifies for.
type tamperBase struct {
	name string
	doc  []byte // one JSON bundle
	art  Artifact
	v    *Verifier
}

// tamperCase is one single change of a base bundle.
type tamperCase struct {
	base int
	id   string // "<base>: <JSON path>: <change>"
	doc  []byte
	art  *Artifact // another artifact than the base's (replay)
}

// harmless is a change that may be accepted, and why it is harmless; when
// holds is set, the accepted result must also satisfy it.
type harmless struct {
	match  *regexp.Regexp // matched against the case id without the base name
	reason string
	holds  func(BundleResult) bool
}

func hasTimestamp(kind string) func(BundleResult) bool {
	return func(r BundleResult) bool {
		for _, t := range r.Timestamps {
			if t.Kind == kind {
				return true
			}
		}
		return false
	}
}

// harmlessChanges lists every change that is accepted, each with why it
// cannot change what a verified bundle proves (checked against the
// sources of sigstore-go v1.3.0 and protobuf-specs).
var harmlessChanges = []harmless{
	{match: regexp.MustCompile(`^\(document\): re-encoded`),
		reason: "JSON whitespace, key order and escaping: the bundle is parsed with protojson; no signature covers the bundle's JSON text"},
	{match: regexp.MustCompile(`^mediaType: alias `),
		reason: "a media type alias: sigstore-go's bundle.getBundleVersion maps application/vnd.dev.sigstore.bundle+json;version=0.N and application/vnd.dev.sigstore.bundle.v0.N+json to the same version"},
	{match: regexp.MustCompile(`: dropped \(zero value\)$`),
		reason: "dropping a key whose value is \"\" or []: in proto3 JSON an absent scalar or list is the same message as its zero value"},
	{match: regexp.MustCompile(`\(same signing\)$`),
		reason: "a part swapped between two bundles of one signing (the npm v0.1 and v0.3 bundles of sigstore-js 2.1.0 carry the same signature, certificate and log entry): the bundle's evidence is unchanged"},
	{match: regexp.MustCompile(`^verificationMaterial\.x509CertificateChain\.certificates\[[1-9]\d*\]`),
		reason: "a v0.1/v0.2 certificate chain's certificates after the leaf: sigstore-go's VerificationContent uses certificates[0] only, and builds the chain from the trusted root's Fulcio CA, never from the bundle"},
	{match: regexp.MustCompile(`^verificationMaterial\.x509CertificateChain\.certificates\[0\]: duplicate`),
		reason: "duplicating the leaf of a certificate chain appends it after the leaf: certificates[0] is still the same leaf and later entries are not read (see above)"},
	{match: regexp.MustCompile(`^verificationMaterial\.tlogEntries\[0\]: duplicate`),
		reason: "the same log entry twice: each copy is verified in full, and it proves the same signature time; the log threshold is 1, so a second copy proves nothing the first did not"},
	{match: regexp.MustCompile(`^verificationMaterial\.timestampVerificationData\.rfc3161Timestamps\[0\]: duplicate`),
		reason: "the same RFC 3161 timestamp twice: each copy is verified in full against the same signature; the timestamp threshold counts verified times, and a copy adds no time the first did not prove"},
	{match: regexp.MustCompile(`^verificationMaterial\.tlogEntries\[\d+\]\.kindVersion\.(kind|version): `),
		reason: "kindVersion: an unsigned hint; sigstore-go's tlog.NewTlogEntry parses the entry type from the canonicalized body it verifies against the log (SET and inclusion proof), copies kind/version from the hint itself (so ParseTransparencyLogEntry's mismatch check compares the hint with itself), and reads them nowhere else"},
	{match: regexp.MustCompile(`^verificationMaterial\.tlogEntries\[\d+\]\.inclusionProof\.treeSize: \+1$`),
		reason: "an inclusion proof's tree size only orders the proof's hash combinations; when another size gives the same order, the same leaf hash still chains to the root hash that the log signed in the checkpoint, which proves the same inclusion (RFC 6962 domain-separates leaves and nodes)"},
	{match: regexp.MustCompile(`^verificationMaterial\.tlogEntries\[\d+\]\.inclusionProof: dropped$`),
		holds:  func(r BundleResult) bool { return strings.Contains(r.MediaType, "0.1") && hasTimestamp("Tlog")(r) },
		reason: "a v0.1 bundle needs only the log's signed entry timestamp (SET), which signs the body, integrated time, log index and log id; dropping the optional inclusion proof leaves a valid v0.1 bundle with the same verified time"},
	{match: regexp.MustCompile(`^verificationMaterial\.timestampVerificationData`),
		holds:  hasTimestamp("Tlog"),
		reason: "RFC 3161 timestamps dropped, broken or swapped in from another bundle while the log's SET dates the signature: sigstore-go's VerifySignedTimestampWithThreshold counts only the timestamps that verify for this signature, so the verdict rests on the SET's verified time alone (the report lists only verified times); the result is that of a valid bundle without the timestamp (the 'own Rekor only' base)"},
	{match: regexp.MustCompile(`^verificationMaterial\.tlogEntries\[\d+\]\.inclusionPromise`),
		holds:  func(r BundleResult) bool { return hasTimestamp("TimestampAuthority")(r) && !hasTimestamp("Tlog")(r) },
		reason: "the SET dropped from an entry that also has an inclusion proof, when an RFC 3161 timestamp dates the signature: the entry is then a proof of inclusion only (as Rekor v2 entries are), its integrated time is no longer a verified time, and the verified TSA time meets the threshold"},
}

// tamperFixtureBases is each verifying fixture once (first bundle of its
// file), with the policy it verifies under.
func tamperFixtureBases(t testing.TB) []tamperBase {
	t.Helper()
	seen := map[string]bool{}
	var out []tamperBase
	for _, tc := range fixtureCases() {
		if !tc.verified || seen[tc.bundle] || tc.root != "" {
			continue
		}
		seen[tc.bundle] = true
		roots, err := trust.LoadTrustedRoots(fx("trusted-roots/public-good-cli.json"))
		if err != nil {
			t.Fatal(err)
		}
		v, err := New(roots, tc.policy)
		if err != nil {
			t.Fatal(err)
		}
		var art Artifact
		if tc.artifact != "" {
			art, err = ArtifactFromFile(fx(tc.artifact))
		} else {
			art, err = ArtifactFromDigest(tc.digest)
		}
		if err != nil {
			t.Fatal(err)
		}
		docs, err := documents(tc.bundle, mustRead(t, fx(tc.bundle)))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, tamperBase{name: tc.bundle, doc: docs[0].data, art: art, v: v})
	}
	return out
}

// tamperOwnBases are our own bundles: Rekor entry and timestamp, from the
// source repository (L2) and from a reusable workflow (L3), and with a
// timestamp authority alone.
func tamperOwnBases(t testing.TB) []tamperBase {
	t.Helper()
	s := newTestSigstore(t)
	build := func(name string, run ghRun, p Policy, o signOpts, roots []TrustedRoot) tamperBase {
		data, art := ownBundle(t, s, run, nil, o)
		v, err := New(roots, p)
		if err != nil {
			t.Fatal(err)
		}
		return tamperBase{name: name, doc: data, art: art, v: v}
	}
	run := defaultRun()
	return []tamperBase{
		build("own L2", run, Policy{Repo: run.Repo}, signOpts{}, s.roots()),
		build("own L3 reusable", run.reusable(), Policy{Repo: run.Repo, SignerRepo: "provenant/builders", MinLevel: 3}, signOpts{}, s.roots()),
		build("own TSA only", run, Policy{Repo: run.Repo}, signOpts{noTlog: true}, s.tsaOnlyRoots(t)),
		build("own Rekor only", run, Policy{Repo: run.Repo}, signOpts{noTimestamp: true}, s.roots()),
	}
}

// decodeJSON decodes with numbers kept as written.
func decodeJSON(data []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

func encodeJSON(v any) []byte {
	data, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return data
}

// deepCopy copies a decoded JSON tree.
func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = deepCopy(e)
		}
		return m
	case []any:
		s := make([]any, len(x))
		for i, e := range x {
			s[i] = deepCopy(e)
		}
		return s
	}
	return v
}

// edit is one change of a JSON tree: apply changes the copy it is given.
type edit struct {
	id    string
	apply func(root any) any
}

// tamperStep addresses a child: a key of an object or an index of an array.
type tamperStep struct {
	key   string
	index int
}

func pathString(path []tamperStep) string {
	var b strings.Builder
	for _, s := range path {
		if s.key != "" {
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(s.key)
		} else {
			fmt.Fprintf(&b, "[%d]", s.index)
		}
	}
	if b.Len() == 0 {
		return "(document)"
	}
	return b.String()
}

// at replaces the node at path with f(node); f returning drop removes it
// (object key) and dup duplicates it (array entry).
type nodeOp int

const (
	opSet nodeOp = iota
	opDrop
	opDup
)

func modify(root any, path []tamperStep, op nodeOp, f func(any) any) any {
	if len(path) == 0 {
		return f(root)
	}
	s := path[0]
	switch x := root.(type) {
	case map[string]any:
		if len(path) == 1 && op == opDrop {
			delete(x, s.key)
			return x
		}
		x[s.key] = modify(x[s.key], path[1:], op, f)
		return x
	case []any:
		if len(path) == 1 && op == opDrop {
			return append(x[:s.index:s.index], x[s.index+1:]...)
		}
		if len(path) == 1 && op == opDup {
			out := append(x[:s.index+1:s.index+1], deepCopy(x[s.index]))
			return append(out, x[s.index+1:]...)
		}
		x[s.index] = modify(x[s.index], path[1:], op, f)
		return x
	}
	panic(fmt.Sprintf("path %s does not exist", pathString(path)))
}

// isZeroValue reports a proto3 zero value: "" or an empty list.
func isZeroValue(v any) bool {
	switch x := v.(type) {
	case string:
		return x == ""
	case []any:
		return len(x) == 0
	}
	return false
}

// leafChanges are the changes of one scalar value.
func leafChanges(v any) []struct {
	name string
	to   any
} {
	type ch = struct {
		name string
		to   any
	}
	var out []ch
	switch x := v.(type) {
	case bool:
		out = append(out, ch{"negated", !x})
	case json.Number:
		n, err := x.Int64()
		if err != nil {
			out = append(out, ch{"changed", json.Number(string(x) + "1")})
			break
		}
		out = append(out, ch{"+1", json.Number(strconv.FormatInt(n+1, 10))}, ch{"-1", json.Number(strconv.FormatInt(n-1, 10))}, ch{"zero", json.Number("0")})
	case string:
		if x != "" {
			out = append(out, ch{"emptied", ""})
		}
		if n, err := strconv.ParseInt(x, 10, 64); err == nil {
			out = append(out, ch{"+1", strconv.FormatInt(n+1, 10)}, ch{"-1", strconv.FormatInt(n-1, 10)})
			break
		}
		if raw, err := base64.StdEncoding.DecodeString(x); err == nil && len(raw) >= 8 {
			for _, at := range []int{0, len(raw) / 2, len(raw) - 1} {
				c := bytes.Clone(raw)
				c[at] ^= 0x01
				out = append(out, ch{fmt.Sprintf("bit flipped in byte %d of %d", at, len(raw)), base64.StdEncoding.EncodeToString(c)})
			}
			out = append(out, ch{"truncated by one byte", base64.StdEncoding.EncodeToString(raw[:len(raw)-1])})
			break
		}
		lines := strings.Split(x, "\n")
		if len(lines) > 2 {
			for i, l := range lines {
				if l == "" {
					continue
				}
				c := append([]string(nil), lines...)
				c[i] = l + "0"
				out = append(out, ch{fmt.Sprintf("line %d changed", i+1), strings.Join(c, "\n")})
			}
			break
		}
		out = append(out, ch{"appended", x + "x"})
		if x != strings.ToUpper(x) {
			out = append(out, ch{"upper-cased", strings.ToUpper(x)})
		}
	}
	return out
}

// treeEdits walks a JSON tree and lists its single changes: each scalar
// changed, each object key dropped, each array entry dropped and
// duplicated. skip names paths whose subtree is changed otherwise.
func treeEdits(v any, path []tamperStep, skip func(string) bool) []edit {
	p := pathString(path)
	if skip != nil && skip(p) {
		return nil
	}
	var out []edit
	cp := append([]tamperStep(nil), path...)
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			child := append(cp[:len(cp):len(cp)], tamperStep{key: k})
			id := pathString(child) + ": dropped"
			if isZeroValue(x[k]) {
				id += " (zero value)"
			}
			out = append(out, edit{id, func(r any) any { return modify(r, child, opDrop, nil) }})
			out = append(out, treeEdits(x[k], child, skip)...)
		}
	case []any:
		for i := range x {
			child := append(cp[:len(cp):len(cp)], tamperStep{index: i})
			out = append(out, edit{pathString(child) + ": dropped", func(r any) any { return modify(r, child, opDrop, nil) }})
			out = append(out, edit{pathString(child) + ": duplicate", func(r any) any { return modify(r, child, opDup, nil) }})
			out = append(out, treeEdits(x[i], child, skip)...)
		}
	default:
		for _, c := range leafChanges(v) {
			to := c.to
			out = append(out, edit{p + ": " + c.name, func(r any) any { return modify(r, cp, opSet, func(any) any { return to }) }})
		}
	}
	return out
}

const payloadPath = "dsseEnvelope.payload"

// payloadEdits change the DSSE payload's statement, re-encoded in base64:
// each statement field, and an extra subject.
func payloadEdits(bundle any, other Artifact) []edit {
	m, _ := bundle.(map[string]any)
	env, _ := m["dsseEnvelope"].(map[string]any)
	s, _ := env["payload"].(string)
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil
	}
	st, err := decodeJSON(raw)
	if err != nil {
		return nil
	}
	withPayload := func(r any, stmt any) any {
		r.(map[string]any)["dsseEnvelope"].(map[string]any)["payload"] = base64.StdEncoding.EncodeToString(encodeJSON(stmt))
		return r
	}
	var out []edit
	for _, e := range treeEdits(st, nil, nil) {
		out = append(out, edit{"payload " + e.id, func(r any) any { return withPayload(r, e.apply(deepCopy(st))) }})
	}
	out = append(out, edit{"payload subject: extra subject for another artifact", func(r any) any {
		c := deepCopy(st).(map[string]any)
		subj, _ := c["subject"].([]any)
		c["subject"] = append(subj, map[string]any{"name": other.Name, "digest": map[string]any{"sha256": other.String()[len("sha256:"):]}})
		return withPayload(r, c)
	}})
	out = append(out, edit{"payload: re-encoded (same statement, other JSON)", func(r any) any { return withPayload(r, st) }})
	return out
}

// tamperCases makes every single change of every base.
func tamperCases(t testing.TB, bases []tamperBase) []tamperCase {
	t.Helper()
	trees := make([]any, len(bases))
	for i, b := range bases {
		tree, err := decodeJSON(b.doc)
		if err != nil {
			t.Fatal(err)
		}
		trees[i] = tree
	}
	var out []tamperCase
	for i, b := range bases {
		other := bases[(i+1)%len(bases)]
		edits := []edit{{"(document): re-encoded", func(r any) any { return r }}}
		edits = append(edits, treeEdits(trees[i], nil, func(p string) bool { return p == payloadPath })...)
		edits = append(edits, edit{payloadPath + ": dropped", func(r any) any {
			delete(r.(map[string]any)["dsseEnvelope"].(map[string]any), "payload")
			return r
		}})
		edits = append(edits, payloadEdits(trees[i], other.art)...)
		edits = append(edits, mediaTypeAliases(trees[i])...)
		edits = append(edits, crossEdits(i, trees)...)
		same := encodeJSON(trees[i])
		for k, e := range edits {
			doc := encodeJSON(e.apply(deepCopy(trees[i])))
			if k > 0 && bytes.Equal(doc, same) {
				continue // not a change (e.g. a payload that re-encodes to itself)
			}
			out = append(out, tamperCase{base: i, id: b.name + ": " + e.id, doc: doc})
		}
		for j, o := range bases {
			if o.art.String() != b.art.String() {
				art := o.art
				out = append(out, tamperCase{base: i, id: fmt.Sprintf("%s: (document): replayed for the artifact of %s", b.name, bases[j].name), doc: b.doc, art: &art})
			}
		}
	}
	return out
}

// mediaTypeAliases rewrites the media type in its other spelling.
func mediaTypeAliases(tree any) []edit {
	mt, _ := tree.(map[string]any)["mediaType"].(string)
	var alias string
	switch {
	case strings.HasPrefix(mt, "application/vnd.dev.sigstore.bundle.v0.3"):
		alias = "application/vnd.dev.sigstore.bundle+json;version=0.3"
	case strings.HasSuffix(mt, "version=0.3"):
		alias = "application/vnd.dev.sigstore.bundle.v0.3+json"
	default:
		return nil
	}
	return []edit{{"mediaType: alias " + alias, func(r any) any { r.(map[string]any)["mediaType"] = alias; return r }}}
}

// crossEdits put another bundle's part into base i: its certificate, log
// entries, timestamps, signatures and whole verification material.
func crossEdits(i int, trees []any) []edit {
	var out []edit
	mySig := signatureOf(trees[i])
	// Swap with the next four bases (every pair of kinds meets: fixtures
	// v0.1/v0.2/v0.3, ours with and without log or timestamp).
	for k := 1; k <= 4 && k < len(trees); k++ {
		j := (i + k) % len(trees)
		tag := ""
		if mySig != "" && signatureOf(trees[j]) == mySig {
			tag = " (same signing)"
		}
		for _, part := range []string{"verificationMaterial.certificate", "verificationMaterial.x509CertificateChain", "verificationMaterial.tlogEntries", "verificationMaterial.timestampVerificationData", "verificationMaterial", "dsseEnvelope.signatures"} {
			src, ok := lookup(trees[j], part)
			if !ok {
				continue
			}
			if _, ok := lookup(trees[i], part); !ok && !strings.Contains(part, "certificate") {
				continue
			}
			keys := strings.Split(part, ".")
			out = append(out, edit{fmt.Sprintf("%s: swapped with bundle %d's%s", part, j, tag), func(r any) any {
				m := r.(map[string]any)
				for _, k := range keys[:len(keys)-1] {
					m = m[k].(map[string]any)
				}
				if strings.Contains(part, "certificate") || strings.Contains(part, "x509CertificateChain") {
					delete(m, "certificate")
					delete(m, "x509CertificateChain")
					delete(m, "publicKey")
				}
				m[keys[len(keys)-1]] = deepCopy(src)
				return r
			}})
		}
	}
	return out
}

// signatureOf is a bundle's first DSSE signature, as base64.
func signatureOf(tree any) string {
	sigs, _ := lookup(tree, "dsseEnvelope.signatures")
	if s, ok := sigs.([]any); ok && len(s) > 0 {
		if m, ok := s[0].(map[string]any); ok {
			v, _ := m["sig"].(string)
			return v
		}
	}
	return ""
}

func lookup(tree any, path string) (any, bool) {
	for _, k := range strings.Split(path, ".") {
		m, ok := tree.(map[string]any)
		if !ok {
			return nil, false
		}
		if tree, ok = m[k]; !ok {
			return nil, false
		}
	}
	return tree, true
}

// harmlessReason returns why an accepted case is harmless, or "".
func harmlessReason(base string, id string, res BundleResult) string {
	rest := strings.TrimPrefix(id, base+": ")
	for _, h := range harmlessChanges {
		if h.match.MatchString(rest) && (h.holds == nil || h.holds(res)) {
			return h.reason
		}
	}
	return ""
}

// TestTamperedBundlesAreRejected runs the tamper generator: at least 1,000
// single changes of valid bundles, each rejected unless listed harmless.
func TestTamperedBundlesAreRejected(t *testing.T) {
	bases := append(tamperFixtureBases(t), tamperOwnBases(t)...)
	for _, b := range bases {
		atts := ParseAttestations(b.name, b.doc)
		if res := b.v.VerifyBundle(atts[0], b.art); !res.Verified {
			t.Fatalf("base %s does not verify: %v", b.name, res.Err())
		}
	}
	cases := tamperCases(t, bases)
	if len(cases) < 1000 {
		t.Fatalf("only %d tamper cases, want at least 1000", len(cases))
	}
	// The generator must reach every part the brief names.
	for _, part := range []string{
		"dsseEnvelope.signatures[0].sig: bit flipped", "dsseEnvelope.signatures[0]: duplicate",
		"verificationMaterial.certificate.rawBytes: bit flipped", "verificationMaterial.x509CertificateChain.certificates[0].rawBytes: bit flipped",
		"verificationMaterial.certificate: swapped", "tlogEntries[0].logIndex: +1", "tlogEntries[0].integratedTime: +1",
		"tlogEntries[0].canonicalizedBody: bit flipped", "inclusionProof.hashes[0]: bit flipped", "inclusionProof.checkpoint.envelope: line",
		"rfc3161Timestamps[0].signedTimestamp: bit flipped", "payload subject[0].digest", "payload subject[0].name", "payload predicate",
		"payload subject: extra subject", "replayed for the artifact of", "mediaType: alias",
	} {
		found := false
		for _, c := range cases {
			found = found || strings.Contains(c.id, part)
		}
		if !found {
			t.Errorf("no tamper case changes %q", part)
		}
	}
	accepted := make([]bool, len(cases))
	results := make([]BundleResult, len(cases))
	var wg sync.WaitGroup
	next := make(chan int)
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				c := cases[i]
				b := bases[c.base]
				art := b.art
				if c.art != nil {
					art = *c.art
				}
				for _, att := range ParseAttestations(b.name, c.doc) {
					if res := b.v.VerifyBundle(att, art); res.Verified {
						accepted[i], results[i] = true, res
					}
				}
			}
		}()
	}
	for i := range cases {
		next <- i
	}
	close(next)
	wg.Wait()

	rejected, harmlessN := 0, 0
	reasons := map[string]int{}
	for i, c := range cases {
		if !accepted[i] {
			rejected++
			continue
		}
		r := harmlessReason(bases[c.base].name, c.id, results[i])
		if r == "" {
			t.Errorf("ACCEPTED, not on the harmless list: %s", c.id)
			continue
		}
		harmlessN++
		reasons[r]++
	}
	t.Logf("tamper generator: %d bases, %d cases tried, %d rejected, %d accepted as harmless, %d accepted that should not be",
		len(bases), len(cases), rejected, harmlessN, len(cases)-rejected-harmlessN)
	fmt.Printf("tamper generator: %d cases tried, %d rejected, %d accepted as harmless, %d accepted that should not be\n",
		len(cases), rejected, harmlessN, len(cases)-rejected-harmlessN)
	for r, n := range reasons {
		t.Logf("  harmless ×%d: %s", n, r)
	}
	// Each base's unchanged re-encoding must be accepted: otherwise every
	// rejection above could come from the re-encoding, not the change.
	for i, c := range cases {
		if strings.HasSuffix(c.id, "(document): re-encoded") && !accepted[i] {
			t.Errorf("%s: the re-encoded base bundle is rejected; the generator tests nothing", c.id)
		}
	}
}
