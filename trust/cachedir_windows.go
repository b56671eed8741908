//go:build windows

package trust

import (
	"errors"
	"unsafe"

	"golang.org/x/sys/windows"
)

var platformChecker dirChecker = aclChecker{src: winSecurity{}}

// winSecurity reads owners and DACLs with the Windows security API.
type winSecurity struct{}

func (winSecurity) currentUser() (string, error) {
	u, err := windows.GetCurrentProcessToken().GetTokenUser()
	if err != nil {
		return "", err
	}
	return u.User.Sid.String(), nil
}

func (winSecurity) folder(path string) (folderSecurity, error) {
	sd, err := windows.GetNamedSecurityInfo(path, windows.SE_FILE_OBJECT,
		windows.OWNER_SECURITY_INFORMATION|windows.DACL_SECURITY_INFORMATION)
	if err != nil {
		return folderSecurity{}, err
	}
	if sd == nil {
		return folderSecurity{}, errNoSecurity
	}
	var fs folderSecurity
	owner, _, err := sd.Owner()
	if err != nil {
		return folderSecurity{}, err
	}
	if owner != nil {
		fs.Owner = owner.String()
	}
	dacl, _, err := sd.DACL()
	if err == windows.ERROR_OBJECT_NOT_FOUND || err == nil && dacl == nil {
		fs.NoDACL = true // no DACL, or a NULL one: full access for everyone
		return fs, nil
	}
	if err != nil {
		return folderSecurity{}, err
	}
	for i := uint32(0); i < uint32(dacl.AceCount); i++ {
		var a *windows.ACCESS_ALLOWED_ACE
		if err := windows.GetAce(dacl, i, &a); err != nil {
			return folderSecurity{}, err
		}
		e := ace{Type: a.Header.AceType, Flags: a.Header.AceFlags, Mask: uint32(a.Mask)}
		// ACCESS_ALLOWED_ACE and ACCESS_DENIED_ACE share this layout;
		// the SID starts at SidStart. Other types (object, callback) are
		// neither and are skipped by the decision; a callback ACE's SID
		// follows its mask as well.
		if e.Type == windows.ACCESS_ALLOWED_ACE_TYPE || e.Type == windows.ACCESS_DENIED_ACE_TYPE || e.Type == aceAllowedCallback {
			e.SID = (*windows.SID)(unsafe.Pointer(&a.SidStart)).String()
		}
		fs.ACEs = append(fs.ACEs, e)
	}
	return fs, nil
}

var errNoSecurity = errors.New("no security descriptor")
