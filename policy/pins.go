package policy

// pins.go is trust on first use of a source repository (docs/policy.md):
// the first verification records its ids, signer and level; later ones
// fail when they change.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"

	"github.com/provenant/provenant/internal/ghworkflow"
	"github.com/provenant/provenant/verifier"
)

// PinsVersion is the version of the pins file format.
const PinsVersion = 1

// Pins is the pins file: what was first seen of each source repository,
// by its Source Repository URI in lower case.
type Pins struct {
	Version int            `json:"version"`
	Sources map[string]Pin `json:"sources"`
}

// Pin is what was seen of one source repository.
type Pin struct {
	// RepositoryID and OwnerID are the certificate's Source Repository
	// (Owner) Identifier.
	RepositoryID string `json:"repositoryId,omitempty"`
	OwnerID      string `json:"ownerId,omitempty"`
	// SignerWorkflow is the Build Signer URI without its ref.
	SignerWorkflow string `json:"signerWorkflow,omitempty"`
	// Level is the highest SLSA Build level seen.
	Level int `json:"level"`
}

// ParsePins reads a pins file; empty data is an empty set of pins.
func ParsePins(data []byte) (*Pins, error) {
	p := &Pins{Version: PinsVersion, Sources: map[string]Pin{}}
	if len(bytes.TrimSpace(data)) == 0 {
		return p, nil
	}
	d := json.NewDecoder(bytes.NewReader(data))
	d.DisallowUnknownFields()
	if err := d.Decode(p); err != nil {
		return nil, fmt.Errorf("pins: %w", err)
	}
	if p.Version != PinsVersion {
		return nil, fmt.Errorf("pins: version %d, want %d", p.Version, PinsVersion)
	}
	if p.Sources == nil {
		p.Sources = map[string]Pin{}
	}
	return p, nil
}

// Marshal returns the pins file's content: indented JSON, sources sorted.
func (p *Pins) Marshal() ([]byte, error) {
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// observe is what one artifact's verified bundles show of each source.
func observe(a verifier.ArtifactResult) map[string]Pin {
	seen := map[string]Pin{}
	for _, b := range a.Bundles {
		if !b.Verified || b.Signer == nil {
			continue
		}
		ext := b.Signer.Extensions
		src := ext.SourceRepositoryURI
		if src == "" && ext.GithubWorkflowRepository != "" {
			// An older certificate with only the deprecated extensions
			// (1.3.6.1.4.1.57264.1.2–.6) still names its source: it is held to
			// the pin too, so a downgrade through such a certificate (no ids,
			// L1) is caught, not skipped.
			src = serverOf(b.Signer.SubjectAlternativeName) + "/" + ext.GithubWorkflowRepository
		}
		if src == "" {
			continue
		}
		key := strings.ToLower(src)
		if old, ok := seen[key]; ok && old.Level >= b.Level {
			continue
		}
		wf, _, _ := strings.Cut(ext.BuildSignerURI, "@")
		seen[key] = Pin{RepositoryID: ext.SourceRepositoryIdentifier, OwnerID: ext.SourceRepositoryOwnerIdentifier, SignerWorkflow: wf, Level: b.Level}
	}
	return seen
}

// Check holds one verified artifact to the pins of its sources and
// records what it shows: a source seen for the first time, a higher level,
// or, with update, any change. Without update a change is an error (a
// *Violation of rule "pins") naming what changed, and nothing is
// recorded for that source. changed says whether the pins changed.
func (p *Pins) Check(a verifier.ArtifactResult, update bool) (changed bool, err error) {
	seen := observe(a)
	keys := make([]string, 0, len(seen))
	for k := range seen {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var errs []error
	for _, src := range keys {
		now := seen[src]
		old, ok := p.Sources[src]
		diffs := pinDiffs(src, old, now)
		switch {
		case !ok, update && (len(diffs) > 0 || old != now):
			p.Sources[src], changed = now, true
		case len(diffs) > 0:
			errs = append(errs, diffs...)
		case now.Level > old.Level:
			old.Level = now.Level
			p.Sources[src], changed = old, true
		}
	}
	if len(errs) > 0 {
		return changed, &Violation{Rule: "pins", Err: fmt.Errorf("%w (accept a change with --update-pins)", errors.Join(errs...))}
	}
	return changed, nil
}

// pinDiffs lists the changes of a source against its pin that fail.
func pinDiffs(src string, old, now Pin) []error {
	var diffs []error
	if old.RepositoryID != now.RepositoryID {
		diffs = append(diffs, fmt.Errorf("repository id of %s changed from %q to %q: not the repository pinned (deleted and recreated?)", src, old.RepositoryID, now.RepositoryID))
	}
	if old.OwnerID != now.OwnerID {
		diffs = append(diffs, fmt.Errorf("owner id of %s changed from %q to %q", src, old.OwnerID, now.OwnerID))
	}
	if oldRepo, nowRepo := ghworkflow.RepoOf(old.SignerWorkflow), ghworkflow.RepoOf(now.SignerWorkflow); !strings.EqualFold(oldRepo, nowRepo) {
		diffs = append(diffs, fmt.Errorf("signer of %s moved from %s to %s, in another repository", src, old.SignerWorkflow, now.SignerWorkflow))
	}
	if now.Level < old.Level {
		diffs = append(diffs, fmt.Errorf("level of %s dropped from SLSA Build L%d to L%d (a downgrade)", src, old.Level, now.Level))
	}
	return diffs
}

// serverOf is the scheme and host of a workflow SAN
// ("https://host/o/r/.github/workflows/f.yml@ref"), the server of its
// repository; https://github.com when the SAN is not such a URI.
func serverOf(san string) string {
	if u, err := url.Parse(san); err == nil && u.Scheme == "https" && u.Host != "" {
		return "https://" + u.Host
	}
	return "https://github.com"
}
