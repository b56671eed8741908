// Package ghworkflow holds the rules of GitHub Actions workflow identities
// that provenant's verifier and its Kyverno policy generator read alike:
// how a workflow URI "https://host/owner/repo/.github/workflows/f.yml@ref"
// splits and compares (host and owner/repo without case, the path with
// it), which builders are trusted without a pin, and which ref makes a
// builder a released one. One copy, so that verify and the admission
// policy cannot drift apart.
package ghworkflow

import (
	"regexp"
	"strings"

	"github.com/slsa-framework/slsa-verifier/v2/verifiers/utils"
)

// GeneratorRepo is where slsa-github-generator's trusted workflows live.
const GeneratorRepo = "https://github.com/slsa-framework/slsa-github-generator"

// GitHubAttestationWorkflows is GitHub's repository of reusable
// attestation workflows (actions/attest from a reusable workflow).
const GitHubAttestationWorkflows = "https://github.com/github/artifact-attestations-workflows"

// trustedBuilders are the build platforms trusted without a pin in the
// policy: slsa-github-generator's generators and delegators at a release
// tag vX.Y.Z (as slsa-verifier requires, utils.IsValidBuilderTag), and
// GitHub's own reusable attestation workflows (only GitHub can push there).
var trustedBuilders = []struct {
	workflow string // the workflow URI without ref, or a repository URL + "/" for any workflow in it
	needTag  bool   // the ref must be refs/tags/vX.Y.Z
}{
	{GeneratorRepo + "/.github/workflows/generator_generic_slsa3.yml", true},
	{GeneratorRepo + "/.github/workflows/generator_container_slsa3.yml", true},
	{GeneratorRepo + "/.github/workflows/builder_go_slsa3.yml", true},
	{GeneratorRepo + "/.github/workflows/builder_container-based_slsa3.yml", true},
	{GeneratorRepo + "/.github/workflows/delegator_generic_slsa3.yml", true},
	{GeneratorRepo + "/.github/workflows/delegator_lowperms-generic_slsa3.yml", true},
	{GitHubAttestationWorkflows + "/.github/workflows/", false},
}

// trustedDelegators are the slsa-github-generator workflows that may sign
// provenance on behalf of another builder (BYOB), as in slsa-verifier.
var trustedDelegators = []string{
	GeneratorRepo + "/.github/workflows/delegator_generic_slsa3.yml",
	GeneratorRepo + "/.github/workflows/delegator_lowperms-generic_slsa3.yml",
}

// IsReleasedRef reports whether a builder's ref is a release tag
// refs/tags/vX.Y.Z, as slsa-verifier requires of builders
// (utils.IsValidBuilderTag): a branch moves, and a commit may exist only in
// a fork (an imposter commit).
func IsReleasedRef(ref string) bool { return utils.IsValidBuilderTag(ref, false) == nil }

// RepoOf returns the repository URL of a workflow URI
// "https://host/o/r/.github/workflows/f.yml@ref", or "".
func RepoOf(uri string) string {
	if i := strings.Index(uri, "/.github/workflows/"); i >= 0 {
		return uri[:i]
	}
	return ""
}

// Split splits "https://host/o/r/path" into "https://host/o/r" and "/path".
func Split(u string) (repo, path string) {
	scheme, rest, found := strings.Cut(u, "://")
	parts := strings.SplitN(rest, "/", 4)
	if !found || len(parts) < 4 {
		return u, ""
	}
	return scheme + "://" + strings.Join(parts[:3], "/"), "/" + parts[3]
}

// Same compares two workflow URIs "https://host/o/r/path", ignoring case
// in the host and owner/repo only.
func Same(a, b string) bool {
	ar, ap := Split(a)
	br, bp := Split(b)
	return strings.EqualFold(ar, br) && ap == bp
}

// QuoteRegexp quotes a workflow URI "https://host/o/r/path" as a regular
// expression that ignores case in the host and owner/repo (GitHub names
// are case-insensitive) but not in the path (file names are not).
func QuoteRegexp(wf string) string {
	scheme, rest, found := strings.Cut(wf, "://")
	if !found {
		return regexp.QuoteMeta(wf)
	}
	parts := strings.SplitN(rest, "/", 4)
	if len(parts) < 4 {
		return "(?i:" + regexp.QuoteMeta(wf) + ")"
	}
	return "(?i:" + regexp.QuoteMeta(scheme+"://"+strings.Join(parts[:3], "/")) + ")" + regexp.QuoteMeta("/"+parts[3])
}

// IsBuiltinTrustedBuilder reports whether a Build Signer URI names one of
// the builders trusted without a pin at an acceptable ref (the generators
// at a release tag; GitHub's attestation workflows at any ref, since only
// GitHub can push there — L3 asks more, see IsReleasedRef).
func IsBuiltinTrustedBuilder(signerURI string) bool {
	name, ref, ok := strings.Cut(signerURI, "@")
	if !ok {
		return false
	}
	for _, b := range trustedBuilders {
		match := Same(name, b.workflow)
		if strings.HasSuffix(b.workflow, "/") {
			repo, path := Split(name)
			wantRepo, wantPath := Split(b.workflow)
			match = strings.EqualFold(repo, wantRepo) && strings.HasPrefix(path, wantPath) && len(path) > len(wantPath)
		}
		if match && (!b.needTag || IsReleasedRef(ref)) {
			return true
		}
	}
	return false
}

// IsTrustedDelegator reports whether a Build Signer URI is one of
// slsa-github-generator's delegators at a release tag refs/tags/vX.Y.Z, as
// slsa-verifier requires: a branch or a bare commit of the delegator is not
// trusted to sign for another builder.
func IsTrustedDelegator(signerURI string) bool {
	name, ref, ok := strings.Cut(signerURI, "@")
	if !ok || !IsReleasedRef(ref) {
		return false
	}
	for _, d := range trustedDelegators {
		if Same(name, d) {
			return true
		}
	}
	return false
}

// Issuer is the OIDC issuer of GitHub Actions workflow tokens.
const Issuer = "https://token.actions.githubusercontent.com"

// HostedRunner is the Runner Environment of GitHub-hosted runners.
const HostedRunner = "github-hosted"
