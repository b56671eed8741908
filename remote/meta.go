package remote

import (
	"context"
	"net/http"
)

// TrustDomain asks GET /meta for domains.artifact_attestations.trust_domain:
// the trust domain a GitHub Enterprise Cloud tenant (<tenant>.ghe.com)
// signs artifact attestations under, which picks its trusted root in
// GitHub's TUF repository (as gh attestation does). It is "" where the
// server names none, as github.com.
func (g *GitHub) TrustDomain(ctx context.Context) (string, error) {
	var body struct {
		Domains struct {
			ArtifactAttestations struct {
				TrustDomain string `json:"trust_domain"`
			} `json:"artifact_attestations"`
		} `json:"domains"`
	}
	if _, err := g.do(ctx, "reading the artifact attestations trust domain (GET /meta)", opRead, http.MethodGet, "meta", nil, &body); err != nil {
		return "", err
	}
	return body.Domains.ArtifactAttestations.TrustDomain, nil
}
