package builder

import (
	"net/url"
	"os/exec"
	"strings"
)

// GitFacts asks git about the checkout in dir, for provenance of a local
// build; host is the machine's name. Facts git cannot give stay empty.
func GitFacts(dir, host string) LocalFacts {
	git := func(args ...string) string {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		out, err := cmd.Output()
		if err != nil {
			return ""
		}
		return strings.TrimSpace(string(out))
	}
	return LocalFacts{
		Host:   host,
		Dir:    git("rev-parse", "--show-toplevel"),
		Commit: git("rev-parse", "HEAD"),
		Ref:    git("symbolic-ref", "-q", "HEAD"),
		Remote: RemoteURL(git("config", "--get", "remote.origin.url")),
	}
}

// RemoteURL is a git remote URL as recorded in provenance: the URL as git
// has it (a local path, scp-like user@host:path, or any host's URL, never
// rewritten to another host), without the credentials an https URL may
// carry.
func RemoteURL(remote string) string {
	remote = strings.TrimSpace(remote)
	if !strings.Contains(remote, "://") {
		return remote
	}
	u, err := url.Parse(remote)
	if err != nil {
		return ""
	}
	if u.User != nil {
		if _, hasPassword := u.User.Password(); hasPassword || u.Scheme != "ssh" {
			u.User = nil
		}
	}
	return u.String()
}
