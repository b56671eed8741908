package attest

// publish.go: where attest publishes the signed bundle, as homes
// (internal/homes): GitHub's attestations API, each image subject's
// registry and a GitHub release. Every home asked for is checked before
// anything is signed (checkHomes) and published to after (publish); a
// failed publication keeps the bundle where it is and says what to run.

import (
	"errors"
	"strings"

	"github.com/provenant/provenant/internal/cmdutil"
	"github.com/provenant/provenant/internal/homes"
	"github.com/provenant/provenant/provenance"
)

// Publisher makes the homes of attest's options.
type Publisher struct {
	// F is the factory; Log the command's log.
	F   *cmdutil.Factory
	Log *cmdutil.Logger
	// GitHubToken is --github-token (default in Actions: GITHUB_TOKEN;
	// false: none).
	GitHubToken string
	// Overwrite replaces a release asset of the same name.
	Overwrite bool
}

// token is the token GitHub is written with: --github-token, or in
// Actions GITHUB_TOKEN; "" when none or false.
func (p *Publisher) token() string {
	token := strings.TrimSpace(p.GitHubToken)
	if token == "" && p.F.InActions() {
		token = p.F.Getenv("GITHUB_TOKEN")
	}
	if strings.EqualFold(token, "false") {
		return ""
	}
	return token
}

// GitHubAPI is the workflow repository's attestations (nothing is
// published without a token).
func (p *Publisher) GitHubAPI() *homes.GitHubAPI {
	return &homes.GitHubAPI{F: p.F, Log: p.Log, Token: p.token(), Repo: p.F.Getenv("GITHUB_REPOSITORY")}
}

// Release is the release tagged tag of GITHUB_REPOSITORY, the bundle
// beside each file subject (nothing is published without a tag).
func (p *Publisher) Release(tag string, subjects []provenance.Subject) *homes.Release {
	return &homes.Release{F: p.F, Log: p.Log, Repo: p.F.Getenv("GITHUB_REPOSITORY"), Tag: strings.TrimSpace(tag),
		Token: p.token(), Subjects: subjects, Overwrite: p.Overwrite}
}

// Registries are the image subjects' registries, under allowed.
func (p *Publisher) Registries(subjects []provenance.Subject, allowed []string) *homes.Registries {
	return &homes.Registries{F: p.F, Log: p.Log, Subjects: subjects, Allowed: allowed}
}

// homesOf are the homes o asks for, in the order they are published to.
func homesOf(o *Options, log *cmdutil.Logger, subjects []provenance.Subject) []homes.Home {
	p := &Publisher{F: o.f, Log: log, GitHubToken: o.GitHubToken, Overwrite: o.Overwrite}
	hs := []homes.Home{p.GitHubAPI()}
	if o.PushToRegistry {
		hs = append(hs, p.Registries(subjects, allowedRegistries(o.f, o.AllowedRegistries)))
	}
	if strings.TrimSpace(o.UploadToRelease) != "" {
		hs = append(hs, p.Release(o.UploadToRelease, subjects))
	}
	return hs
}

// checkHomes checks, before anything is signed, every home o asks for: an
// unsigned statement is published nowhere but the file.
func checkHomes(o *Options, hs []homes.Home) error {
	if o.NoSign {
		switch {
		case o.PushToRegistry:
			return errors.New("push-to-registry needs a signed bundle, and no-sign writes an unsigned statement that cosign, Kyverno and provenant verify oci:// all refuse: drop no-sign, or push-to-registry")
		case strings.TrimSpace(o.UploadToRelease) != "":
			return errors.New("upload-to-release: an unsigned statement is not uploaded (no-sign is set)")
		}
		return nil
	}
	for _, h := range hs {
		if err := h.Check(); err != nil {
			return err
		}
	}
	return nil
}

// publish publishes the signed bundle to every home, each tried even when
// another failed; each failure is logged as it happens, and the run then
// fails (exit 1).
func (r *run) publish(hs []homes.Home, s homes.Signed) error {
	failed := false
	for _, h := range hs {
		for _, e := range each(h.Publish(r.ctx, s)) {
			failed = true
			r.log.Error(e.Error())
		}
	}
	if failed {
		return cmdutil.ErrSilentFailure
	}
	return nil
}

// each is the errors err joins (one per image of a registry), or err.
func each(err error) []error {
	if err == nil {
		return nil
	}
	var fe *cmdutil.FailedError
	if errors.As(err, &fe) {
		if j, ok := fe.Err.(interface{ Unwrap() []error }); ok {
			return j.Unwrap()
		}
	}
	return []error{err}
}

// allowedRegistries are the prefixes image subjects must start with to be
// pushed to: the ones given, else in GitHub Actions ghcr.io/<owner>/ of the
// repository running. The subjects may come from a checksums file the
// build wrote, and the job's registry credentials go wherever they name:
// the workflow, not the build, says where that may be. Outside Actions,
// with none given, the person at the terminal named the subjects: nil.
func allowedRegistries(f *cmdutil.Factory, given []string) []string {
	if len(given) > 0 {
		return given
	}
	if owner := f.Getenv("GITHUB_REPOSITORY_OWNER"); f.InActions() && owner != "" {
		return []string{"ghcr.io/" + strings.ToLower(owner) + "/"}
	}
	return nil
}
