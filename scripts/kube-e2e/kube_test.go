package kubee2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/provenant/provenant/internal/faultproxy"
	"github.com/provenant/provenant/remote/registrytest"
)

// TestKube: the webhook registered with a real API server judges Pods and
// Deployments created through client-go: an attested image admitted (the
// stack's bundle kind: Rekor v1, or Rekor v2 with a TSA timestamp), an
// unattested one, one attested from another repository and a revoked one
// denied, the revocation in force on the very next request, eight
// containers of one image verified once, a VSA admitted without a
// provenance verification, audit mode admitting with a warning, and a
// registry that hangs denied within the budget.
func TestKube(t *testing.T) {
	kubeDir(t)
	s := needStack(t)
	reg := registrytest.Start(t, registrytest.Options{})
	push := func(repo string) name.Digest { return registrytest.PushRandomImage(t, reg.Host, repo, nil) }
	// One repository each: a provenance names each subject once.
	attested, revoked, eight, vsa := push("octo/app"), push("octo/revoked"), push("octo/eight"), push("octo/vsa")
	unattested, audited, elsewhere := push("octo/unattested"), push("octo/audit"), push("octo/elsewhere")
	// The image that hangs is named through a proxy that holds the
	// registry's answers back for a minute.
	proxy := faultproxy.New(t, "http://"+reg.Host)
	slow := push("octo/slow")
	hanging, err := name.NewDigest(strings.Replace(slow.String(), reg.Host, strings.TrimPrefix(proxy.URL, "http://"), 1))
	if err != nil {
		t.Fatal(err)
	}
	s.checkBundleKind(t, s.attest(t, "", attested, revoked, eight, vsa, slow))
	s.attest(t, otherClaims, elsewhere)
	s.pushVSA(t, vsa)

	w := startWebhook(t, s, webhookOptions{repo: ourRepo})
	c := startCluster(t)
	c.namespace(t, "apps", "enforce")
	c.namespace(t, "audited", "audit")
	w.register(t, c, "apps", unattested)
	ctx := context.Background()

	t.Run("attested image admitted", func(t *testing.T) {
		if err := c.createPod(ctx, c.client, "apps", "attested", attested); err != nil {
			t.Fatalf("a pod of an attested image: %v", err)
		}
	})
	t.Run("unattested image denied", func(t *testing.T) {
		err := c.createPod(ctx, c.client, "apps", "unattested", unattested)
		if !isDenied(err) || !strings.Contains(err.Error(), unattested.DigestStr()) {
			t.Fatalf("a pod of an unattested image: %v", err)
		}
		t.Logf("API server: %v", err)
	})
	t.Run("image of another repository denied", func(t *testing.T) {
		err := c.createPod(ctx, c.client, "apps", "elsewhere", elsewhere)
		// The denial names the digest and why: the signer is a workflow
		// of the other repository.
		if !isDenied(err) || !strings.Contains(err.Error(), elsewhere.DigestStr()) || !strings.Contains(err.Error(), otherRepo) {
			t.Fatalf("a pod of an image attested from %s: %v", otherRepo, err)
		}
		t.Logf("API server: %v", err)
	})
	t.Run("revocation in force on the next request", func(t *testing.T) {
		if err := c.createPod(ctx, c.client, "apps", "revoked", revoked); err != nil {
			t.Fatalf("before the revocation: %v", err)
		}
		w.revoke(t, revoked.DigestStr())
		err := c.createPod(ctx, c.client, "apps", "revoked", revoked)
		if !isDenied(err) || !strings.Contains(err.Error(), "revoked") {
			t.Fatalf("the request after the revocation: %v", err)
		}
		w.revoke(t)
		if err := c.createPod(ctx, c.client, "apps", "revoked", revoked); err != nil {
			t.Fatalf("the request after the revocation was lifted: %v", err)
		}
	})
	t.Run("eight containers of one image verified once", func(t *testing.T) {
		before := w.verifications(t, "")
		if err := c.createDeployment(ctx, "apps", "eight", eight, 8); err != nil {
			t.Fatalf("a deployment of 8 containers of an attested image: %v", err)
		}
		if n := w.verifications(t, "") - before; n != 1 {
			t.Fatalf("%v verifications for 8 containers of one image, want 1", n)
		}
	})
	t.Run("VSA admits without a provenance verification", func(t *testing.T) {
		prov, vsas := w.verifications(t, "provenance"), w.verifications(t, "vsa")
		if err := c.createPod(ctx, c.client, "apps", "vsa", vsa); err != nil {
			t.Fatalf("a pod of an image with a VSA: %v", err)
		}
		if p, v := w.verifications(t, "provenance")-prov, w.verifications(t, "vsa")-vsas; p != 0 || v != 1 {
			t.Fatalf("%v provenance and %v VSA verifications, want 0 and 1", p, v)
		}
	})
	t.Run("audit admits with a warning", func(t *testing.T) {
		cs, warned := c.withWarnings(t)
		if err := c.createPod(ctx, cs, "audited", "audited", audited); err != nil {
			t.Fatalf("a pod of an unattested image in an audit namespace: %v", err)
		}
		if !strings.Contains(warned.String(), "provenant (audit, would deny)") || !strings.Contains(warned.String(), audited.DigestStr()) {
			t.Fatalf("warnings: %q", warned.String())
		}
		t.Logf("warning: %s", strings.TrimSpace(warned.String()))
		cs, warned = c.withWarnings(t)
		if err := c.createPod(ctx, cs, "audited", "attested", attested); err != nil || warned.String() != "" {
			t.Fatalf("a pod of an attested image in an audit namespace: %v, warnings %q", err, warned.String())
		}
	})
	t.Run("a hanging registry is a denial within the budget", func(t *testing.T) {
		proxy.Add(faultproxy.Fault{Mode: faultproxy.Slow, Delay: time.Minute})
		start := time.Now()
		err := c.createPod(ctx, c.client, "apps", "hanging", hanging)
		took := time.Since(start)
		if !isDenied(err) || !strings.Contains(err.Error(), "did not finish in time") {
			t.Fatalf("a pod of an image whose registry hangs, after %v: %v", took, err)
		}
		// The budget is 3 s; the webhook's timeoutSeconds is 10.
		if took > 6*time.Second {
			t.Fatalf("answered after %v, past the budget of 3s", took)
		}
		t.Logf("API server after %v: %v", took.Round(time.Millisecond), err)
	})
}

// TestKubeRandomized: a seeded sequence of operations (policy reloads
// between two allowed repositories, revoking and lifting digests, pods of
// images attested from either repository or not at all) through the API
// server; each answer is compared with the verdict the current state
// calls for. No wrong admission and no wrong denial. PROVENANT_KUBE_SEED
// replays a sequence; PROVENANT_KUBE_OPS sets its length (200).
func TestKubeRandomized(t *testing.T) {
	kubeDir(t)
	s := needStack(t)
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("PROVENANT_KUBE_SEED"); v != "" {
		seed, _ = strconv.ParseUint(v, 10, 64)
	}
	ops := 200
	if v, err := strconv.Atoi(os.Getenv("PROVENANT_KUBE_OPS")); err == nil && v > 0 {
		ops = v
	}
	t.Logf("seed %d (PROVENANT_KUBE_SEED=%d replays it), %d operations", seed, seed, ops)
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))

	reg := registrytest.Start(t, registrytest.Options{})
	type image struct {
		ref  name.Digest
		from string // the repository that attested it; "" none
	}
	var images []image
	var ours, theirs []name.Digest
	for i := 0; i < 3; i++ {
		ours = append(ours, registrytest.PushRandomImage(t, reg.Host, fmt.Sprintf("octo/ours%d", i), nil))
		images = append(images, image{ours[i], ourRepo})
	}
	for i := 0; i < 2; i++ {
		theirs = append(theirs, registrytest.PushRandomImage(t, reg.Host, fmt.Sprintf("octo/theirs%d", i), nil))
		images = append(images, image{theirs[i], otherRepo})
	}
	for i := 0; i < 2; i++ {
		images = append(images, image{registrytest.PushRandomImage(t, reg.Host, "octo/none", nil), ""})
	}
	s.attest(t, "", ours...)
	s.attest(t, otherClaims, theirs...)

	w := startWebhook(t, s, webhookOptions{repo: ourRepo})
	c := startCluster(t)
	c.namespace(t, "apps", "enforce")
	w.register(t, c, "apps", images[len(images)-1].ref)
	ctx := context.Background()

	policy := ourRepo
	revoked := map[string]bool{}
	var wrongAdmits, wrongDenials, reloads, revocations, creates int
	for op := 0; op < ops; op++ {
		switch r := rng.IntN(100); {
		case r < 10:
			policy = map[string]string{ourRepo: otherRepo, otherRepo: ourRepo}[policy]
			w.reloadPolicy(t, policy)
			reloads++
		case r < 25:
			d := images[rng.IntN(len(images))].ref.DigestStr()
			revoked[d] = !revoked[d]
			var list []string
			for k, v := range revoked {
				if v {
					list = append(list, k)
				}
			}
			w.revoke(t, list...)
			revocations++
		default:
			img := images[rng.IntN(len(images))]
			want := img.from != "" && img.from == policy && !revoked[img.ref.DigestStr()]
			err := c.createPod(ctx, c.client, "apps", fmt.Sprintf("p%d", op), img.ref)
			creates++
			switch {
			case err != nil && !isDenied(err):
				t.Fatalf("op %d: the API server answered %v", op, err)
			case err == nil && !want:
				wrongAdmits++
				t.Errorf("op %d: WRONG ADMIT of %s (attested by %q) under policy %s, revoked %v", op, img.ref, img.from, policy, revoked[img.ref.DigestStr()])
			case err != nil && want:
				wrongDenials++
				t.Errorf("op %d: wrong denial of %s (attested by %q) under policy %s: %v", op, img.ref, img.from, policy, err)
			}
		}
	}
	t.Logf("%d operations: %d pod creates, %d policy reloads, %d revocation edits; %d wrong admits, %d wrong denials (seed %d)",
		ops, creates, reloads, revocations, wrongAdmits, wrongDenials, seed)
	if reloads == 0 || revocations == 0 {
		t.Errorf("the sequence had %d reloads and %d revocation edits: it tested neither", reloads, revocations)
	}
}
