package trust

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/sigstore/sigstore-go/pkg/root"

	"github.com/provenant/provenant/internal/inputfile"
)

// TrustedRoot is the trust material of one Sigstore instance, with a name
// for reports ("public-good", "github", or where it came from).
type TrustedRoot struct {
	Name string
	Root root.TrustedMaterial
}

// ParseTrustedRoots parses a trusted_root.json, or a file of several
// trusted roots one after the other (JSON Lines: several instances).
// source names the input in errors, and the instances ("source:N" for the
// Nth of several) when their Fulcio URI does not name a known one.
func ParseTrustedRoots(source string, data []byte) ([]TrustedRoot, error) {
	dec := json.NewDecoder(bytes.NewReader(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))))
	var docs []json.RawMessage
	for {
		var doc json.RawMessage
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: not a Sigstore trusted root: %w", source, err)
		}
		docs = append(docs, doc)
	}
	if len(docs) == 0 {
		return nil, fmt.Errorf("%s: empty file", source)
	}
	var out []TrustedRoot
	for i, d := range docs {
		name := source
		if len(docs) > 1 {
			name = fmt.Sprintf("%s:%d", source, i+1)
		}
		tr, err := root.NewTrustedRootFromJSON(d)
		if err != nil {
			return nil, fmt.Errorf("%s: not a Sigstore trusted root: %w", name, err)
		}
		out = append(out, TrustedRoot{Name: instanceName(tr, name), Root: tr})
	}
	return out, nil
}

// MaxTrustedRootFileSize bounds what LoadTrustedRoots reads: 16 MiB, where
// a trusted root of several instances is tens of KiB.
const MaxTrustedRootFileSize = 16 << 20

// LoadTrustedRoots reads trusted roots from a file (see ParseTrustedRoots):
// a regular file of at most MaxTrustedRootFileSize bytes.
func LoadTrustedRoots(path string) ([]TrustedRoot, error) {
	data, err := inputfile.Read(context.Background(), path, MaxTrustedRootFileSize)
	if err != nil {
		return nil, fmt.Errorf("reading trusted root %s: %w", path, err)
	}
	return ParseTrustedRoots(filepath.Base(path), data)
}

// instanceName names an instance by its Fulcio URI when it is a known one.
func instanceName(tr *root.TrustedRoot, fallback string) string {
	for _, ca := range tr.FulcioCertificateAuthorities() {
		f, ok := ca.(*root.FulcioCertificateAuthority)
		if !ok {
			continue
		}
		switch {
		case strings.Contains(f.URI, "fulcio.sigstore.dev"):
			return PublicGood
		case strings.Contains(f.URI, "githubapp.com"), strings.Contains(f.URI, "github.com"):
			return GitHub
		}
	}
	return fallback
}
