//go:build windows

package trust

import (
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/windows"
)

// TestWinSecurity_RealFolders runs the Windows security API reading
// (winSecurity) on real folders: a fresh folder is the user's and passes;
// the same folder once its DACL grants Everyone modify is refused.
func TestWinSecurity_RealFolders(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tuf")
	if err := CheckCacheDir(dir); err != nil {
		t.Fatalf("a fresh folder of the user's: %v", err)
	}
	user, err := winSecurity{}.currentUser()
	if err != nil || !strings.HasPrefix(user, "S-1-") {
		t.Fatalf("current user %q, %v", user, err)
	}
	sec, err := winSecurity{}.folder(dir)
	if err != nil || !trustedOwner(sec.Owner, user) || sec.NoDACL || len(sec.ACEs) == 0 {
		t.Fatalf("folder security %+v, %v (user %s)", sec, err, user)
	}

	sd, err := windows.GetNamedSecurityInfo(dir, windows.SE_FILE_OBJECT, windows.DACL_SECURITY_INFORMATION)
	if err != nil {
		t.Fatal(err)
	}
	current, _, err := sd.DACL()
	if err != nil {
		t.Fatal(err)
	}
	everyone, err := windows.CreateWellKnownSid(windows.WinWorldSid)
	if err != nil {
		t.Fatal(err)
	}
	dacl, err := windows.ACLFromEntries([]windows.EXPLICIT_ACCESS{{
		AccessPermissions: 0x1301bf, // modify
		AccessMode:        windows.GRANT_ACCESS,
		Inheritance:       windows.NO_INHERITANCE,
		Trustee: windows.TRUSTEE{
			TrusteeForm:  windows.TRUSTEE_IS_SID,
			TrusteeType:  windows.TRUSTEE_IS_WELL_KNOWN_GROUP,
			TrusteeValue: windows.TrusteeValueFromSID(everyone),
		},
	}}, current)
	if err != nil {
		t.Fatal(err)
	}
	if err := windows.SetNamedSecurityInfo(dir, windows.SE_FILE_OBJECT, windows.DACL_SECURITY_INFORMATION, nil, nil, dacl, nil); err != nil {
		t.Fatal(err)
	}
	if err := CheckCacheDir(dir); err == nil || !strings.Contains(err.Error(), "writable by Everyone") {
		t.Errorf("a folder Everyone may modify: %v, want it refused", err)
	}
}
