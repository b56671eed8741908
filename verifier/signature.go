package verifier

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/provenant/provenant/internal/formats"

	intoto "github.com/in-toto/in-toto-golang/in_toto"

	"github.com/sigstore/sigstore-go/pkg/bundle"
)

// statement is the part of an in-toto statement (v0.1 or v1) this package reads.
type statement struct {
	Type          string          `json:"_type"`
	PredicateType string          `json:"predicateType"`
	Subject       []subject       `json:"subject"`
	Predicate     json.RawMessage `json:"predicate"`
}

// InTotoPayloadType is the DSSE payload type of in-toto statements.
const InTotoPayloadType = formats.InTotoPayloadType

// readStatement decodes the in-toto statement of a DSSE bundle.
func readStatement(b *bundle.Bundle) (*statement, error) {
	env, err := b.Envelope()
	if err != nil {
		return nil, errors.New("the bundle holds a message signature, not a DSSE envelope: it carries no attestation")
	}
	if env.PayloadType != InTotoPayloadType {
		return nil, fmt.Errorf("DSSE payload type is %q, not %q", env.PayloadType, InTotoPayloadType)
	}
	if n := len(env.Signatures); n != 1 {
		return nil, fmt.Errorf("the DSSE envelope has %d signatures; a Sigstore bundle must have exactly one", n)
	}
	raw, err := env.DecodeB64Payload()
	if err != nil {
		return nil, fmt.Errorf("DSSE payload is not base64: %w", err)
	}
	var st statement
	if err := json.Unmarshal(raw, &st); err != nil {
		return nil, fmt.Errorf("DSSE payload is not an in-toto statement: %w", err)
	}
	if st.Type != intoto.StatementInTotoV1 && st.Type != intoto.StatementInTotoV01 {
		return nil, fmt.Errorf("DSSE payload has _type %q, not an in-toto statement (v0.1 or v1)", st.Type)
	}
	return &st, nil
}

// signatureReason is check 4's reason when it passes.
var signatureReason = fmt.Sprintf("one DSSE signature by the certificate's key over an %s payload", InTotoPayloadType)
