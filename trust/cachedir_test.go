package trust

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	sidMe    = "S-1-5-21-1111111111-2222222222-3333333333-1001"
	sidOther = "S-1-5-21-1111111111-2222222222-3333333333-1002"
)

// fakeSecurity is a securitySource with a folder's owner and ACEs given by
// the test: the Windows decision runs here on every platform.
type fakeSecurity struct {
	user    string
	folders map[string]folderSecurity // by path; parents not listed have the default
	parent  folderSecurity            // every other folder (the parents)
}

func (f fakeSecurity) currentUser() (string, error) { return f.user, nil }

func (f fakeSecurity) folder(path string) (folderSecurity, error) {
	if s, ok := f.folders[path]; ok {
		return s, nil
	}
	return f.parent, nil
}

// ownFolder is the DACL Windows gives a folder under %LocalAppData%:
// SYSTEM, Administrators and the user, full control, inherited.
func ownFolder(owner string) folderSecurity {
	return folderSecurity{Owner: owner, ACEs: []ace{
		{Type: aceAllowed, Flags: 0x10, Mask: 0x1f01ff, SID: sidSystem},
		{Type: aceAllowed, Flags: 0x10, Mask: 0x1f01ff, SID: sidAdministrators},
		{Type: aceAllowed, Flags: 0x10, Mask: 0x1f01ff, SID: sidMe},
	}}
}

func with(s folderSecurity, a ...ace) folderSecurity {
	s.ACEs = append(append([]ace(nil), s.ACEs...), a...)
	return s
}

// systemDrive is C:\ as Windows sets it up: Authenticated Users may create
// folders in it (this folder only) and modify what is below (inherit-only).
var systemDrive = folderSecurity{Owner: "S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464", ACEs: []ace{
	{Type: aceAllowed, Mask: 0x1f01ff, SID: sidAdministrators},
	{Type: aceAllowed, Mask: 0x1f01ff, SID: sidSystem},
	{Type: aceAllowed, Mask: 0x1200a9, SID: sidUsers},
	{Type: aceAllowed, Flags: 0x0b, Mask: 0x1301bf, SID: sidAuthenticated}, // (OI)(CI)(IO)(M)
	{Type: aceAllowed, Mask: fileAppendData, SID: sidAuthenticated},        // create folders
}}

// TestWindowsACLCheck runs the Windows decision (aclChecker) on the owner
// SIDs and ACEs Windows would report, with a fake security source.
func TestWindowsACLCheck(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tuf")
	tests := []struct {
		name   string
		user   string
		folder folderSecurity
		parent folderSecurity
		want   string // "" accepted
	}{
		{"own folder (inherited user, SYSTEM, Administrators)", sidMe, ownFolder(sidMe), ownFolder(sidMe), ""},
		{"owned by Administrators (an elevated process)", sidMe, ownFolder(sidAdministrators), ownFolder(sidMe), ""},
		{"owned by SYSTEM", sidMe, ownFolder(sidSystem), ownFolder(sidMe), ""},
		{"under C:\\ (Authenticated Users create folders there, modify inherit-only)", sidMe, ownFolder(sidMe), systemDrive, ""},
		{"read and execute for Everyone", sidMe, with(ownFolder(sidMe), ace{Type: aceAllowed, Mask: 0x1200a9, SID: sidEveryone}), ownFolder(sidMe), ""},
		{"write for Everyone, but denied first", sidMe, folderSecurity{Owner: sidMe, ACEs: []ace{{Type: 1, Mask: 0x1f01ff, SID: sidEveryone}, {Type: aceAllowed, Mask: 0x1f01ff, SID: sidEveryone}}}, ownFolder(sidMe), "writable by Everyone"},
		{"modify for Everyone", sidMe, with(ownFolder(sidMe), ace{Type: aceAllowed, Mask: 0x1301bf, SID: sidEveryone}), ownFolder(sidMe), "writable by Everyone (S-1-1-0)"},
		{"full control for Authenticated Users", sidMe, with(ownFolder(sidMe), ace{Type: aceAllowed, Mask: 0x1f01ff, SID: sidAuthenticated}), ownFolder(sidMe), "writable by Authenticated Users"},
		{"GENERIC_WRITE for Users", sidMe, with(ownFolder(sidMe), ace{Type: aceAllowed, Mask: genericWrite, SID: sidUsers}), ownFolder(sidMe), "writable by Users"},
		{"create files only for Users", sidMe, with(ownFolder(sidMe), ace{Type: aceAllowed, Mask: fileWriteData, SID: sidUsers}), ownFolder(sidMe), "writable by Users"},
		{"WRITE_DAC for another account", sidMe, with(ownFolder(sidMe), ace{Type: aceAllowed, Mask: accessWriteDAC, SID: sidOther}), ownFolder(sidMe), "another account (" + sidOther + ")"},
		{"conditional write for Everyone", sidMe, with(ownFolder(sidMe), ace{Type: aceAllowedCallback, Mask: 0x1301bf, SID: sidEveryone}), ownFolder(sidMe), "writable by Everyone"},
		{"inherit-only write for Everyone (children only)", sidMe, with(ownFolder(sidMe), ace{Type: aceAllowed, Flags: aceInheritOnly | 0x3, Mask: 0x1f01ff, SID: sidEveryone}), ownFolder(sidMe), ""},
		{"owned by another user", sidMe, ownFolder(sidOther), ownFolder(sidMe), "owned by another account (" + sidOther + "), not by the current user"},
		{"owned by another user who alone may write", sidMe, folderSecurity{Owner: sidOther, ACEs: []ace{{Type: aceAllowed, Mask: 0x1f01ff, SID: sidOther}}}, ownFolder(sidMe), "owned by another account"},
		{"owned by Everyone", sidMe, ownFolder(sidEveryone), ownFolder(sidMe), "owned by Everyone"},
		{"no owner", sidMe, ownFolder(""), ownFolder(sidMe), "owned by no one"},
		{"NULL DACL", sidMe, folderSecurity{Owner: sidMe, NoDACL: true}, ownFolder(sidMe), "writable by everyone (no DACL)"},
		{"a parent lets Users delete its folders", sidMe, ownFolder(sidMe), with(ownFolder(sidMe), ace{Type: aceAllowed, Mask: fileDeleteChild, SID: sidUsers}), "where Users (S-1-5-32-545) may delete or rename folders"},
		{"a parent lets Everyone change its ACL", sidMe, ownFolder(sidMe), with(ownFolder(sidMe), ace{Type: aceAllowed, Mask: accessWriteDAC, SID: sidEveryone}), "where Everyone"},
		{"the user's own entry by another name: OWNER RIGHTS", sidMe, with(ownFolder(sidMe), ace{Type: aceAllowed, Mask: 0x1f01ff, SID: sidOwnerRights}), ownFolder(sidMe), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := fakeSecurity{user: tt.user, folders: map[string]folderSecurity{dir: tt.folder}, parent: tt.parent}
			err := checkCacheDir(dir, aclChecker{src: src})
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), "\n") {
				t.Errorf("not one line: %v", err)
			}
		})
	}
}

// failingSecurity cannot read anything: the folder is refused.
type failingSecurity struct{ userErr, folderErr error }

func (f failingSecurity) currentUser() (string, error) { return sidMe, f.userErr }
func (f failingSecurity) folder(string) (folderSecurity, error) {
	return folderSecurity{}, f.folderErr
}

func TestWindowsACLCheck_UnreadableRefused(t *testing.T) {
	dir := t.TempDir()
	boom := errors.New("access denied")
	for _, src := range []failingSecurity{{userErr: boom}, {folderErr: boom}} {
		if err := checkCacheDir(dir, aclChecker{src: src}); !errors.Is(err, boom) {
			t.Errorf("%+v: err = %v, want the read error", src, err)
		}
	}
}

// TestCheckCacheDir_WindowsModeBitsIgnored: on Windows Go reports 0777 for
// every folder; the ACL decides, not the mode (the bug of issue 22).
func TestCheckCacheDir_WindowsModeBitsIgnored(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tuf")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	src := fakeSecurity{user: sidMe, folders: map[string]folderSecurity{dir: ownFolder(sidMe)}, parent: ownFolder(sidMe)}
	if err := checkCacheDir(dir, aclChecker{src: src}); err != nil {
		t.Errorf("a folder of mode 0777 whose ACL is the user's: %v", err)
	}
}

func TestDefaultCacheDir(t *testing.T) {
	tests := []struct {
		goos string
		env  map[string]string
		want string
	}{
		{"windows", map[string]string{"LocalAppData": `C:\Users\me\AppData\Local`, "HOME": ""}, filepath.Join(`C:\Users\me\AppData\Local`, "provenant", "tuf")},
		{"windows", map[string]string{"HOME": "/home/me", "XDG_CACHE_HOME": "/x"}, ""}, // neither is Windows' own
		{"linux", map[string]string{"XDG_CACHE_HOME": "/x", "HOME": "/home/me"}, "/x/provenant/tuf"},
		{"linux", map[string]string{"XDG_CACHE_HOME": "relative", "HOME": "/home/me"}, ""}, // as os.UserCacheDir
		{"linux", map[string]string{"HOME": "/home/me"}, "/home/me/.cache/provenant/tuf"},
		{"linux", map[string]string{}, ""},
		{"darwin", map[string]string{"HOME": "/Users/me", "XDG_CACHE_HOME": "/x"}, "/Users/me/Library/Caches/provenant/tuf"},
		{"freebsd", map[string]string{"HOME": "/home/me"}, "/home/me/.cache/provenant/tuf"},
	}
	for _, tt := range tests {
		if got := defaultCacheDir(tt.goos, func(k string) string { return tt.env[k] }); got != tt.want {
			t.Errorf("%s %v: %q, want %q", tt.goos, tt.env, got, tt.want)
		}
	}
	// The running platform's rule is os.UserCacheDir's.
	if base, err := os.UserCacheDir(); err == nil {
		if got, want := DefaultCacheDir(os.Getenv), filepath.Join(base, "provenant", "tuf"); got != want {
			t.Errorf("DefaultCacheDir(os.Getenv) = %q, want %q (os.UserCacheDir)", got, want)
		}
	}
}
