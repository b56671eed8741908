package admission

import (
	"encoding/json"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// podSpecOf decodes an object of kind gvk and returns its pod spec and
// the path to it; ok is false for a kind that carries none (the webhook
// has nothing to judge).
func podSpecOf(gvk metav1.GroupVersionKind, raw []byte) (spec *containers, path string, ok bool, err error) {
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
	decode func(raw []byte) (*containers, error)
}

// kindOf is the kindDecoder of T, whose pod spec is at path.
func kindOf[T any](path string, spec func(*T) *containers) kindDecoder {
	return kindDecoder{path: path, decode: func(raw []byte) (*containers, error) {
		var o T
		if err := json.Unmarshal(raw, &o); err != nil {
			return nil, err
		}
		return spec(&o), nil
	}}
}

// containers is the part of a pod spec judged: each container's name and
// image. Decoding only that, not the whole object into its API type, is
// most of a warm request's saving (BenchmarkHandlerWarm): the rest of an
// object the API server has validated is skipped over. It also keeps
// k8s.io/api/core/v1 out of the binary (its init and size are paid by
// every command's start, BENCHMARKS.md); the tests encode the real API
// types, so the field names are checked against them.
type containers struct {
	InitContainers      []nameImage `json:"initContainers"`
	Containers          []nameImage `json:"containers"`
	EphemeralContainers []nameImage `json:"ephemeralContainers"`
}

type nameImage struct {
	Name  string `json:"name"`
	Image string `json:"image"`
}

// The objects judged, reduced to the path of their pod spec.
type (
	podObject struct {
		Spec containers `json:"spec"`
	}
	template struct {
		Spec containers `json:"spec"`
	}
	workloadObject struct {
		Spec struct {
			Template template `json:"template"`
		} `json:"spec"`
	}
	cronJobObject struct {
		Spec struct {
			JobTemplate struct {
				Spec struct {
					Template template `json:"template"`
				} `json:"spec"`
			} `json:"jobTemplate"`
		} `json:"spec"`
	}
)

func workloadSpec(o *workloadObject) *containers { return &o.Spec.Template.Spec }

// podKinds are the kinds judged: Pods and every workload with a pod
// template.
var podKinds = map[metav1.GroupVersionKind]kindDecoder{
	{Version: "v1", Kind: "Pod"}:                        kindOf("spec", func(o *podObject) *containers { return &o.Spec }),
	{Group: "apps", Version: "v1", Kind: "Deployment"}:  kindOf(templatePath, workloadSpec),
	{Group: "apps", Version: "v1", Kind: "ReplicaSet"}:  kindOf(templatePath, workloadSpec),
	{Group: "apps", Version: "v1", Kind: "StatefulSet"}: kindOf(templatePath, workloadSpec),
	{Group: "apps", Version: "v1", Kind: "DaemonSet"}:   kindOf(templatePath, workloadSpec),
	{Group: "batch", Version: "v1", Kind: "Job"}:        kindOf(templatePath, workloadSpec),
	{Group: "batch", Version: "v1", Kind: "CronJob"}: kindOf("spec.jobTemplate.spec.template.spec", func(o *cronJobObject) *containers {
		return &o.Spec.JobTemplate.Spec.Template.Spec
	}),
}

// templatePath is where a workload's pod spec is.
const templatePath = "spec.template.spec"

// imagesOf lists the images of every container of spec: containers,
// initContainers and ephemeralContainers.
func imagesOf(spec *containers, path string) []Image {
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
