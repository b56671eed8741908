package verifier

import (
	"encoding/hex"
	"fmt"
	"sort"
	"strings"

	"github.com/sigstore/sigstore-go/pkg/verify"
)

// digestAlgorithms are the algorithms artifacts are hashed with, in order
// of preference.
var digestAlgorithms = []string{"sha256", "sha512"}

type subject struct {
	Name   string            `json:"name"`
	Digest map[string]string `json:"digest"`
}

// matchSubject finds the subject the artifact is: one that carries at
// least one digest in an algorithm the artifact was hashed with, and whose
// every such digest equals the artifact's (a subject whose sha256 matches
// but whose sha512 does not is another artifact). It returns the subject
// and the digests compared, for sigstore-go to check against the signed
// statement.
func matchSubject(st *statement, art Artifact) (*subject, []verify.ArtifactDigest, error) {
	var tried []verify.ArtifactDigest
	seen := map[string]bool{}
	var partial []string
	for i := range st.Subject {
		s := &st.Subject[i]
		var ds []verify.ArtifactDigest
		matched, mismatched := 0, []string{}
		for _, alg := range digestAlgorithms {
			h, ok := s.Digest[alg]
			d, have := art.Digests[alg]
			if !ok || !have {
				continue
			}
			ds = append(ds, verify.ArtifactDigest{Algorithm: alg, Digest: d})
			if !seen[alg] {
				seen[alg] = true
				tried = append(tried, verify.ArtifactDigest{Algorithm: alg, Digest: d})
			}
			if strings.EqualFold(h, hex.EncodeToString(d)) {
				matched++
			} else {
				mismatched = append(mismatched, alg)
			}
		}
		switch {
		case matched > 0 && len(mismatched) == 0:
			return s, ds, nil
		case matched > 0:
			partial = append(partial, fmt.Sprintf("subject %q matches the artifact in some algorithms but not in %s", s.Name, strings.Join(mismatched, ", ")))
		}
	}
	switch {
	case len(tried) == 0:
		return nil, nil, fmt.Errorf("the artifact %s has no digest in an algorithm the statement's subjects use (%s)", art.Name, subjectAlgorithms(st))
	case len(partial) > 0:
		return nil, nil, fmt.Errorf("no subject of the statement has %s, the digest of %s: %s", digestList(tried, " or "), art.Name, strings.Join(partial, "; "))
	}
	return nil, nil, fmt.Errorf("no subject of the statement has %s, the digest of %s", digestList(tried, " or "), art.Name)
}

// digestList renders digests as "alg:hex" joined by sep.
func digestList(ds []verify.ArtifactDigest, sep string) string {
	parts := make([]string, len(ds))
	for i, d := range ds {
		parts[i] = d.Algorithm + ":" + hex.EncodeToString(d.Digest)
	}
	return strings.Join(parts, sep)
}

func subjectAlgorithms(st *statement) string {
	seen := map[string]bool{}
	var algs []string
	for _, s := range st.Subject {
		for alg := range s.Digest {
			if !seen[alg] {
				seen[alg] = true
				algs = append(algs, alg)
			}
		}
	}
	sort.Strings(algs)
	return strings.Join(algs, ", ")
}

func subjectReason(s *subject, art Artifact, ds []verify.ArtifactDigest) string {
	return fmt.Sprintf("subject %q has %s, the digest of %s", s.Name, digestList(ds, " and "), art.Name)
}
