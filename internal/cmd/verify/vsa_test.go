package verify

import (
	"strings"
	"testing"
)

func TestSafeFileName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"app-1.0_linux+amd64.tar.gz", "app-1.0_linux+amd64.tar.gz"},
		{"sha256:abcd", "sha256_abcd"},
		{"../etc/passwd", "_._etc_passwd"},
		{".hidden", "_hidden"},
		{"a\nb\x1b[31m", "a_b__31m"},
		{"naïve", "na_ve"},
		{"", "artifact"},
		{strings.Repeat("x", 300), strings.Repeat("x", maxVSABase)},
	}
	for _, tt := range tests {
		if got := safeFileName(tt.in); got != tt.want {
			t.Errorf("safeFileName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
