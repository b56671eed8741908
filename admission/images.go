package admission

import (
	"encoding/json"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// podSpecOf decodes an object of kind gvk and returns its pod spec and
// the path to it; ok is false for a kind that carries none (the webhook
// has nothing to judge).
func podSpecOf(gvk metav1.GroupVersionKind, raw []byte) (spec *corev1.PodSpec, path string, ok bool, err error) {
	decode := func(v any) error {
		if err := json.Unmarshal(raw, v); err != nil {
			return fmt.Errorf("decoding the %s %s/%s: %w", gvk.Kind, gvk.Group, gvk.Version, err)
		}
		return nil
	}
	switch gvk {
	case metav1.GroupVersionKind{Version: "v1", Kind: "Pod"}:
		var o corev1.Pod
		return &o.Spec, "spec", true, decode(&o)
	case metav1.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}:
		var o appsv1.Deployment
		return &o.Spec.Template.Spec, "spec.template.spec", true, decode(&o)
	case metav1.GroupVersionKind{Group: "apps", Version: "v1", Kind: "ReplicaSet"}:
		var o appsv1.ReplicaSet
		return &o.Spec.Template.Spec, "spec.template.spec", true, decode(&o)
	case metav1.GroupVersionKind{Group: "apps", Version: "v1", Kind: "StatefulSet"}:
		var o appsv1.StatefulSet
		return &o.Spec.Template.Spec, "spec.template.spec", true, decode(&o)
	case metav1.GroupVersionKind{Group: "apps", Version: "v1", Kind: "DaemonSet"}:
		var o appsv1.DaemonSet
		return &o.Spec.Template.Spec, "spec.template.spec", true, decode(&o)
	case metav1.GroupVersionKind{Group: "batch", Version: "v1", Kind: "Job"}:
		var o batchv1.Job
		return &o.Spec.Template.Spec, "spec.template.spec", true, decode(&o)
	case metav1.GroupVersionKind{Group: "batch", Version: "v1", Kind: "CronJob"}:
		var o batchv1.CronJob
		return &o.Spec.JobTemplate.Spec.Template.Spec, "spec.jobTemplate.spec.template.spec", true, decode(&o)
	}
	return nil, "", false, nil
}

// imagesOf lists the images of every container of spec: containers,
// initContainers and ephemeralContainers.
func imagesOf(spec *corev1.PodSpec, path string) []Image {
	var out []Image
	for i, c := range spec.InitContainers {
		out = append(out, Image{Container: fmt.Sprintf("%s.initContainers[%d] (%s)", path, i, c.Name), Ref: c.Image})
	}
	for i, c := range spec.Containers {
		out = append(out, Image{Container: fmt.Sprintf("%s.containers[%d] (%s)", path, i, c.Name), Ref: c.Image})
	}
	for i, c := range spec.EphemeralContainers {
		out = append(out, Image{Container: fmt.Sprintf("%s.ephemeralContainers[%d] (%s)", path, i, c.Name), Ref: c.Image})
	}
	return out
}
