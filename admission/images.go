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
	k, ok := podKinds[gvk]
	if !ok {
		return nil, "", false, nil
	}
	spec, err = k.decode(raw)
	if err != nil {
		return nil, "", true, fmt.Errorf("decoding the %s %s/%s: %w", gvk.Kind, gvk.Group, gvk.Version, err)
	}
	return spec, k.path, true, nil
}

// kindDecoder decodes one kind with a pod spec.
type kindDecoder struct {
	path   string
	decode func(raw []byte) (*corev1.PodSpec, error)
}

// kindOf is the kindDecoder of T, whose pod spec is at path.
func kindOf[T any](path string, spec func(*T) *corev1.PodSpec) kindDecoder {
	return kindDecoder{path: path, decode: func(raw []byte) (*corev1.PodSpec, error) {
		var o T
		if err := json.Unmarshal(raw, &o); err != nil {
			return nil, err
		}
		return spec(&o), nil
	}}
}

// podKinds are the kinds judged: Pods and every workload with a pod
// template.
var podKinds = map[metav1.GroupVersionKind]kindDecoder{
	{Version: "v1", Kind: "Pod"}:                        kindOf("spec", func(o *corev1.Pod) *corev1.PodSpec { return &o.Spec }),
	{Group: "apps", Version: "v1", Kind: "Deployment"}:  kindOf(templatePath, func(o *appsv1.Deployment) *corev1.PodSpec { return &o.Spec.Template.Spec }),
	{Group: "apps", Version: "v1", Kind: "ReplicaSet"}:  kindOf(templatePath, func(o *appsv1.ReplicaSet) *corev1.PodSpec { return &o.Spec.Template.Spec }),
	{Group: "apps", Version: "v1", Kind: "StatefulSet"}: kindOf(templatePath, func(o *appsv1.StatefulSet) *corev1.PodSpec { return &o.Spec.Template.Spec }),
	{Group: "apps", Version: "v1", Kind: "DaemonSet"}:   kindOf(templatePath, func(o *appsv1.DaemonSet) *corev1.PodSpec { return &o.Spec.Template.Spec }),
	{Group: "batch", Version: "v1", Kind: "Job"}:        kindOf(templatePath, func(o *batchv1.Job) *corev1.PodSpec { return &o.Spec.Template.Spec }),
	{Group: "batch", Version: "v1", Kind: "CronJob"}: kindOf("spec.jobTemplate.spec.template.spec", func(o *batchv1.CronJob) *corev1.PodSpec {
		return &o.Spec.JobTemplate.Spec.Template.Spec
	}),
}

// templatePath is where a workload's pod spec is.
const templatePath = "spec.template.spec"

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
