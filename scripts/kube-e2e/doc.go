// Package kubee2e tests provenant admission serve on a real Kubernetes
// API server: kube-apiserver and etcd (built by scripts/kube, found
// through PROVENANT_KUBE_DIR) started on loopback, the webhook registered
// with a ValidatingWebhookConfiguration, and Pods and Deployments created
// through client-go, of images in a loopback OCI registry attested on the
// local Sigstore stack (scripts/sigstore-stack run). It is a module of its
// own so that client-go and its dependencies stay out of provenant's
// module; it holds tests only.
package kubee2e
