package provenance

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/url"
	"strconv"
	"strings"
)

// CheckPredicateType refuses a predicate type that is not an absolute URI
// (a scheme and the rest, such as https://slsa.dev/provenance/v1 or
// urn:example:type), as in-toto requires.
func CheckPredicateType(t string) error {
	if t == "" {
		return errors.New("predicate-type is required")
	}
	for _, r := range t {
		if r <= ' ' || r == 0x7f {
			return fmt.Errorf("predicate-type %q is not an absolute URI: it holds a space or control character", t)
		}
	}
	u, err := url.Parse(t)
	if err != nil {
		return fmt.Errorf("predicate-type %q is not an absolute URI: %w", t, err)
	}
	if !u.IsAbs() || (u.Opaque == "" && u.Host == "" && u.Path == "") {
		return fmt.Errorf("predicate-type %q is not an absolute URI (want a scheme, as in https://example.com/predicate/v1)", t)
	}
	return nil
}

// checkPredicateJSON says precisely what is wrong with a predicate that is
// JSON but cannot be attested: not an object, a key given twice in one
// object (JSON leaves its meaning open, and verifiers differ on which one
// wins), or a number outside what a JSON number in a protobuf Struct holds
// (a float64).
func checkPredicateJSON(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("not valid JSON: %w", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return fmt.Errorf("must be a JSON object, not %s", jsonKind(tok))
	}
	if err := checkObject(dec, "$"); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("more than one JSON value")
	}
	return nil
}

func checkObject(dec *json.Decoder, path string) error {
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return fmt.Errorf("not valid JSON: %w", err)
		}
		key := tok.(string)
		at := path + "." + key
		if strings.ContainsAny(key, ".[]") {
			at = path + "[" + strconv.Quote(key) + "]"
		}
		if seen[key] {
			return fmt.Errorf("the key %q appears twice in the object at %s", key, path)
		}
		seen[key] = true
		if err := checkValue(dec, at); err != nil {
			return err
		}
	}
	_, err := dec.Token() // '}'
	return err
}

func checkValue(dec *json.Decoder, path string) error {
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("not valid JSON: %w", err)
	}
	switch v := tok.(type) {
	case json.Delim:
		if v == '{' {
			return checkObject(dec, path)
		}
		for i := 0; dec.More(); i++ {
			if err := checkValue(dec, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		_, err := dec.Token() // ']'
		return err
	case json.Number:
		f, err := strconv.ParseFloat(v.String(), 64)
		if err != nil || math.IsInf(f, 0) {
			return fmt.Errorf("the number %s at %s is out of range (a JSON number in a predicate must fit a float64)", v, path)
		}
	}
	return nil
}

func jsonKind(tok json.Token) string {
	switch v := tok.(type) {
	case json.Delim:
		if v == '[' {
			return "an array"
		}
	case string:
		return "a string"
	case json.Number, float64:
		return "a number"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%v", tok)
}
