package admission

import (
	"crypto/tls"
	"fmt"
	"sync"
	"time"
)

// certReloader serves the serving certificate from its files as they are
// now: each TLS handshake stats them, and they are read again when either
// changed (cert-manager renews the Secret, the kubelet updates the
// mounted files), so a renewal needs no restart. A pair that cannot be
// read or does not match keeps the one before in use.
type certReloader struct {
	certFile, keyFile string
	fsys              FileSystem

	mu      sync.Mutex
	stamp   string
	current *tls.Certificate
}

// newCertReloader loads the pair once; it fails when it cannot.
func newCertReloader(certFile, keyFile string, fsys FileSystem) (*certReloader, error) {
	r := &certReloader{certFile: certFile, keyFile: keyFile, fsys: fsys}
	if _, err := r.get(nil); err != nil {
		return nil, err
	}
	return r, nil
}

// get is tls.Config.GetCertificate.
func (r *certReloader) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	stamp, err := r.stampOf()
	r.mu.Lock()
	defer r.mu.Unlock()
	if err == nil && stamp == r.stamp {
		return r.current, nil
	}
	cert, lerr := r.load()
	if err == nil {
		err = lerr
	}
	if err != nil {
		if r.current != nil {
			return r.current, nil
		}
		return nil, err
	}
	r.stamp, r.current = stamp, cert
	return cert, nil
}

// stampOf is the files' sizes and modification times.
func (r *certReloader) stampOf() (string, error) {
	var stamp string
	for _, f := range []struct{ flag, path string }{{"--tls-cert-file", r.certFile}, {"--tls-private-key-file", r.keyFile}} {
		fi, err := r.fsys.Stat(f.path)
		if err != nil {
			return "", fmt.Errorf("%s: %w", f.flag, err)
		}
		stamp += fmt.Sprintf("%d/%s;", fi.Size(), fi.ModTime().Format(time.RFC3339Nano))
	}
	return stamp, nil
}

// load reads and parses the pair.
func (r *certReloader) load() (*tls.Certificate, error) {
	certPEM, err := r.fsys.ReadFile(r.certFile)
	if err != nil {
		return nil, fmt.Errorf("reading --tls-cert-file: %w", err)
	}
	keyPEM, err := r.fsys.ReadFile(r.keyFile)
	if err != nil {
		return nil, fmt.Errorf("reading --tls-private-key-file: %w", err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("--tls-cert-file %s and --tls-private-key-file %s: %w", r.certFile, r.keyFile, err)
	}
	return &cert, nil
}
