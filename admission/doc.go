// Package admission is provenant's validating admission webhook
// (docs/admission.md): it answers AdmissionReview admission.k8s.io/v1
// requests for Pods and every workload with a pod template by verifying
// each image's digest with the same machinery as provenant verify
// (verifier.Verify on the image's registry referrers, then the policy
// file), once per distinct digest per request and once across concurrent
// requests (single-flight), with a verdict cache keyed by everything a
// verdict depends on, a revocation file re-read when it changes, a VSA
// fast path, audit or enforce per namespace, and an answer always before
// a budget below the webhook's timeout.
//
// The command layer runs it as provenant admission serve through Serve;
// the package reads no environment and dials nothing by itself: the
// registry client, the trusted roots, the clock and the file reads are
// given.
package admission
