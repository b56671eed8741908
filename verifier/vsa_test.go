package verifier

import (
	"errors"
	"strings"
	"testing"
)

// TestVSAPolicyErrors: a VSA predicate type needs a verifier id, and the
// VSA flags need the VSA predicate type.
func TestVSAPolicyErrors(t *testing.T) {
	s := newTestSigstore(t)
	tests := []struct {
		name   string
		policy Policy
		want   string
	}{
		{"VSA without verifier", Policy{Repo: "o/r", PredicateType: VSAPredicateType}, "needs --verifier-id"},
		{"verifier without VSA", Policy{Repo: "o/r", VerifierID: VerifierID}, "--verifier-id applies to VSAs only"},
		{"resource without VSA", Policy{Repo: "o/r", ResourceURI: "x"}, "--resource-uri applies to VSAs only"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(s.roots(), tt.policy)
			var pe *PolicyError
			if !errors.As(err, &pe) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New = %v, want a PolicyError with %q", err, tt.want)
			}
			if err := tt.policy.Validate(); err == nil {
				t.Error("Validate accepted it")
			}
		})
	}
}
