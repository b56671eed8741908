//go:build tools

// Package tools names the main packages this module builds; the build tag
// keeps it out of every build but `go mod tidy`'s.
package tools

import (
	_ "github.com/distribution/distribution/v3/cmd/registry"
	_ "github.com/google/ko"
	_ "github.com/google/trillian/cmd/createtree"
	_ "github.com/google/trillian/cmd/trillian_log_server"
	_ "github.com/google/trillian/cmd/trillian_log_signer"
	_ "github.com/sigstore/fulcio"
	_ "github.com/sigstore/rekor-tiles/v2/cmd/rekor-server/posix"
	_ "github.com/sigstore/rekor/cmd/rekor-server"
	_ "github.com/sigstore/timestamp-authority/v2/cmd/timestamp-server"
	_ "github.com/transparency-dev/tesseract/cmd/tesseract/posix"
)
