package admission

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// Config is what provenant admission serve is given: its flags (named in
// the comments) and what the command layer builds for it.
type Config struct {
	// Addr is where to listen (--addr, default ":8443").
	Addr string
	// TLSCertFile and TLSKeyFile are the serving certificate and its key
	// (--tls-cert-file, --tls-private-key-file), PEM.
	TLSCertFile, TLSKeyFile string
	// Budget is the time every answer comes within (--budget, default
	// DefaultBudget; keep it below the webhook's timeoutSeconds).
	Budget time.Duration
	// DefaultMode is the mode of /validate (--mode, default enforce);
	// NamespaceModes the mode of named namespaces (--namespace-mode
	// NS=audit|enforce, repeatable).
	DefaultMode    Mode
	NamespaceModes map[string]Mode
	// RevocationFile is the revocation file (--revocation-file); "" is
	// none.
	RevocationFile string
	// FS reads the certificate, its key and the revocation file (os.Stat
	// and os.ReadFile).
	FS FileSystem
	// Cache bounds the verdict cache (--cache-entries, --cache-ttl,
	// --negative-cache-ttl).
	Cache CacheOptions
	// VerifyTimeout bounds one verification, which goes on past the
	// request's budget to answer its retry (--verify-timeout, default 2m).
	VerifyTimeout time.Duration
	// Checker verifies digests: built with NewChecker from verify's own
	// policy flags, --policy, --pins, --trusted-root and the VSA trust
	// (--vsa-verifier-id, --vsa-signer-workflow).
	Checker *Checker
	// Resolver resolves tags (the same remote.OCI as the Checker's
	// Registry).
	Resolver Resolver
	// Logger writes JSON lines (slog.NewJSONHandler on stderr).
	Logger *slog.Logger
	// Listen opens the listener (nil: net.Listen).
	Listen func(network, addr string) (net.Listener, error)
	// Ready, when set, is told the address listened on.
	Ready func(addr net.Addr)
	// Reload, when set, brings new checkers (a policy file, pins or
	// trusted roots read again): each is in force from the next request
	// on, and no verdict of the one before is reused (its policy and
	// root digests are in every cache key).
	Reload <-chan *Checker
}

// Serve runs the webhook until ctx is done, then shuts it down, giving
// the requests in flight up to the budget to be answered. It returns an
// error naming what failed: a certificate that cannot be loaded, a
// revocation file that cannot be read, an address that cannot be
// listened on.
func Serve(ctx context.Context, cfg Config) error {
	if cfg.Checker == nil || cfg.Resolver == nil {
		return errors.New("admission serve: a checker and a resolver are needed")
	}
	if cfg.Addr == "" {
		cfg.Addr = ":8443"
	}
	if cfg.Budget <= 0 {
		cfg.Budget = DefaultBudget
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Listen == nil {
		cfg.Listen = net.Listen
	}
	if cfg.FS == nil {
		return errors.New("admission serve: no FS to read the certificate and the revocation file with")
	}
	certs, err := newCertReloader(cfg.TLSCertFile, cfg.TLSKeyFile, cfg.FS)
	if err != nil {
		return fmt.Errorf("admission serve: loading the serving certificate: %w", err)
	}
	var rev *RevocationWatcher
	if cfg.RevocationFile != "" {
		if rev, err = NewRevocationWatcher(cfg.RevocationFile, cfg.FS, cfg.Cache.Now); err != nil {
			return fmt.Errorf("admission serve: %w", err)
		}
	}
	metrics := NewMetrics()
	engine, err := NewEngine(EngineOptions{Resolver: cfg.Resolver, Cache: NewCache(cfg.Cache), Revocations: rev,
		VerifyTimeout: cfg.VerifyTimeout, Metrics: metrics}, cfg.Checker.State())
	if err != nil {
		return fmt.Errorf("admission serve: %w", err)
	}
	h, err := NewHandler(HandlerOptions{Engine: engine, Budget: cfg.Budget, DefaultMode: cfg.DefaultMode,
		NamespaceModes: cfg.NamespaceModes, Logger: cfg.Logger, Metrics: metrics,
		Ready: func() error { _, _, err := rev.Current(); return err }})
	if err != nil {
		return fmt.Errorf("admission serve: %w", err)
	}
	ln, err := cfg.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("admission serve: listening on --addr %s: %w", cfg.Addr, err)
	}
	srv := &http.Server{
		Handler:           h,
		TLSConfig:         &tls.Config{GetCertificate: certs.get, MinVersion: tls.VersionTLS12},
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       cfg.Budget,
		WriteTimeout:      cfg.Budget + 2*time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelWarn),
	}
	cfg.Logger.Info("serving", "addr", ln.Addr().String(), "budget", cfg.Budget.String(), "mode", string(cfg.DefaultMode),
		"policy", engine.state.Load().PolicyDigest, "roots", engine.state.Load().RootDigest)
	if cfg.Ready != nil {
		cfg.Ready(ln.Addr())
	}
	done := make(chan error, 1)
	go func() { done <- srv.ServeTLS(ln, "", "") }()
	for stop := false; !stop; {
		select {
		case err := <-done:
			return fmt.Errorf("admission serve: %w", err)
		case c := <-cfg.Reload:
			if c != nil {
				engine.SetState(c.State())
				cfg.Logger.Info("policy reloaded", "policy", c.State().PolicyDigest, "roots", c.State().RootDigest)
			}
		case <-ctx.Done():
			stop = true
		}
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.Budget)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("admission serve: shutting down: %w", err)
	}
	if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("admission serve: %w", err)
	}
	return nil
}
