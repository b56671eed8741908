package provenance

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/provenant/provenant/internal/inputfile"
)

// MaxChecksumsSize is the largest checksums file read.
const MaxChecksumsSize = 16 << 20

// ReadChecksums returns the checksum text of the subject-checksums input:
// the file v names (relative to dir), or v itself when it is checksum text
// rather than a path. The file must be a regular file of at most
// MaxChecksumsSize bytes.
func ReadChecksums(ctx context.Context, v, dir string) (text, source string, err error) {
	if strings.Contains(v, "\n") || looksLikeChecksumLine(v) {
		return v, "subject-checksums (inline)", nil
	}
	p := v
	if !filepath.IsAbs(p) {
		p = filepath.Join(dir, p)
	}
	data, err := inputfile.Read(ctx, p, MaxChecksumsSize)
	if err != nil {
		return "", "", &InputError{Input: "subject-checksums", Value: v, Err: err}
	}
	return string(data), v, nil
}

func looksLikeChecksumLine(v string) bool {
	sum, name, ok := strings.Cut(strings.TrimSpace(v), " ")
	if !ok || strings.TrimSpace(name) == "" {
		return false
	}
	for _, c := range sum {
		if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
			return false
		}
	}
	return len(sum) >= 64
}

// PredicateInput is how a custom predicate is given: its type and either a
// file or the JSON inline.
type PredicateInput struct {
	// Type is the predicate type URI; empty for SLSA provenance.
	Type string
	// Path is a file holding the predicate.
	Path string
	// Inline is the predicate's JSON itself.
	Inline string
}

// ReadPredicate returns the custom predicate's JSON, or nil for SLSA
// provenance. A predicate file must be a regular file of at most
// MaxPredicateSize bytes; the JSON itself is checked by NewStatement.
func ReadPredicate(ctx context.Context, in PredicateInput) ([]byte, error) {
	switch {
	case in.Path != "" && in.Inline != "":
		return nil, errors.New("give predicate-path or predicate, not both")
	case in.Type == "" && (in.Path != "" || in.Inline != ""):
		return nil, errors.New("predicate-path and predicate need a predicate-type")
	case in.Type != "" && in.Path == "" && in.Inline == "":
		if in.Type == SLSAProvenanceType {
			return nil, nil
		}
		return nil, fmt.Errorf("predicate-type %s needs predicate-path or predicate", in.Type)
	case in.Inline != "":
		return []byte(in.Inline), nil
	case in.Path != "":
		data, err := inputfile.Read(ctx, in.Path, MaxPredicateSize)
		if err != nil {
			return nil, &InputError{Input: "predicate-path", Value: in.Path, Err: err}
		}
		// Checked here too, so that the error names the file.
		if len(bytes.TrimSpace(data)) == 0 {
			return nil, &InputError{Input: "predicate-path", Value: in.Path, Err: errors.New("an empty file, not a JSON object")}
		}
		if err := json.Unmarshal(data, new(json.RawMessage)); err != nil {
			return nil, &InputError{Input: "predicate-path", Value: in.Path, Err: fmt.Errorf("not valid JSON: %w", err)}
		}
		return data, nil
	}
	return nil, nil
}
