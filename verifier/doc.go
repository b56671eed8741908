// Package verifier checks Sigstore bundles that carry in-toto attestations,
// link by link, and says which link failed:
//
//  1. bundle: the bundle parses and its media type and version are known;
//  2. certificate: the leaf chains to a trusted Fulcio CA at signing time
//     (and carries an SCT when the instance has CT logs);
//  3. timestamps: the transparency log entry and/or RFC 3161 timestamps the
//     trusted root requires;
//  4. signature: one DSSE signature by the certificate's key over an in-toto
//     payload;
//  5. subject: a subject digest equals the artifact's;
//  6. identity: the certificate's SAN, issuer and Fulcio extensions match the
//     policy;
//  7. predicate: the provenance predicate agrees with the certificate;
//  8. provenance: the provenance meets the expectations (builder, source,
//     tag or branch, workflow inputs);
//  9. level: the SLSA Build level reached is at least the one required.
//
// All cryptographic checks (2–5) are sigstore-go's pkg/verify; this package
// decides which trusted root applies, runs sigstore-go once per bundle and,
// only when it fails, re-runs sigstore-go's individual steps to name the
// failing link. The package never reads the environment or the network:
// it takes trusted roots, which package trust loads from files or through
// TUF.
//
// The entry points are New and (*Verifier).VerifyBundle for callers that hold
// parsed bundles, and Verify for callers that hold file names.
//
// Layout: verify.go holds the entry points (Options, Verify, New,
// VerifyBundle) and chain, the one orchestrator, which calls each link in
// order from the file named for it (bundle.go, certificate.go,
// sigstore.go for checks 2–5 as sigstore-go runs them, timestamps.go,
// signature.go, subject.go, identity.go, predicate.go, provenance.go,
// level.go, and vsa.go for a VSA's checks 7–9). items.go verifies many
// artifacts at once, and cache.go lets them share one run of the chain per
// attestation; the policy and its completeness rule are in policy.go, file
// collection in input.go, pass/fail helpers in check.go and rendering
// alone in report.go.
package verifier
