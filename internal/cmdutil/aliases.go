package cmdutil

// aliases.go: one spelling per idea across the commands. Each idea that
// several commands (or provenant and its peers) take a flag for has one
// name, the one help shows; the other spellings users paste — gh
// attestation verify's, cosign verify-blob-attestation's, slsa-verifier's,
// and provenant's own earlier ones — are hidden aliases: a flag-name
// normaliser maps them to the one flag, so parsing, "was it given" and
// completion all see one flag, and help lists it once.

import (
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// FlagIdea is one idea and its spellings.
type FlagIdea struct {
	// Idea says what the flag is for.
	Idea string
	// Name is the one spelling help shows.
	Name string
	// Shorthand is its one-letter form, "" for none; the letter means this
	// flag in every command that has it.
	Shorthand string
	// Aliases are the other spellings, accepted and never shown.
	Aliases []string
}

// FlagIdeas are the ideas several commands, or provenant and its peers,
// name. The test in internal/cli walks every command against this table.
var FlagIdeas = []FlagIdea{
	// gh's -O/--output (gh release download, gh run download's file).
	{"where the command writes its result: attest's bundle, download's .jsonl files, policy init's and policy kyverno's policy, verify's JSON report", "output", "O",
		[]string{"out", "out-dir", "report"}},
	// gh attestation verify's names; cosign's are aliases.
	{"the certificate's OIDC issuer", "cert-oidc-issuer", "", []string{"certificate-oidc-issuer"}},
	{"the certificate's identity (SAN), exactly", "cert-identity", "", []string{"certificate-identity"}},
	{"the certificate's identity (SAN), a regular expression", "cert-identity-regexp", "i", []string{"cert-identity-regex", "certificate-identity-regexp"}},
	// gh's name (gh attestation verify --custom-trusted-root is the alias).
	{"the trusted roots", "trusted-root", "", []string{"custom-trusted-root"}},
	// slsa-verifier's --provenance-path and --build-workflow-input.
	{"bundle files to verify", "bundle", "b", []string{"provenance-path"}},
	{"an expected workflow input", "workflow-input", "", []string{"build-workflow-input"}},
	// gh attestation verify --source-ref; policy kyverno's --ref was the
	// same idea.
	{"the source ref the provenance must name", "source-ref", "", []string{"ref"}},
	// actions/attest-build-provenance's show-summary input.
	{"a step summary in GitHub Actions", "show-summary", "", []string{"summary"}},
	// -v is --verbose; the version is --version (and the version command),
	// with no letter: the root's -v is a hidden leftover.
	{"more detail in the text output", "verbose", "v", nil},
	{"the version of provenant", "version", "", nil},
	{"the source repository", "repo", "R", nil},
	{"the source repository's owner", "owner", "o", nil},
	{"the digest algorithm of artifact files", "digest-alg", "d", nil},
	{"how many attestations to fetch", "limit", "L", nil},
}

// aliasOf maps each alias to its flag's name.
var aliasOf = func() map[string]string {
	m := map[string]string{}
	for _, idea := range FlagIdeas {
		for _, a := range idea.Aliases {
			m[a] = idea.Name
		}
	}
	return m
}()

// AliasesOf are the hidden spellings of the flag name.
func AliasesOf(name string) []string {
	for _, idea := range FlagIdeas {
		if idea.Name == name {
			return idea.Aliases
		}
	}
	return nil
}

// NormalizeFlagName is the flag-name normaliser of every command: an alias
// is its flag (--out is --output). A name no command defines stays unknown
// under the name given.
func NormalizeFlagName(_ *pflag.FlagSet, name string) pflag.NormalizedName {
	if to, ok := aliasOf[name]; ok {
		return pflag.NormalizedName(to)
	}
	return pflag.NormalizedName(name)
}

// NormalizeFlags sets NormalizeFlagName on cmd's flags; a command calls it
// before defining them, so that it takes the aliases built on its own too
// (the root sets it on every command again).
func NormalizeFlags(cmd *cobra.Command) {
	cmd.Flags().SetNormalizeFunc(NormalizeFlagName)
}
