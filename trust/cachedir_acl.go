package trust

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// The Windows check, as a decision over plain values (SID strings, access
// masks) so that it builds and is tested on every platform; only the
// reading of a folder's security descriptor (winSecurity, in
// cachedir_windows.go) needs Windows.

// Well-known SIDs the decision names.
const (
	sidSystem         = "S-1-5-18"
	sidAdministrators = "S-1-5-32-544"
	sidOwnerRights    = "S-1-3-4"
	sidEveryone       = "S-1-1-0"
	sidAuthenticated  = "S-1-5-11"
	sidUsers          = "S-1-5-32-545"
)

// Access-mask bits (winnt.h); the values of golang.org/x/sys/windows.
const (
	fileWriteData       = 0x0002 // FILE_WRITE_DATA / FILE_ADD_FILE
	fileAppendData      = 0x0004 // FILE_APPEND_DATA / FILE_ADD_SUBDIRECTORY
	fileWriteEA         = 0x0010
	fileDeleteChild     = 0x0040
	fileWriteAttributes = 0x0100
	accessDelete        = 0x00010000
	accessWriteDAC      = 0x00040000
	accessWriteOwner    = 0x00080000
	genericAll          = 0x10000000
	genericWrite        = 0x40000000

	// folderWriteMask is what lets a principal plant or replace a file in
	// the folder, or give itself that right: write, modify and full
	// control all include some of it.
	folderWriteMask = fileWriteData | fileAppendData | fileWriteEA | fileDeleteChild | fileWriteAttributes |
		accessDelete | accessWriteDAC | accessWriteOwner | genericAll | genericWrite
	// parentWriteMask is what on a parent folder lets a principal delete
	// or rename the cache folder and put its own in its place.
	parentWriteMask = fileDeleteChild | accessWriteDAC | accessWriteOwner | genericAll

	aceAllowed         = 0x0 // ACCESS_ALLOWED_ACE_TYPE
	aceAllowedCallback = 0x9 // ACCESS_ALLOWED_CALLBACK_ACE_TYPE (a conditional grant)
	aceInheritOnly     = 0x8 // INHERIT_ONLY_ACE: applies to children only
)

// ace is one access-control entry of a DACL.
type ace struct {
	Type  byte   // ACE type (ACCESS_ALLOWED_ACE_TYPE is 0)
	Flags byte   // ACE flags (INHERIT_ONLY_ACE is 8)
	Mask  uint32 // access mask
	SID   string // trustee, e.g. "S-1-1-0"
}

// folderSecurity is a folder's owner and DACL.
type folderSecurity struct {
	Owner string
	// NoDACL is a missing or NULL DACL: full access for everyone.
	NoDACL bool
	ACEs   []ace
}

// securitySource reads security descriptors: the Windows API in
// production (winSecurity), a fake in tests.
type securitySource interface {
	// currentUser is the SID of the token's user.
	currentUser() (string, error)
	// folder is the owner and DACL of path.
	folder(path string) (folderSecurity, error)
}

// aclChecker is the Windows dirChecker: the folder's owner must be the
// current user, SYSTEM or Administrators, and no one else may hold a right
// to write in it (the mode bits Go reports on Windows are 0777 for every
// folder and say nothing). Its parents must not let anyone else delete or
// rename it.
type aclChecker struct{ src securitySource }

func (c aclChecker) check(dir string, _ os.FileInfo) error {
	user, err := c.src.currentUser()
	if err != nil {
		return fmt.Errorf("reading the current user's SID: %w", err)
	}
	sec, err := c.src.folder(dir)
	if err != nil {
		return fmt.Errorf("reading its owner and ACL: %w", err)
	}
	if err := checkFolderACL(sec, user, folderWriteMask); err != nil {
		return err
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	for p := filepath.Dir(abs); p != filepath.Dir(p); p = filepath.Dir(p) {
		ps, err := c.src.folder(p)
		if err != nil {
			continue // a parent we may not read: only its children matter
		}
		if who, ok := grantsOthers(ps, user, parentWriteMask); !ok {
			return fmt.Errorf("inside %s, where %s may delete or rename folders: pass --tuf-cache with a directory of your own", p, who)
		}
	}
	return nil
}

// checkFolderACL is the decision for the cache folder itself.
func checkFolderACL(sec folderSecurity, user string, mask uint32) error {
	if !trustedOwner(sec.Owner, user) {
		return fmt.Errorf("owned by %s, not by the current user (%s), SYSTEM or Administrators; pass --tuf-cache with a directory of your own", describeSID(sec.Owner), user)
	}
	if who, ok := grantsOthers(sec, user, mask); !ok {
		return fmt.Errorf("writable by %s (its ACL): another user could plant a trusted root; remove that entry (icacls) or pass --tuf-cache", who)
	}
	return nil
}

// grantsOthers reports whether the DACL grants any of mask to a principal
// other than the owner, the current user, SYSTEM and Administrators; if so
// (ok false) who names it. Deny entries are not credited: a folder is
// refused if any allow entry grants the right, whatever the order.
func grantsOthers(sec folderSecurity, user string, mask uint32) (who string, ok bool) {
	if sec.NoDACL {
		return "everyone (no DACL)", false
	}
	for _, a := range sec.ACEs {
		if a.Type != aceAllowed && a.Type != aceAllowedCallback || a.Flags&aceInheritOnly != 0 || a.Mask&mask == 0 {
			continue
		}
		if a.SID == sec.Owner && sec.Owner != "" || trustedOwner(a.SID, user) || a.SID == sidOwnerRights {
			continue
		}
		return describeSID(a.SID), false
	}
	return "", true
}

// trustedOwner: the current user, SYSTEM or Administrators (an elevated
// process creates folders owned by Administrators).
func trustedOwner(sid, user string) bool {
	return sid != "" && (sid == user || sid == sidSystem || sid == sidAdministrators)
}

func describeSID(sid string) string {
	switch sid {
	case "":
		return "no one"
	case sidEveryone:
		return "Everyone (" + sid + ")"
	case sidAuthenticated:
		return "Authenticated Users (" + sid + ")"
	case sidUsers:
		return "Users (" + sid + ")"
	}
	if strings.HasPrefix(sid, "S-1-5-21-") {
		return "another account (" + sid + ")"
	}
	return sid
}
